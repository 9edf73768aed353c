"""Stable segment identities between runs, and the movement of customers between them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.cli import main
from segmenter.errors import SegmenterError
from segmenter.export import profiles_json
from segmenter.ingest import build_documents, detect_schema, prepare_columns
from segmenter.movement import (
    MIN_JACCARD,
    contingency_by_ids,
    default_max_distance,
    ids_overlap,
    match_by_centres,
    match_segments,
    relabel_run_outputs,
)
from segmenter.movement_charts import movement_sankey
from segmenter.movement_compare import compare_runs
from segmenter.movement_value import at_risk_segments, valuable_segments
from segmenter.profile import SegmentProfile, profile_segments
from segmenter.profile.traits import NumericTrait
from segmenter.run_record import RunRecord
from segmenter.sentiment import SegmentFeedback
from tests.conftest import FakeEmbedder, make_customers
from tests.shapes import complaints_export, marketing_campaign


def _ids(n: int) -> np.ndarray:
    return np.array([f"{i:05d}" for i in range(n)], dtype=object)


def _rerun(
    labels: np.ndarray, k_new: int, mapping: dict[int, int], noise: float, seed: int
) -> np.ndarray:
    """Labels of a re-run: each earlier segment under its new number (``mapping``), with a
    share ``noise`` of customers moved to a random segment."""
    rng = np.random.default_rng(seed)
    out = np.array([mapping[int(s)] for s in labels])
    moved = rng.random(len(out)) < noise
    out[moved] = rng.integers(0, k_new, moved.sum())
    return out


# --- matching -------------------------------------------------------------------------


@pytest.mark.parametrize("k", [3, 5, 8])
@pytest.mark.parametrize("noise", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_permuted_perturbed_rerun_keeps_every_identity(k: int, noise: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = rng.integers(0, k, 2000)
    permutation = rng.permutation(k)
    after = _rerun(before, k, dict(enumerate(permutation.tolist())), noise, seed + 100)
    ids = _ids(len(before))
    shuffle = rng.permutation(len(before))  # the newer table's rows come in another order
    match = match_segments(contingency_by_ids(ids, before, ids[shuffle], after[shuffle]))
    assert match.identities == {int(permutation[s]): s for s in range(k)}
    assert match.vanished == () and match.new == ()
    assert min(match.scores.values()) > MIN_JACCARD


def test_a_new_segment_gets_a_new_number_and_a_vanished_one_is_listed() -> None:
    rng = np.random.default_rng(3)
    before = rng.integers(0, 4, 1200)  # segments 0..3
    # Segment 3 vanishes (its customers spread over the rest); the re-run numbers the others
    # 2, 0, 1; customers who are new to the table form a segment of their own (3).
    after = _rerun(before, 3, {0: 2, 1: 0, 2: 1, 3: 0}, 0.05, 4)
    gone = before == 3
    after[gone] = rng.integers(0, 3, gone.sum())
    ids = _ids(len(before))
    new_ids = np.array([f"n{i}" for i in range(150)], dtype=object)
    match = match_segments(
        contingency_by_ids(
            ids, before, np.concatenate([ids, new_ids]), np.concatenate([after, np.full(150, 3)])
        )
    )
    assert match.matched == {0: 1, 1: 2, 2: 0}
    assert match.identities[3] == 4  # above every earlier number
    assert match.new == (3,) and match.vanished == (3,)


def test_new_numbers_start_where_the_history_says() -> None:
    table = np.array([[50, 0], [0, 0]])
    match = match_segments(table, earlier_ids=[0, 7], new_ids=[0, 1], next_id=12)
    assert match.identities == {0: 0, 1: 12}
    assert match.vanished == (7,)


def test_a_segment_split_in_two_keeps_its_number_in_the_larger_part() -> None:
    before = np.repeat([0, 1, 2], 200)
    after = before.copy()
    half = np.flatnonzero(before == 1)[:90]  # 90 of 200 split off, 110 stay
    after[half] = 3
    match = match_segments(contingency_by_ids(_ids(600), before, _ids(600), after))
    assert match.identities == {0: 0, 1: 1, 2: 2, 3: 3} and match.new == (3,)
    assert match.scores[1] == pytest.approx(110 / 200)


@pytest.mark.parametrize("parts", [3, 4])
def test_a_merge_of_equal_parts_continues_none_of_them(parts: int) -> None:
    before = np.repeat(np.arange(parts), 100)
    after = np.zeros_like(before)  # every part in one new segment
    match = match_segments(contingency_by_ids(_ids(len(before)), before, _ids(len(before)), after))
    assert match.matched == {} and match.vanished == tuple(range(parts))


@pytest.mark.parametrize("k", [3, 5, 8])
def test_unrelated_segmentations_match_nothing(k: int) -> None:
    rng = np.random.default_rng(k)
    before, after = rng.integers(0, k, 3000), rng.integers(0, k, 3000)
    match = match_segments(contingency_by_ids(_ids(3000), before, _ids(3000), after))
    assert match.matched == {}
    assert match.new == tuple(range(k)) and match.vanished == tuple(range(k))


def test_a_pair_needs_enough_shared_customers() -> None:
    assert match_segments(np.array([[9, 0], [0, 30]])).matched == {1: 1}


def test_the_assignment_is_optimal_not_greedy() -> None:
    # Jaccard: new 0 is closest to earlier 2 (0.43), but taking that pair leaves earlier 0
    # unmatched; the optimum pairs new 0 with earlier 0 (0.4) and new 1 with earlier 2 (0.4).
    table = np.array([[54, 0, 0], [0, 0, 19], [81, 54, 0]])
    assert match_segments(table).matched == {0: 0, 1: 2, 2: 1}


def test_centres_match_a_permuted_jittered_set_and_leave_a_far_one_new() -> None:
    rng = np.random.default_rng(0)
    earlier = rng.normal(size=(5, 8)) * 5
    order = np.array([3, 0, 4, 1])  # earlier 2 vanishes
    new = np.vstack([earlier[order] + rng.normal(scale=0.1, size=(4, 8)), earlier[2] + 40])
    match = match_by_centres(earlier, new)
    assert match.identities == {0: 3, 1: 0, 2: 4, 3: 1, 4: 5}
    assert match.vanished == (2,) and match.new == (4,)
    assert match.threshold == pytest.approx(default_max_distance(earlier))


def test_centres_beyond_the_distance_limit_are_never_matched() -> None:
    match = match_by_centres(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), max_distance=4.9)
    assert match.matched == {} and match.identities == {0: 1}
    assert match_by_centres(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).matched == {0: 0}


# --- contingency by ID ----------------------------------------------------------------


def test_ids_are_compared_as_text_without_unsegmented_duplicated_or_blank_ones() -> None:
    ids_a = ["0001", "0002", "0003", "0004", "0004", "", "0006"]
    labels_a = np.array([0, 0, 1, 1, 0, 1, -1])
    ids_b = [" 0001", "1", "0003 ", "0004", "0006", "0007", "0002"]
    labels_b = np.array([5, 5, 6, 6, 5, 6, -1])
    table = contingency_by_ids(ids_a, labels_a, ids_b, labels_b)
    # 0001 -> 5 and 0003 -> 6 count; "1" is not "0001"; 0004 is on two rows of A; 0006 is
    # unsegmented in A and 0002 in B: shared but in no cell.
    assert table.earlier_ids == (0, 1) and table.new_ids == (5, 6)
    assert table.counts.tolist() == [[1, 0], [0, 1]]
    assert table.shared == 4 and table.duplicated == 1 and table.segmented_shared == 2


def test_float_ids_from_a_spreadsheet_match_whole_ones() -> None:
    table = contingency_by_ids(["12.0", "13.0"], np.array([0, 1]), ["12", "13"], np.array([0, 1]))
    assert table.counts.tolist() == [[1, 0], [0, 1]]


def test_ids_overlap_decides_between_customers_and_centres() -> None:
    table = contingency_by_ids(_ids(100), np.zeros(100, int), _ids(100), np.zeros(100, int))
    assert ids_overlap(table, 150) and not ids_overlap(table, 250)


# --- relabelling ----------------------------------------------------------------------


def _profile(
    segment_id: int,
    name: str,
    size: int = 10,
    numeric: tuple[NumericTrait, ...] = (),
    feedback: SegmentFeedback | None = None,
) -> SegmentProfile:
    return SegmentProfile(segment_id, name, size, 0.1, numeric, (), (), (), feedback=feedback)


def test_relabelled_outputs_take_the_earlier_numbers_and_names() -> None:
    earlier = [_profile(0, "Big spenders"), _profile(1, "Late deliveries"), _profile(2, "Gone")]
    new = [_profile(0, "Late parcels"), _profile(1, "High spend"), _profile(2, "Students")]
    match = match_segments(np.array([[0, 40, 0], [45, 0, 0], [0, 0, 0]]))
    labels = np.array([0, 1, 2, -1, 1])
    relabelled, profiles = relabel_run_outputs(labels, new, match, earlier)
    assert relabelled.tolist() == [1, 0, 3, -1, 0]
    assert [(p.segment_id, p.name) for p in profiles] == [
        (0, "Big spenders"),
        (1, "Late deliveries"),
        (3, "Students"),
    ]
    assert labels.tolist() == [0, 1, 2, -1, 1] and new[0].segment_id == 0  # untouched


# --- comparing two run folders ----------------------------------------------------------


def _write_run(
    folder: Path,
    frame: pd.DataFrame,
    labels: np.ndarray,
    profiles: list[SegmentProfile],
    roles: dict[str, str],
    id_column: str | None = "customer_id",
) -> Path:
    """A run folder as ``segment --out`` writes it, made by hand so the moves are known."""
    folder.mkdir(parents=True)
    names = {p.segment_id: p.name for p in profiles}
    out = frame.copy()
    out["segment_id"] = labels
    out["segment_name"] = [names.get(int(s), "Unsegmented") for s in labels]
    out.to_csv(folder / "segments.csv", index=False)
    (folder / "profiles.json").write_text(profiles_json(profiles), encoding="utf-8")
    schema = {
        "id_column": id_column,
        "columns": [{"name": c, "role": r} for c, r in roles.items()],
    }
    RunRecord({}, schema, {}, {}, {}, {}).write(folder)
    return folder


def _spend_trait(z: float) -> NumericTrait:
    return NumericTrait("spend", 50.0 * (1 + z), 50.0, 1 + z, z, "Spend")


ROLES = {"customer_id": "id", "spend": "numeric", "churned": "label"}


@pytest.fixture
def known_moves(tmp_path: Path) -> tuple[Path, Path]:
    """Run A: segments 0, 1, 2 of 100 customers each (0 spends most). Run B numbers them
    1, 2, 0 and: 10 of A's 0 moved to B's 2 (A's 1), 5 of A's 2 moved to B's 1 (A's 0),
    20 of A's 1 are gone, 15 new customers are in B's 0; one B row has no ID and one is
    unsegmented. Everyone in B's 2 churned, 10 each in B's 0 and 1."""
    ids = np.array([f"c{i:04d}" for i in range(1, 316)], dtype=object)
    a_labels = np.repeat([0, 1, 2], 100)
    frame_a = pd.DataFrame({"customer_id": ids[:300], "spend": "50", "churned": "No"})
    profiles_a = [
        _profile(0, "Big spenders", 100, numeric=(_spend_trait(1.0),)),
        _profile(1, "Late parcels", 100, numeric=(_spend_trait(-0.4),)),
        _profile(2, "Students", 100, numeric=(_spend_trait(-0.6),)),
    ]
    successor = {0: 1, 1: 2, 2: 0}
    b_ids, b_labels = [], []
    for i, customer in enumerate(ids[:300]):
        number = i + 1
        if 101 <= number <= 120:
            continue  # gone
        if number <= 10:
            b_labels.append(2)
        elif 201 <= number <= 205:
            b_labels.append(1)
        else:
            b_labels.append(successor[int(a_labels[i])])
        b_ids.append(customer)
    b_ids += list(ids[300:]) + ["", "c0400"]
    b_labels += [0] * 15 + [0, -1]
    b_labels_array = np.array(b_labels)
    churned = np.where(b_labels_array == 2, "Yes", "No").astype(object)
    for segment in (0, 1):
        churned[np.flatnonzero(b_labels_array == segment)[:10]] = "Yes"
    order = np.random.default_rng(0).permutation(len(b_ids))  # rows in another order
    frame_b = pd.DataFrame({"customer_id": b_ids, "spend": "40", "churned": churned}).iloc[order]
    profiles_b = [
        _profile(0, "Students again", 111),
        _profile(1, "Big spenders", 95),
        _profile(2, "Leavers", 90),
    ]
    run_a = _write_run(tmp_path / "a", frame_a, a_labels, profiles_a, ROLES)
    run_b = _write_run(
        tmp_path / "b", frame_b.reset_index(drop=True), b_labels_array[order], profiles_b, ROLES
    )
    return run_a, run_b


def test_movement_counts_where_the_moves_are_known(known_moves: tuple[Path, Path]) -> None:
    comparison = compare_runs(*known_moves)
    assert comparison.match.matched == {0: 2, 1: 0, 2: 1}
    table = comparison.contingency
    assert table.earlier_ids == (0, 1, 2) and table.new_ids == (0, 1, 2)
    assert table.counts.tolist() == [[0, 90, 10], [0, 0, 80], [95, 5, 0]]
    outcomes = {
        o.segment_id: (o.continued_by, o.stayed, o.moved, o.gone) for o in comparison.outcomes
    }
    assert outcomes == {0: (1, 90, 10, 0), 1: (2, 80, 0, 20), 2: (0, 95, 5, 0)}
    flows = {
        f.segment_id: (f.continues, f.stayed, f.joined_from_segments, f.joined_new, f.left)
        for f in comparison.flows
    }
    assert flows == {0: (2, 95, 0, 15, 5), 1: (0, 90, 5, 0, 10), 2: (1, 80, 10, 0, 20)}
    assert comparison.shared == 280 and comparison.only_a == 20 and comparison.only_b == 16
    movement = comparison.movement_frame()
    assert len(movement) == 9 and movement["customers"].sum() == 280
    row = movement[(movement["a_segment_id"] == 0) & (movement["b_segment_id"] == 2)]
    assert row[["a_segment_name", "b_segment_name", "customers"]].values.tolist() == [
        ["Big spenders", "Leavers", 10]
    ]


def test_movers_go_from_a_valuable_segment_to_an_at_risk_one(
    known_moves: tuple[Path, Path],
) -> None:
    comparison = compare_runs(*known_moves)
    assert comparison.valuable.ids == (0,) and comparison.at_risk.ids == (2,)
    assert "Spend" in comparison.valuable.rule and "churned = Yes" in comparison.at_risk.rule
    movers = comparison.movers
    assert sorted(movers["customer_id"]) == [f"c{i:04d}" for i in range(1, 11)]
    assert set(movers["from_segment_id"]) == {0} and set(movers["to_segment_id"]) == {2}
    assert set(movers["to_segment_name"]) == {"Leavers"}
    assert list(movers.columns[:3]) == ["customer_id", "spend", "churned"]
    assert comparison.movers_reason == ""


def test_given_segments_override_the_rule(known_moves: tuple[Path, Path]) -> None:
    # From A's 2 to B's 1: the 5 who moved there, not A's 0 who stayed in B's 1.
    comparison = compare_runs(*known_moves, from_ids=[2, 0], to_ids=[1])
    assert sorted(comparison.movers["customer_id"]) == [f"c{i:04d}" for i in range(201, 206)]
    assert comparison.valuable.overridden and comparison.at_risk.overridden
    with pytest.raises(SegmenterError, match="Run B has no segment 7 .*choose from 0, 1, 2"):
        compare_runs(*known_moves, to_ids=[7])


def test_comparison_json_and_sankey(known_moves: tuple[Path, Path]) -> None:
    comparison = compare_runs(*known_moves)
    record = json.loads(comparison.to_json())
    assert record["customers"]["in_both"] == 280
    assert record["matching"]["method"] == "customers"
    assert {s["segment_id"]: s["continues"] for s in record["matching"]["segments"]} == {
        0: 2,
        1: 0,
        2: 1,
    }
    assert record["vanished_segments"] == [] and record["new_segments"] == []
    assert record["movers"]["customers"] == 10
    assert record["movers"]["valuable_in_a"]["segment_ids"] == [0]
    figure = movement_sankey(comparison)
    sankey = figure.data[0]
    assert len(sankey.link.value) == 5 and sum(sankey.link.value) == 280
    assert sankey.node.label[0] == "A 0: Big spenders (100)"
    assert sankey.node.label[4] == "B 1: Big spenders (95)"
    assert sankey.node.color[4] == sankey.node.color[0]  # B's 1 continues A's 0


def test_no_signal_leaves_the_movers_empty_with_a_reason(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": _ids(60), "spend": "1", "churned": "No"})
    labels = np.repeat([0, 1], 30)
    profiles = [_profile(0, "A"), _profile(1, "B")]
    run_a = _write_run(tmp_path / "a", frame, labels, profiles, ROLES)
    run_b = _write_run(tmp_path / "b", frame, labels[::-1], profiles, ROLES)
    comparison = compare_runs(run_a, run_b)
    assert comparison.movers.empty
    assert "no spend, revenue or value column" in comparison.movers_reason
    assert comparison.match.matched == {0: 1, 1: 0}


def test_runs_that_cannot_be_compared_say_why(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": _ids(40), "spend": "1", "churned": "No"})
    labels = np.repeat([0, 1], 20)
    profiles = [_profile(0, "A"), _profile(1, "B")]
    run_a = _write_run(tmp_path / "a", frame, labels, profiles, ROLES)
    other = frame.assign(customer_id=[f"x{i}" for i in range(40)])
    run_b = _write_run(tmp_path / "b", other, labels, profiles, ROLES)
    no_id = _write_run(tmp_path / "c", frame, labels, profiles, ROLES, id_column=None)
    with pytest.raises(SegmenterError, match="No customer ID of run A .*'00000'.*'x0'"):
        compare_runs(run_a, run_b)
    with pytest.raises(SegmenterError, match="has no customer ID column"):
        compare_runs(run_a, no_id)
    with pytest.raises(SegmenterError, match="is not a run folder"):
        compare_runs(run_a, tmp_path)


def test_duplicated_ids_are_left_out_and_noted(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": _ids(40), "spend": "1", "churned": "No"})
    labels = np.repeat([0, 1], 20)
    profiles = [_profile(0, "A"), _profile(1, "B")]
    run_a = _write_run(tmp_path / "a", frame, labels, profiles, ROLES)
    twice = pd.concat([frame, frame.head(2)], ignore_index=True)
    run_b = _write_run(tmp_path / "b", twice, np.r_[labels, 1, 1], profiles, ROLES)
    comparison = compare_runs(run_a, run_b)
    assert comparison.shared == 38 and comparison.contingency.duplicated == 2
    assert any("more than one row" in note for note in comparison.notes)


# --- valuable and at risk on several table shapes ---------------------------------------


def _profiles_of(
    frame: pd.DataFrame, labels: np.ndarray
) -> tuple[list[SegmentProfile], dict[str, str]]:
    schema = detect_schema(frame)
    prepared = prepare_columns(frame, schema)
    docs = build_documents(frame, schema)
    profiles = profile_segments(docs, labels, prepared.numeric, prepared.categorical)
    return profiles, {c.name: c.role for c in schema.columns}


def test_campaign_table_big_spenders_are_valuable_and_no_risk_signal_is_said() -> None:
    frame = marketing_campaign(300)
    spend = sum(frame[c].astype(float) for c in frame.columns if c.startswith("Mnt"))
    labels = np.digitize(spend, np.quantile(spend, [1 / 3, 2 / 3]))  # 2: top third
    profiles, roles = _profiles_of(frame, labels)
    valuable = valuable_segments(profiles)
    assert valuable.ids == (2,) and "Spend on wines" in valuable.rule
    assert "Income" not in valuable.rule  # what customers earn is not what they bring
    at_risk = at_risk_segments(profiles, frame, labels, roles)
    # Response is an action taken and Complain holds 2 cases: no risk signal.
    assert not at_risk.found_signal and at_risk.ids == () and "--to" in at_risk.rule


def test_a_complaint_flag_is_a_risk_and_a_segment_without_labels_has_no_rate() -> None:
    frame = marketing_campaign(300)
    labels = np.repeat([0, 1, 2], 100)
    frame["Complain"] = np.where((labels == 1) & (np.arange(300) % 3 == 0), "1", "0")
    frame.loc[labels == 2, "Complain"] = ""  # nobody in segment 2 answered
    profiles, roles = _profiles_of(frame, labels)
    at_risk = at_risk_segments(profiles, frame, labels, roles)
    assert at_risk.ids == (1,) and "Complain = 1" in at_risk.rule
    assert json.loads(json.dumps(at_risk.to_dict()))["evidence"]["2"] is None


def test_sample_shaped_table_churn_decides_at_risk() -> None:
    frame = make_customers(60).rename(columns={"spend": "monthly_spend"})
    labels = np.repeat([0, 1, 2], 60)
    rng = np.random.default_rng(0)
    rates = np.array([0.1, 0.45, 0.15])[labels]
    frame["churned"] = np.where(rng.random(len(frame)) < rates, "Yes", "No")
    profiles, roles = _profiles_of(frame, labels)
    assert valuable_segments(profiles).ids == (2,)  # the support theme spends 120 vs 40, 25
    at_risk = at_risk_segments(profiles, frame, labels, roles)
    assert at_risk.ids == (1,) and "churned = Yes" in at_risk.rule


def test_complaints_table_has_no_value_signal_and_reads_negative_feedback() -> None:
    frame = complaints_export(200)
    labels = np.repeat([0, 1], 100)
    profiles, roles = _profiles_of(frame, labels)
    valuable = valuable_segments(profiles)
    assert not valuable.found_signal and "--from" in valuable.rule
    moods = [
        SegmentFeedback(100, 0.3, 0.4, 0.3, 0.0, (), ()),
        SegmentFeedback(100, 0.7, 0.2, 0.1, 0.0, (), ()),
    ]
    with_feedback = [replace(p, feedback=m) for p, m in zip(profiles, moods, strict=True)]
    at_risk = at_risk_segments(with_feedback, frame, labels, roles)
    assert at_risk.ids == (1,) and "negative feedback" in at_risk.rule


# --- the command line -----------------------------------------------------------------


def test_compare_on_the_command_line(
    tmp_path: Path, fake_embedder: FakeEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = make_customers(seed=0)
    later = make_customers(seed=1).iloc[10:].sample(frac=1.0, random_state=0)  # 10 gone
    for name, frame in (("a", earlier), ("b", later)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        args = ["segment", str(tmp_path / f"{name}.csv"), "--out", str(tmp_path / name)]
        assert main([*args, "--embedder", "fake", "--k", "3"]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "110 customers in both runs (10 only in A, 0 only in B)" in printed
    movement = pd.read_csv(out / "movement.csv")
    assert list(movement.columns) == [
        "a_segment_id",
        "a_segment_name",
        "b_segment_id",
        "b_segment_name",
        "customers",
    ]
    assert movement["customers"].sum() == 110 and (movement["customers"] > 0).sum() == 3
    record = json.loads((out / "comparison.json").read_text())
    assert all(s["continues"] is not None for s in record["matching"]["segments"])
    assert sum(s["stayed"] for s in record["b_segments"]) == 110
    assert sum(s["gone"] for s in record["a_segments"]) == 10
    movers = pd.read_csv(out / "movers.csv", dtype=str)
    assert movers.empty and "from_segment_id" in movers.columns  # the themes hold together
    status = main(
        ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)] + ["--from", "9"]
    )
    assert status == 2 and "Run A has no segment 9" in capsys.readouterr().err


def test_compare_rejects_bad_segment_ids() -> None:
    with pytest.raises(SystemExit):
        main(["compare", "a", "b", "--out", "c", "--from", "one"])
