"""Unicode ranges of the Chinese, Japanese and Korean scripts, defined once.

The ranges are strings to put inside a regular expression's brackets, so that callers can
combine them (``f"[^\\s{CJK_RANGES}]+"``). Two classes differ on purpose:

- ``HAN``: Chinese characters only (Japanese kanji among them). For questions about
  Chinese: jieba splits runs of them into words, and the Chinese sentiment reader takes a
  text mostly written in them. Kana or hangul would send Japanese and Korean text to
  readers that only know Chinese.
- ``CJK``: Han plus kana and hangul syllables, the scripts a reader meets when a text or a
  name is not Latin: word counts (two characters to a word, ``ingest.values``), names kept
  as written (``labels.column_label``).

Language detection (``embedding.script``) tells the three apart and adds the rarer blocks.
"""

from __future__ import annotations

HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""CJK Unified Ideographs Extension A, the main block and the compatibility ideographs."""
HAN_SUPPLEMENTARY = "\U00020000-\U0003134f"
"""Extensions B to H, outside the Basic Multilingual Plane: rare names and old forms."""
KANA_RANGES = "\u3040-\u30ff"
"""Hiragana and katakana."""
KANA_EXTRA = "\u31f0-\u31ff\uff66-\uff9d"
"""Katakana phonetic extensions and half-width katakana."""
HANGUL_RANGES = "\uac00-\ud7af"
"""Hangul syllables, as Korean is written."""
HANGUL_JAMO = "\u1100-\u11ff\u3130-\u318f"
"""Hangul letters on their own (jamo and compatibility jamo)."""

CJK_RANGES = KANA_RANGES + HAN_RANGES + HANGUL_RANGES
"""Han, kana and hangul syllables together."""

HAN = f"[{HAN_RANGES}]"
"""One Chinese character, as a regular expression."""
CJK = f"[{CJK_RANGES}]"
"""One Chinese, Japanese or Korean character, as a regular expression."""
