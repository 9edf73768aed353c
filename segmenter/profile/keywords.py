"""Keywords: words per segment by class-based TF-IDF (Chinese split by jieba), how much more
often the segment writes them, and how many of its customers wrote anything."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from segmenter.sampling import sample_of
from segmenter.script_ranges import HAN

N_KEYWORDS = 8

_CJK_RUN = re.compile(f"{HAN}+")  # Han only: jieba splits Chinese, not kana or hangul
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
        rows = sample_of(rows, max_rows, random_state)
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
