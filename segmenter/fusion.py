"""Feature fusion: text vectors and structured columns joined into one matrix.

Split into ``fit_fusion`` (learn medians, scales, category levels and the text's main
directions from at most ``FIT_ROWS`` rows) and ``FusionModel.transform`` (apply them to any
rows, one batch at a time), so that the local engine and the Ray engine fuse every row the
same way. ``fuse_features`` does both on one table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats.contingency import association, crosstab

from segmenter.config import SEGMENT_BY_CHOICES, SegmentBy
from segmenter.errors import SchemaError
from segmenter.ingest import DATE_FEATURE_SUFFIX, MISSING_CATEGORY
from segmenter.sampling import uniform_rows

OUTLIER_CLIP = 5.0
"""Standardised numeric values are clipped to +/- this many deviations so one outlier
(a 1,000x spender) cannot stretch a whole axis."""

MAX_CATEGORIES_PER_COLUMN = 30
"""One-hot columns kept per categorical column; rarer values share one 'other' column."""

OTHER_CATEGORY = "(other)"

TEXT_COMPONENTS = 100
"""The text block enters the fusion as its 100 main directions. A sentence model spreads its
variance over hundreds of dimensions, a few structured columns concentrate theirs in a
handful, and a 3-valued plan column then decided the neighbour graph alone (auto k = 3 along
the plan, NMI 0.21 against the known topic on 10k rows in the fast mode). With the text's
main directions carrying its 60%: auto k = 10, NMI 0.63; on generated customers with
personas, 2k rows: auto k 4 -> 6, NMI 0.78 -> 0.92; 20k rows the same (0.74). 50 directions
gave auto k = 4 (NMI 0.53) and 4 (0.77) on the first two."""

FIT_ROWS = 50_000
"""Fusion statistics (medians, scales, category levels, the text's main directions) are learnt
from at most this many usable rows, a uniform sample: they settle long before, and a table on
a Ray cluster is never collected on one machine."""

TRANSFORM_CHUNK = 50_000
"""Rows transformed at a time: no float64 copy of a million rows."""

DISCRETE_MAX_VALUES = 10
"""A numeric column with at most this many distinct values (a 0/1 flag, children at home)
is discrete: like a categorical column it can cut the neighbour graph into one island per
value, so its influence is bounded the same way."""

ISLAND_SAMPLE_ROWS = 1_000
"""Rows (a uniform sample of the fitted ones) on which each discrete column's influence on
the neighbour graph is measured: 1,000 rows gave the factors of 2,000 within 0.02 on the
generated personas, at a quarter of the cost (about 0.1 s per column on 2 cores)."""

ISLAND_MAX_RISE = 0.25
"""How far one discrete column may pull a row's nearest neighbours towards its own value: the
share of neighbours sharing the row's value may rise above what the other features give by at
most this fraction of the room above chance (``1 - sum of squared value shares``). With 0.25
a 10-valued column unrelated to the personas kept NMI with the segments at 0.01 (0.5: 0.3;
unbounded: 1.0); see docs/segmentation.md for the sweep."""

ISLAND_NEIGHBOURS_PER_ROWS = 20
"""Neighbours per row in the measurement: one per 20 sampled rows, UMAP's own rule
(``reduce.NEIGHBOURS_PER_ROWS``), so the check sees the graph UMAP will see."""

ISLAND_SEARCH_STEPS = 6
"""Bisection steps for a column's factor: 6 halvings place it within 1.6% of its bound."""

NESTED_COLUMNS_V = 0.9
"""Discrete columns this strongly associated (Cramér's V) say one thing in several columns
and are bounded together, as one: on a complaints export, Product, Sub-product and Issue
(V 0.95-1.0 with each other) each looked barely bounded because the other two agreed with
it, and together they made the segments (text drove 1-19% of each). 0.9 joins such
hierarchies and Telco's PhoneService/MultipleLines (1.0), not Telco's internet add-ons
(0.71-0.77, related through one shared "No internet service" value, each telling more)."""


def fit_rows(n_usable: int, random_state: int = 0) -> np.ndarray:
    """Positions (among the usable rows, sorted) that the fusion learns from."""
    return uniform_rows(n_usable, FIT_ROWS, random_state)


def usable_rows(
    has_text: np.ndarray | None,
    numeric: pd.DataFrame | None,
    categorical: pd.DataFrame | None,
    n_rows: int,
) -> np.ndarray:
    """Rows with text or at least one structured value: the ones that can be segmented."""
    usable = np.zeros(n_rows, dtype=bool) if has_text is None else has_text.astype(bool).copy()
    if numeric is not None and numeric.shape[1]:
        usable |= numeric.notna().any(axis=1).to_numpy()
    if categorical is not None and categorical.shape[1]:
        usable |= (categorical.astype(str) != MISSING_CATEGORY).any(axis=1).to_numpy()
    return usable


@dataclass(frozen=True)
class Block:
    """The columns one input occupies in the fused matrix (``"text"`` or a column name)."""

    name: str
    start: int
    stop: int


def source_column(feature: str) -> str:
    """The table's column a fused feature comes from (a date's days: the date column)."""
    return feature.removesuffix(DATE_FEATURE_SUFFIX)


def _drop(
    frame: pd.DataFrame | None, exclude: Sequence[str], *, dates: bool = True
) -> pd.DataFrame | None:
    if frame is None:
        return None
    dropped = [
        c
        for c in frame.columns
        if source_column(str(c)) in exclude or (not dates and is_date_feature(str(c)))
    ]
    kept = frame.drop(columns=dropped)
    return kept if kept.shape[1] else None


def is_date_feature(feature: str) -> bool:
    """Whether a fused feature is a date column's days (see ``DATE_FEATURE_SUFFIX``)."""
    return feature.endswith(DATE_FEATURE_SUFFIX)


@dataclass(frozen=True)
class InputSelection:
    """What a segmentation is built from: the "Segment by" setting and the columns left out.

    The local and the Ray engine both pass their inputs through ``select``, at fit time and
    for every batch, so they leave out the same things.
    """

    segment_by: SegmentBy = "both"
    exclude: tuple[str, ...] = ()
    dates: bool = False
    """Date columns join the segmentation (as days since the earliest) only when asked. A
    date says when something happened, and on an export of events it is the one column
    that still varies where the rest are bounded categories: on a complaints export whose
    narratives are blank in two rows of three, the blank rows came out as two segments,
    "Later received date" and "Earlier received date", driven 97-100% by the date. Dates
    are profiled either way, as the Upload page says."""

    def select(
        self,
        text_vectors: np.ndarray | None,
        has_text: np.ndarray | None,
        numeric: pd.DataFrame | None,
        categorical: pd.DataFrame | None,
    ) -> tuple[np.ndarray | None, np.ndarray | None, pd.DataFrame | None, pd.DataFrame | None]:
        """The inputs without what this selection leaves out (``None`` for a whole block)."""
        if self.segment_by == "columns":
            text_vectors = has_text = None
        if self.segment_by == "text":
            numeric = categorical = None
        return (
            text_vectors,
            has_text,
            _drop(numeric, self.exclude, dates=self.dates),
            _drop(categorical, self.exclude),
        )

    def check(
        self,
        text_vectors: np.ndarray | None,
        has_text: np.ndarray | None,
        numeric: pd.DataFrame | None,
        categorical: pd.DataFrame | None,
    ) -> None:
        """Raise ``SchemaError`` when this selection cannot be carried out on these inputs."""
        text = text_vectors is not None and has_text is not None and bool(np.any(has_text))
        features = [str(c) for frame in (numeric, categorical) if frame is not None for c in frame]
        self.check_names(
            text,
            [source_column(c) for c in features],
            [source_column(c) for c in features if is_date_feature(c)],
        )

    def check_names(
        self, has_text: bool, structured: Sequence[str], date_columns: Sequence[str] = ()
    ) -> None:
        """Raise ``SchemaError`` when this selection cannot be carried out on a table with
        (or without) text and these numeric, date and categorical columns (``date_columns``
        among them)."""
        if self.segment_by not in SEGMENT_BY_CHOICES:
            raise SchemaError(
                f"segment_by={self.segment_by!r} is not a choice: use "
                f"{', '.join(SEGMENT_BY_CHOICES)}."
            )
        unknown = [c for c in self.exclude if c not in structured]
        if unknown:
            raise SchemaError(
                f"Cannot leave out {', '.join(map(repr, unknown))}: only numeric, date and "
                f"categorical columns can be left out ({', '.join(structured) or 'none here'}). "
                "Choose the text columns with their role instead."
            )
        if self.segment_by == "text" and not has_text:
            raise SchemaError(
                "Segment by text needs text, and this table has none: mark a column of "
                "sentences as text on the Upload page, or segment by columns."
            )
        left = [
            c for c in structured if c not in self.exclude and (self.dates or c not in date_columns)
        ]
        if self.segment_by == "columns" and not left:
            also = ", segment on dates too" if date_columns and not self.dates else ""
            raise SchemaError(
                "Segment by columns needs a numeric or categorical column, and none is "
                f"left: mark one on the Upload page, stop leaving it out{also}, or segment by "
                "text."
            )


@dataclass(frozen=True)
class FusedFeatures:
    """The joined feature matrix for the rows that can be segmented."""

    matrix: np.ndarray  # (n_usable, d) float32
    usable: np.ndarray  # (n_rows,) bool
    text_dims: int
    structured_dims: int
    text_weight: float  # the weight actually applied (0 or 1 when a block is missing)
    model: FusionModel | None = None


@dataclass(frozen=True)
class NumericScaling:
    """How numeric columns become standardised features."""

    columns: tuple[str, ...]
    fill: np.ndarray  # median per column, for missing cells
    keep: np.ndarray  # columns that vary (the others carry nothing)
    mean: np.ndarray  # of the kept columns
    std: np.ndarray

    def transform(self, numeric: pd.DataFrame) -> np.ndarray:
        values = numeric[list(self.columns)].to_numpy(dtype=np.float64, na_value=np.nan)
        filled = np.where(np.isnan(values), self.fill, values)
        scaled = (filled[:, self.keep] - self.mean) / self.std
        return np.clip(scaled, -OUTLIER_CLIP, OUTLIER_CLIP)


def _fit_numeric(numeric: pd.DataFrame) -> NumericScaling | None:
    values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    medians = np.nanmedian(np.where(np.isnan(values).all(axis=0), 0.0, values), axis=0)
    medians = np.where(np.isnan(medians), 0.0, medians)
    filled = np.where(np.isnan(values), medians, values)
    std = filled.std(axis=0)
    keep = std > 0
    if not keep.any():
        return None
    return NumericScaling(
        columns=tuple(str(c) for c in numeric.columns),
        fill=medians,
        keep=keep,
        mean=filled[:, keep].mean(axis=0),
        std=std[keep],
    )


def _category_levels(labels: pd.Series) -> tuple[str, ...] | None:
    """The one-hot columns of one categorical column, in ``pd.get_dummies`` order."""
    top = labels.value_counts().index[:MAX_CATEGORIES_PER_COLUMN]
    if len(top) < 2:
        return None
    clipped = labels.where(labels.isin(top), OTHER_CATEGORY)
    return tuple(sorted(str(v) for v in clipped.unique()))


def _one_hot(labels: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    known = [level for level in levels if level != OTHER_CATEGORY]
    clipped = labels.where(labels.isin(known), OTHER_CATEGORY).to_numpy()
    onehot = (clipped[:, None] == np.asarray(levels, dtype=object)[None, :]).astype(np.float64)
    # A one-hot pair differs by sqrt(2) between two categories; scale it to one unit.
    return onehot / np.sqrt(2.0)


@dataclass(frozen=True)
class BlockScaling:
    """Centre, scale and weight of one block, so its share of the variance is its weight."""

    centre: np.ndarray  # float32
    scale: float
    weight: float

    def apply(self, block: np.ndarray) -> np.ndarray:
        """The block centred, scaled and weighted, as float32 (in place when it is already)."""
        block = np.asarray(block, dtype=np.float32)
        block -= self.centre
        if self.scale > 0:
            block /= np.float32(self.scale)
        block *= np.float32(np.sqrt(self.weight))
        return block


def _fit_block(block: np.ndarray, weight: float) -> BlockScaling:
    """Centre a block and scale it so the mean squared row norm is 1."""
    block = np.asarray(block, dtype=np.float32)
    centre = block.mean(axis=0, dtype=np.float64).astype(np.float32)
    centred = block - centre
    squared_norms = np.einsum("ij,ij->i", centred, centred)
    scale = float(np.sqrt(np.mean(squared_norms, dtype=np.float64)))
    return BlockScaling(centre=centre, scale=scale, weight=weight)


@dataclass(frozen=True)
class FusionModel:
    """What ``fit_fusion`` learnt; ``transform`` fuses any batch of rows with it."""

    text_fill: np.ndarray | None  # mean text vector, for usable rows without text
    text_projection: Any  # a fitted PCA to TEXT_COMPONENTS, or None
    text_scaling: BlockScaling | None
    numeric: NumericScaling | None
    categories: tuple[tuple[str, tuple[str, ...]], ...]
    structured_scaling: BlockScaling | None
    text_dims: int
    structured_dims: int
    text_weight: float
    inputs: InputSelection = field(default_factory=lambda: InputSelection())
    blocks: tuple[Block, ...] = ()
    """Where each input sits in the fused matrix: ``"text"`` and each structured column."""
    factors: tuple[tuple[str, float], ...] = ()
    """Discrete columns whose block is shrunk so they cannot cut the map into islands
    (``bound_discrete_columns``), with the factor applied."""

    def _text_block(self, text_rows: np.ndarray, has_text: np.ndarray) -> np.ndarray:
        """``text_rows`` must be the caller's own copy (a boolean index makes one): rows
        without text are filled in place, so a million rows are not copied twice."""
        assert self.text_fill is not None
        rows = text_rows.astype(np.float32, copy=False)
        rows[~has_text] = self.text_fill
        if self.text_projection is None:
            return rows
        out = np.empty((len(rows), self.text_dims), dtype=np.float32)
        for start in range(0, len(rows), TRANSFORM_CHUNK):
            stop = start + TRANSFORM_CHUNK
            out[start:stop] = self.text_projection.transform(rows[start:stop])
        return out

    def _structured(
        self, numeric: pd.DataFrame | None, categorical: pd.DataFrame | None
    ) -> np.ndarray:
        blocks: list[np.ndarray] = []
        if self.numeric is not None and numeric is not None:
            blocks.append(self.numeric.transform(numeric))
        for column, levels in self.categories:
            assert categorical is not None
            blocks.append(_one_hot(categorical[column].astype(str), levels))
        return np.hstack(blocks)

    def transform(
        self,
        text_vectors: np.ndarray | None,
        has_text: np.ndarray | None,
        numeric: pd.DataFrame | None = None,
        categorical: pd.DataFrame | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fused matrix of the usable rows (float32) and the usable mask of all rows."""
        text_vectors, has_text, numeric, categorical = self.inputs.select(
            text_vectors, has_text, numeric, categorical
        )
        n_rows = _n_rows(text_vectors, numeric, categorical)
        with_text = has_text if text_vectors is not None else None
        usable = usable_rows(with_text, numeric, categorical, n_rows)
        matrix = np.empty((int(usable.sum()), self.text_dims + self.structured_dims), np.float32)
        if self.text_scaling is not None:
            assert text_vectors is not None and has_text is not None
            block = self._text_block(text_vectors[usable], has_text[usable].astype(bool))
            matrix[:, : self.text_dims] = self.text_scaling.apply(block)
        if self.structured_scaling is not None:
            block = self._structured(
                numeric[usable] if numeric is not None else None,
                categorical[usable] if categorical is not None else None,
            )
            matrix[:, self.text_dims :] = self.structured_scaling.apply(block)
        positions = {block.name: block for block in self.blocks}
        for name, factor in self.factors:
            found = positions[name]
            matrix[:, found.start : found.stop] *= np.float32(factor)
        return matrix, usable


def _n_rows(
    text_vectors: np.ndarray | None,
    numeric: pd.DataFrame | None,
    categorical: pd.DataFrame | None,
) -> int:
    for block in (text_vectors, numeric, categorical):
        if block is not None:
            return len(block)
    return 0


def _fit_text(text_rows: np.ndarray, with_text: np.ndarray) -> tuple[np.ndarray, Any]:
    """The fill for rows without text and the projection on the text's main directions
    (``None`` for narrow or short blocks, which enter unchanged)."""
    fill = text_rows[with_text].mean(axis=0, dtype=np.float64).astype(np.float32)
    n_rows, width = text_rows.shape
    if width <= TEXT_COMPONENTS or n_rows <= TEXT_COMPONENTS:
        return fill, None
    from sklearn.decomposition import PCA  # noqa: PLC0415

    filled = np.array(text_rows, dtype=np.float32)
    filled[~with_text] = fill
    return fill, PCA(TEXT_COMPONENTS, random_state=0).fit(filled)


def fit_fusion(
    text_vectors: np.ndarray | None,
    has_text: np.ndarray | None,
    numeric: pd.DataFrame | None = None,
    categorical: pd.DataFrame | None = None,
    *,
    text_weight: float = 0.6,
    segment_by: SegmentBy = "both",
    exclude: Sequence[str] = (),
    dates: bool = False,
) -> FusionModel:
    """Learn how to fuse rows like these (pass at most ``FIT_ROWS`` of them, see ``fit_rows``).

    Each block is centred and scaled to unit mean squared norm, then multiplied by
    ``sqrt(weight)``, so ``text_weight=0.6`` gives text 60% of the total variance.
    Rows without text take the average text position and are placed by their
    structured columns alone. ``segment_by`` (``"both"``, ``"text"``, ``"columns"``) and
    ``exclude`` (structured column names) choose the inputs; date columns join only with
    ``dates`` (``InputSelection.dates``). Discrete columns (categories,
    numbers with few values) are then shrunk where they would cut the neighbour graph
    into islands of their own (``bound_discrete_columns``).

    Raises:
        SchemaError: when there is neither text nor any structured column to use, or the
            selection asks for an input the table lacks.
    """
    if not 0.0 <= text_weight <= 1.0:
        raise SchemaError(f"text_weight={text_weight} must be between 0 and 1.")
    selection = InputSelection(segment_by, tuple(str(c) for c in exclude), dates)
    selection.check(text_vectors, has_text, numeric, categorical)
    text_vectors, has_text, numeric, categorical = selection.select(
        text_vectors, has_text, numeric, categorical
    )
    n_rows = _n_rows(text_vectors, numeric, categorical)
    with_text_rows = has_text if text_vectors is not None else None
    usable = usable_rows(with_text_rows, numeric, categorical, n_rows)
    if not usable.any():
        raise SchemaError(
            "No row has text or a structured value to segment on: check the column roles."
        )
    scaling = _fit_numeric(numeric[usable]) if numeric is not None and numeric.shape[1] else None
    categories: list[tuple[str, tuple[str, ...]]] = []
    if categorical is not None:
        for column in categorical.columns:
            levels = _category_levels(categorical[column][usable].astype(str))
            if levels is not None:
                categories.append((str(column), levels))
    text_fill = projection = None
    text_dims = 0
    if text_vectors is not None and has_text is not None and has_text[usable].any():
        with_text = has_text[usable].astype(bool)
        text_fill, projection = _fit_text(np.asarray(text_vectors[usable]), with_text)
        text_dims = TEXT_COMPONENTS if projection is not None else text_vectors.shape[1]
    structured_dims = (int(scaling.keep.sum()) if scaling is not None else 0) + sum(
        len(levels) for _, levels in categories
    )
    weight = text_weight
    if structured_dims == 0:
        weight = 1.0
    if text_dims == 0:
        weight = 0.0
    unscaled = FusionModel(
        text_fill=text_fill,
        text_projection=projection,
        text_scaling=None,
        numeric=scaling,
        categories=tuple(categories),
        structured_scaling=None,
        text_dims=text_dims if weight > 0 else 0,
        structured_dims=structured_dims if weight < 1 else 0,
        text_weight=weight,
    )
    if unscaled.text_dims + unscaled.structured_dims == 0:
        raise SchemaError(
            "No column varies between customers: mark a text, numeric or categorical column "
            "that differs from row to row."
        )
    text_scaling = structured_scaling = None
    if unscaled.text_dims:
        assert text_vectors is not None and has_text is not None
        block = unscaled._text_block(text_vectors[usable], has_text[usable].astype(bool))
        text_scaling = _fit_block(block, weight)
    if unscaled.structured_dims:
        block = unscaled._structured(
            numeric[usable] if numeric is not None else None,
            categorical[usable] if categorical is not None else None,
        )
        structured_scaling = _fit_block(block, 1.0 - weight)
    model = FusionModel(
        text_fill=text_fill,
        text_projection=projection,
        text_scaling=text_scaling,
        numeric=scaling if unscaled.structured_dims else None,
        categories=tuple(categories) if unscaled.structured_dims else (),
        structured_scaling=structured_scaling,
        text_dims=unscaled.text_dims,
        structured_dims=unscaled.structured_dims,
        text_weight=weight,
        inputs=selection,
    )
    model = replace(model, blocks=_blocks(model))
    discrete = _discrete_columns(model, numeric[usable] if numeric is not None else None)
    if not discrete:
        return model
    matrix, _ = model.transform(text_vectors, has_text, numeric, categorical)
    factors = bound_discrete_columns(matrix, model.blocks, discrete)
    return replace(model, factors=tuple((c, f) for c, f in factors.items() if f < 1.0))


def _blocks(model: FusionModel) -> tuple[Block, ...]:
    """Each input's place in the fused matrix of ``model``."""
    blocks = [Block("text", 0, model.text_dims)] if model.text_dims else []
    at = model.text_dims
    if model.numeric is not None:
        kept = [c for c, k in zip(model.numeric.columns, model.numeric.keep, strict=True) if k]
        for column in kept:
            blocks.append(Block(column, at, at + 1))
            at += 1
    for column, levels in model.categories:
        blocks.append(Block(column, at, at + len(levels)))
        at += len(levels)
    return tuple(blocks)


def _discrete_columns(model: FusionModel, numeric: pd.DataFrame | None) -> list[str]:
    """The structured columns in the fusion with few values: every categorical column and
    the numeric ones with at most ``DISCRETE_MAX_VALUES`` distinct values."""
    if not model.structured_dims:
        return []
    names = [column for column, _ in model.categories]
    if model.numeric is not None and numeric is not None:
        kept = [c for c, k in zip(model.numeric.columns, model.numeric.keep, strict=True) if k]
        few = [c for c in kept if numeric[c].nunique(dropna=True) <= DISCRETE_MAX_VALUES]
        names = few + names
    return names


def _squared_distances(points: np.ndarray) -> np.ndarray:
    gram = points @ points.T
    norms = np.diag(gram)
    return np.maximum(norms[:, None] + norms[None, :] - 2.0 * gram, 0.0)


def _same_value_share(distances: np.ndarray, codes: np.ndarray, neighbours: int) -> float:
    """Mean share of each row's nearest neighbours (itself excluded) that share its value."""
    nearest = np.argpartition(distances, neighbours, axis=1)[:, :neighbours]
    return float((codes[nearest] == codes[:, None]).mean())


def nested_groups(codes: Mapping[str, np.ndarray]) -> list[list[str]]:
    """Discrete columns grouped by strong association (Cramér's V ≥ ``NESTED_COLUMNS_V``,
    joined transitively), in the order given; most columns are a group of their own."""
    names = list(codes)
    group_of = {name: i for i, name in enumerate(names)}
    for first, second in itertools.combinations(names, 2):
        table = crosstab(codes[first], codes[second]).count
        if min(table.shape) < 2:
            continue
        if association(table, method="cramer") >= NESTED_COLUMNS_V:
            old, new = group_of[second], group_of[first]
            for name, group in group_of.items():
                if group == old:
                    group_of[name] = new
    groups: dict[int, list[str]] = {}
    for name in names:
        groups.setdefault(group_of[name], []).append(name)
    return list(groups.values())


def bound_discrete_columns(
    matrix: np.ndarray, blocks: Sequence[Block], discrete: Sequence[str]
) -> dict[str, float]:
    """The factor (0..1] each discrete column's block is multiplied by, so that it cannot
    cut the neighbour graph into islands of its own values.

    On a sample of ``ISLAND_SAMPLE_ROWS`` rows of the fused ``matrix``, a column's pull is the
    share of each row's nearest neighbours that share its value. Without the column, the
    other features give a share ``base`` (about the chance level for a column unrelated to
    them, higher for one they agree with); the column keeps the largest factor whose share
    stays within ``base + ISLAND_MAX_RISE * (1 - chance)``, ``chance`` being the share two
    random rows have. A column the others agree with is barely bounded (its islands are
    theirs); one they know nothing of cannot make islands of its own. A column the other
    features cannot judge (nothing else varies) keeps its full weight. Two passes: the second
    measures each column against the others already bounded.

    Nested columns (``nested_groups``: Product, Sub-product, Issue) are one column in this:
    they share one factor, measured against the features outside the group, and each of
    them must stay within its own bound.
    """
    rows = uniform_rows(len(matrix), ISLAND_SAMPLE_ROWS)
    points = np.asarray(matrix[rows], dtype=np.float32)
    n = len(points)
    neighbours = min(n - 1, max(15, n // ISLAND_NEIGHBOURS_PER_ROWS))
    found = {block.name: block for block in blocks}
    factors = dict.fromkeys(discrete, 1.0)
    if n < 3 or not discrete:
        return factors
    parts = {}
    codes = {}
    for name in discrete:
        block = points[:, found[name].start : found[name].stop]
        parts[name] = _squared_distances(block)
        codes[name] = np.unique(block, axis=0, return_inverse=True)[1].reshape(-1)
    current = _squared_distances(points)
    np.fill_diagonal(current, np.inf)
    groups = [
        [name for name in group if len(np.unique(codes[name])) >= 2]
        for group in nested_groups(codes)
    ]
    groups = [group for group in groups if group]
    # A second pass judges each group against the others as bounded: needed only when
    # there are others and the first pass bounded something.
    passes = 2 if len(groups) > 1 else 1
    for round_ in range(passes):
        if round_ and all(f == 1.0 for f in factors.values()):
            break
        for group in groups:
            part = sum((parts[name] for name in group), np.zeros_like(current))
            factor_now = factors[group[0]]
            rest = current - factor_now**2 * part
            finite = rest[np.isfinite(rest)]
            if finite.max(initial=0.0) <= 1e-12:
                continue
            allowed = {}
            for name in group:
                base = _same_value_share(rest, codes[name], neighbours)
                counts = np.bincount(codes[name])
                chance = float(((counts / counts.sum()) ** 2).sum())
                allowed[name] = base + ISLAND_MAX_RISE * (1.0 - chance)

            def within(
                factor: float,
                rest: np.ndarray = rest,
                part: np.ndarray = part,
                allowed: dict[str, float] = allowed,
            ) -> bool:
                pulled = rest + factor**2 * part
                return all(
                    _same_value_share(pulled, codes[name], neighbours) <= bound
                    for name, bound in allowed.items()
                )

            if within(1.0):
                factor = 1.0
            else:
                low, high = 0.0, 1.0
                for _step in range(ISLAND_SEARCH_STEPS):
                    middle = (low + high) / 2
                    low, high = (middle, high) if within(middle) else (low, middle)
                factor = low
            current = rest + factor**2 * part
            for name in group:
                factors[name] = factor
    return factors


DRIVER_ROWS = 20_000
"""Rows (a uniform sample of the usable ones) from which each segment's drivers are measured:
block means settle long before, and a run keeps these rows' fused features to recompute
drivers when the number of segments changes (20,000 rows of 110 features: 9 MB)."""

DRIVERS_SHOWN = 5
"""Drivers listed per segment: the card has room for a line, not a table."""


def driver_rows(n_usable: int, random_state: int = 0) -> np.ndarray:
    """Positions (sorted, among the usable rows) that drivers are measured on."""
    return uniform_rows(n_usable, DRIVER_ROWS, random_state)


def segment_drivers(
    matrix: np.ndarray, labels: np.ndarray, blocks: Sequence[Block]
) -> dict[int, list[tuple[str, float]]]:
    """For each segment, the inputs (``"text"`` and structured columns) that most set it
    apart, with each one's share of the separation.

    A block's separation is the squared distance between the segment's mean and the overall
    mean in that block of the fused space, less what sampling noise alone gives (the block's
    variance times ``1/n_segment - 1/n``): a 100-dimension text block would otherwise look
    important in any small segment. Shares sum to 1 per segment; at most ``DRIVERS_SHOWN``.
    """
    points = np.asarray(matrix, dtype=np.float64)
    segmented = labels >= 0
    points, labels = points[segmented], labels[segmented]
    drivers: dict[int, list[tuple[str, float]]] = {}
    if not len(points) or not blocks:
        return drivers
    overall = points.mean(axis=0)
    variance = points.var(axis=0)
    for segment in np.unique(labels):
        inside = labels == segment
        size = int(inside.sum())
        gap = (points[inside].mean(axis=0) - overall) ** 2
        noise = variance * max(1.0 / size - 1.0 / len(points), 0.0)
        scores = {b.name: max(float((gap - noise)[b.start : b.stop].sum()), 0.0) for b in blocks}
        total = sum(scores.values())
        if total <= 0:
            drivers[int(segment)] = []
            continue
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:DRIVERS_SHOWN]
        drivers[int(segment)] = [
            (source_column(name), score / total) for name, score in ranked if score > 0
        ]
    return drivers


def describe_drivers(
    drivers: Sequence[tuple[str, float]], labels: Mapping[str, str] | None = None
) -> str:
    """A card's line: ``"Driven by: text 55%, Income 20%"`` (empty without drivers)."""
    shown = [(labels or {}).get(name, name) for name, _ in drivers]
    parts = [f"{name} {share:.0%}" for name, (_, share) in zip(shown, drivers, strict=True)]
    return f"Driven by: {', '.join(parts)}" if parts else ""


def _subset(frame: pd.DataFrame | None, rows: np.ndarray) -> pd.DataFrame | None:
    return None if frame is None else frame.iloc[rows]


def fuse_features(
    text_vectors: np.ndarray | None,
    has_text: np.ndarray | None,
    numeric: pd.DataFrame | None = None,
    categorical: pd.DataFrame | None = None,
    *,
    text_weight: float = 0.6,
    segment_by: SegmentBy = "both",
    exclude: Sequence[str] = (),
    dates: bool = False,
) -> FusedFeatures:
    """Join the text embedding with structured columns, weighted by ``text_weight``: the
    fusion is learnt from at most ``FIT_ROWS`` usable rows and applied to all (see
    ``fit_fusion`` for the weighting, the selection and the bound on discrete columns).

    Raises:
        SchemaError: when there is neither text nor any structured column to use.
    """
    if not 0.0 <= text_weight <= 1.0:
        raise SchemaError(f"text_weight={text_weight} must be between 0 and 1.")
    selection = InputSelection(segment_by, tuple(str(c) for c in exclude), dates)
    selection.check(text_vectors, has_text, numeric, categorical)
    # The fit and the transform select the inputs themselves; the usable rows are those of
    # the selected inputs.
    chosen = selection.select(text_vectors, has_text, numeric, categorical)
    n_rows = _n_rows(*chosen[:1], *chosen[2:])
    usable = usable_rows(chosen[1] if chosen[0] is not None else None, *chosen[2:], n_rows)
    learn = np.flatnonzero(usable)[fit_rows(int(usable.sum()))]
    model = fit_fusion(
        text_vectors[learn] if text_vectors is not None else None,
        has_text[learn] if has_text is not None else None,
        _subset(numeric, learn),
        _subset(categorical, learn),
        text_weight=text_weight,
        segment_by=segment_by,
        exclude=exclude,
        dates=dates,
    )
    matrix, usable = model.transform(text_vectors, has_text, numeric, categorical)
    return FusedFeatures(
        matrix=matrix,
        usable=usable,
        text_dims=model.text_dims,
        structured_dims=model.structured_dims,
        text_weight=model.text_weight,
        model=model,
    )


def influence_record(
    model: FusionModel | None, drivers: Mapping[int, Sequence[tuple[str, float]]]
) -> dict[str, Any]:
    """What ``run.json`` says about the inputs (both engines write it): what the segments
    were built from, the discrete columns bounded so they make no islands (with the factor
    applied), and each segment's drivers."""
    inputs = model.inputs if model is not None else InputSelection()
    factors = dict(model.factors) if model is not None else {}
    return {
        "segment_by": inputs.segment_by,
        "excluded_columns": list(inputs.exclude),
        "segment_dates": inputs.dates,
        "bounded_columns": {source_column(c): round(f, 3) for c, f in factors.items()},
        "drivers": {
            str(segment): [[name, round(share, 3)] for name, share in found]
            for segment, found in drivers.items()
        },
    }
