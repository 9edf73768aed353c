"""Segmentation on features with known structure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from segmenter import kmeans, reduce
from segmenter.cluster import (
    UNSEGMENTED,
    Segmenter,
    assign_segments,
    choose_n_segments,
    fuse_features,
)
from segmenter.errors import SchemaError
from segmenter.reduce import nearest_sampled, reduce_features


def blobs(n_per: int, centres: int, dim: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=6.0, size=(centres, dim))
    truth = np.repeat(np.arange(centres), n_per)
    points = means[truth] + rng.normal(size=(len(truth), dim))
    return points.astype(np.float32), truth


@pytest.mark.parametrize("centres", [3, 4])
def test_auto_k_finds_known_clusters(centres: int) -> None:
    points, truth = blobs(40, centres)
    segmenter = Segmenter(random_state=0, min_segment_size=5).fit(points)
    assert segmenter.n_segments_ == centres
    assert adjusted_rand_score(truth, segmenter.labels_) == 1.0
    assert set(segmenter.k_choice_.silhouettes) >= {3, 4, 5}


def test_same_input_and_settings_give_same_segments() -> None:
    points, _ = blobs(40, 3, seed=3)
    first = Segmenter(random_state=7).fit(points)
    second = Segmenter(random_state=7).fit(points)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_allclose(first.coords_, second.coords_)


def test_segments_are_numbered_largest_first() -> None:
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(0, 1, (60, 4)), rng.normal(20, 1, (25, 4))])
    labels = assign_segments(points, 2).labels
    assert (labels == 0).sum() == 60
    assert (labels == 1).sum() == 25


def test_recluster_reuses_the_projection() -> None:
    points, _ = blobs(40, 3)
    segmenter = Segmenter(n_segments=3, random_state=0).fit(points)
    cluster_space = segmenter.reduction_.cluster_space
    segmenter.recluster(5)
    assert segmenter.reduction_.cluster_space is cluster_space
    assert len(np.unique(segmenter.labels_)) == 5


def test_structured_only_segments_by_columns() -> None:
    numeric = pd.DataFrame({"spend": [10.0] * 30 + [500.0] * 30, "age": [20.0] * 30 + [60.0] * 30})
    categorical = pd.DataFrame({"plan": ["basic"] * 30 + ["premium"] * 30})
    segmenter = Segmenter(k_min=2, random_state=0).fit(
        None, numeric=numeric, categorical=categorical
    )
    truth = np.repeat([0, 1], 30)
    assert adjusted_rand_score(truth, segmenter.labels_) == 1.0


def test_rows_without_any_value_are_marked_not_dropped() -> None:
    points, _ = blobs(20, 2, dim=4)
    text = np.vstack([points, np.zeros((2, 4), dtype=np.float32)])
    has_text = np.r_[np.ones(40, bool), np.zeros(2, bool)]
    numeric = pd.DataFrame({"spend": [1.0] * 40 + [np.nan, np.nan]})
    segmenter = Segmenter(n_segments=2, random_state=0).fit(text, has_text, numeric=numeric)
    assert len(segmenter.labels_) == 42
    assert (segmenter.labels_[-2:] == UNSEGMENTED).all()
    assert np.isnan(segmenter.coords_[-2:]).all()


def test_rows_without_text_are_placed_by_their_columns() -> None:
    points, _ = blobs(30, 2, dim=4)
    has_text = np.ones(60, bool)
    has_text[[0, 45]] = False
    text = points.copy()
    text[~has_text] = 0
    numeric = pd.DataFrame({"spend": np.r_[np.full(30, 1.0), np.full(30, 100.0)]})
    segmenter = Segmenter(n_segments=2, random_state=0).fit(text, has_text, numeric=numeric)
    assert (segmenter.labels_ >= 0).all()
    assert segmenter.labels_[0] == segmenter.labels_[1]
    assert segmenter.labels_[45] == segmenter.labels_[46]


def test_text_weight_balances_blocks() -> None:
    text = np.random.default_rng(0).normal(size=(50, 8))
    numeric = pd.DataFrame({"a": np.arange(50.0)})
    fused = fuse_features(text, np.ones(50, bool), numeric, text_weight=0.75)
    text_part = fused.matrix[:, : fused.text_dims]
    other_part = fused.matrix[:, fused.text_dims :]
    ratio = (text_part**2).sum() / (other_part**2).sum()
    assert ratio == pytest.approx(3.0, rel=1e-3)


def test_nothing_to_segment_is_a_clear_error() -> None:
    with pytest.raises(SchemaError, match="No row has text"):
        fuse_features(None, None, pd.DataFrame({"a": [np.nan] * 5}))
    with pytest.raises(SchemaError, match="text_weight"):
        fuse_features(np.ones((3, 2)), np.ones(3, bool), text_weight=2.0)


def test_more_segments_than_rows_is_a_clear_error() -> None:
    with pytest.raises(SchemaError, match="n_samples=3 should be >= n_segments=5"):
        assign_segments(np.zeros((3, 2)), 5)


def test_choose_k_respects_minimum_segment_size() -> None:
    rng = np.random.default_rng(0)
    # Two big groups and a 3-point outlier group: with min size 10 the outliers cannot be a segment.
    points = np.vstack(
        [rng.normal(0, 1, (50, 3)), rng.normal(12, 1, (50, 3)), rng.normal(40, 0.1, (3, 3))]
    )
    choice = choose_n_segments(points, k_min=2, k_max=5, min_segment_size=10)
    assert choice.smallest_segment[choice.k] >= 10


def test_get_params_is_a_loggable_record() -> None:
    params = Segmenter(n_segments=4, random_state=3).get_params()
    assert params["n_segments"] == 4
    assert params["random_state"] == 3


def test_two_segments_when_asked_to_search_from_two() -> None:
    points, truth = blobs(40, 2)
    segmenter = Segmenter(k_min=2, random_state=0).fit(points)
    assert segmenter.n_segments_ == 2
    assert adjusted_rand_score(truth, segmenter.labels_) == 1.0


@pytest.mark.parametrize(("rows", "expected"), [(40, 15), (600, 30), (2000, 100), (100_000, 100)])
def test_neighbourhood_grows_with_the_table_within_bounds(rows: int, expected: int) -> None:
    from segmenter.cluster import auto_neighbours

    assert auto_neighbours(rows) == expected


def test_choose_k_rejects_a_segment_holding_most_customers() -> None:
    rng = np.random.default_rng(0)
    # Three nearby groups far from a fourth: silhouette prefers k=2 (75% vs 25%),
    # but a segment of three quarters of the customers is the base, not a segment.
    near = [rng.normal(centre, 0.4, (60, 2)) for centre in ((0, 0), (4, 0), (2, 3.5))]
    far = rng.normal((60, 0), 0.4, (60, 2))
    points = np.vstack([*near, far])
    choice = choose_n_segments(points, k_min=2, k_max=6, min_segment_size=10)
    assert choice.silhouettes[2] == max(choice.silhouettes.values())
    assert choice.largest_share[2] == 0.75
    assert choice.k == 4


WARM_UP_CHECK = """
from segmenter.reduce import import_umap, warm_up_reduction

umap = import_umap()
kernels = (
    umap.umap_.smooth_knn_dist,
    umap.umap_.compute_membership_strengths,
    umap.layouts._nb_optimize_layout_euclidean_single_epoch,
)
print([bool(k.signatures) for k in kernels])
warm_up_reduction()
print([bool(k.signatures) for k in kernels])
print([type(k._cache).__name__ for k in kernels])
print(warm_up_reduction() < 15)
"""


def test_warm_up_compiles_the_reduction_kernels_with_the_disk_cache_on() -> None:
    """In a fresh process, where nothing is compiled yet, the warm-up compiles (or loads from
    numba's disk cache, which ``import_umap`` turns on: umap asks for none) the kernels every
    reduction runs; a second warm-up then takes about a second."""
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHECK],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    before, after, caches, quick = done.stdout.strip().splitlines()[-4:]
    assert before == "[False, False, False]"
    assert after == "[True, True, True]"
    assert caches == "['FunctionCache', 'FunctionCache', 'FunctionCache']"
    assert quick == "True"


def test_large_tables_reduce_through_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reduce, "UMAP_FIT_ROWS", 300)
    features, truth = make_blobs(1200, n_features=60, centers=4, random_state=0)
    reduction = reduce_features(features.astype(np.float32))
    assert reduction.cluster_space.shape == (1200, 5)
    assert reduction.map_coords.shape == (1200, 2)
    assert np.isfinite(reduction.cluster_space).all() and np.isfinite(reduction.map_coords).all()
    labels = assign_segments(reduction.cluster_space, 4).labels
    assert normalized_mutual_info_score(truth, labels) > 0.95


def test_kmeans_learns_from_a_sample_on_large_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kmeans, "KMEANS_FIT_ROWS", 200)
    space, truth = make_blobs(3000, n_features=5, centers=4, random_state=2)
    assignment = assign_segments(space.astype(np.float32), 4)
    assert len(assignment.labels) == 3000 and sum(assignment.sizes) == 3000
    assert normalized_mutual_info_score(truth, assignment.labels) > 0.95


def test_nearest_sampled_rows_are_exact_and_sorted() -> None:
    rng = np.random.default_rng(1)
    sampled, queries = rng.normal(size=(50, 4)), rng.normal(size=(30, 4))
    distances, indices = nearest_sampled(queries, sampled, 3)
    brute = np.linalg.norm(queries[:, None, :] - sampled[None, :, :], axis=2)
    assert (indices == np.argsort(brute, axis=1)[:, :3]).all()
    assert np.allclose(distances, np.sort(brute, axis=1)[:, :3])
