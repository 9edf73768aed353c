"""Business profiles of segments: size, traits against the whole table, keywords, quotes, a name."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from segmenter.embedding.script import LANGUAGE_SAMPLE_TEXTS, dominant_language_hint
from segmenter.offers import Offer
from segmenter.sentiment import SegmentFeedback
from segmenter.summary import ProfileSummary, summarise

N_KEYWORDS = 8
N_EXAMPLES = 5
N_CATEGORY_TRAITS = 5
MIN_CATEGORY_LIFT = 1.2
"""A category must be this much more common in the segment than overall to count as a trait."""
MIN_CATEGORY_SHARE = 0.10
"""...and hold at least this share of the segment, so rare values do not dominate."""
MIN_NUMERIC_Z = 0.25
"""A numeric mean this many standard deviations from the table's is called out in the name."""
EXAMPLE_MAX_CHARS = 300
EXAMPLE_MIN_CHARS = 12
MISSING_CATEGORY = "(missing)"
_Record = TypeVar("_Record", "NumericTrait", "CategoryTrait", "Offer")

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\-])*[^\W\d_]", re.UNICODE)

CHINESE_STOP_WORDS = frozenset(
    (
        "我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这样 那样 "
        "这里 那里 一个 一些 一下 一直 一次 非常 特别 真的 还是 就是 "
        "但是 而且 因为 所以 如果 虽然 已经 可以 可能 应该 没有 不是 "
        "不过 什么 怎么 为什么 觉得 感觉 有点 现在 时候 以后 之前 还有 "
        "然后 比较 其实 东西 这次 每次 大家 "
    ).split()
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | CHINESE_STOP_WORDS | {"ve", "ll", "don", "didn"}


@dataclass(frozen=True)
class NumericTrait:
    """A numeric column's mean in the segment against the whole table."""

    column: str
    segment_mean: float
    overall_mean: float
    lift: float  # segment_mean / overall_mean (NaN when the overall mean is 0)
    z: float  # difference in overall standard deviations


@dataclass(frozen=True)
class CategoryTrait:
    """A category that is over-represented in the segment."""

    column: str
    value: str
    segment_share: float
    overall_share: float
    lift: float


@dataclass(frozen=True)
class SegmentProfile:
    """What a marketer needs to know about one segment."""

    segment_id: int
    name: str
    size: int
    share: float
    numeric: tuple[NumericTrait, ...]
    categories: tuple[CategoryTrait, ...]
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    language: str = "other"
    """The segment's main language from its texts' script: "en", "zh", "ja", "ko" or "other"."""
    offers: tuple[Offer, ...] = ()
    """Next best offers: products, categories or plans held more than overall."""
    feedback: SegmentFeedback | None = None
    """Sentiment shares and urgent-risk feedback, when the table has text."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to ``profiles.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProfile:
        """Rebuild a profile from ``to_dict`` output (``profiles.json``); nulls become NaN."""
        return cls(
            segment_id=int(data["segment_id"]),
            name=str(data["name"]),
            size=int(data["size"]),
            share=float(data["share"]),
            numeric=_records(NumericTrait, data.get("numeric", ())),
            categories=_records(CategoryTrait, data.get("categories", ())),
            keywords=tuple(str(k) for k in data.get("keywords", ())),
            examples=tuple(str(e) for e in data.get("examples", ())),
            language=str(data.get("language", "other")),
            offers=_records(Offer, data.get("offers", ())),
            feedback=SegmentFeedback.from_dict(data["feedback"]) if data.get("feedback") else None,
        )


def _records(kind: type[_Record], items: Sequence[dict[str, Any]]) -> tuple[_Record, ...]:
    """Frozen trait records from JSON: text fields stay text, numbers become floats
    (null, as ``profiles.json`` writes NaN, becomes NaN again)."""
    out = []
    for item in items:
        values: dict[str, Any] = {}
        for spec in fields(kind):
            value = item[spec.name]
            if spec.name in ("column", "value"):
                values[spec.name] = str(value)
            else:
                values[spec.name] = math.nan if value is None else float(value)
        out.append(kind(**values))
    return tuple(out)


def _spread(rows: np.ndarray, limit: int = 2 * LANGUAGE_SAMPLE_TEXTS) -> np.ndarray:
    """At most about ``limit`` of ``rows``, evenly spaced (the language hint needs no more)."""
    return rows[:: max(1, len(rows) // limit)]


@cache
def _jieba() -> Any:
    import jieba  # noqa: PLC0415 - loads a 5 MB dictionary; only needed for Chinese text

    jieba.setLogLevel(logging.WARNING)
    return jieba


_CLAUSE_BREAK = re.compile(r"[.,!?;:()\[\]\"/\n\r\t，。！？；：、（）“”]+")


_WORD_OR_BREAK = re.compile(rf"({_LATIN_WORD.pattern})|{_CLAUSE_BREAK.pattern}", re.UNICODE)


def _word_runs(text: str) -> list[list[str]]:
    """Runs of kept words; a stop word, short word or punctuation ends a run.

    Bigrams are built inside runs only, so "stuff is on sale" never yields "stuff sale".
    """
    if not _CJK_RUN.search(text):
        return _latin_runs(text)
    runs: list[list[str]] = []
    for clause in _CLAUSE_BREAK.split(text):
        current: list[str] = []
        for word in _clause_words(clause):
            if word is None:
                if current:
                    runs.append(current)
                current = []
            else:
                current.append(word)
        if current:
            runs.append(current)
    return runs


def _latin_runs(text: str) -> list[list[str]]:
    """``_word_runs`` for text without Chinese, in one pass of one expression (3x faster)."""
    runs: list[list[str]] = []
    current: list[str] = []
    for match in _WORD_OR_BREAK.finditer(text):
        word = match.group(1)
        if word is not None:
            word = _strip_contraction(word.lower())
            if len(word) > 2 and word not in STOP_WORDS:
                current.append(word)
                continue
        if current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _clause_words(clause: str) -> list[str | None]:
    """Words of one clause in order, ``None`` where a dropped word breaks the run."""
    words: list[str | None] = []
    position = 0
    for match in _CJK_RUN.finditer(clause):
        words.extend(_latin_words(clause[position : match.start()]))
        for word in _jieba().lcut(match.group()):
            words.append(word if len(word) > 1 and word not in STOP_WORDS else None)
        position = match.end()
    words.extend(_latin_words(clause[position:]))
    return words


def _latin_words(text: str) -> list[str | None]:
    words = (_strip_contraction(word.lower()) for word in _LATIN_WORD.findall(text))
    return [word if len(word) > 2 and word not in STOP_WORDS else None for word in words]


def _strip_contraction(word: str) -> str:
    """ "what's" -> "what", "didn't" -> "" (a negation carries no topic on its own)."""
    word = word.replace("’", "'")
    if word.endswith("n't"):
        return ""
    for suffix in ("'s", "'re", "'ve", "'ll", "'d", "'m"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased words for keyword extraction; Chinese runs are split into words by jieba.

    Single characters, numbers and stop words are dropped.
    """
    return [word for run in _word_runs(text) for word in run]


def keyword_terms(text: str) -> list[str]:
    """Unigrams and the bigrams of adjacent kept words (the analyzer for c-TF-IDF)."""
    terms: list[str] = []
    for run in _word_runs(text):
        terms.extend(run)
        terms.extend(f"{first} {second}" for first, second in zip(run, run[1:], strict=False))
    return terms


KEYWORD_SAMPLE_ROWS = 20_000
"""Keywords are counted on at most this many rows (a uniform sample): the word counts of
20,000 texts rank a segment's words as well as all of them, at a fifth of the time at 100k."""


@dataclass(frozen=True)
class TermCounts:
    """Unigram and bigram counts of (a sample of) the rows, computed once per run so that
    changing the number of segments only regroups them."""

    rows: np.ndarray
    counts: sparse.csr_matrix
    vocabulary: np.ndarray


def count_terms(
    docs: Sequence[str] | Mapping[int, str],
    *,
    max_rows: int = KEYWORD_SAMPLE_ROWS,
    random_state: int = 0,
    rows: np.ndarray | None = None,
) -> TermCounts | None:
    """Term counts for the rows with text (``None`` when no term occurs twice), or for
    ``rows`` when the caller has drawn them (``docs`` need then hold only those)."""
    if rows is None:
        texts = docs.values() if isinstance(docs, Mapping) else docs
        rows = np.array([i for i, doc in enumerate(texts) if doc.strip()], dtype=int)
        if len(rows) > max_rows:
            rng = np.random.default_rng(random_state)
            rows = np.sort(rng.choice(rows, max_rows, replace=False))
    if not len(rows):
        return None
    vectorizer = CountVectorizer(analyzer=keyword_terms, min_df=2)
    try:
        counts = vectorizer.fit_transform([docs[int(i)] for i in rows])
    except ValueError:  # every term appears once: nothing distinctive to report
        return None
    return TermCounts(rows, sparse.csr_matrix(counts), vectorizer.get_feature_names_out())


def class_tfidf_keywords(
    docs: Sequence[str],
    labels: np.ndarray,
    n_keywords: int = N_KEYWORDS,
    *,
    terms: TermCounts | None = None,
) -> dict[int, tuple[str, ...]]:
    """Distinctive words per segment by class-based TF-IDF (BERTopic's c-TF-IDF).

    Each segment's documents are treated as one document; a term scores high when it
    is frequent in the segment and rare across segments. Unigrams and bigrams are
    considered; a term sharing a word with a higher-ranked one is skipped, so the
    list names several distinct things. ``terms`` (from ``count_terms(docs)``) saves
    counting again.
    """
    segments = sorted(int(s) for s in np.unique(labels) if s >= 0)
    result: dict[int, tuple[str, ...]] = {s: () for s in segments}
    terms = terms if terms is not None else count_terms(docs)
    if terms is None or not segments:
        return result
    segmented = labels[terms.rows] >= 0
    rows = terms.rows[segmented]
    if not len(rows):
        return result
    counts = terms.counts[np.flatnonzero(segmented)]
    row_labels = labels[rows]
    index = {segment: position for position, segment in enumerate(segments)}
    membership = sparse.csr_matrix(
        (np.ones(len(rows)), ([index[int(s)] for s in row_labels], np.arange(len(rows)))),
        shape=(len(segments), len(rows)),
    )
    class_counts = np.asarray((membership @ counts).todense(), dtype=np.float64)
    words_per_class = class_counts.sum(axis=1, keepdims=True)
    tf = np.divide(
        class_counts, words_per_class, out=np.zeros_like(class_counts), where=words_per_class > 0
    )
    idf = np.log(1.0 + words_per_class.mean() / np.maximum(class_counts.sum(axis=0), 1.0))
    scores = tf * idf
    vocabulary = terms.vocabulary
    for segment, position in index.items():
        chosen: list[str] = []
        words_taken: set[str] = set()
        for term_index in np.argsort(-scores[position]):
            if scores[position, term_index] <= 0 or len(chosen) >= n_keywords:
                break
            term = str(vocabulary[term_index])
            if words_taken & set(term.split(" ")):
                continue
            words_taken.update(term.split(" "))
            chosen.append(term)
        result[segment] = tuple(chosen)
    return result


def _numeric_traits(summary: ProfileSummary, segment: int) -> tuple[NumericTrait, ...]:
    moments = summary.numeric
    std = moments.std(0)
    traits = []
    for position, column in enumerate(summary.numeric_columns):
        if not moments.count[1 + segment, position]:
            continue
        overall = float(moments.mean[0, position]) if moments.count[0, position] else math.nan
        mean = float(moments.mean[1 + segment, position])
        spread = float(std[position])
        traits.append(
            NumericTrait(
                column=column,
                segment_mean=mean,
                overall_mean=overall,
                lift=mean / overall if overall else math.nan,
                z=(mean - overall) / spread if spread > 0 else 0.0,
            )
        )
    return tuple(sorted(traits, key=lambda t: -abs(t.z)))


def _category_traits(summary: ProfileSummary, segment: int) -> tuple[CategoryTrait, ...]:
    traits = []
    for column in summary.categories:
        counts = column.counts[1 + segment]
        if not counts.sum():
            continue
        shares = counts / counts.sum()
        overall_shares = column.counts[0] / max(int(column.counts[0].sum()), 1)
        for index in np.argsort(-counts, kind="stable"):
            value, share = column.values[index], float(shares[index])
            if not counts[index] or value == MISSING_CATEGORY or share < MIN_CATEGORY_SHARE:
                continue
            overall = float(overall_shares[index])
            lift = share / overall
            if lift >= MIN_CATEGORY_LIFT:
                traits.append(
                    CategoryTrait(
                        column=column.column,
                        value=value,
                        segment_share=share,
                        overall_share=overall,
                        lift=lift,
                    )
                )
    ranked = sorted(traits, key=lambda t: -(t.lift - 1.0) * t.segment_share)
    return tuple(ranked[:N_CATEGORY_TRAITS])


def _examples(
    docs: Sequence[str],
    members: np.ndarray,
    distances: np.ndarray | None,
) -> tuple[str, ...]:
    """Texts nearest the segment's centre, distinct, shortened for display.

    Texts of fewer than ``EXAMPLE_MIN_CHARS`` characters ("thanks", "ok") say nothing
    about a segment; they are used only when there are not enough longer ones.
    """
    order = members if distances is None else members[np.argsort(distances[members], kind="stable")]
    seen: set[str] = set()
    informative: list[str] = []
    terse: list[str] = []
    for row in order:
        text = " ".join(docs[row].split())
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        if len(text) > EXAMPLE_MAX_CHARS:
            text = text[: EXAMPLE_MAX_CHARS - 1].rstrip() + "…"
        (informative if len(text) >= EXAMPLE_MIN_CHARS else terse).append(text)
        if len(informative) == N_EXAMPLES:
            break
    return tuple((informative + terse)[:N_EXAMPLES])


GENERIC_VALUES = frozenset({"yes", "no", "true", "false", "0", "1", "y", "n", "none", "other"})
DAYS_SUFFIX = " (days)"


def describe_category(trait: CategoryTrait) -> str:
    """The value alone when it speaks for itself ("Premium"), else "column: value"."""
    value = trait.value.strip()
    if value.lower() in GENERIC_VALUES or value.lower().startswith("no ") or len(value) <= 2:
        return f"{trait.column}: {value}"
    return value


def describe_numeric(trait: NumericTrait) -> str:
    """Say "high spend", "low age", or "recent signup_date" for a date turned into days."""
    if trait.column.endswith(DAYS_SUFFIX):
        return f"{'recent' if trait.z > 0 else 'early'} {trait.column[: -len(DAYS_SUFFIX)]}"
    return f"{'high' if trait.z > 0 else 'low'} {trait.column}"


def name_segment(
    keywords: Sequence[str],
    numeric: Sequence[NumericTrait],
    categories: Sequence[CategoryTrait],
    segment_id: int,
) -> str:
    """A short readable name from the top keywords and the strongest trait.

    >>> name_segment(["late delivery", "parcel"], [], [], 0)
    'Late delivery & parcel'
    """
    parts: list[str] = []
    if keywords:
        parts.append(" & ".join(keywords[:2]).capitalize())
    trait = describe_category(categories[0]) if categories else ""
    if numeric and abs(numeric[0].z) >= MIN_NUMERIC_Z:
        numeric_trait = describe_numeric(numeric[0])
        trait = f"{trait}, {numeric_trait}" if trait else numeric_trait
    if trait:
        parts.append(trait)
    return " · ".join(parts) if parts else f"Segment {segment_id}"


def profile_segments(
    docs: Sequence[str],
    labels: np.ndarray,
    numeric: pd.DataFrame | None = None,
    categorical: pd.DataFrame | None = None,
    *,
    distances: np.ndarray | None = None,
    terms: TermCounts | None = None,
) -> list[SegmentProfile]:
    """One profile per segment (labels >= 0), in segment order.

    Args:
        docs: one text per row ("" where none), as from ``build_documents``.
        labels: segment per row; negative labels (unsegmented rows) get no profile.
        numeric: numeric columns, one row per input row.
        categorical: categorical and label columns as text, one row per input row.
        distances: each row's distance to its segment's centre, for picking quotes.
        terms: ``count_terms(docs)``, when already computed.
    """
    labels = np.asarray(labels)
    numeric = numeric if numeric is not None else pd.DataFrame(index=range(len(labels)))
    categorical = categorical if categorical is not None else pd.DataFrame(index=range(len(labels)))
    segments = sorted(int(s) for s in np.unique(labels) if s >= 0)
    summary = summarise(labels, numeric, categorical, segments[-1] + 1 if segments else 0)
    examples, languages = {}, {}
    for segment in segments:
        members = np.flatnonzero(labels == segment)
        examples[segment] = _examples(docs, members, distances)
        languages[segment] = dominant_language_hint(
            [docs[int(i)] for i in _spread(members) if docs[int(i)]]
        )
    keywords = class_tfidf_keywords(docs, labels, terms=terms)
    return profiles_from_summary(summary, segments, keywords, examples, languages)


def profiles_from_summary(
    summary: ProfileSummary,
    segments: Sequence[int],
    keywords: dict[int, tuple[str, ...]],
    examples: dict[int, tuple[str, ...]],
    languages: dict[int, str],
) -> list[SegmentProfile]:
    """The profiles of ``segments`` from a table's summary and each segment's keywords,
    example texts and language (the parts that read texts, computed by the caller)."""
    profiles = []
    for segment in segments:
        numeric_traits = _numeric_traits(summary, segment)
        category_traits = _category_traits(summary, segment)
        size = int(summary.sizes[segment])
        profiles.append(
            SegmentProfile(
                segment_id=segment,
                name=name_segment(keywords[segment], numeric_traits, category_traits, segment),
                size=size,
                share=float(size / summary.rows),
                numeric=numeric_traits,
                categories=category_traits,
                keywords=keywords[segment],
                examples=examples[segment],
                language=languages[segment],
            )
        )
    return _deduplicate_names(profiles)


def _deduplicate_names(profiles: list[SegmentProfile]) -> list[SegmentProfile]:
    """Two segments with the same name confuse everyone: number the repeats."""
    seen: dict[str, int] = {}
    out = []
    for profile in profiles:
        count = seen.get(profile.name, 0) + 1
        seen[profile.name] = count
        if count > 1:
            profile = _with_name(profile, f"{profile.name} ({count})")
        out.append(profile)
    return out


def _with_name(profile: SegmentProfile, name: str) -> SegmentProfile:
    return replace(profile, name=name)


def rename_segments(
    profiles: Sequence[SegmentProfile], names: dict[int, str]
) -> list[SegmentProfile]:
    """Apply user-edited names; blank names keep the generated one."""
    return [
        _with_name(p, names[p.segment_id].strip()) if names.get(p.segment_id, "").strip() else p
        for p in profiles
    ]


def distances_to_centres(space: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row to its segment's centre (inf for unsegmented rows)."""
    out = np.full(len(labels), np.inf)
    segmented = labels >= 0
    out[segmented] = np.linalg.norm(space[segmented] - centres[labels[segmented]], axis=1)
    return out
