"""What the pages show of a finished run, as plain functions: the map's colours, the
feedback views, a map selection, the Predict page's tables and the columns a session adds
to the export. No Streamlit here, so the CLI and the tests call the same code.

>>> names = segment_names(run.result.profiles)
>>> colour_values(run, "plan")                    # values for the map's "Colour by"
>>> with_risk_score(frame, prediction.risk)       # the export's and the CLI's risk_score
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmenter.call_list import View, view_rows
from segmenter.maps import HOVER_FIELDS, ROW_KEY, SEGMENT_COLOUR, rows_in_areas

if TYPE_CHECKING:
    from segmenter.ingest import Schema
    from segmenter.pipeline import SegmentationRun
    from segmenter.predict import CrossValidation, Prediction
    from segmenter.profile import SegmentProfile
    from segmenter.sentiment import FeedbackResult

UNSEGMENTED = "Unsegmented"
"""The segment name of a row with no usable value."""
SENTIMENT_COLOUR = "sentiment (feedback)"
"""The map's "Colour by" choice for the feedback's sentiment."""
RISK_SCORE = "risk_score"
"""The export's (and ``predict --out``'s ``scores.csv``) column of predicted scores."""
RISK_DECIMALS = 4
"""Decimals of ``risk_score`` in a file: finer than any threshold a user would pick."""
MAP_DECIMALS = 3
"""Decimals of a score on the map and in tables: what a reader can tell apart."""
SAVED_GROUP_PREFIX = "in_"
"""A saved selection ``name`` joins the export as the yes/no column ``in_name``."""


def segment_names(profiles: Iterable[SegmentProfile]) -> dict[int, str]:
    """Segment id -> name."""
    return {p.segment_id: p.name for p in profiles}


def row_segment_names(labels: np.ndarray, names: Mapping[int, str]) -> list[str]:
    """Each row's segment name, ``UNSEGMENTED`` for a row in no segment.

    >>> row_segment_names(np.array([1, -1, 0]), {0: "Bargain hunters", 1: "Loyal"})
    ['Loyal', 'Unsegmented', 'Bargain hunters']
    """
    return [names.get(int(label), UNSEGMENTED) for label in labels]


def selected_customers(
    frame: pd.DataFrame, rows: Sequence[int], row_names: Sequence[str]
) -> pd.DataFrame:
    """The rows of ``frame`` at positions ``rows``, their segment name first."""
    table = frame.iloc[list(rows)].copy()
    table.insert(0, "segment", [row_names[i] for i in rows])
    return table


def roles_table(schema: Schema, labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per column: its role, its label (what names and cards call it), why the role
    was proposed, distinct and missing values and three examples; the Upload page's table."""
    columns = schema.columns
    return pd.DataFrame(
        {
            "column": [c.name for c in columns],
            "role": [c.role for c in columns],
            "label": [labels.get(c.name, c.name) for c in columns],
            "why": [c.reason for c in columns],
            "distinct": [c.distinct for c in columns],
            "missing": [c.missing for c in columns],
            "examples": [" | ".join(c.examples) for c in columns],
        }
    )


# --- the map ----------------------------------------------------------------------------


def hover_columns(schema: Schema) -> list[str]:
    """The columns a map point's tooltip shows: the first numeric, then categorical ones."""
    return [*schema.numeric_columns, *schema.categorical_columns][:HOVER_FIELDS]


def score_colour(prediction: Prediction) -> str:
    """The "Colour by" choice for the Predict page's score, named as that page names it
    ("risk score (Predict)" for churn, "response score (Predict)" …)."""
    return f"{prediction.wording.score} (Predict)"


def colour_choices(run: SegmentationRun, prediction: Prediction | None = None) -> list[str]:
    """What the map can be coloured by: segment, the predicted score (once there is one),
    the feedback's sentiment (when the run has feedback), then every column."""
    extra = [score_colour(prediction)] if prediction is not None else []
    if run.feedback is not None:
        extra.append(SENTIMENT_COLOUR)
    return [SEGMENT_COLOUR, *extra, *run.loaded.frame.columns]


def colour_values(
    run: SegmentationRun, colour: str, prediction: Prediction | None = None
) -> pd.Series | None:
    """The values behind ``colour`` (one of ``colour_choices``), indexed by row position;
    ``None`` for the segment colours."""
    if prediction is not None and colour == score_colour(prediction):
        return pd.Series(np.round(prediction.risk, MAP_DECIMALS), name=prediction.wording.score)
    if colour == SENTIMENT_COLOUR and run.feedback is not None:
        return pd.Series(run.feedback.sentiment.labels, name=SENTIMENT_COLOUR)
    if colour != SEGMENT_COLOUR and colour in run.loaded.frame.columns:
        return run.loaded.frame[colour].reset_index(drop=True)
    return None


def in_view(points: pd.DataFrame, view: View | None, feedback: FeedbackResult) -> pd.DataFrame:
    """The map's ``points`` (``maps.map_frame``) of a feedback view: negative sentiment or
    urgent flags (``call_list.view_rows``, the call list's rows); all of them for ``None``."""
    if view is None:
        return points
    return points[points[ROW_KEY].isin(view_rows(view, feedback))]


def selected_rows(
    picked: Sequence[int],
    areas: Mapping[str, Any],
    coords: np.ndarray,
    shown: Iterable[int],
    *,
    sampled: bool,
) -> list[int]:
    """The rows a map selection stands for, sorted.

    ``picked`` are the drawn points selected. When the map draws a sample (``sampled``),
    a box or lasso also stands for every ``shown`` row inside it that was not drawn: on a
    2-D map, ``areas`` (the chart's selection, with its box and lasso shapes) is matched
    against every row's ``coords``. A 3-D map has no areas to match.
    """
    rows = {int(row) for row in picked}
    if sampled and coords.ndim == 2 and coords.shape[1] == 2:
        visible = {int(row) for row in shown}
        rows |= {row for row in rows_in_areas(coords, areas) if row in visible}
    return sorted(rows)


# --- the Predict page -------------------------------------------------------------------


def comparison_table(cv: CrossValidation) -> pd.DataFrame:
    """The models compared on the same folds, as the Predict page shows them and ``predict``
    prints them: model, features, ROC AUC, PR AUC and F1 at the threshold, 3 decimals."""
    table = cv.table.rename(
        columns={"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "f1": f"F1 at {cv.threshold:.2f}"}
    )
    return table.drop(columns="base_rate").round(MAP_DECIMALS)


def risk_by_segment(
    prediction: Prediction, labels: np.ndarray, names: Mapping[int, str]
) -> pd.DataFrame:
    """Per segment: its name, customers scored, mean score and share above 0.5, with the
    score named as the label asks ("mean risk score", "mean response score")."""
    from segmenter.predict import segment_risk  # noqa: PLC0415 - keeps sklearn off import

    table = segment_risk(prediction.risk, labels).rename(
        columns={
            "mean risk": f"mean {prediction.wording.score}",
            "share high risk": "share above 0.5",
        }
    )
    table.insert(1, "segment", table["segment_id"].map(names))
    return table


def top_customers_table(
    prediction: Prediction, run: SegmentationRun, names: Mapping[int, str]
) -> pd.DataFrame:
    """The highest-scored customers (``predict.TOP_CUSTOMERS``) with their segment names."""
    from segmenter.predict import top_customers  # noqa: PLC0415 - keeps sklearn off import

    return top_customers(
        prediction,
        run.prepared.ids,
        run.prepared.id_name,
        row_segment_names(run.result.labels, names),
        run.docs,
    )


# --- the export ---------------------------------------------------------------------------


def with_risk_score(frame: pd.DataFrame, risk: np.ndarray) -> pd.DataFrame:
    """``frame`` with the ``risk_score`` column, rounded to ``RISK_DECIMALS``; the Export
    page and ``predict --out`` write it the same way."""
    out = frame.copy()
    out[RISK_SCORE] = np.round(np.asarray(risk, dtype=float), RISK_DECIMALS)
    return out


def with_saved_groups(frame: pd.DataFrame, groups: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """``frame`` with a yes/no column ``in_<name>`` per saved selection (row positions)."""
    out = frame.copy()
    for name, rows in groups.items():
        column = f"{SAVED_GROUP_PREFIX}{name}"
        flags = np.zeros(len(out), dtype=bool)
        flags[np.asarray(list(rows), dtype=np.int64)] = True
        out[column] = flags
    return out


def session_export(
    frame: pd.DataFrame,
    *,
    groups: Mapping[str, Sequence[int]] | None = None,
    risk: np.ndarray | None = None,
) -> pd.DataFrame:
    """The results table (``export.results_frame``) with what a session added: its saved
    selections and, once a model was trained, the predicted scores."""
    out = with_saved_groups(frame, groups or {})
    if risk is not None:
        out = with_risk_score(out, risk)
    return out
