"""Small tables shaped like real third-party exports, generated in code for the role tests.

Each generator gives every cell as text (as ``load_table`` delivers it) with the column
names, value formats and quirks of a public export: the UCI Online Retail order lines, a
CFPB consumer-complaints export, a women's clothing review table, a marketing campaign
response table and a Chinese review table with a product category. Values are drawn from
seeded generators, never copied from the real files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRODUCTS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    ("71053", "WHITE METAL LANTERN", 3.39),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 2.75),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12.75),
    ("47566", "PARTY BUNTING", 4.95),
    ("85099B", "JUMBO BAG RED RETROSPOT", 1.95),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 4.95),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 2.95),
    ("POST", "POSTAGE", 18.0),
]

COUNTRIES = ["United Kingdom"] * 6 + ["France", "Germany", "EIRE", "Spain", "Netherlands"]


def online_retail_lines(n_customers: int = 40, seed: int = 0) -> pd.DataFrame:
    """Order lines in the UCI Online Retail layout: InvoiceNo (``C`` for cancellations),
    StockCode (``85123A``, ``22423``, ``POST``), Description, Quantity, InvoiceDate
    (``12/1/2010 8:26``), UnitPrice, CustomerID (blank on some lines) and Country, which
    is the same on every line of a customer."""
    rng = np.random.default_rng(seed)
    rows = []
    invoice = 536365
    for c in range(n_customers):
        customer = str(12346 + 17 * c)
        country = COUNTRIES[c % len(COUNTRIES)]
        for _ in range(1 + c % 4):
            invoice += 1
            day = pd.Timestamp("2010-12-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
            hour, minute = int(rng.integers(8, 18)), int(rng.integers(0, 60))
            when = f"{day.month}/{day.day}/{day.year} {hour}:{minute:02d}"
            cancelled = rng.random() < 0.08
            for _ in range(int(rng.integers(1, 5))):
                code, name, price = PRODUCTS[int(rng.integers(0, len(PRODUCTS)))]
                quantity = int(rng.integers(1, 13)) * (-1 if cancelled else 1)
                rows.append(
                    (
                        f"C{invoice}" if cancelled else str(invoice),
                        code,
                        name,
                        str(quantity),
                        when,
                        f"{price:.2f}",
                        customer,
                        country,
                    )
                )
    for k in range(5):  # lines without a customer, as in the real file
        code, name, price = PRODUCTS[k]
        rows.append(
            (
                str(invoice + 1 + k),
                code,
                name,
                "1",
                "12/9/2011 12:50",
                f"{price:.2f}",
                "",
                "United Kingdom",
            )
        )
    columns = [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


COMPANIES = [
    "TRANSUNION INTERMEDIATE HOLDINGS, INC.",
    "EQUIFAX, INC.",
    "Experian Information Solutions Inc.",
    "WELLS FARGO & COMPANY",
    "BANK OF AMERICA, NATIONAL ASSOCIATION",
    "JPMORGAN CHASE & CO.",
    "CAPITAL ONE FINANCIAL CORPORATION",
    "Navient Solutions, LLC.",
    "Ocwen Financial Corporation",
    "NATIONSTAR MORTGAGE",
]
PRODUCT_ISSUES = [
    (
        "Credit reporting, credit repair services, or other personal consumer reports",
        "Credit reporting",
        "Incorrect information on your report",
    ),
    (
        "Credit reporting, credit repair services, or other personal consumer reports",
        "Other personal consumer report",
        "Problem with a credit reporting company's investigation into an existing problem",
    ),
    ("Debt collection", "I do not know", "Attempts to collect debt not owed"),
    ("Mortgage", "Conventional home mortgage", "Trouble during payment process"),
    (
        "Credit card or prepaid card",
        "General-purpose credit card or charge card",
        "Problem with a purchase shown on your statement",
    ),
    ("Checking or savings account", "Checking account", "Managing an account"),
]
NARRATIVE_OPENINGS = [
    "I have disputed this account with XXXX several times since XX/XX/2019",
    "On XX/XX/XXXX I noticed a late payment on my report that is not mine",
    "The company keeps calling me about a debt I do not owe",
    "My mortgage payment of {$1200.00} was applied to the wrong account",
    "I was charged a fee of {$25.00} that I never agreed to",
    "I sent a letter to XXXX XXXX asking them to remove the inquiry",
]
NARRATIVE_MIDDLES = [
    "and they still have not corrected the error",
    "but nobody answered my calls or letters",
    "and now my credit score has dropped",
    "even though I sent proof of payment twice",
    "and the representative hung up on me",
]
NARRATIVE_ENDINGS = [
    "I want this removed immediately.",
    "Please investigate and fix my report.",
    "This is unfair and I want a refund.",
    "I am filing this complaint because I have no other option.",
]
STATES = ["CA", "TX", "FL", "NY", "GA", "IL", "PA", "OH", "NC", "MI", "NJ", "VA"]


def complaints_export(n: int = 300, narrative_share: float = 0.3, seed: int = 1) -> pd.DataFrame:
    """A CFPB consumer-complaints export: Date received, Product, Sub-product, Issue, a
    sparse Consumer complaint narrative with XXXX masks (blank in 70% of rows by default),
    Company (ten names, a few hold most rows), State, ZIP code and a unique Complaint ID."""
    rng = np.random.default_rng(seed)
    weights = np.array([30, 28, 25, 6, 4, 3, 2, 1, 0.6, 0.4])
    rows = []
    for i in range(n):
        product, sub, issue = PRODUCT_ISSUES[int(rng.integers(0, len(PRODUCT_ISSUES)))]
        narrative = ""
        if rng.random() < narrative_share:
            opening, middle, ending = (
                part[int(rng.integers(0, len(part)))]
                for part in (NARRATIVE_OPENINGS, NARRATIVE_MIDDLES, NARRATIVE_ENDINGS)
            )
            account = int(rng.integers(1000, 9999))
            narrative = f"{opening} {middle} (account ending {account}). {ending}"
        zip_code = (
            f"{int(rng.integers(100, 999))}XX"
            if rng.random() < 0.3
            else f"{int(rng.integers(10000, 99999))}"
        )
        rows.append(
            (
                f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}",
                product,
                sub if rng.random() > 0.1 else "",
                issue,
                narrative,
                COMPANIES[int(rng.choice(len(COMPANIES), p=weights / weights.sum()))],
                STATES[int(rng.integers(0, len(STATES)))],
                zip_code,
                str(3200000 + 7 * i + int(rng.integers(0, 5))),
            )
        )
    columns = [
        "Date received",
        "Product",
        "Sub-product",
        "Issue",
        "Consumer complaint narrative",
        "Company",
        "State",
        "ZIP code",
        "Complaint ID",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


TITLES = [
    "Love this dress!", "Runs small", "Beautiful top", "Disappointed", "Perfect fit",
    "Not for me", "So comfy", "Great jeans", "Some major design flaws", "My favorite buy!",
    "Flattering shirt", "Not for the very petite", "Cagrcoal shimmer fun",
    "Shimmer, surprisingly goes with lots",
    "Gorgeous", "Cute but thin", "Return", "Pretty!", "Wanted to love it", "Summer staple",
    "Great quality", "Too big", "Lovely", "Meh", "Super soft", "Stunning", "Odd fit",
    "Fabulous", "Huge", "Classic",
]  # fmt: skip
REVIEW_OPENINGS = [
    "I ordered this in my usual size and", "Absolutely wonderful, silky and sexy and",
    "I had such high hopes for this dress and",
    "This shirt is very flattering to all due to the adjustable front tie and",
    "I love this top so much that", "The fabric felt cheap when it arrived and",
]  # fmt: skip
REVIEW_ENDINGS = [
    "it runs a size small, so order up.", "the color is even better in person.",
    "it went straight back to the store.", "I get compliments every time I wear it.",
    "the zipper broke after two washes.", "it is the perfect length for petites.",
]  # fmt: skip
DEPARTMENTS = {
    "Dresses": ["Dresses"],
    "Tops": ["Knits", "Blouses", "Fine gauge"],
    "Bottoms": ["Pants", "Jeans", "Skirts", "Shorts"],
    "Intimate": ["Lounge", "Sleep", "Intimates", "Swim", "Legwear"],
    "Jackets": ["Jackets", "Outerwear"],
    "Trend": ["Trend"],
}


def clothing_reviews(n: int = 300, seed: int = 2) -> pd.DataFrame:
    """A women's clothing review table: an unnamed row-number column first, Clothing ID
    (a product number repeated across reviews, so not unique), Age, Title (short, often
    repeated), Review Text, Rating, Recommended IND (0/1), Positive Feedback Count,
    Division Name, Department Name and Class Name."""
    rng = np.random.default_rng(seed)
    clothing_ids = rng.choice(np.arange(800, 1200), size=90, replace=False)
    rows = []
    for i in range(n):
        rating = int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.07, 0.13, 0.22, 0.53]))
        department = list(DEPARTMENTS)[int(rng.integers(0, len(DEPARTMENTS)))]
        classes = DEPARTMENTS[department]
        review = (
            f"{REVIEW_OPENINGS[int(rng.integers(0, 6))]} {REVIEW_ENDINGS[int(rng.integers(0, 6))]}"
            f" I am {int(rng.integers(150, 180))} cm and {int(rng.integers(45, 90))} kg."
        )
        rows.append(
            (
                str(i),
                str(int(clothing_ids[int(rng.integers(0, len(clothing_ids)))])),
                str(int(rng.integers(18, 90))),
                TITLES[int(rng.integers(0, len(TITLES)))] if rng.random() > 0.15 else "",
                review if rng.random() > 0.03 else "",
                str(rating),
                "1" if rating >= 4 or (rating == 3 and rng.random() < 0.4) else "0",
                str(int(rng.geometric(0.3)) - 1),
                "General Petite"
                if rng.random() < 0.35
                else ("Initmates" if department == "Intimate" else "General"),
                department,
                classes[int(rng.integers(0, len(classes)))],
            )
        )
    columns = [
        "",
        "Clothing ID",
        "Age",
        "Title",
        "Review Text",
        "Rating",
        "Recommended IND",
        "Positive Feedback Count",
        "Division Name",
        "Department Name",
        "Class Name",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def marketing_campaign(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """A marketing campaign response table: ID, Year_Birth, Education (2n Cycle, Basic,
    Graduation, Master, PhD), Marital_Status, Income (some blank), Kidhome, Teenhome,
    Dt_Customer (dd-mm-yyyy), Recency, spend on six product lines, four purchase counts,
    AcceptedCmp1..5, Complain (rare), Z_CostContact (always 3), Z_Revenue (always 11) and
    Response (0/1)."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(0, 11192), size=n, replace=False)
    frame = pd.DataFrame(
        {
            "ID": [str(int(v)) for v in ids],
            "Year_Birth": [str(int(v)) for v in rng.integers(1940, 1997, n)],
            "Education": rng.choice(
                ["Graduation", "PhD", "Master", "2n Cycle", "Basic"],
                n,
                p=[0.5, 0.22, 0.16, 0.09, 0.03],
            ),
            "Marital_Status": rng.choice(["Married", "Together", "Single", "Divorced", "Widow"], n),
            "Income": [
                "" if i % 50 == 7 else str(int(v))
                for i, v in enumerate(rng.normal(52000, 20000, n).clip(2000))
            ],
            "Kidhome": [str(int(v)) for v in rng.choice([0, 1, 2], n, p=[0.58, 0.4, 0.02])],
            "Teenhome": [str(int(v)) for v in rng.choice([0, 1, 2], n, p=[0.52, 0.46, 0.02])],
            "Dt_Customer": [
                (pd.Timestamp("2012-07-30") + pd.Timedelta(days=int(d))).strftime("%d-%m-%Y")
                for d in rng.integers(0, 700, n)
            ],
            "Recency": [str(int(v)) for v in rng.integers(0, 100, n)],
        }
    )
    for column, scale in (
        ("MntWines", 300),
        ("MntFruits", 26),
        ("MntMeatProducts", 166),
        ("MntFishProducts", 37),
        ("MntSweetProducts", 27),
        ("MntGoldProds", 44),
    ):
        frame[column] = [str(int(v)) for v in rng.exponential(scale, n)]
    for column, mean in (
        ("NumDealsPurchases", 2),
        ("NumWebPurchases", 4),
        ("NumCatalogPurchases", 2),
        ("NumStorePurchases", 5),
    ):
        frame[column] = [str(int(v)) for v in rng.poisson(mean, n)]
    for k, every in zip(range(1, 6), (14, 13, 13, 15, 75), strict=True):
        frame[f"AcceptedCmp{k}"] = ["1" if i % every == k else "0" for i in range(n)]
    frame["Complain"] = [
        "1" if i in (17, 211) else "0" for i in range(n)
    ]  # 0.7%, as rare as the real one
    frame["Z_CostContact"] = "3"
    frame["Z_Revenue"] = "11"
    frame["Response"] = ["1" if v < 0.15 else "0" for v in rng.random(n)]
    return frame.astype(object)


CATEGORIES_ZH = [
    "书籍",
    "平板",
    "手机",
    "水果",
    "洗发水",
    "热水器",
    "蒙牛",
    "衣服",
    "计算机",
    "酒店",
]
REVIEW_PARTS_ZH = [
    ("物流很快，包装完好，", "质量不错，", "价格实惠，", "客服态度很好，"),
    ("用了一个星期，", "收到以后发现", "第二次购买了，", "朋友推荐的，"),
    (
        "非常满意，下次还会再买。",
        "有点失望，不会再买了。",
        "和描述的一样，值得推荐。",
        "做工太差了，申请退货。",
    ),
]


def chinese_reviews(n: int = 400, seed: int = 4) -> pd.DataFrame:
    """A Chinese product-review table: cat (ten product categories), label (1 positive,
    0 negative) and review."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        parts = [part[int(rng.integers(0, 4))] for part in REVIEW_PARTS_ZH]
        rows.append(
            (CATEGORIES_ZH[i % 10], str(int(rng.random() < 0.5)), "".join(parts) + f"订单{i}号")
        )
    return pd.DataFrame(rows, columns=["cat", "label", "review"], dtype=object)
