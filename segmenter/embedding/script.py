"""Which writing systems the texts use, to pick an embedding model that can read them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from segmenter.embedding.registry import DEFAULT_EMBEDDER, MULTILINGUAL_EMBEDDER
from segmenter.script_ranges import (
    HAN_RANGES,
    HAN_SUPPLEMENTARY,
    HANGUL_JAMO,
    HANGUL_RANGES,
    KANA_EXTRA,
    KANA_RANGES,
)

NON_LATIN_THRESHOLD = 0.1
"""Share of texts written mostly outside the Latin script above which the multilingual
model is used.

The English model maps non-Latin text to near-meaningless vectors that all sit
together, so even a tenth of such texts forms a "language" segment instead of
joining the themes it talks about. Texts, not letters, are counted: a Chinese review
has far fewer letters than an English one saying the same.
"""
SAMPLE_TEXTS = 2000
"""Texts examined (evenly spread over the upload, since uploads are often sorted)."""
SAMPLE_CHARS = 1000
"""Characters examined per text: the script of a text shows in its opening."""
ENGLISH_MIN_SHARE = 0.05
"""Share of words that must be common English function words to call Latin text English."""
KANA_MIN_SHARE = 0.1
"""Share of kana among CJK letters above which the text is Japanese rather than Chinese."""

_LETTER = re.compile(r"[^\W\d_]")
# Basic Latin, Latin-1, Latin Extended-A/B, IPA, Latin Extended Additional/C/D/E,
# and full-width Latin.
_LATIN = re.compile(
    "[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1e00-\u1eff"
    "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff21-\uff3a\uff41-\uff5a]"
)
# Wider than ``script_ranges.HAN`` and ``CJK``: to tell the languages apart, every block counts.
_HAN = re.compile(f"[{HAN_RANGES}{HAN_SUPPLEMENTARY}]")
_KANA = re.compile(f"[{KANA_RANGES}{KANA_EXTRA}]")
_HANGUL = re.compile(f"[{HANGUL_JAMO}{HANGUL_RANGES}]")
_WORD = re.compile(r"[a-z']+")
_ENGLISH_WORDS = frozenset(
    "the a an and or but is are was were be been to of in on at for with my our your "
    "it this that they we you i not no very too so have has had do does did can will "
    "would should there their from as by".split()
)


def _sample(
    texts: Sequence[str], limit: int = SAMPLE_TEXTS, chars: int = SAMPLE_CHARS
) -> list[str]:
    """Up to ``limit`` non-empty texts, evenly spread, each cut to ``chars``."""
    non_empty = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(non_empty) > limit:
        step = len(non_empty) / limit
        non_empty = [non_empty[int(i * step)] for i in range(limit)]
    return [t[:chars] for t in non_empty]


def non_latin_share(texts: Sequence[str]) -> float:
    """Share of letters written in a non-Latin script (CJK, Cyrillic, Arabic, Thai, ...).

    Computed on a sample of up to 2,000 non-empty texts; digits, punctuation and
    emoji are ignored. Returns 0.0 when there are no letters.

    Example:
        >>> non_latin_share(["快递送得太慢了", "late"])
        0.6363636363636364
    """
    joined = "\n".join(_sample(texts))
    letters = len(_LETTER.findall(joined))
    if letters == 0:
        return 0.0
    return (letters - len(_LATIN.findall(joined))) / letters


def non_latin_text_share(texts: Sequence[str]) -> float:
    """Share of (sampled, non-empty) texts whose letters are mostly non-Latin.

    Example:
        >>> non_latin_text_share(["快递送得太慢了", "late", "很好 ok"])
        0.6666666666666666
    """
    sample = _sample(texts)
    counted = 0
    non_latin = 0
    for text in sample:
        letters = len(_LETTER.findall(text))
        if letters == 0:
            continue
        counted += 1
        if len(_LATIN.findall(text)) < letters / 2:
            non_latin += 1
    return non_latin / counted if counted else 0.0


def choose_embedder_name(texts: Sequence[str], threshold: float = NON_LATIN_THRESHOLD) -> str:
    """``"multilingual"`` when more than ``threshold`` of texts are mostly non-Latin,
    else ``"minilm"``.

    This is what ``EmbedConfig(model="auto")`` means. Latin-script languages other
    than English (French, Spanish ...) still get the English model.
    """
    if non_latin_text_share(texts) > threshold:
        return MULTILINGUAL_EMBEDDER
    return DEFAULT_EMBEDDER


LANGUAGE_SAMPLE_TEXTS = 120
LANGUAGE_SAMPLE_CHARS = 250
"""A script and its common words show in a few hundred texts' openings; 2,000 texts of up
to 1,000 characters per segment cost 1.4 s of each change of k at 100k rows."""


def dominant_language_hint(texts: Sequence[str]) -> str:
    """A rough language guess from the script most letters use, for tokenising and stop words.

    Returns ``"zh"`` (Han), ``"ja"`` (Han with kana), ``"ko"`` (Hangul), ``"en"``
    (Latin with common English words), or ``"other"`` (anything else, or no letters).
    """
    joined = "\n".join(_sample(texts, LANGUAGE_SAMPLE_TEXTS, LANGUAGE_SAMPLE_CHARS))
    letters = len(_LETTER.findall(joined))
    if letters == 0:
        return "other"
    han = len(_HAN.findall(joined))
    kana = len(_KANA.findall(joined))
    hangul = len(_HANGUL.findall(joined))
    latin = len(_LATIN.findall(joined))
    other = letters - han - kana - hangul - latin
    cjk = han + kana
    top = max(cjk, hangul, latin, other)
    if top == cjk:
        return "ja" if kana > KANA_MIN_SHARE * cjk else "zh"
    if top == hangul:
        return "ko"
    if top == latin:
        words = _WORD.findall(joined.lower())
        english = sum(word in _ENGLISH_WORDS for word in words)
        if words and english >= ENGLISH_MIN_SHARE * len(words):
            return "en"
    return "other"


def main_language(texts: Sequence[str]) -> str:
    """The language most of ``texts`` are written in, each text judged on its own
    (``dominant_language_hint``): the language of most customers, not of most letters. An
    English review spends three or four letters where a Chinese one spends a character, so
    judged on letters a segment of 70% Chinese reviews read as English. Ties, and texts no
    language claims, fall back to judging them all together."""
    hints = [
        dominant_language_hint([text])
        for text in _sample(texts, LANGUAGE_SAMPLE_TEXTS, LANGUAGE_SAMPLE_CHARS)
    ]
    counts = Counter(hint for hint in hints if hint != "other")
    if not counts:
        return dominant_language_hint(texts)
    (top, top_count), *rest = counts.most_common(2) + [("", 0)]
    if rest[0][1] == top_count:
        return dominant_language_hint(texts)
    return top
