"""Business profiles of segments: size, traits against the whole table, keywords, quotes, a name."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from segmenter.embedding.script import LANGUAGE_SAMPLE_TEXTS, dominant_language_hint
from segmenter.labels import DATE_FEATURE_SUFFIX, column_label, inline, label_of
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
STRONG_Z = 0.5
"""A numeric mean this many of the table's standard deviations from the table's mean is a
strong trait, one that may name the segment (half a standard deviation: a difference a
marketer sees in the raw numbers; on the campaign-shaped test table the persona columns
reach 1-2, the columns independent of the persona stay under 0.2)."""
STRONG_RATIO = 1.5
"""...as is a mean at least 1.5 times the table's (or at most 1 / 1.5 = 0.67 of it) on a
column of amounts or counts, when it is also ``RATIO_MIN_Z`` away (skewed spend columns:
"spends 2.7x on wines" is strong even where the spread is wide)."""
RATIO_MIN_Z = 0.25
"""A ratio on a column with a huge spread (a few big spenders) says little: below this many
standard deviations a ratio alone does not make a trait strong."""
STRONG_CATEGORY_SHARE = 0.40
"""A category names a segment only when it holds at least 40% of it ("2n Cycle" at 13% of a
segment against 9% overall is a weak trait, not a name)..."""
STRONG_CATEGORY_LIFT = 1.5
"""...and is at least 1.5 times as common in the segment as overall."""
MIN_KEYWORD_LIFT = 1.5
"""A keyword names a segment only when the segment uses it at least 1.5 times as often as
all customers (per word written): "dress" in every segment of a clothing-review table is
not what sets one apart."""
NAME_MAX_CHARS = 40
"""Names longer than this are cut to fit a legend, a tab and a chart axis."""
CARD_TRAITS = 8
"""A card charts at most this many traits: the 6-8 that most set the segment apart."""
MIN_SHOWN_Z = 0.1
"""Traits closer to the table than this (in standard deviations) are not charted at all."""
GENERIC_WORDS = frozenset(
    (
        "love loved loves like liked likes great good nice perfect best better bad awesome "
        "excellent amazing happy wonderful beautiful lovely fine okay pretty terrible worst poor "
        "horrible recommend recommended thanks thank really well just very much bit lot also "
        "get got would could one two ordered bought purchased "
        "不错 好吃 好评 差评 满意 喜欢 很好 非常 推荐 京东 淘宝 宝贝 东西 还行 一般 好用 "
        "挺好 可以 棒 好 差"
    ).split()
)
"""Praise, sentiment and filler words (and shop names) that say how a customer feels, not
what sets a segment apart: they may show among the keywords, never in a name."""
EXAMPLE_MAX_CHARS = 300
EXAMPLE_MIN_CHARS = 12
MISSING_CATEGORY = "(missing)"
_Record = TypeVar("_Record", "NumericTrait", "CategoryTrait", "Offer")

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_CJK_RUN = re.compile(f"{_HAN}+")
_CJK_SPACE = re.compile(f"(?<={_HAN}) (?={_HAN})")
"""The space between two Chinese words of a bigram keyword, dropped where a name shows it."""
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
    label: str = ""
    """The column's readable label (``labels.column_label``, or the user's)."""

    @property
    def strength(self) -> float:
        """How far the segment stands from everyone, in standard deviations (signed)."""
        return self.z


@dataclass(frozen=True)
class CategoryTrait:
    """A category that is over-represented in the segment."""

    column: str
    value: str
    segment_share: float
    overall_share: float
    lift: float
    label: str = ""
    """The column's readable label (``labels.column_label``, or the user's)."""

    @property
    def strength(self) -> float:
        """The share's distance from the overall share in standard deviations of a yes/no
        indicator of the value, so that categories and numbers rank on one scale."""
        spread = math.sqrt(self.overall_share * (1.0 - self.overall_share))
        return (self.segment_share - self.overall_share) / spread if spread > 0 else 0.0


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
    keyword_lift: tuple[float, ...] = ()
    """Per keyword: how much more often the segment uses it than all customers (empty in
    profiles written before lifts were kept)."""
    writer_share: float | None = None
    """Share of the segment's customers who wrote something (``None``: the table has no
    text, or the profile was written before this was kept)."""

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
            keyword_lift=tuple(float(v) for v in data.get("keyword_lift", ())),
            writer_share=(
                float(data["writer_share"]) if data.get("writer_share") is not None else None
            ),
        )


def _records(kind: type[_Record], items: Sequence[dict[str, Any]]) -> tuple[_Record, ...]:
    """Frozen trait records from JSON: text fields stay text, numbers become floats
    (null, as ``profiles.json`` writes NaN, becomes NaN again)."""
    out = []
    for item in items:
        values: dict[str, Any] = {}
        for spec in fields(kind):
            if spec.name == "label":  # profiles.json written before labels: from the name
                values["label"] = str(item.get("label") or column_label(str(item["column"])))
                continue
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
            if len(word) > 2 and word not in STOP_WORDS and word.strip("x"):
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
    return [
        word if len(word) > 2 and word not in STOP_WORDS and word.strip("x") else None
        for word in words
    ]


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

    Single characters, numbers and stop words are dropped, and so are privacy masks
    (``XXXX``, the ``XX`` of ``XX/XX/2019``): a redacted export writes them everywhere.
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
    population: int = 0
    """Rows with text that ``rows`` were drawn from (0: all of them are counted)."""


def count_terms(
    docs: Sequence[str] | Mapping[int, str],
    *,
    max_rows: int = KEYWORD_SAMPLE_ROWS,
    random_state: int = 0,
    rows: np.ndarray | None = None,
    population: int = 0,
) -> TermCounts | None:
    """Term counts for the rows with text (``None`` when no term occurs twice), or for
    ``rows`` when the caller has drawn them (``docs`` need then hold only those) from
    ``population`` rows with text."""
    if rows is None:
        texts = docs.values() if isinstance(docs, Mapping) else docs
        rows = np.array([i for i, doc in enumerate(texts) if doc.strip()], dtype=int)
        population = len(rows)
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
    vocabulary = vectorizer.get_feature_names_out()
    return TermCounts(rows, sparse.csr_matrix(counts), vocabulary, population)


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
    class_counts = _class_counts(labels, terms, segments)
    if class_counts is None:
        return result
    index = {segment: position for position, segment in enumerate(segments)}
    words_per_class = class_counts.sum(axis=1, keepdims=True)
    tf = np.divide(
        class_counts, words_per_class, out=np.zeros_like(class_counts), where=words_per_class > 0
    )
    idf = np.log(1.0 + words_per_class.mean() / np.maximum(class_counts.sum(axis=0), 1.0))
    scores = tf * idf
    vocabulary = terms.vocabulary
    bigrams_of = _bigrams_by_word(vocabulary)
    for segment, position in index.items():
        chosen: list[str] = []
        words_taken: set[str] = set()
        for term_index in np.argsort(-scores[position]):
            if scores[position, term_index] <= 0 or len(chosen) >= n_keywords:
                break
            term = str(vocabulary[term_index])
            if " " not in term:
                term_index = _phrase_for(term_index, bigrams_of.get(term, ()), scores[position])
                term = str(vocabulary[term_index])
            if words_taken & set(term.split(" ")):
                continue
            words_taken.update(term.split(" "))
            chosen.append(term)
        result[segment] = tuple(chosen)
    return result


BIGRAM_PREFERENCE = 0.5
"""A word gives way to a two-word phrase holding it that scores at least half as high in the
segment: "runs small" rather than "small" then "runs" (which read "Small & runs" as a
name), "再也 不买" rather than "不买" and "再也". A phrase scores lower than its words by
construction (each of its words also occurs elsewhere), so half keeps phrases that are how
the segment mostly uses the word."""


def _bigrams_by_word(vocabulary: np.ndarray) -> dict[str, list[int]]:
    """For each word, the positions of the two-word terms that hold it."""
    holding: dict[str, list[int]] = {}
    for position, term in enumerate(vocabulary):
        words = str(term).split(" ")
        if len(words) == 2:
            for word in set(words):
                holding.setdefault(word, []).append(position)
    return holding


def _phrase_for(word_index: int, bigrams: Sequence[int], scores: np.ndarray) -> int:
    """The best-scoring phrase holding the word when it scores ``BIGRAM_PREFERENCE`` of the
    word's score, else the word itself (positions in the vocabulary)."""
    if not bigrams:
        return word_index
    best = max(bigrams, key=lambda i: scores[i])
    return best if scores[best] >= BIGRAM_PREFERENCE * scores[word_index] else word_index


def _class_counts(
    labels: np.ndarray, terms: TermCounts, segments: Sequence[int]
) -> np.ndarray | None:
    """Each term's count per segment (rows: ``segments`` in order), or ``None`` when no
    counted row is segmented."""
    segmented = labels[terms.rows] >= 0
    rows = terms.rows[segmented]
    if not len(rows):
        return None
    counts = terms.counts[np.flatnonzero(segmented)]
    index = {segment: position for position, segment in enumerate(segments)}
    membership = sparse.csr_matrix(
        (np.ones(len(rows)), ([index[int(s)] for s in labels[rows]], np.arange(len(rows)))),
        shape=(len(segments), len(rows)),
    )
    return np.asarray((membership @ counts).todense(), dtype=np.float64)


MIN_WRITERS_TO_NAME = 0.5
"""Keywords name a segment only when at least half its customers wrote something. On a
complaints export whose narratives are blank in two rows of three, a 292-customer product
group with 41 writers was named "Calls & payoff statement" from those 41 texts."""

FEW_WRITERS = 0.2
"""A segment where fewer than this share of customers wrote anything says so first in its
name ("No comments · Mortgage"): on a complaints export with sparse narratives, the
customers who wrote nothing can only be grouped by their columns, and a name such as
"Mortgage" alone would read as if the text had found them."""


def writer_shares(
    labels: np.ndarray, terms: TermCounts | None, segments: Sequence[int]
) -> dict[int, float]:
    """Per segment, the share of its customers who wrote something (estimated from the
    counted rows when ``terms`` is a sample); empty when nothing was counted."""
    if terms is None:
        return {}
    labels = np.asarray(labels)
    drawn = max(terms.population, len(terms.rows)) / max(len(terms.rows), 1)
    counted = labels[terms.rows]
    shares = {}
    for segment in segments:
        size = np.count_nonzero(labels == segment)
        writers = np.count_nonzero(counted == segment) * drawn
        shares[int(segment)] = float(min(writers / size, 1.0)) if size else 0.0
    return shares


def keyword_lifts(
    labels: np.ndarray,
    keywords: Mapping[int, Sequence[str]],
    terms: TermCounts | None,
) -> dict[int, tuple[float, ...]]:
    """How much more often each segment's customers write each of its keywords than all
    customers do (per customer; 1.0 is no difference).

    Per customer, not per counted word, so that a segment where few customers wrote
    anything is not named by the words of those few: on a complaints export whose
    narratives are blank in two rows of three, a 533-customer segment of mostly blank rows
    was named "Calls & payoff statement" from its hundred texts. The term counts may be a
    uniform sample of the rows with text; the sampling rate cancels in the ratio.

    A segment where fewer than ``MIN_WRITERS_TO_NAME`` of the customers wrote anything
    gets lifts of 0: its words are a few customers' words, whatever their rate.

    >>> keyword_lifts(labels, {0: ("late delivery",)}, count_terms(docs))
    {0: (2.9,)}
    """
    segments = sorted(keywords)
    result: dict[int, tuple[float, ...]] = {s: () for s in segments}
    if terms is None or not segments:
        return result
    class_counts = _class_counts(np.asarray(labels), terms, segments)
    if class_counts is None:
        return result
    column = {str(term): i for i, term in enumerate(terms.vocabulary)}
    labels = np.asarray(labels)
    sizes = np.array([np.count_nonzero(labels == s) for s in segments], dtype=np.float64)
    overall = class_counts.sum(axis=0) / max(float(sizes.sum()), 1.0)
    shares = writer_shares(labels, terms, segments)
    for position, segment in enumerate(segments):
        if shares[segment] < MIN_WRITERS_TO_NAME:
            result[segment] = tuple(0.0 for _ in keywords[segment])
            continue
        lifts = []
        for term in keywords[segment]:
            i = column.get(term)
            size = max(sizes[position], 1.0)
            rate = class_counts[position, i] / size if i is not None else 0.0
            lifts.append(
                round(float(rate / overall[i]), 3) if i is not None and overall[i] else 0.0
            )
        result[segment] = tuple(lifts)
    return result


def _numeric_traits(
    summary: ProfileSummary, segment: int, labels: Mapping[str, str] | None = None
) -> tuple[NumericTrait, ...]:
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
                label=label_of(column, labels),
            )
        )
    return tuple(sorted(traits, key=lambda t: -abs(t.z)))


def _category_traits(
    summary: ProfileSummary, segment: int, labels: Mapping[str, str] | None = None
) -> tuple[CategoryTrait, ...]:
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
                        label=label_of(column.column, labels),
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
SPEND_PREFIXES = ("spend on ", "spending on ", "spent on ", "amount spent on ")
"""Labels that read "spend on wines" give "Spends 2.7x on wines"."""
COUNT_PREFIX = "number of "
"""Labels that read "number of web purchases" give "Many web purchases"."""
DIRECTION_WORDS: dict[str, tuple[str, str]] = {
    "age": ("Older", "Younger"),
    "year of birth": ("Younger", "Older"),  # born later: younger
    "tenure": ("Long tenure", "Short tenure"),
    "days since last purchase": ("Not bought lately", "Bought recently"),
}
"""Labels with their own words for above and below average."""
_BRACKET_END = re.compile(r"\s*[(\[][^()\[\]]*[)\]]$")
RATIO_WORDING = 1.15
"""A ratio closer to 1 than this is said as "higher" or "lower" ("1.0x the average" says
nothing)."""


@dataclass(frozen=True)
class TraitStatement:
    """One thing that sets a segment apart, said in words for a card, a prompt or a check.

    ``strength`` is signed, in standard deviations of the whole table (``z`` for a number;
    for a category, of a yes/no indicator of the value), so one chart ranks both kinds.
    """

    text: str
    strength: float
    kind: str  # "numeric" or "category"
    column: str
    strong: bool
    """Strong enough to name the segment (``is_strong``)."""


def _ratio_applies(trait: NumericTrait) -> bool:
    """Whether "2.7x the average" means something: amounts and counts, not dates or scores
    that go below zero."""
    return (
        not trait.column.endswith(DATE_FEATURE_SUFFIX)
        and math.isfinite(trait.lift)
        and trait.overall_mean > 0
        and trait.segment_mean >= 0
    )


def is_strong(trait: NumericTrait | CategoryTrait) -> bool:
    """Whether a trait is clear enough to name a segment (``STRONG_Z``, ``STRONG_RATIO``,
    ``STRONG_CATEGORY_SHARE`` and ``STRONG_CATEGORY_LIFT``)."""
    if isinstance(trait, CategoryTrait):
        return trait.segment_share >= STRONG_CATEGORY_SHARE and trait.lift >= STRONG_CATEGORY_LIFT
    if not math.isfinite(trait.z):
        return False
    if abs(trait.z) >= STRONG_Z:
        return True
    far = trait.lift >= STRONG_RATIO or trait.lift <= 1.0 / STRONG_RATIO
    return _ratio_applies(trait) and far and abs(trait.z) >= RATIO_MIN_Z


def _label(trait: NumericTrait | CategoryTrait, labels: Mapping[str, str] | None) -> str:
    if labels and (trait.column in labels or trait.column.endswith(DATE_FEATURE_SUFFIX)):
        return label_of(trait.column, labels)
    return trait.label or column_label(trait.column)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    digits = 1 if abs(value) >= 1 else 2
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if abs(value) >= 0.01 else "0"


def spend_object(label: str) -> str | None:
    """What a spend column is spent on ("Spend on wines" -> "wines"), or ``None``."""
    lowered = inline(label)
    for prefix in SPEND_PREFIXES:
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return None


def _nearly_none(trait: NumericTrait) -> bool:
    """Almost none in the segment of a count most customers have some of (kids at home)."""
    return _ratio_applies(trait) and trait.segment_mean < 0.1 <= 0.3 <= trait.overall_mean


def describe_numeric(trait: NumericTrait, labels: Mapping[str, str] | None = None) -> str:
    """A short phrase for a name: "High income", "Spends 2.7x on wines", "No kids at home",
    "More kids at home", "Few web purchases", "Older", "Later signup date" (a date column
    turned into days).

    >>> describe_numeric(NumericTrait("MntWines", 612.0, 227.0, 2.7, 1.4, "Spend on wines"))
    'Spends 2.7x on wines'
    """
    label = _label(trait, labels)
    up = trait.z > 0
    lowered = _BRACKET_END.sub("", inline(label)) or inline(label)  # "(months)" adds nothing
    if trait.column.endswith(DATE_FEATURE_SUFFIX):
        return f"{'Later' if up else 'Earlier'} {lowered}"
    if lowered in DIRECTION_WORDS:
        return DIRECTION_WORDS[lowered][0 if up else 1]
    spend = spend_object(label)
    if spend is not None and _ratio_applies(trait):
        if trait.lift >= STRONG_RATIO:
            return f"Spends {trait.lift:.1f}x on {spend}"
        return f"{'High' if up else 'Low'} spend on {spend}"
    if _nearly_none(trait):
        return f"No {lowered}"
    if lowered.startswith(COUNT_PREFIX):
        return f"{'Many' if up else 'Few'} {lowered[len(COUNT_PREFIX) :]}"
    first = lowered.split(" ", 1)[0]
    if len(first) > 3 and first.endswith("s") and not first.endswith(("ss", "us", "is")):
        return f"{'More' if up else 'Fewer'} {lowered}"  # a count: kids, orders, visits
    if _ratio_applies(trait) and 0 < trait.overall_mean < 1 and trait.segment_mean <= 1:
        return f"{label}: {trait.segment_mean:.0%}"  # a 0/1 column's mean is a share
    return f"{'High' if up else 'Low'} {lowered}"


def describe_category(trait: CategoryTrait, labels: Mapping[str, str] | None = None) -> str:
    """The value alone when it speaks for itself ("Premium"), else "label: value"."""
    value = trait.value.strip()
    if value.lower() in GENERIC_VALUES or value.lower().startswith("no ") or len(value) <= 2:
        return f"{_label(trait, labels)}: {value}"
    return value


def _is_year(label: str) -> bool:
    """A label that measures a calendar year ("Year of birth"): said as 1979, not 1,979,
    and as later or earlier, never as a multiple of the average."""
    return bool(re.search(r"\byear\b", inline(label))) and "years" not in inline(label)


def _numeric_statement(trait: NumericTrait, label: str) -> str:
    both = f"({_number(trait.segment_mean)} against {_number(trait.overall_mean)})"
    if _is_year(label) and 1000 <= abs(trait.overall_mean) < 10_000:
        later = "later" if trait.z > 0 else "earlier"
        return (
            f"{label}: {later} than average ({trait.segment_mean:.0f} against "
            f"{trait.overall_mean:.0f})"
        )
    if trait.column.endswith(DATE_FEATURE_SUFFIX):
        days = trait.segment_mean - trait.overall_mean
        later = "later" if days > 0 else "earlier"
        return f"{label}: {abs(days):,.0f} days {later} than average"
    spend = spend_object(label)
    ratio = trait.lift
    if _ratio_applies(trait) and ratio >= RATIO_WORDING:
        if spend is not None:
            return f"Spends {ratio:.1f}× the average on {spend} {both}"
        return f"{label}: {ratio:.1f}× the average {both}"
    if _ratio_applies(trait) and ratio <= 1.0 / RATIO_WORDING:
        if _nearly_none(trait):
            return (
                f"Almost no {inline(label)} ({_number(trait.segment_mean)} on average, "
                f"against {_number(trait.overall_mean)})"
            )
        if spend is not None:
            return f"Spends {1.0 - ratio:.0%} less than average on {spend} {both}"
        return f"{label}: {1.0 - ratio:.0%} below average {both}"
    return f"{label}: {'higher' if trait.z > 0 else 'lower'} than average {both}"


def describe_traits(
    profile: SegmentProfile,
    labels: Mapping[str, str] | None = None,
    *,
    limit: int = CARD_TRAITS,
) -> list[TraitStatement]:
    """The traits that most set a segment apart, strongest first, said in words.

    Numbers and over-represented categories are ranked together by ``|strength|``;
    traits nearer the table than ``MIN_SHOWN_Z`` are left out. ``labels`` overrides the
    labels the profile was made with.

    >>> [t.text for t in describe_traits(profile)][:2]
    ['Spends 2.7× the average on wines (612 against 227)',
     'Plan: Premium for 62%, against 28% overall']
    """
    statements = []
    for trait in profile.numeric:
        if math.isfinite(trait.z) and abs(trait.z) >= MIN_SHOWN_Z:
            label = _label(trait, labels)
            statements.append(
                TraitStatement(
                    _numeric_statement(trait, label),
                    float(trait.z),
                    "numeric",
                    trait.column,
                    is_strong(trait),
                )
            )
    for category in profile.categories:
        strength = category.strength
        if abs(strength) >= MIN_SHOWN_Z:
            statements.append(
                TraitStatement(
                    f"{_label(category, labels)}: {category.value} for "
                    f"{category.segment_share:.0%}, against {category.overall_share:.0%} overall",
                    float(strength),
                    "category",
                    category.column,
                    is_strong(category),
                )
            )
    statements.sort(key=lambda s: -abs(s.strength))
    return statements[:limit]


def naming_keywords(
    keywords: Sequence[str],
    lifts: Sequence[float] = (),
    field_names: Iterable[str] = (),
) -> list[str]:
    """The keywords that may name a segment: distinctive (``MIN_KEYWORD_LIFT``, when the
    lifts are known), not praise or filler (``GENERIC_WORDS``), not a field's name."""
    fields_ = {" ".join(name.lower().split()) for name in field_names}
    chosen = []
    for position, keyword in enumerate(keywords):
        if position < len(lifts) and lifts[position] < MIN_KEYWORD_LIFT:
            continue
        words = keyword.lower().split()
        if keyword.lower() in fields_ or any(w in GENERIC_WORDS or w in fields_ for w in words):
            continue
        chosen.append(keyword)
    return chosen


def _fit(parts: Sequence[str], joiner: str) -> str:
    """Parts joined, the last ones dropped until the name fits ``NAME_MAX_CHARS``."""
    parts = list(parts)
    while len(parts) > 1 and len(joiner.join(parts)) > NAME_MAX_CHARS:
        parts.pop()
    name = joiner.join(parts)
    if len(name) > NAME_MAX_CHARS:
        name = name[: NAME_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,&·") + "…"
    return name


def name_candidates(
    keywords: Sequence[str],
    numeric: Sequence[NumericTrait],
    categories: Sequence[CategoryTrait],
    segment_id: int,
    *,
    keyword_lift: Sequence[float] = (),
    unnamed: Collection[str] = (),
    field_names: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    writer_share: float | None = None,
) -> list[str]:
    """Names for a segment from its strong traits only, best first: the first is its name,
    the others (one more trait each) tell it apart from a segment with the same first.

    Columns in ``unnamed`` (labels being predicted, such as a 0/1 response) never name a
    segment. Without a strong trait the name says so: "Mixed group 3". A segment where
    fewer than ``FEW_WRITERS`` of the customers (``writer_share``) wrote anything says so
    first: "No comments · Mortgage".
    """
    if writer_share is not None and writer_share < FEW_WRITERS:
        rest = name_candidates(
            keywords,
            numeric,
            categories,
            segment_id,
            keyword_lift=keyword_lift,
            unnamed=unnamed,
            field_names=field_names,
            labels=labels,
        )
        said = "No comments" if writer_share == 0 else "Few comments"
        if rest[0].startswith("Mixed group"):
            return [f"{said}, mixed group {segment_id}"]
        return [_fit([said, *name.split(", ")], ", ").replace(", ", " · ", 1) for name in rest]
    words = naming_keywords(keywords, keyword_lift, field_names)[:2]
    every: list[NumericTrait | CategoryTrait] = [*numeric, *categories]
    usable = sorted(
        (t for t in every if t.column not in unnamed and math.isfinite(t.strength)),
        key=lambda t: -abs(t.strength),
    )
    phrases = _phrases([t for t in usable if is_strong(t)], labels)
    # Clear but weaker traits only tell apart two segments whose strong traits read alike.
    moderate = [t for t in usable if not is_strong(t) and abs(t.strength) >= RATIO_MIN_Z]
    extras = [p for p in _phrases(moderate, labels, first=not phrases) if p not in phrases]
    candidates: list[str] = []
    if words:
        shown = [_CJK_SPACE.sub("", w) for w in words]  # 包装 破损 -> 包装破损
        heads = [" & ".join(shown[:n]) for n in range(len(shown), 0, -1)]
        heads = [h[0].upper() + h[1:] for h in heads]

        def with_tail(tail: str) -> str:
            # The second keyword gives way before a strong trait does.
            for head in heads:
                if not tail or len(f"{head} · {tail}") <= NAME_MAX_CHARS:
                    return _fit([head, tail] if tail else [head], " · ")
            return _fit([heads[-1], tail], " · ")

        for extra in range(1 if phrases else 0, min(len(phrases), 2) + 1):
            candidates.append(with_tail(", ".join(phrases[:extra])))
        candidates += [with_tail(", ".join([*phrases[:1], e])) for e in extras[:3]]
    elif phrases:
        for n in range(min(len(phrases), 2), min(len(phrases), 3) + 1):
            candidates.append(_fit(phrases[:n], ", "))
        candidates += [_fit([*phrases[:2], e], ", ") for e in extras[:3]]
    if not candidates:
        return [f"Mixed group {segment_id}"]
    unique: list[str] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def _phrases(
    traits: Sequence[NumericTrait | CategoryTrait],
    labels: Mapping[str, str] | None,
    *,
    first: bool = True,
) -> list[str]:
    """Name phrases of ``traits`` in order, without repeats; our own opening words ("High",
    "Spends") are lower-cased after the first phrase of a name."""
    phrases: list[str] = []
    measured: set[str] = set()
    for trait in traits:
        if isinstance(trait, CategoryTrait):
            phrase = describe_category(trait, labels)
        else:
            said = _measured_words(_label(trait, labels))
            if said & measured:
                continue  # "Low frequency score, low frequency" says one thing twice
            measured |= said
            phrase = describe_numeric(trait, labels)
            if phrases or not first:
                phrase = phrase[0].lower() + phrase[1:]
        if phrase.casefold() not in {p.casefold() for p in phrases}:
            phrases.append(phrase)
    return phrases


MEASURE_WORDS = frozenset(
    "number of score total average avg amount count on spend the in at per a an".split()
)
"""Words of a numeric label that say how, not what, it measures: "Frequency score (1-5)"
and "Frequency" measure the same thing, "Spend on wines" and "Spend on fruits" do not."""


def _measured_words(label: str) -> set[str]:
    """What a numeric label measures, as lower-case words (units in brackets dropped)."""
    words = re.findall(r"[^\W\d_]+", _BRACKET_END.sub("", label).lower())
    return set(words) - MEASURE_WORDS


def name_segment(
    keywords: Sequence[str],
    numeric: Sequence[NumericTrait],
    categories: Sequence[CategoryTrait],
    segment_id: int,
    **options: Any,
) -> str:
    """A short readable name from the segment's strong traits (``name_candidates``).

    >>> name_segment(["late delivery", "parcel"], [], [], 0)
    'Late delivery & parcel'
    """
    return name_candidates(keywords, numeric, categories, segment_id, **options)[0]


def profile_segments(
    docs: Sequence[str],
    labels: np.ndarray,
    numeric: pd.DataFrame | None = None,
    categorical: pd.DataFrame | None = None,
    *,
    distances: np.ndarray | None = None,
    terms: TermCounts | None = None,
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> list[SegmentProfile]:
    """One profile per segment (labels >= 0), in segment order.

    Args:
        docs: one text per row ("" where none), as from ``build_documents``.
        labels: segment per row; negative labels (unsegmented rows) get no profile.
        numeric: numeric columns, one row per input row.
        categorical: categorical and label columns as text, one row per input row.
        distances: each row's distance to its segment's centre, for picking quotes.
        terms: ``count_terms(docs)``, when already computed.
        column_labels: every column's readable label (``labels.column_labels``); by
            default each column's ``column_label``.
        unnamed: columns that never name a segment (``Schema.label_columns``).
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
    terms = terms if terms is not None else count_terms(docs)
    keywords = class_tfidf_keywords(docs, labels, terms=terms)
    return profiles_from_summary(
        summary,
        segments,
        keywords,
        examples,
        languages,
        keyword_lift=keyword_lifts(labels, keywords, terms),
        column_labels=column_labels,
        unnamed=unnamed,
        writer_share=writer_shares(labels, terms, segments),
    )


def profiles_from_summary(
    summary: ProfileSummary,
    segments: Sequence[int],
    keywords: dict[int, tuple[str, ...]],
    examples: dict[int, tuple[str, ...]],
    languages: dict[int, str],
    *,
    keyword_lift: Mapping[int, tuple[float, ...]] | None = None,
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
    writer_share: Mapping[int, float] | None = None,
) -> list[SegmentProfile]:
    """The profiles of ``segments`` from a table's summary and each segment's keywords,
    example texts and language (the parts that read texts, computed by the caller).

    Both engines build their profiles, names included, here; ``keyword_lift``,
    ``column_labels`` and ``unnamed`` are as in ``profile_segments``; ``writer_share`` as
    from ``writer_shares`` (empty or ``None`` when the table has no text).
    """
    profiles = []
    for segment in segments:
        size = int(summary.sizes[segment])
        profiles.append(
            SegmentProfile(
                segment_id=segment,
                name="",
                size=size,
                share=float(size / summary.rows),
                numeric=_numeric_traits(summary, segment, column_labels),
                categories=_category_traits(summary, segment, column_labels),
                keywords=keywords[segment],
                examples=examples[segment],
                language=languages[segment],
                keyword_lift=(keyword_lift or {}).get(segment, ()),
                writer_share=(writer_share or {}).get(segment),
            )
        )
    return name_profiles(profiles, column_labels, unnamed)


def name_profiles(
    profiles: Sequence[SegmentProfile],
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> list[SegmentProfile]:
    """Every profile named from its strong traits, with the traits' labels set from
    ``column_labels`` (when given); names are distinct across segments.

    A segment whose best name another segment already has takes its next candidate (one
    more trait); when none is free, a number: "High income (2)".
    """
    field_names = [*(column_labels or {}).keys(), *(column_labels or {}).values()]
    taken: set[frozenset[str]] = set()
    out = []
    for profile in profiles:
        if column_labels is not None:
            profile = relabel(profile, column_labels)
        candidates = name_candidates(
            profile.keywords,
            profile.numeric,
            profile.categories,
            profile.segment_id,
            keyword_lift=profile.keyword_lift,
            unnamed=unnamed,
            field_names=field_names,
            writer_share=profile.writer_share,
        )
        name = next((c for c in candidates if _name_key(c) not in taken), "")
        if not name:
            count = 2
            while _name_key(f"{candidates[0]} ({count})") in taken:
                count += 1
            name = f"{candidates[0]} ({count})"
        taken.add(_name_key(name))
        out.append(_with_name(profile, name))
    return out


_NAME_PARTS = re.compile(r" & | · |, ")


def _name_key(name: str) -> frozenset[str]:
    """A name's parts, in any order: "Usual size & ordered" and "Ordered & usual size" are
    one name to a reader."""
    return frozenset(part.strip() for part in _NAME_PARTS.split(name.casefold()))


def relabel(profile: SegmentProfile, column_labels: Mapping[str, str]) -> SegmentProfile:
    """The profile with its traits' labels taken from ``column_labels`` (name unchanged)."""
    return replace(
        profile,
        numeric=tuple(replace(t, label=label_of(t.column, column_labels)) for t in profile.numeric),
        categories=tuple(
            replace(t, label=label_of(t.column, column_labels)) for t in profile.categories
        ),
    )


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
