"""The fast mode's alignment with MiniLM on a sample of the table."""

from __future__ import annotations

import numpy as np
import pytest

from segmenter.embedding import teacher
from segmenter.embedding.base import l2_normalise
from segmenter.embedding.teacher import fit_alignment, teacher_rows


def test_a_tenth_of_the_texts_at_most_a_thousand_and_none_for_small_tables() -> None:
    assert len(teacher_rows(1_999)) == 0
    rows = teacher_rows(5_000)
    assert len(rows) == 500 and len(np.unique(rows)) == 500
    assert (np.diff(rows) > 0).all() and rows[-1] < 5_000
    assert len(teacher_rows(1_000_000)) == teacher.TEACHER_MAX_TEXTS
    np.testing.assert_array_equal(teacher_rows(5_000), rows)  # the same rows every run


def test_the_alignment_learns_a_linear_map_and_keeps_the_fast_features() -> None:
    rng = np.random.default_rng(0)
    features = l2_normalise(rng.normal(size=(400, 24)))
    truth = rng.normal(size=(24, 8))
    target = l2_normalise(features @ truth)
    alignment = fit_alignment(features[:300], target[:300], ridge=1e-3)
    joined = alignment.transform(np.vstack([features[300:], np.zeros((1, 24))]))
    assert joined.shape == (101, 32) and joined.dtype == np.float32
    np.testing.assert_allclose(joined[:-1, :24] * np.sqrt(2.0), features[300:], atol=1e-5)
    mapped = joined[:-1, 24:] * np.sqrt(2.0)
    cosines = np.sum(mapped * target[300:], axis=1)
    # Rows it never saw are mapped as the teacher would (up to the teacher's normalising).
    assert cosines.min() > 0.95 and cosines.mean() > 0.99
    np.testing.assert_allclose(np.linalg.norm(joined[:-1], axis=1), 1.0, atol=1e-5)
    assert not joined[-1].any()  # a row without text stays empty


@pytest.mark.parametrize("ridge", [0.1, 10.0])
def test_a_stronger_ridge_shrinks_the_map(ridge: float) -> None:
    rng = np.random.default_rng(1)
    features = l2_normalise(rng.normal(size=(50, 10)))
    target = l2_normalise(rng.normal(size=(50, 4)))
    weak = fit_alignment(features, target, ridge=0.01).weights
    assert np.linalg.norm(fit_alignment(features, target, ridge=ridge).weights) < np.linalg.norm(
        weak
    )
