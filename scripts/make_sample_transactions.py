"""Generate the bundled sample transaction log, ``assets/sample_transactions.csv``.

A fictional home-goods web shop's order lines for 2025, in the layout of the UCI
"Online Retail" data set (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country), so the transactions path of Segmenter can be tried
without a real export. Each customer follows one hidden habit, so recency, frequency,
value and products share structure:

- ``champion``: orders every two to four weeks all year, large baskets, kitchen and decor.
- ``regular``: orders every one to two months, mid baskets, mixed categories.
- ``gardener``: spring and summer only, garden products.
- ``one_off``: a single order at some point in the year.
- ``lapsed``: ordered in the first quarter, then stopped.
- ``new``: first order in the last two months of the year.

Realistic mess: about 3% of lines are returns on ``C`` invoices with negative quantities,
about 2% of lines have no CustomerID (guest checkout), prices have two decimals.

Regenerate (deterministic; commit the result)::

    python scripts/make_sample_transactions.py
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "sample_transactions.csv"
START = dt.datetime(2025, 1, 1, 8, 0)
DAYS = 365

CATALOGUE: dict[str, tuple[tuple[str, float], ...]] = {
    "kitchen": (
        ("ENAMEL MUG CREAM", 3.95),
        ("CAST IRON SKILLET 26CM", 34.50),
        ("BAMBOO CHOPPING BOARD", 12.90),
        ("GLASS STORAGE JAR SET", 18.00),
        ("COPPER MEASURING CUPS", 15.75),
        ("LINEN TEA TOWEL SAGE", 6.50),
    ),
    "decor": (
        ("WOVEN CUSHION COVER OCHRE", 14.00),
        ("CERAMIC VASE SPECKLED", 22.00),
        ("SCENTED CANDLE FIG", 11.50),
        ("RATTAN WALL MIRROR", 48.00),
        ("WOOL THROW CHARCOAL", 39.00),
    ),
    "garden": (
        ("GALVANISED WATERING CAN", 24.00),
        ("HERB SEED COLLECTION", 7.95),
        ("TERRACOTTA POT LARGE", 16.50),
        ("GARDEN KNEELER PAD", 9.00),
        ("SOLAR STRING LIGHTS", 19.99),
    ),
    "stationery": (
        ("KRAFT NOTEBOOK A5", 4.25),
        ("WASHI TAPE SET", 5.50),
        ("DESK ORGANISER OAK", 27.00),
        ("GREETING CARDS PACK", 8.00),
    ),
}

HABITS: dict[str, dict[str, object]] = {
    "champion": {
        "share": 0.12,
        "gap": (14, 28),
        "lines": (3, 7),
        "qty": (2, 6),
        "categories": ("kitchen", "decor"),
    },
    "regular": {
        "share": 0.28,
        "gap": (30, 60),
        "lines": (2, 4),
        "qty": (1, 3),
        "categories": ("kitchen", "decor", "stationery"),
    },
    "gardener": {
        "share": 0.14,
        "gap": (14, 35),
        "lines": (1, 4),
        "qty": (1, 3),
        "categories": ("garden",),
        "window": (60, 240),
    },
    "one_off": {
        "share": 0.20,
        "gap": None,
        "lines": (1, 3),
        "qty": (1, 2),
        "categories": ("kitchen", "decor", "stationery", "garden"),
    },
    "lapsed": {
        "share": 0.14,
        "gap": (20, 40),
        "lines": (1, 3),
        "qty": (1, 3),
        "categories": ("kitchen", "stationery"),
        "window": (0, 90),
    },
    "new": {
        "share": 0.12,
        "gap": (10, 25),
        "lines": (1, 3),
        "qty": (1, 2),
        "categories": ("decor", "kitchen"),
        "window": (305, 365),
    },
}
COUNTRIES = ("United Kingdom", "United Kingdom", "United Kingdom", "Germany", "France", "EIRE")


def _order_days(rng: np.random.Generator, habit: dict[str, object]) -> list[int]:
    low, high = habit.get("window", (0, DAYS))  # type: ignore[misc]
    gap = habit["gap"]
    if gap is None:
        return [int(rng.integers(0, DAYS))]
    day = int(rng.integers(low, min(low + 40, high)))
    days = []
    while day < high:
        days.append(day)
        day += int(rng.integers(*gap))  # type: ignore[misc]
    return days


def make_sample_transactions(n_customers: int = 400, seed: int = 11) -> pd.DataFrame:
    """Order lines for ``n_customers`` customers (plus guest lines without a CustomerID)."""
    rng = np.random.default_rng(seed)
    names = list(HABITS)
    shares = np.array([HABITS[h]["share"] for h in names], dtype=float)
    habits = rng.choice(names, size=n_customers, p=shares / shares.sum())
    rows: list[dict[str, object]] = []
    invoice = 540000
    for index, habit_name in enumerate(habits):
        habit = HABITS[habit_name]
        customer = str(12346 + index * 7)
        country = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        for day in _order_days(rng, habit):
            invoice += 1
            when = START + dt.timedelta(days=day, minutes=int(rng.integers(0, 600)))
            n_lines = int(rng.integers(habit["lines"][0], habit["lines"][1] + 1))  # type: ignore[index]
            categories = habit["categories"]
            for _ in range(n_lines):
                category = categories[int(rng.integers(len(categories)))]  # type: ignore[arg-type]
                product, price = CATALOGUE[category][int(rng.integers(len(CATALOGUE[category])))]
                quantity = int(rng.integers(habit["qty"][0], habit["qty"][1] + 1))  # type: ignore[index]
                guest = rng.random() < 0.02
                rows.append(
                    {
                        "InvoiceNo": str(invoice),
                        "StockCode": f"{abs(hash(product)) % 90000 + 10000}",
                        "Description": product,
                        "Quantity": quantity,
                        "InvoiceDate": when.strftime("%d/%m/%Y %H:%M"),
                        "UnitPrice": f"{price:.2f}",
                        "CustomerID": "" if guest else customer,
                        "Country": country,
                    }
                )
                if not guest and rng.random() < 0.03:
                    invoice += 1
                    returned = when + dt.timedelta(days=int(rng.integers(3, 20)))
                    rows.append(
                        {
                            **rows[-1],
                            "InvoiceNo": f"C{invoice}",
                            "Quantity": -min(quantity, int(rng.integers(1, 3))),
                            "InvoiceDate": returned.strftime("%d/%m/%Y %H:%M"),
                        }
                    )
    frame = pd.DataFrame(rows)
    frame["StockCode"] = frame["Description"].map(
        {p: f"{21000 + i}" for i, p in enumerate(sorted(set(frame["Description"])))}
    )
    order = pd.to_datetime(frame["InvoiceDate"], format="%d/%m/%Y %H:%M")
    return frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400, help="number of customers")
    parser.add_argument("--seed", type=int, default=11, help="random seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    args = parser.parse_args(argv)
    frame = make_sample_transactions(args.customers, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, lineterminator="\n", encoding="utf-8")
    returns = frame["InvoiceNo"].str.startswith("C").sum()
    guests = (frame["CustomerID"] == "").sum()
    print(f"wrote {len(frame):,} lines to {args.out} ({returns} returns, {guests} guest lines)")


if __name__ == "__main__":
    main()
