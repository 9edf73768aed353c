"""Generate the bundled sample customer table, ``assets/sample_customers.csv``.

The table belongs to a fictional online shop with a subscription (Basic, Plus, Premium). Every
customer is drawn from one of six hidden personas, so the free-text feedback and the structured
columns share real structure that segmentation and churn prediction can find:

- ``price_sensitive``: young, mostly Basic, low spend; complains about prices, wants discounts.
  High churn.
- ``loyal_premium``: older, mostly Premium, high spend, long tenure, many orders; praises product
  quality. Low churn.
- ``delivery_issues``: any age and plan, more often in North and West; late, damaged or missing
  parcels. Highest churn.
- ``app_usability``: mid-age, mostly Plus; the app or website crashes, confuses or is slow.
  Moderate churn.
- ``new_onboarding``: signed up in the last four months, few orders; asks how things work.
  Moderate churn.
- ``support_praise``: any age and plan; thanks customer service. Low churn.

About 20% of customers write in Chinese, spread across all personas, so Chinese text covers
the same themes (快递 delivery, 优惠 price, 质量 quality, 客服 service, APP, onboarding).
Churn depends on persona, tenure, spend and orders (overall about 22%). Realistic mess: ~3% empty
feedback, ~1% one-word feedback ("ok", "好"), ~2% feedback with a (fictional) phone number or
email, ~1% blank ``monthly_spend``, typos, lowercase and exclamation marks. Tenure is counted in
whole months up to the fixed ``TODAY`` (2026-10-31), so output never depends on the day it runs.

``make_sample_customers()`` also returns a ``_persona`` column (the ground truth for benchmarks and
tests); it is dropped before the CSV is written.

Regenerate (deterministic; commit the result)::

    python scripts/make_sample_data.py                      # 2000 rows, seed 7
    python scripts/make_sample_data.py --rows 500 --seed 3 --out /tmp/small.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TODAY = dt.date(2026, 10, 31)
"""Fixed reference date: tenure is measured to here, signups go back about three years."""

HISTORY_DAYS = 1095
COLUMNS = (
    "customer_id",
    "signup_date",
    "age",
    "region",
    "plan",
    "monthly_spend",
    "orders_last_year",
    "tenure_months",
    "feedback",
    "churned",
)
PERSONA_COLUMN = "_persona"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "sample_customers.csv"

CHINESE_SHARE = 0.21  # of customers; a few write nothing, so ~20% of rows have Chinese text
EMPTY_FEEDBACK_SHARE = 0.03
SHORT_FEEDBACK_SHARE = 0.01
PII_SHARE = 0.02  # of all rows; only complaints and questions ask to be contacted
BLANK_SPEND_SHARE = 0.01
TARGET_CHURN_RATE = 0.22

PLANS = ("Basic", "Plus", "Premium")
PLAN_FEES = {"Basic": 9.99, "Plus": 19.99, "Premium": 39.99}
REGIONS = ("North", "South", "East", "West", "Central", "Online-only")


@dataclass(frozen=True)
class Persona:
    """How one hidden persona draws its structured columns."""

    weight: float
    age_mean: float
    age_sd: float
    plan_probs: tuple[float, float, float]  # Basic, Plus, Premium
    region_probs: tuple[float, ...]  # in REGIONS order
    extra_spend_median: float  # purchases on top of the plan fee
    extra_spend_sigma: float
    orders_rate: float  # orders per year for a customer of a year or more
    days_min: int  # days since signup
    days_max: int
    days_beta: tuple[float, float]
    churn_logit: float


PERSONAS: dict[str, Persona] = {
    "price_sensitive": Persona(
        weight=0.20,
        age_mean=25,
        age_sd=4.5,
        plan_probs=(0.80, 0.17, 0.03),
        region_probs=(0.16, 0.18, 0.18, 0.14, 0.14, 0.20),
        extra_spend_median=14,
        extra_spend_sigma=0.5,
        orders_rate=6,
        days_min=30,
        days_max=HISTORY_DAYS,
        days_beta=(1.2, 2.0),
        churn_logit=0.9,
    ),
    "loyal_premium": Persona(
        weight=0.16,
        age_mean=51,
        age_sd=9,
        plan_probs=(0.03, 0.22, 0.75),
        region_probs=(0.15, 0.20, 0.22, 0.13, 0.20, 0.10),
        extra_spend_median=95,
        extra_spend_sigma=0.4,
        orders_rate=22,
        days_min=400,
        days_max=HISTORY_DAYS,
        days_beta=(2.0, 1.3),
        churn_logit=0.0,
    ),
    "delivery_issues": Persona(
        weight=0.18,
        age_mean=42,
        age_sd=13,
        plan_probs=(0.40, 0.40, 0.20),
        region_probs=(0.28, 0.12, 0.10, 0.28, 0.08, 0.14),
        extra_spend_median=40,
        extra_spend_sigma=0.6,
        orders_rate=9,
        days_min=30,
        days_max=HISTORY_DAYS,
        days_beta=(1.3, 1.3),
        churn_logit=1.3,
    ),
    "app_usability": Persona(
        weight=0.15,
        age_mean=45,
        age_sd=6.5,
        plan_probs=(0.15, 0.75, 0.10),
        region_probs=(0.15, 0.15, 0.17, 0.15, 0.13, 0.25),
        extra_spend_median=45,
        extra_spend_sigma=0.5,
        orders_rate=8,
        days_min=30,
        days_max=HISTORY_DAYS,
        days_beta=(1.3, 1.3),
        churn_logit=0.4,
    ),
    "new_onboarding": Persona(
        weight=0.15,
        age_mean=33,
        age_sd=11,
        plan_probs=(0.55, 0.35, 0.10),
        region_probs=(0.16, 0.17, 0.17, 0.16, 0.14, 0.20),
        extra_spend_median=25,
        extra_spend_sigma=0.7,
        orders_rate=5,
        days_min=0,
        days_max=120,
        days_beta=(1.0, 1.0),
        churn_logit=0.3,
    ),
    "support_praise": Persona(
        weight=0.16,
        age_mean=47,
        age_sd=14,
        plan_probs=(0.30, 0.40, 0.30),
        region_probs=(0.17, 0.17, 0.17, 0.17, 0.16, 0.16),
        extra_spend_median=55,
        extra_spend_sigma=0.6,
        orders_rate=12,
        days_min=30,
        days_max=HISTORY_DAYS,
        days_beta=(1.4, 1.2),
        churn_logit=-0.3,
    ),
}

PRODUCTS = (  # English, Chinese, "a ..." form (plurals take no article)
    ("running shoes", "跑鞋", "running shoes"),
    ("coffee maker", "咖啡机", "a coffee maker"),
    ("yoga mat", "瑜伽垫", "a yoga mat"),
    ("wireless earbuds", "蓝牙耳机", "wireless earbuds"),
    ("desk lamp", "台灯", "a desk lamp"),
    ("air fryer", "空气炸锅", "an air fryer"),
    ("hiking backpack", "登山包", "a hiking backpack"),
    ("water bottle", "保温杯", "a water bottle"),
    ("rain jacket", "冲锋衣", "a rain jacket"),
    ("blender", "破壁机", "a blender"),
    ("phone case", "手机壳", "a phone case"),
    ("bed sheets", "四件套", "bed sheets"),
    ("office chair", "办公椅", "an office chair"),
    ("skincare set", "护肤套装", "a skincare set"),
    ("electric kettle", "电水壶", "an electric kettle"),
    ("winter boots", "雪地靴", "winter boots"),
)
WEEKDAYS = (
    ("Monday", "周一"),
    ("Tuesday", "周二"),
    ("Wednesday", "周三"),
    ("Thursday", "周四"),
    ("Friday", "周五"),
    ("Saturday", "周六"),
    ("Sunday", "周日"),
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
AGENTS = ("Maria", "Kevin", "Priya", "Tom", "Aisha", "Daniel", "Mei", "Carlos", "Sophie")
OLD_PLAN_FEES = {"Basic": 7.99, "Plus": 16.99, "Premium": 34.99}
YEARS_EN = {1: "over a year", 2: "two years", 3: "three years"}
YEARS_ZH = {1: "一年多", 2: "两年", 3: "三年"}
FIRST_NAMES = ("jane", "mark", "lucy", "omar", "anna", "li.wei", "chen", "sam", "grace", "raj")
LAST_NAMES = ("doe", "smith", "park", "nguyen", "lopez", "wang", "zhang", "brown", "kim")
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")


@dataclass(frozen=True)
class Pools:
    """Sentences for one persona in one language: one ``main``, then optional ``extra``."""

    main: tuple[str, ...]
    extra: tuple[str, ...]


TEXT: dict[str, dict[str, Pools]] = {
    "price_sensitive": {
        "en": Pools(
            main=(
                "Prices went up again, {old_price} to {new_price} a month is too much for {plan}.",
                "The {product} {product_was} way more expensive here than on other sites.",
                "too expensive for what you get",
                "Would love a student discount, money is tight right now.",
                "Shipping fees ate up most of the savings on my {product} order.",
                "Is there any promo code? I only buy when stuff is on sale.",
                "Honestly the subscription price is getting hard to justify.",
                "Found the same {product} for {amount} less somewhere else.",
                "Cheaper plan please, I don't need half the perks.",
                "Your sale prices are basically normal prices elsewhere.",
                "Paid {amount} for shipping on {a_product}. Really?",
                "Good stuff but overpriced.",
                "Why did my plan go from {old_price} to {new_price}?",
            ),
            extra=(
                "I'll probably wait for Black Friday.",
                "A loyalty discount would keep me around.",
                "Free shipping over {threshold} would help a lot.",
                "My friends all use the cheaper app.",
                "Please bring back the 20% welcome coupon.",
                "I check prices everywhere before I buy now.",
                "Student budget here.",
                "Would order more often if it was cheaper.",
            ),
        ),
        "zh": Pools(
            main=(
                "价格有点贵，希望多发点优惠券。",
                "会员费从{old_price}涨到{new_price}，感觉不太值。",
                "同样的{product_zh}别家便宜{amount}块。",
                "有没有学生优惠？",
                "运费太贵了",
                "打折力度太小了，搞活动的时候也没便宜多少。",
                "会员权益越来越少，价格还涨了。",
                "{product_zh}挺好的，就是太贵。",
                "优惠券总是满{threshold}才能用，门槛太高。",
                "满减活动越来越少了，不如以前划算。",
                "{product_zh}刚买就降价，能退差价吗？",
            ),
            extra=(
                "等双十一再买吧。",
                "老用户能不能有点折扣？",
                "希望恢复新人优惠。",
                "现在买东西都要先比价。",
                "便宜点我会多买的。",
            ),
        ),
    },
    "loyal_premium": {
        "en": Pools(
            main=(
                "Been a member for {years_en} and the quality is still excellent.",
                "The {product} I bought in {month} {product_is} holding up beautifully.",
                "Premium is worth every cent, everything arrives fast and well packed.",
                "Love the quality of your products, especially the {product}.",
                "Great selection and the items always match the description.",
                "Top quality as usual.",
                "Ordered {a_product} and {a_product2}, both excellent quality.",
                "You are my go-to shop for gifts, never disappointed.",
                "Quality is consistently better than anywhere else I've tried.",
                "Bought {a_product} for my dad and he loves it.",
            ),
            extra=(
                "Already recommended you to my sister.",
                "Keep up the great work!",
                "The early access to new arrivals is a nice perk.",
                "Happy to pay a bit more for this level of quality.",
                "Packaging is always neat too.",
                "Will renew Premium without a second thought.",
            ),
        ),
        "zh": Pools(
            main=(
                "质量一直很好，用了{years_zh}了。",
                "{product_zh}质量很好，做工很细致。",
                "东西质量没得说，高级会员很值。",
                "买了{product_zh}和{product2_zh}，质量都很好。",
                "品质稳定，一直回购。",
                "这家的{product_zh}是我用过质量最好的。",
                "质量好，和描述的一模一样。",
                "{product_zh}用了大半年还跟新的一样。",
                "比其他平台的质量好太多了。",
            ),
            extra=(
                "已经推荐给朋友了。",
                "包装也很用心。",
                "贵一点也愿意。",
                "继续支持！",
                "会员会一直续下去。",
            ),
        ),
    },
    "delivery_issues": {
        "en": Pools(
            main=(
                "My order #{order} arrived {days} days late.",
                "The {product} came damaged, the box was completely crushed.",
                "Delivery was promised for {weekday} and showed up {days} days later.",
                "Tracking hasn't updated in {days} days, where is my package?",
                "Courier left the parcel in the rain and the {product} {product_was} soaked.",
                "Second late delivery in a row.",
                "Package marked as delivered but never arrived.",
                "Missing item in order #{order}, only got the {product}.",
                "Delivery took almost two weeks for {a_product}.",
                "late again!!",
                "The {product} arrived broken and the replacement is {days} days late.",
            ),
            extra=(
                "Nobody called to let me know.",
                "I needed it for {weekday}.",
                "Had to take a day off work to wait for it.",
                "The replacement is also late.",
                "Please use a different courier.",
                "The packaging was really flimsy.",
                "Still waiting on a refund for the shipping.",
            ),
        ),
        "zh": Pools(
            main=(
                "快递太慢了，等了{days}天才到。",
                "包裹到的时候盒子都压坏了，{product_zh}也摔坏了。",
                "物流信息{days}天没更新了，订单{order}还没收到。",
                "说好{weekday_zh}送到，结果晚了{days}天。",
                "显示已签收但是我根本没收到快递。",
                "快递员直接把包裹放门口，{product_zh}都淋湿了。",
                "发货太慢，{product_zh}一个多星期才到。",
                "快递又延误了",
                "快递{days}天了还在路上，到底什么时候能到？",
                "收到的包裹少了一件，订单号{order}，只有{product_zh}。",
            ),
            extra=(
                "也没人打电话通知。",
                "能不能换个快递公司？",
                "急用的东西，耽误事了。",
                "补发的也还没到。",
                "包装太简陋了。",
            ),
        ),
    },
    "app_usability": {
        "en": Pools(
            main=(
                "The app keeps crashing when I try to check out.",
                "Can't find the order history on the website, the menu is confusing.",
                "Login on the app fails every other day and the reset email never comes.",
                "Search is useless, typing '{product}' gives me pages of unrelated stuff.",
                "The new website layout is a mess.",
                "Checkout page froze twice and I wasn't sure if I'd been charged.",
                "Filters reset every time I go back a page.",
                "Couldn't apply my promo code in the app, it only worked on desktop.",
                "App has been slow on my phone since the last update.",
                "Font is tiny and the buttons are hard to tap.",
                "website keeps logging me out??",
            ),
            extra=(
                "I'm on an older Android phone if that helps.",
                "Happened on both Chrome and Safari.",
                "Please test your updates before releasing them.",
                "I ended up ordering by phone instead.",
                "Took me 20 minutes to do what used to take 2.",
                "The old version was much easier to use.",
            ),
        ),
        "zh": Pools(
            main=(
                "APP老是闪退，付款的时候卡住。",
                "网站改版后很难用，找不到订单记录。",
                "登录不上，验证码一直收不到。",
                "搜索{product_zh}出来一堆不相关的东西。",
                "优惠码在APP里用不了，只能在电脑上用。",
                "更新之后APP特别慢。",
                "页面字太小，按钮也不好点。",
                "结账页面一直转圈，不知道扣没扣钱。",
                "筛选条件一返回就没了，太麻烦。",
            ),
            extra=(
                "我用的是安卓手机。",
                "希望尽快修复。",
                "最后只能打电话下单。",
                "还是旧版本好用。",
            ),
        ),
    },
    "new_onboarding": {
        "en": Pools(
            main=(
                "Just signed up, how do I use the reward points?",
                "New here - what's the difference between Plus and Premium?",
                "How do I change my delivery address for the next order?",
                "Where can I see when my subscription renews?",
                "Is there a guide for setting up auto-reorder?",
                "First order went fine, still figuring out the app.",
                "How do I pause my plan while I'm travelling?",
                "Can I share my membership with my partner?",
                "Not sure how returns work, do I print the label myself?",
                "The welcome email mentioned a tutorial but I can't find it.",
                "how do i add a second address?",
            ),
            extra=(
                "A short video would help.",
                "Sorry if this is a silly question.",
                "Thanks in advance!",
                "Everything else looks good so far.",
                "The FAQ didn't really answer it.",
                "My {product} order is my first one.",
            ),
        ),
        "zh": Pools(
            main=(
                "刚注册，积分怎么用？",
                "新手求问，Plus和Premium有什么区别？",
                "请问怎么修改收货地址？",
                "第一次买，想问下怎么设置自动续费。",
                "会员可以暂停吗？下个月要出差。",
                "退货要自己打印快递单吗？",
                "新用户，不太会用APP，有教程吗？",
                "怎么查看会员什么时候到期？",
                "积分可以抵现金吗？刚开始用不太懂。",
                "可以和家人共享会员吗？",
            ),
            extra=(
                "谢谢！",
                "帮助页面没找到答案。",
                "有没有使用教程？",
                "其他都挺好的。",
            ),
        ),
    },
    "support_praise": {
        "en": Pools(
            main=(
                "{agent} from customer service sorted out my refund in minutes.",
                "Support was super helpful when my {product} stopped working.",
                "Chat support answered right away and sent a replacement.",
                "Really friendly support team, they fixed my billing issue on the first call.",
                "Shoutout to {agent} who stayed on the phone until everything worked.",
                "Return was easy and the refund came through in {days} days.",
                "Great service, asked about my {product} and got an answer the same day.",
                "Customer service is the reason I stay.",
                "Called on {weekday} about a wrong charge, fixed in five minutes.",
            ),
            extra=(
                "Rare to see that these days.",
                "Please give {agent} a raise!",
                "Made up for the earlier mix-up.",
                "Will definitely keep ordering.",
                "Five stars for the support team.",
            ),
        ),
        "zh": Pools(
            main=(
                "客服很耐心，问题很快就解决了。",
                "客服态度很好，{weekday_zh}打电话马上就帮我退款了。",
                "在线客服回复很及时，点赞！",
                "{product_zh}坏了，客服直接给我换了新的。",
                "客服很专业，退款{days}天就到账了。",
                "售后服务很好，客服一直跟进到问题解决。",
                "{weekday_zh}联系客服，当天就处理好了。",
                "遇到问题找客服就对了，很靠谱。",
            ),
            extra=(
                "服务真的很好。",
                "这就是我一直在这买的原因。",
                "给客服点个赞。",
                "之前的小问题也算弥补了。",
            ),
        ),
    },
}

LEAVING = {  # churned or about to, after a complaint
    "en": (
        "Thinking about cancelling.",
        "I've cancelled my subscription.",
        "This will be my last order.",
        "Going to switch to another shop.",
        "Cancelling my plan this month.",
    ),
    "zh": ("准备退订了。", "已经取消会员了。", "以后不会再买了。", "考虑换一家了。"),
}
LEAVING_CONTENT = {  # churned although happy: life changes, budgets
    "en": (
        "Moving abroad next month, so I'm cancelling for now.",
        "Sadly cutting back on subscriptions, nothing personal.",
        "Pausing my membership for a while.",
    ),
    "zh": ("要搬去外地了，先取消会员。", "最近要省钱，先退订了。"),
}
HAPPY_PERSONAS = frozenset({"loyal_premium", "support_praise"})
PII_ELIGIBLE_SHARE = (1 - EMPTY_FEEDBACK_SHARE - SHORT_FEEDBACK_SHARE) * sum(
    p.weight for name, p in PERSONAS.items() if name not in HAPPY_PERSONAS
)
GREETINGS = {"en": ("Hi there!", "Hello!", "Hi team!"), "zh": ("你好，", "您好，", "亲，")}
SHORT_FEEDBACK = {
    "en": ("ok", "good", "Good", "fine", "meh", "thanks", "Great!", "all good"),
    "zh": ("好", "还行", "不错", "一般", "满意"),
}
PII_SENTENCES = {
    "en": (
        "Call me at 555-01{nn}.",
        "Please call me back on (555) 555-01{nn}.",
        "You can reach me at {email}.",
        "email me at {email} pls",
        "My number is 555-01{nn} if you need it.",
    ),
    "zh": ("我的电话是555-01{nn}，请联系我。", "邮箱：{email}", "有问题打我电话 555-01{nn}"),
}
TYPOS = {
    "received": "recieved",
    "definitely": "definately",
    "because": "becuase",
    "really": "realy",
    "arrived": "arived",
    "address": "adress",
    "support": "suport",
    "waiting": "wating",
    "package": "pacakge",
    "delivery": "delivary",
    "expensive": "expensve",
    "subscription": "subscripton",
    "quality": "qualty",
    "until": "untill",
}


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _slots(rng: np.random.Generator, plan: str, tenure_months: int) -> dict[str, str]:
    """Values for every placeholder a sentence may use, drawn fresh for each customer."""
    first, second = (PRODUCTS[int(i)] for i in rng.choice(len(PRODUCTS), size=2, replace=False))
    plural = not first[2].startswith("a")
    weekday = WEEKDAYS[int(rng.integers(len(WEEKDAYS)))]
    years = int(np.clip(tenure_months // 12, 1, 3))
    return {
        "product": first[0],
        "product2": second[0],
        "a_product": first[2],
        "a_product2": second[2],
        "product_was": "were" if plural else "was",
        "product_is": "are" if plural else "is",
        "product_zh": first[1],
        "product2_zh": second[1],
        "plan": plan,
        "weekday": weekday[0],
        "weekday_zh": weekday[1],
        "month": _pick(rng, MONTHS),
        "order": str(int(rng.integers(1_000_000, 9_999_999))),
        "days": str(int(rng.choice([2, 3, 3, 4, 5, 5, 6, 7, 8, 10, 12]))),
        "amount": str(int(rng.integers(5, 41))),
        "threshold": _pick(rng, ("25", "35", "50", "99")),
        "old_price": f"{OLD_PLAN_FEES[plan]:.2f}",
        "new_price": f"{PLAN_FEES[plan]:.2f}",
        "agent": _pick(rng, AGENTS),
        "years_en": YEARS_EN[years],
        "years_zh": YEARS_ZH[years],
    }


def _roughen_english(rng: np.random.Generator, text: str) -> str:
    """Make typed-in-a-hurry text: a typo, all lowercase, exclamation marks, no final stop."""
    if rng.random() < 0.10:
        words = text.split(" ")
        hits = [i for i, word in enumerate(words) if word.lower().strip(".,!?") in TYPOS]
        if hits:
            i = hits[int(rng.integers(len(hits)))]
            bare = words[i].strip(".,!?")
            words[i] = words[i].replace(bare, TYPOS[bare.lower()])
            text = " ".join(words)
    if rng.random() < 0.12:
        text = text.lower()
    roll = rng.random()
    if roll < 0.08 and text.endswith("."):
        text = text[:-1] + _pick(rng, ("!", "!!", "!!!"))
    elif roll < 0.16 and text.endswith("."):
        text = text[:-1]
    return text


def _roughen_chinese(rng: np.random.Generator, text: str) -> str:
    """Chinese typing habits: ASCII commas, a missing final 。, extra ！ or a trailing 哈哈/～."""
    if rng.random() < 0.12:
        text = text.replace("，", ",")
    roll = rng.random()
    if roll < 0.10 and text.endswith("。"):
        text = text[:-1]
    elif roll < 0.18 and text.endswith("。"):
        text = text[:-1] + _pick(rng, ("！", "！！", "～"))
    elif roll < 0.22:
        text = text + _pick(rng, ("哈哈", "😊", "…"))
    return text


def _email(rng: np.random.Generator) -> str:
    number = int(rng.integers(1, 99))
    return f"{_pick(rng, FIRST_NAMES)}.{_pick(rng, LAST_NAMES)}{number}@{_pick(rng, EMAIL_DOMAINS)}"


def _end_sentence(text: str) -> str:
    return text if text[-1] in ".!?。！？" else text + "."


def _feedback(
    rng: np.random.Generator, persona: str, lang: str, plan: str, churned: bool, tenure: int
) -> str:
    """Compose one customer's feedback from the persona's sentence pools."""
    roll = rng.random()
    if roll < EMPTY_FEEDBACK_SHARE:
        return ""
    if roll < EMPTY_FEEDBACK_SHARE + SHORT_FEEDBACK_SHARE:
        return _pick(rng, SHORT_FEEDBACK[lang])
    pools = TEXT[persona][lang]
    slots = _slots(rng, plan, tenure)
    sentences = [_pick(rng, pools.main)]
    if rng.random() < 0.45:
        sentences.append(_pick(rng, pools.extra))
    if persona in HAPPY_PERSONAS:
        if churned and rng.random() < 0.30:
            sentences.append(_pick(rng, LEAVING_CONTENT[lang]))
    elif rng.random() < (0.30 if churned else 0.03):
        sentences.append(_pick(rng, LEAVING[lang]))
    if persona not in HAPPY_PERSONAS and rng.random() < PII_SHARE / PII_ELIGIBLE_SHARE:
        slots["nn"] = f"{int(rng.integers(0, 100)):02d}"
        slots["email"] = _email(rng)
        sentences.append(_pick(rng, PII_SENTENCES[lang]))
    filled = [s.format_map(slots) for s in sentences[:3]]
    filled = [_end_sentence(s) for s in filled[:-1]] + filled[-1:]
    if len(filled) < 3 and rng.random() < 0.08:
        filled.insert(0, _pick(rng, GREETINGS[lang]))
    if lang == "zh":
        return _roughen_chinese(rng, "".join(filled))
    return _roughen_english(rng, " ".join(filled))


def _whole_months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def _churn_probabilities(base_logit: np.ndarray) -> np.ndarray:
    """Shift all logits by one intercept so the mean churn probability is TARGET_CHURN_RATE."""
    low, high = -10.0, 10.0
    for _ in range(60):
        mid = (low + high) / 2
        if (1 / (1 + np.exp(-(base_logit + mid)))).mean() < TARGET_CHURN_RATE:
            low = mid
        else:
            high = mid
    return 1 / (1 + np.exp(-(base_logit + (low + high) / 2)))


def make_sample_customers(
    n_rows: int = 2000, seed: int = 7, *, chinese_share: float = CHINESE_SHARE
) -> pd.DataFrame:
    """Draw a deterministic customer table with hidden persona structure.

    Args:
        n_rows: number of customers.
        seed: seed for ``numpy.random.default_rng``; the same seed gives the same frame.
        chinese_share: share of customers who write in Chinese (the same draws either way).

    Returns:
        A DataFrame with the columns in ``COLUMNS`` plus ``_persona`` (the hidden ground truth).
        ``monthly_spend`` is a float with about 1% NaN; ``feedback`` is ``""`` when empty.

    Raises:
        ValueError: if ``n_rows`` is less than 1.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows={n_rows} should be >= 1")
    rng = np.random.default_rng(seed)
    names = list(PERSONAS)
    weights = np.array([PERSONAS[name].weight for name in names])
    persona_idx = rng.choice(len(names), size=n_rows, p=weights / weights.sum())
    is_chinese = rng.random(n_rows) < chinese_share

    rows: list[dict[str, object]] = []
    for idx, chinese in zip(persona_idx, is_chinese, strict=True):
        spec = PERSONAS[names[idx]]
        days_ago = spec.days_min + int(
            rng.beta(*spec.days_beta) * (min(spec.days_max, HISTORY_DAYS) - spec.days_min)
        )
        signup = TODAY - dt.timedelta(days=days_ago)
        tenure = _whole_months(signup, TODAY)
        plan = PLANS[int(rng.choice(3, p=spec.plan_probs))]
        extra = rng.lognormal(np.log(spec.extra_spend_median), spec.extra_spend_sigma)
        spend = round(PLAN_FEES[plan] + float(extra), 2)
        active_share = min(days_ago, 365) / 365
        rows.append(
            {
                "signup_date": signup,
                "age": int(np.clip(round(rng.normal(spec.age_mean, spec.age_sd)), 18, 80)),
                "region": REGIONS[int(rng.choice(len(REGIONS), p=spec.region_probs))],
                "plan": plan,
                "monthly_spend": spend,
                "orders_last_year": int(rng.poisson(spec.orders_rate * active_share + 0.3)),
                "tenure_months": tenure,
                "_persona": names[idx],
                "_lang": "zh" if chinese else "en",
            }
        )
    frame = pd.DataFrame(rows)

    persona_logit = frame["_persona"].map({n: p.churn_logit for n, p in PERSONAS.items()})
    base_logit = (
        persona_logit.to_numpy(dtype=float)
        - 0.03 * frame["tenure_months"].to_numpy(dtype=float)
        - 0.006 * (frame["monthly_spend"].to_numpy(dtype=float) - 50)
        - 0.02 * frame["orders_last_year"].to_numpy(dtype=float)
    )
    churned = rng.random(n_rows) < _churn_probabilities(base_logit)
    frame["churned"] = np.where(churned, "Yes", "No")

    frame["feedback"] = [
        _feedback(rng, persona, lang, plan, bool(left), int(tenure))
        for persona, lang, plan, left, tenure in zip(
            frame["_persona"],
            frame["_lang"],
            frame["plan"],
            churned,
            frame["tenure_months"],
            strict=True,
        )
    ]
    blank = rng.random(n_rows) < BLANK_SPEND_SHARE
    frame.loc[blank, "monthly_spend"] = np.nan

    # IDs are handed out in signup order from a sparse range, so every one keeps leading zeros.
    frame = frame.sort_values("signup_date", kind="stable").reset_index(drop=True)
    # Sparse IDs below 60,000 (so every ID has leading zeros); larger tables (benchmarks)
    # widen the range to three IDs per customer.
    id_range = max(60_000, 3 * n_rows)
    ids = np.sort(rng.choice(np.arange(1, id_range), size=n_rows, replace=False))
    frame["customer_id"] = [f"{i:06d}" for i in ids]
    frame["signup_date"] = [d.isoformat() for d in frame["signup_date"]]
    return frame[[*COLUMNS, PERSONA_COLUMN]]


DISTRACTOR_COLUMN = "store"
"""A 10-valued column drawn independently of the persona: segments must not follow it."""
INFORMATIVE_COLUMN = "tier"
INFORMATIVE_AGREEMENT = 0.7
"""Share of customers whose ``tier`` is their persona's own; the others draw one at random."""


def add_category_columns(
    frame: pd.DataFrame,
    seed: int = 0,
    *,
    values: int = 10,
    distractor: bool = True,
    informative: bool = False,
) -> pd.DataFrame:
    """``frame`` (with its ``_persona``) plus a ``values``-valued ``store`` column independent
    of the persona and/or a ``tier`` column that agrees with the persona for 70% of the rows.

    These test that no single category becomes the segmentation (the distractor) and that a
    category which does carry the personas does not make the segments worse (the tier).
    """
    rng = np.random.default_rng(seed + 1000)
    out = frame.copy()
    n_rows = len(out)
    if distractor:
        drawn = rng.integers(0, values, n_rows)
        out.insert(len(out.columns) - 1, DISTRACTOR_COLUMN, [f"Store {v + 1}" for v in drawn])
    if informative:
        personas = sorted(set(out[PERSONA_COLUMN]))
        own = out[PERSONA_COLUMN].map({p: i for i, p in enumerate(personas)}).to_numpy()
        drawn = np.where(
            rng.random(n_rows) < INFORMATIVE_AGREEMENT, own, rng.integers(0, values, n_rows)
        )
        out.insert(len(out.columns) - 1, INFORMATIVE_COLUMN, [f"Tier {chr(65 + v)}" for v in drawn])
    return out


def write_sample_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the public columns as UTF-8 CSV, spend always with two decimals, ``\\n`` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    public = frame.drop(columns=[PERSONA_COLUMN], errors="ignore")
    public.to_csv(path, index=False, lineterminator="\n", float_format="%.2f", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="number of customers")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    args = parser.parse_args(argv)
    frame = make_sample_customers(args.rows, args.seed)
    write_sample_csv(frame, args.out)
    churn = (frame["churned"] == "Yes").mean()
    print(f"wrote {len(frame)} customers to {args.out} (churn {churn:.1%})")


if __name__ == "__main__":
    main()
