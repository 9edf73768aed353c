"""Campaign results: reading, joining, rates with honest intervals, comparisons, uplift,
target lists and the lessons a brief carries. Generated results with known true rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import ResultsError
from segmenter.results import (
    ALL_SEGMENTS,
    MIN_CUSTOMERS,
    ResultColumns,
    analyse,
    compare_variants,
    guess_result_columns,
    propose_outcome_columns,
    response_rates,
    results_from_columns,
    results_from_file,
    target_list,
    uplift,
)
from segmenter.results.stats import difference, shrunk_rate, wilson_interval
from tests.shapes import marketing_campaign

NAMES = {0: "Bargain hunters", 1: "Loyal regulars", 2: "New arrivals"}


def _customers(n: int) -> tuple[list[str], np.ndarray]:
    ids = [f"C{i:05d}" for i in range(n)]
    return ids, np.arange(n) % 3


def _sent(
    ids: list[str],
    labels: np.ndarray,
    rates: dict[tuple[int, str], float],
    *,
    seed: int,
    control_share: float = 0.0,
) -> pd.DataFrame:
    """A results file as the plan's CSV comes back: customer_id, variant, converted."""
    rng = np.random.default_rng(seed)
    variants = sorted({v for _, v in rates})
    arms = [*variants, "control"] if control_share else variants
    weights = [(1 - control_share) / len(variants)] * len(variants)
    weights += [control_share] if control_share else []
    chosen = rng.choice(arms, size=len(ids), p=weights)
    converted = [
        int(
            rng.random()
            < rates[(int(s), str(v if v != "control" else variants[0]))]
            * (0.5 if v == "control" else 1.0)
        )
        for s, v in zip(labels, chosen, strict=True)
    ]
    return pd.DataFrame(
        {"customer_id": ids, "variant": chosen, "channel": "email", "converted": converted}
    ).astype(str)


def test_wilson_intervals_cover_the_true_rate_at_their_stated_rate() -> None:
    rng = np.random.default_rng(7)
    for true_rate, n in ((0.05, 60), (0.2, 200), (0.5, 40)):
        hits = rng.binomial(n, true_rate, size=2000)
        low, high = wilson_interval(hits, np.full(hits.shape, n))
        coverage = float(((low <= true_rate) & (true_rate <= high)).mean())
        assert 0.92 <= coverage <= 0.98, (true_rate, n, coverage)


def test_difference_intervals_cover_the_true_difference() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(600):
        a, b = rng.binomial(300, 0.10), rng.binomial(300, 0.16)
        diff = difference(int(a), 300, int(b), 300)
        covered += diff.ci_low <= 0.06 <= diff.ci_high
    assert 0.92 <= covered / 600 <= 0.98


def test_a_null_difference_is_rarely_declared_and_a_real_one_usually_is() -> None:
    rng = np.random.default_rng(3)
    null_p = [
        difference(int(rng.binomial(400, 0.1)), 400, int(rng.binomial(400, 0.1)), 400).p_value
        for _ in range(500)
    ]
    assert np.mean(np.array(null_p) < 0.05) <= 0.07
    real_p = [
        difference(int(rng.binomial(800, 0.1)), 800, int(rng.binomial(800, 0.16)), 800).p_value
        for _ in range(200)
    ]
    assert np.mean(np.array(real_p) < 0.05) >= 0.85


def test_shrinkage_pulls_small_groups_most() -> None:
    shrunk = shrunk_rate(np.array([6, 300]), np.array([10, 500]), overall=0.1)
    assert shrunk[0] == pytest.approx((6 + 5) / 60)  # 60% observed on 10: pulled to 18%
    assert abs(shrunk[1] - 0.6) < abs(shrunk[0] - 0.6)


def test_table_columns_are_proposed_and_read_as_campaigns() -> None:
    frame = marketing_campaign(600)
    proposed = propose_outcome_columns(frame, exclude=["ID"])
    assert proposed == [f"AcceptedCmp{k}" for k in range(1, 6)] + ["Response"]
    assert "Complain" not in proposed and "Kidhome" not in proposed
    ids, labels = frame["ID"].tolist(), np.arange(600) % 3
    results = results_from_columns(frame, ids, labels, proposed)
    assert results.campaigns == proposed and not results.has_control
    rates = response_rates(results, NAMES)
    everyone = rates[(rates["segment_id"] == ALL_SEGMENTS) & (rates["campaign"] == "Response")]
    assert int(everyone["customers"].iloc[0]) == 600
    assert int(everyone["responders"].iloc[0]) == int((frame["Response"] == "1").sum())
    shown = rates.dropna(subset=["rate"])
    assert (shown["ci_low"] <= shown["rate"]).all() and (shown["rate"] <= shown["ci_high"]).all()


def test_a_column_that_is_not_yes_no_is_refused() -> None:
    frame = marketing_campaign(100)
    with pytest.raises(ResultsError, match="not a yes/no column"):
        results_from_columns(frame, frame["ID"].tolist(), np.zeros(100, int), ["Income"])


def test_small_cells_show_no_rate_and_say_why() -> None:
    ids, labels = _customers(300)
    labels = labels.copy()
    labels[:10] = 3  # a segment of ten customers
    file = _sent(ids, labels % 3, {(s, "1"): 0.2 for s in range(3)}, seed=1)
    results = results_from_file(file, ids, labels, ResultColumns("customer_id", ("converted",)))
    rates = response_rates(results, NAMES)
    tiny = rates[rates["segment_id"] == 3].iloc[0]
    assert tiny["customers"] == 10 and pd.isna(tiny["rate"]) and pd.isna(tiny["lift"])
    assert "too few customers (10)" in tiny["note"]
    assert MIN_CUSTOMERS > 10


def test_joining_counts_unmatched_rows_and_merges_repeats() -> None:
    ids, labels = _customers(600)
    file = _sent(ids, labels, {(s, v): 0.1 for s in range(3) for v in "12"}, seed=2)
    extra = pd.DataFrame(
        {
            "customer_id": ["X1", "X2", ids[0]],
            "variant": ["1", "2", file["variant"].iloc[0]],
            "channel": "email",
            "converted": ["1", "0", "1"],
        }
    )
    file = pd.concat([file, extra], ignore_index=True)
    guess = guess_result_columns(file, ids)
    assert guess.id == "customer_id" and guess.variant == "variant"
    assert guess.outcomes == ("converted",) and guess.channel == "channel"
    results = results_from_file(file, ids, labels, guess, name="november")
    assert list(results.unmatched["customer_id"]) == ["X1", "X2"]
    assert results.duplicates_merged == 1 and results.conflicts == 0
    assert len(results.frame) == 600  # one row per customer and outcome
    first = results.frame[results.frame["row"] == 0]["responded"].iloc[0]
    assert first == 1  # any yes is a yes
    assert "2 result rows match no customer" in results.describe()


def test_ids_mangled_by_a_spreadsheet_still_join() -> None:
    ids = [str(i) for i in range(100, 160)]
    file = pd.DataFrame({"id": [f"{i}.0" for i in ids], "opened": ["1", "0"] * 30})
    results = results_from_file(file, ids, np.zeros(60, int), ResultColumns("id", ("opened",)))
    assert results.unmatched.empty and len(results.frame) == 60


def test_results_matching_no_customer_are_refused_in_one_line() -> None:
    ids, labels = _customers(50)
    file = pd.DataFrame({"customer_id": ["Z1", "Z2"], "converted": ["1", "0"]})
    with pytest.raises(ResultsError, match="None of the 2 result rows"):
        results_from_file(file, ids, labels, ResultColumns("customer_id", ("converted",)))


def test_a_real_variant_difference_is_found_and_a_null_one_is_not() -> None:
    ids, labels = _customers(6000)
    truth = {(0, "1"): 0.08, (0, "2"): 0.16, (1, "1"): 0.12, (1, "2"): 0.12}
    truth |= {(2, "1"): 0.05, (2, "2"): 0.05}
    file = _sent(ids, labels, truth, seed=5)
    results = results_from_file(
        file, ids, labels, ResultColumns("customer_id", ("converted",), variant="variant")
    )
    table = compare_variants(results, NAMES).set_index("segment_id")
    assert table.loc[0, "verdict"] == "variant 2 responded more than variant 1"
    assert table.loc[0, "ci_low"] > 0
    for null in (1, 2):
        assert table.loc[null, "verdict"].startswith("no clear difference")
        assert table.loc[null, "ci_low"] < 0 < table.loc[null, "ci_high"]


def test_underpowered_comparisons_say_so() -> None:
    ids, labels = _customers(240)
    truth = {(s, v): 0.1 for s in range(3) for v in "12"}
    file = _sent(ids, labels, truth, seed=9)
    results = results_from_file(
        file, ids, labels, ResultColumns("customer_id", ("converted",), variant="variant")
    )
    verdicts = compare_variants(results, NAMES)["verdict"]
    assert verdicts.str.contains("too few customers to find one").any()
    assert not verdicts.str.contains("responded more").any()


def test_uplift_needs_a_control_group_and_is_estimated_with_one() -> None:
    ids, labels = _customers(9000)
    truth = {(0, "1"): 0.2, (1, "1"): 0.1, (2, "1"): 0.1}
    file = _sent(ids, labels, truth, seed=4, control_share=0.3)
    columns = ResultColumns("customer_id", ("converted",), variant="variant")
    results = results_from_file(file, ids, labels, columns)
    assert results.has_control
    table = uplift(results, NAMES).set_index("segment_id")
    # Control responds at half the treated rate: true uplift 10 points in segment 0, 5 in 1.
    assert table.loc[0, "ci_low"] <= 0.10 <= table.loc[0, "ci_high"]
    assert table.loc[1, "ci_low"] <= 0.05 <= table.loc[1, "ci_high"]
    targets = target_list(results, ids, labels, NAMES, outcome="converted")
    assert targets.basis == "uplift"
    assert targets.segments["segment_id"].iloc[0] == 0
    no_control = _sent(ids, labels, truth, seed=4)
    plain = results_from_file(no_control, ids, labels, columns)
    assert uplift(plain, NAMES).empty
    assert "cannot be estimated" in analyse(plain, NAMES).uplift_note


def test_target_list_ranks_every_segmented_customer() -> None:
    ids, labels = _customers(900)
    labels = labels.copy()
    labels[5] = -1  # unsegmented: never targeted
    truth = {(0, "1"): 0.05, (1, "1"): 0.30, (2, "1"): 0.15}
    file = _sent(ids, labels % 3, truth, seed=6)
    results = results_from_file(
        file, ids, labels, ResultColumns("customer_id", ("converted",), channel="channel")
    )
    scores = np.linspace(0, 1, 900)
    targets = target_list(results, ids, labels, NAMES, outcome="converted", scores=scores)
    frame = targets.frame
    assert len(frame) == 899 and ids[5] not in set(frame["customer_id"])
    assert list(frame["rank"]) == list(range(1, 900))
    assert list(targets.segments["segment_id"]) == [1, 2, 0]
    loyal = frame[frame["segment_id"] == 1]
    assert loyal["predicted_probability"].is_monotonic_decreasing
    assert set(frame["recommended_channel"]) == {"email"}
    assert "cannot be estimated" in targets.note


def test_lessons_quote_the_best_variant_copy_and_its_figures() -> None:
    ids, labels = _customers(6000)
    truth = {(s, "1"): 0.06 for s in range(3)} | {(s, "2"): 0.14 for s in range(3)}
    file = _sent(ids, labels, truth, seed=8)
    file["draft_id"] = file["variant"].map({"1": "draftone", "2": "drafttwo"})
    columns = ResultColumns("customer_id", ("converted",), variant="variant", draft_id="draft_id")
    report = analyse(results_from_file(file, ids, labels, columns, name="spring"), NAMES)
    stored = {
        "drafttwo": {
            "fields": {"subject": "Your garden, ready"},
            "brief": {"offer": "free delivery"},
        }
    }
    lessons = report.lessons(0, stored)
    text = "\n".join(lessons.lines)
    assert 'variant 2 ("Your garden, ready", offer "free delivery") did best' in text
    assert "a real difference" in text and "customers)" in text
    assert any("draft drafttwo" in source for source in lessons.sources)
    assert not report.lessons(7)  # a segment with no results has no lessons


def test_lessons_claim_more_or_less_only_where_the_interval_clears_all_customers() -> None:
    n = 1500
    ids, labels = _customers(n)
    rng = np.random.default_rng(12)
    # Segment 0 takes campaign A three times as often; B is the same for everyone, and its
    # base rate is higher than A's (so a rank by rate alone would call B "best" for all).
    a = np.where(labels == 0, 0.30, 0.10)
    frame = pd.DataFrame(
        {
            "AcceptedA": (rng.random(n) < a).astype(int).astype(str),
            "AcceptedB": (rng.random(n) < 0.4).astype(int).astype(str),
        }
    )
    report = analyse(results_from_columns(frame, ids, labels, ["AcceptedA", "AcceptedB"]), NAMES)
    fond = "\n".join(report.lessons(0).lines)
    assert "responded more than customers overall to AcceptedA" in fond
    assert "AcceptedB" not in fond  # within the noise: no claim either way
    others = "\n".join(report.lessons(1).lines)
    assert "responded less than customers overall to AcceptedA" in others
    assert "more than customers overall" not in others


def test_the_all_customers_comparison_is_not_pooled_with_the_segments() -> None:
    ids, labels = _customers(900)
    only_one = np.zeros(900, dtype=int)  # every customer in the results is in segment 0
    file = _sent(ids, only_one, {(0, "1"): 0.07, (0, "2"): 0.18}, seed=2)
    columns = ResultColumns("customer_id", ("converted",), variant="variant")
    table = compare_variants(results_from_file(file, ids, only_one, columns), NAMES)
    assert len(table) == 2  # all customers, and segment 0: the same customers
    assert (table["p_adjusted"] == table["p_value"]).all()  # each alone in its family


def test_segments_without_results_come_after_those_with_results() -> None:
    ids, labels = _customers(900)
    only_one = labels == 2  # results came back for segment 2 alone, at the overall rate
    file = _sent(ids, labels, {(s, "1"): 0.1 for s in range(3)}, seed=3)[only_one]
    results = results_from_file(file, ids, labels, ResultColumns("customer_id", ("converted",)))
    assert results.frame["segment_id"].unique().tolist() == [2]
    targets = target_list(results, ids, labels, NAMES, outcome="converted")
    assert targets.segments["segment_id"].iloc[0] == 2
    assert targets.frame["segment_id"].iloc[0] == 2
    assert "2 of 3 segments had no customers in these results" in targets.note
