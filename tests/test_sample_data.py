"""The bundled sample customers: deterministic, well-formed, and in sync with its generator."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_sample_data.py"
SAMPLE_CSV = ROOT / "assets" / "sample_customers.csv"
CJK = re.compile(r"[\u4e00-\u9fff]")
EXPECTED_COLUMNS = [
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
]


def _load_script() -> ModuleType:
    # scripts/ is not a package, so load the generator from its file.
    spec = importlib.util.spec_from_file_location("make_sample_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def small(gen: ModuleType) -> pd.DataFrame:
    return gen.make_sample_customers(300, seed=1)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text the CSV holds: spend with two decimals, missing as ''."""
    out = frame.drop(columns=["_persona"]).copy()
    out["monthly_spend"] = [
        "" if pd.isna(value) else f"{value:.2f}" for value in out["monthly_spend"]
    ]
    return out.astype(str).reset_index(drop=True)


def test_same_seed_same_frame(gen: ModuleType, small: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(small, gen.make_sample_customers(300, seed=1))
    assert not small.equals(gen.make_sample_customers(300, seed=2))


def test_columns_and_hidden_persona(small: pd.DataFrame) -> None:
    assert list(small.columns) == [*EXPECTED_COLUMNS, "_persona"]
    assert small["_persona"].nunique() >= 5


def test_ids_unique_and_zero_padded(small: pd.DataFrame) -> None:
    ids = small["customer_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"\d{6}").all()
    assert ids.str.startswith("0").all()


def test_value_ranges(small: pd.DataFrame) -> None:
    assert small["age"].between(18, 80).all()
    assert set(small["plan"]) <= {"Basic", "Plus", "Premium"}
    assert set(small["churned"]) == {"Yes", "No"}
    assert (small["tenure_months"] >= 0).all()
    spend = small["monthly_spend"].dropna()
    assert (spend > 0).all() and (spend.round(2) == spend).all()


def test_tenure_matches_signup_date(gen: ModuleType, small: pd.DataFrame) -> None:
    signup = pd.to_datetime(small["signup_date"], format="%Y-%m-%d")
    today = pd.Timestamp(gen.TODAY)
    months = (today.year - signup.dt.year) * 12 + today.month - signup.dt.month
    months -= (signup.dt.day > today.day).astype(int)
    assert (months == small["tenure_months"]).all()


def test_chinese_share(small: pd.DataFrame) -> None:
    chinese = small["feedback"].str.contains(CJK)
    assert 0.12 <= chinese.mean() <= 0.30
    # Chinese text is spread over personas, not one persona of its own.
    assert small.loc[chinese, "_persona"].nunique() >= 4


def test_churn_rate(small: pd.DataFrame) -> None:
    assert 0.10 <= (small["churned"] == "Yes").mean() <= 0.40


def test_committed_csv_matches_generator(gen: ModuleType) -> None:
    committed = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    expected = _as_text(gen.make_sample_customers())
    pd.testing.assert_frame_equal(committed, expected, check_dtype=False)


def test_writer_round_trips(gen: ModuleType, small: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    gen.write_sample_csv(small, path)
    raw = path.read_bytes()
    assert b"\r\n" not in raw and b"_persona" not in raw
    written = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, _as_text(small), check_dtype=False)
