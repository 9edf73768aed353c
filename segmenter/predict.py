"""Churn or propensity from a binary label: honest cross-validated models and a risk score.

Two models (logistic regression and scikit-learn's gradient boosting) on three feature sets
(text embeddings, structured columns, both) share the same stratified folds, so the table
answers, on the user's own data, whether text improves prediction. Every labelled row's
risk is its out-of-fold probability from the best combination: no row is scored by a model
that saw its label.

>>> label = binary_label(frame, "churned")
>>> result = cross_validate_models(features, label)
>>> result.table  # ROC AUC, PR AUC and F1 per model and feature set
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from segmenter.errors import PredictError
from segmenter.profile import tokenize

POSITIVE_WORDS = frozenset(
    "yes y true t 1 churn churned exited left cancelled canceled lost responded converted "
    "bought purchased recommended positive default defaulted fraud 是".split()
)
NEGATIVE_WORDS = frozenset(
    "no n false f 0 stayed retained active ignored negative 否 not_churned".split()
)
MIN_POSITIVES = 10
"""Fewer cases of either class than this cannot be cross-validated honestly."""
N_FOLDS = 5
DEFAULT_THRESHOLD = 0.5
FEATURE_SETS = ("text", "structured", "both")
MODELS = ("logistic", "boosting")
MAX_CATEGORIES = 30
LEAK_AGREEMENT = 0.99
"""A column that equals the label (or its opposite) on this share of rows is a leak."""


CHURN_WORDS = (
    "churn attrit exit cancel lapse defect leave left leaver quit unsubscrib terminat inactiv "
    "default fraud lost closed 流失 退订 取消 注销 违约"
).split()
"""Word starts of labels whose yes is a customer lost or a loss (Telco ``Churn``, bank
``Exited``, ``Attrition_Flag``): the score is a risk and the top customers are at risk."""
RESPONSE_WORDS = (
    "respon convert conversion accept subscri purchas bought buy click open redeem signup "
    "signed enrol upgrad renew book order 响应 转化 购买 下单 订阅 接受"
).split()
"""Word starts of labels whose yes is an action taken (campaign ``Response``,
``AcceptedCmp1``, bank marketing ``subscribed``): the top customers are likely to respond."""
STAY_WORDS = "stay retain existing current loyal active 留存 在网".split()
"""Word starts of a positive value that means the customer stayed ("Existing Customer"):
the model then scores staying, which is neither a risk nor a response."""
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\x00-\x7f]+")


@dataclass(frozen=True)
class LabelWording:
    """How the Predict page and the export speak of a label's score and its top customers."""

    kind: str
    """"risk" (churn-like), "response" (response or conversion) or "neutral"."""
    score: str
    """The score's name: "risk score", "response score" or "score"."""
    top: str
    """Completes "The 25 customers …": "most at risk", "most likely to respond" …"""
    by_segment: str
    """Heading of the per-segment table."""
    words: str
    """Heading of the words of the top-scored customers."""


def _label_words(text: str) -> list[str]:
    """ "AcceptedCmp1" -> ["accepted", "cmp", "1"]; "Attrition_Flag" -> ["attrition", "flag"]."""
    return [word.lower() for word in _NAME_WORDS.findall(text)]


def _reads_as(text: str, starts: Sequence[str]) -> bool:
    """Whether a word of ``text`` starts with one of ``starts`` (Chinese: contains it, as
    Chinese names are not split into words: 是否流失)."""
    return any(
        word.startswith(start) if start.isascii() else start in word
        for word in _label_words(text)
        for start in starts
    )


def label_kind(column: str, positive: str) -> str:
    """Whether a label's yes is a loss ("risk"), an action taken ("response") or neither.

    The positive value decides first ("status" = "churned" is a risk), then the column's
    name; a churn column whose yes is the negative value ("churn" = "No") is neutral.

    >>> label_kind("Churn", "Yes"), label_kind("Response", "1"), label_kind("plan", "premium")
    ('risk', 'response', 'neutral')
    """
    if positive.strip().lower() in NEGATIVE_WORDS or _reads_as(positive, STAY_WORDS):
        return "neutral"  # the model scores staying, not leaving: neither risk nor response
    for text in (positive, column):
        # Churn first: "unsubscribed" starts like neither "subscri" nor a response word.
        if _reads_as(text, CHURN_WORDS):
            return "risk"
        if _reads_as(text, RESPONSE_WORDS):
            return "response"
    return "neutral"


def label_wording(column: str, positive: str) -> LabelWording:
    """The words for a label's score and top customers (see ``label_kind``).

    >>> label_wording("Exited", "1").top
    'most at risk'
    >>> label_wording("Response", "1").top
    'most likely to respond'
    """
    kind = label_kind(column, positive)
    if kind == "risk":
        return LabelWording(
            kind, "risk score", "most at risk", "Risk by segment", "Words of the riskiest customers"
        )
    if kind == "response":
        return LabelWording(
            kind,
            "response score",
            "most likely to respond",
            "Response by segment",
            "Words of the likeliest responders",
        )
    return LabelWording(
        kind,
        "score",
        f"most likely to have {column} = {positive}",
        f"Share of {column} = {positive} by segment",
        "Words of the highest-scored customers",
    )


@dataclass(frozen=True)
class BinaryLabel:
    """A two-valued column as 0/1, with the rows that have no label marked."""

    column: str
    positive: str
    negative: str
    y: np.ndarray  # int8, 1 = positive; meaningless where ``known`` is False
    known: np.ndarray  # bool

    @property
    def n_positive(self) -> int:
        """Labelled rows in the positive class."""
        return int(self.y[self.known].sum())

    @property
    def n_negative(self) -> int:
        """Labelled rows in the negative class."""
        return int(self.known.sum() - self.n_positive)


def _clean(value: object) -> str:
    return str(value).strip()


def binary_label(frame: pd.DataFrame, column: str, positive: str | None = None) -> BinaryLabel:
    """Read ``column`` as a binary label; blank cells are unlabelled rows.

    The positive class is ``positive`` when given, else the value that reads as one
    ("Yes", "1", "True", "churned" ...), else the rarer value.

    Raises:
        PredictError: the column is missing, has one value or more than two, or has fewer
            than ``MIN_POSITIVES`` rows in a class.
    """
    if column not in frame.columns:
        raise PredictError(f"There is no column {column!r}: pick the label from the list.")
    values = frame[column].map(_clean)
    known = (values != "").to_numpy() & frame[column].notna().to_numpy()
    distinct = sorted(values[known].unique())
    if len(distinct) < 2:
        only = distinct[0] if distinct else "nothing"
        raise PredictError(
            f"{column!r} holds only {only!r}: a model needs customers of both kinds; "
            "pick another label."
        )
    if len(distinct) > 2:
        shown = ", ".join(repr(v) for v in distinct[:5])
        raise PredictError(
            f"{column!r} has {len(distinct)} values ({shown}…), not two: pick a yes/no column."
        )
    if positive is None:
        positive = positive_value(distinct, values[known])
    if positive not in distinct:
        raise PredictError(f"{positive!r} is not a value of {column!r}: choose one of {distinct}.")
    negative = next(v for v in distinct if v != positive)
    y = (values == positive).to_numpy().astype(np.int8)
    label = BinaryLabel(column, positive, negative, y, known)
    smaller = min(label.n_positive, label.n_negative)
    if smaller < MIN_POSITIVES:
        which = positive if label.n_positive == smaller else negative
        raise PredictError(
            f"Only {smaller} customers have {column} = {which!r}: at least {MIN_POSITIVES} of "
            "each kind are needed for honest cross-validation."
        )
    return label


def positive_value(distinct: Sequence[str], values: pd.Series) -> str:
    """Which of a two-valued column's ``distinct`` values means yes: the one that reads as
    yes ("1", "Yes", "churned"), else the other of one that reads as no, else the rarer."""
    for value in distinct:
        if value.lower() in POSITIVE_WORDS:
            return value
    for value in distinct:
        if value.lower() in NEGATIVE_WORDS:
            return next(v for v in distinct if v != value)
    counts = values.value_counts()
    return str(counts.index[-1])  # the rarer value: churners, responders, fraud


def label_candidates(frame: pd.DataFrame, preferred: Sequence[str] = ()) -> list[str]:
    """Columns with exactly two non-blank values, the schema's label columns first; among
    them an outcome named as one (churn, response) before a numbered series of them
    (``AcceptedCmp1`` … ``AcceptedCmp5``) and before other flags (``Complain``), so that a
    campaign table's ``Response`` is what Predict offers first."""
    candidates = []
    for column in frame.columns:
        values = frame[column].map(_clean)
        if values[values != ""].nunique() == 2:
            candidates.append(str(column))

    def order(column: str) -> tuple[bool, bool, bool, int]:
        outcome = _reads_as(column, CHURN_WORDS) or _reads_as(column, RESPONSE_WORDS)
        numbered = any(ch.isdigit() for ch in column)
        return (column not in preferred, numbered, not outcome, candidates.index(column))

    return sorted(candidates, key=order)


@dataclass(frozen=True)
class FeatureSet:
    """Model inputs per row: text vectors and a structured matrix with column names."""

    text: np.ndarray | None  # (n, d) or None when the table has no text
    structured: np.ndarray | None  # (n, p) or None
    structured_names: tuple[str, ...] = ()
    source_columns: tuple[str, ...] = ()  # the table column behind each structured feature

    def matrix(self, which: str) -> np.ndarray | None:
        """The features of one set: ``"text"``, ``"structured"`` or ``"both"``."""
        if which == "text":
            return self.text
        if which == "structured":
            return self.structured
        parts = [m for m in (self.text, self.structured) if m is not None]
        return np.hstack(parts) if len(parts) == 2 else None


def structured_features(
    numeric: pd.DataFrame, categorical: pd.DataFrame
) -> tuple[np.ndarray | None, tuple[str, ...], tuple[str, ...]]:
    """Numbers (median-imputed, with a missing flag where any are missing) and one-hot
    categories (top values), with a feature name and source column for each."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    sources: list[str] = []
    for column in numeric.columns:
        values = pd.to_numeric(numeric[column], errors="coerce").to_numpy(dtype=np.float64)
        missing = np.isnan(values)
        if missing.all():
            continue
        filled = np.where(missing, np.nanmedian(values), values)
        blocks.append(filled[:, None])
        names.append(str(column))
        sources.append(str(column))
        if missing.any():
            blocks.append(missing[:, None].astype(np.float64))
            names.append(f"{column} missing")
            sources.append(str(column))
    for column in categorical.columns:
        labels = categorical[column].astype(str)
        top = labels.value_counts().index[:MAX_CATEGORIES]
        if len(top) < 2:
            continue
        for value in top:
            blocks.append((labels == value).to_numpy(dtype=np.float64)[:, None])
            names.append(f"{column} = {value}")
            sources.append(str(column))
    if not blocks:
        return None, (), ()
    return np.hstack(blocks), tuple(names), tuple(sources)


def find_leaks(frame: pd.DataFrame, label: BinaryLabel, columns: Sequence[str]) -> list[str]:
    """Columns that equal the label (or its opposite) on nearly every labelled row.

    A copy of the target (``churn_flag`` next to ``churned``) makes any model look perfect
    and predicts nothing; such columns are left out of the features.
    """
    leaks = []
    known = label.known
    y = label.y[known]
    for column in columns:
        if column == label.column or column not in frame.columns:
            continue
        values = frame[column].map(_clean)[known]
        if values.nunique() != 2:
            continue
        first = sorted(values.unique())[0]
        as_binary = (values == first).to_numpy().astype(np.int8)
        agreement = max((as_binary == y).mean(), (as_binary != y).mean())
        if agreement >= LEAK_AGREEMENT:
            leaks.append(str(column))
    return leaks


class Classifier(Protocol):
    """What the cross-validation asks of a model: scikit-learn's ``fit`` and ``predict_proba``."""

    def fit(self, X: Any, y: Any) -> Any:  # noqa: N803 - scikit-learn's own names
        """Learn from features ``X`` and labels ``y``."""

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Per row, the probability of each class (the positive one is column 1)."""


def _model(name: str, random_state: int) -> Classifier:
    # No class weights: the risk score stays a calibrated probability (weights also make
    # gradient boosting about 15 times slower on 512 text dimensions).
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=15,
        random_state=random_state,
    )


@dataclass(frozen=True)
class ModelScore:
    """Cross-validated quality of one model on one feature set."""

    model: str
    features: str
    roc_auc: float
    pr_auc: float
    f1: float
    base_rate: float


@dataclass(frozen=True)
class CrossValidation:
    """Every model on every feature set over the same folds, and the best one's risk."""

    label: BinaryLabel
    scores: tuple[ModelScore, ...]
    out_of_fold: Mapping[tuple[str, str], np.ndarray] = field(repr=False)
    best: tuple[str, str]
    risk: np.ndarray  # out-of-fold probability of the best combination for labelled rows
    threshold: float

    @property
    def table(self) -> pd.DataFrame:
        """One row per model and feature set: ROC AUC, PR AUC, F1 and the base rate."""
        return pd.DataFrame([vars(s) for s in self.scores])


def cross_validate_models(
    features: FeatureSet,
    label: BinaryLabel,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    n_folds: int = N_FOLDS,
    random_state: int = 0,
    models: Sequence[str] = MODELS,
) -> CrossValidation:
    """Score every model on every available feature set with the same stratified folds.

    Raises:
        PredictError: there are no features at all.
    """
    rows = np.flatnonzero(label.known)
    y = label.y[rows]
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(rows, y))
    scores: list[ModelScore] = []
    out_of_fold: dict[tuple[str, str], np.ndarray] = {}
    for which in FEATURE_SETS:
        matrix = features.matrix(which)
        if matrix is None or matrix.shape[1] == 0:
            continue
        X = matrix[rows]
        for name in models:
            probability = np.zeros(len(rows))
            for train, test in folds:
                model = _model(name, random_state)
                model.fit(X[train], y[train])
                probability[test] = model.predict_proba(X[test])[:, 1]
            out_of_fold[(name, which)] = probability
            scores.append(
                ModelScore(
                    model=name,
                    features=which,
                    roc_auc=float(roc_auc_score(y, probability)),
                    pr_auc=float(average_precision_score(y, probability)),
                    f1=float(f1_score(y, probability >= threshold)),
                    base_rate=float(y.mean()),
                )
            )
    if not scores:
        raise PredictError("There is nothing to learn from: give the table text or columns.")
    top = max(scores, key=lambda s: (s.roc_auc, s.pr_auc))
    best = (top.model, top.features)
    risk = np.full(len(label.y), np.nan)
    risk[rows] = out_of_fold[best]
    unlabelled = np.flatnonzero(~label.known)
    if len(unlabelled):
        # Rows without a label are scored by the best model fitted on every labelled row.
        matrix = features.matrix(best[1])
        assert matrix is not None
        model = _model(best[0], random_state)
        model.fit(matrix[rows], y)
        risk[unlabelled] = model.predict_proba(matrix[unlabelled])[:, 1]
    return CrossValidation(label, tuple(scores), out_of_fold, best, risk, threshold)


def risk_words(
    docs: Sequence[str], risk: np.ndarray, *, top: int = 15, min_count: int = 5
) -> list[tuple[str, float]]:
    """Words whose customers score higher than the rest: (word, mean risk difference).

    Words come from the profile tokenizer: stop words dropped, Chinese split with jieba.

    >>> risk_words(["late again", "great"], np.array([0.9, 0.1]), min_count=1)[0][0]
    'late'
    """
    scored = ~np.isnan(risk)
    if not scored.any():
        return []
    overall = float(np.nanmean(risk))
    rows_by_word: dict[str, list[int]] = {}
    for row in map(int, np.flatnonzero(scored)):
        for word in set(tokenize(str(docs[row]))):
            rows_by_word.setdefault(word, []).append(row)
    lifts = [
        (word, float(risk[rows].mean()) - overall)
        for word, rows in rows_by_word.items()
        if len(rows) >= min_count
    ]
    return sorted((w for w in lifts if w[1] > 0), key=lambda w: -w[1])[:top]


def segment_risk(risk: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Mean risk and the share above 0.5 per segment (unsegmented rows apart)."""
    frame = pd.DataFrame({"segment_id": labels, "risk": risk}).dropna()
    frame = frame[frame["segment_id"] >= 0]
    grouped = frame.groupby("segment_id")["risk"]
    return pd.DataFrame(
        {
            "customers scored": grouped.size(),
            "mean risk": grouped.mean().round(3),
            "share high risk": grouped.apply(lambda r: float((r >= 0.5).mean())).round(3),
        }
    ).reset_index()


def build_features(
    text_vectors: np.ndarray | None,
    numeric: pd.DataFrame,
    categorical: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
) -> FeatureSet:
    """Model inputs from embeddings and prepared columns, leaving out ``exclude``."""
    numeric = numeric.drop(columns=[c for c in exclude if c in numeric.columns])
    categorical = categorical.drop(columns=[c for c in exclude if c in categorical.columns])
    structured, names, sources = structured_features(numeric, categorical)
    return FeatureSet(text_vectors, structured, names, sources)


def metrics_json(result: CrossValidation) -> dict[str, object]:
    """The cross-validated metrics as written to ``metrics.json``."""
    label = result.label
    return {
        "label": label.column,
        "positive": label.positive,
        "negative": label.negative,
        "labelled_rows": int(label.known.sum()),
        "positives": label.n_positive,
        "folds": N_FOLDS,
        "threshold": result.threshold,
        "best": {"model": result.best[0], "features": result.best[1]},
        "scores": [vars(s) for s in result.scores],
    }


def structured_drivers(
    features: FeatureSet,
    label: BinaryLabel,
    model_name: str,
    *,
    repeats: int = 3,
    random_state: int = 0,
) -> list[tuple[str, float]]:
    """Table columns ranked by how much shuffling them lowers ROC AUC (permutation importance).

    A column's one-hot features are shuffled together, so a category counts once. Uses the
    structured set only, so text dimensions do not dilute the ranking.
    """
    if features.structured is None:
        return []
    rows = np.flatnonzero(label.known)
    X = features.structured[rows]
    y = label.y[rows]
    model = _model(model_name, random_state)
    model.fit(X, y)
    baseline = roc_auc_score(y, model.predict_proba(X)[:, 1])
    rng = np.random.default_rng(random_state)
    sources = np.array(features.source_columns)
    drivers = []
    for column in dict.fromkeys(features.source_columns):
        block = np.flatnonzero(sources == column)
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[:, block] = X[rng.permutation(len(X))][:, block]
            score = roc_auc_score(y, model.predict_proba(shuffled)[:, 1])
            drops.append(baseline - score)
        drivers.append((column, float(np.mean(drops))))
    return sorted(drivers, key=lambda d: -d[1])


@dataclass(frozen=True)
class Prediction:
    """Everything the Predict page and the export need from one label."""

    cv: CrossValidation
    leaks: tuple[str, ...]
    drivers: tuple[tuple[str, float], ...]
    words: tuple[tuple[str, float], ...]

    @property
    def risk(self) -> np.ndarray:
        """Each row's risk score (out-of-fold where labelled)."""
        return self.cv.risk

    @property
    def has_text(self) -> bool:
        """Whether the models had text to learn from (else the page shows no text sections)."""
        return any(score.features == "text" for score in self.cv.scores)

    @property
    def wording(self) -> LabelWording:
        """How to speak of this label's score (``label_wording``)."""
        return label_wording(self.cv.label.column, self.cv.label.positive)


TOP_CUSTOMERS = 25
"""Customers listed on the Predict page: a call list one person can work through in a day."""


def top_customers(
    prediction: Prediction,
    ids: pd.Series,
    id_name: str,
    segment_names: Sequence[str],
    docs: Sequence[str],
    *,
    top: int = TOP_CUSTOMERS,
) -> pd.DataFrame:
    """The ``top`` highest-scored customers: ID, score, segment and, when the models had
    text, the score's words in their text and the text itself.

    ``segment_names`` holds each row's segment name.
    """
    score = prediction.risk
    order = np.argsort(-np.nan_to_num(score, nan=-1.0), kind="stable")[:top]
    wording = prediction.wording
    table = pd.DataFrame(
        {
            id_name: ids.iloc[order].astype(str).to_numpy(),
            wording.score: np.round(score[order], 3),
            "segment": [segment_names[i] for i in order],
        }
    )
    if prediction.has_text:
        words = {word for word, _ in prediction.words}
        # "risk words", "response words", "score words"
        table[f"{wording.score.removesuffix(' score')} words in their text"] = [
            ", ".join(sorted(words & set(tokenize(docs[i])))) for i in order
        ]
        table["text"] = [docs[i][:200] for i in order]
    return table


def predict_label(
    frame: pd.DataFrame,
    docs: Sequence[str],
    text_vectors: np.ndarray | None,
    numeric: pd.DataFrame,
    categorical: pd.DataFrame,
    label_column: str,
    *,
    positive: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    random_state: int = 0,
) -> Prediction:
    """Read the label, drop leaks, cross-validate every model and explain the best one.

    Raises:
        PredictError: the label cannot be modelled (the message says why).
    """
    label = binary_label(frame, label_column, positive)
    columns = [str(c) for c in (*numeric.columns, *categorical.columns)]
    leaks = find_leaks(frame, label, columns)
    features = build_features(text_vectors, numeric, categorical, exclude=[*leaks, label_column])
    cv = cross_validate_models(features, label, threshold=threshold, random_state=random_state)
    drivers = structured_drivers(features, label, cv.best[0], random_state=random_state)
    return Prediction(cv, tuple(leaks), tuple(drivers), tuple(risk_words(docs, cv.risk)))
