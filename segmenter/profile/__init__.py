"""Business profiles of segments: size, traits against the whole table, keywords, quotes, a name.

The package's modules follow the stages of a profile:

- ``traits``: numeric and category traits against the whole table, and which are strong;
- ``keywords``: tokenising (jieba for Chinese), c-TF-IDF keywords, their lifts, writer shares;
- ``describe``: traits said in words, for names, cards, prompts and checks;
- ``naming``: a distinct readable name per segment from its strong traits;
- ``segment_profile``: the ``SegmentProfile`` record and its JSON form;
- ``build``: ``profile_segments`` and ``profiles_from_summary``, which put them together.

Every name callers use is importable from ``segmenter.profile`` itself.
"""

from __future__ import annotations

from segmenter.profile.build import (
    EXAMPLE_MAX_CHARS,
    EXAMPLE_MIN_CHARS,
    N_EXAMPLES,
    distances_to_centres,
    profile_segments,
    profiles_from_summary,
)
from segmenter.profile.build import _examples as _examples  # the Ray engine's quotes
from segmenter.profile.build import _spread as _spread
from segmenter.profile.describe import (
    CARD_TRAITS,
    COUNT_PREFIX,
    DIRECTION_WORDS,
    GENERIC_VALUES,
    MIN_SHOWN_Z,
    RATIO_WORDING,
    SPEND_PREFIXES,
    TraitStatement,
    describe_category,
    describe_numeric,
    describe_traits,
    spend_object,
)
from segmenter.profile.keywords import (
    BIGRAM_PREFERENCE,
    CHINESE_STOP_WORDS,
    KEYWORD_SAMPLE_ROWS,
    MIN_WRITERS_TO_NAME,
    N_KEYWORDS,
    STOP_WORDS,
    TermCounts,
    class_tfidf_keywords,
    count_terms,
    keyword_lifts,
    keyword_terms,
    tokenize,
    writer_shares,
)
from segmenter.profile.naming import (
    FEW_WRITERS,
    GENERIC_WORDS,
    MEASURE_WORDS,
    MIN_KEYWORD_LIFT,
    NAME_MAX_CHARS,
    name_candidates,
    name_profiles,
    name_segment,
    naming_keywords,
    relabel,
    rename_segments,
)
from segmenter.profile.segment_profile import SegmentProfile
from segmenter.profile.traits import (
    MIN_CATEGORY_LIFT,
    MIN_CATEGORY_SHARE,
    MISSING_CATEGORY,
    N_CATEGORY_TRAITS,
    RATIO_MIN_Z,
    STRONG_CATEGORY_LIFT,
    STRONG_CATEGORY_SHARE,
    STRONG_RATIO,
    STRONG_Z,
    CategoryTrait,
    NumericTrait,
    is_strong,
)

__all__ = [
    "BIGRAM_PREFERENCE",
    "CARD_TRAITS",
    "CHINESE_STOP_WORDS",
    "COUNT_PREFIX",
    "CategoryTrait",
    "DIRECTION_WORDS",
    "EXAMPLE_MAX_CHARS",
    "EXAMPLE_MIN_CHARS",
    "FEW_WRITERS",
    "GENERIC_VALUES",
    "GENERIC_WORDS",
    "KEYWORD_SAMPLE_ROWS",
    "MEASURE_WORDS",
    "MIN_CATEGORY_LIFT",
    "MIN_CATEGORY_SHARE",
    "MIN_KEYWORD_LIFT",
    "MIN_SHOWN_Z",
    "MIN_WRITERS_TO_NAME",
    "MISSING_CATEGORY",
    "NAME_MAX_CHARS",
    "N_CATEGORY_TRAITS",
    "N_EXAMPLES",
    "N_KEYWORDS",
    "NumericTrait",
    "RATIO_MIN_Z",
    "RATIO_WORDING",
    "SPEND_PREFIXES",
    "STOP_WORDS",
    "STRONG_CATEGORY_LIFT",
    "STRONG_CATEGORY_SHARE",
    "STRONG_RATIO",
    "STRONG_Z",
    "SegmentProfile",
    "TermCounts",
    "TraitStatement",
    "class_tfidf_keywords",
    "count_terms",
    "describe_category",
    "describe_numeric",
    "describe_traits",
    "distances_to_centres",
    "is_strong",
    "keyword_lifts",
    "keyword_terms",
    "name_candidates",
    "name_profiles",
    "name_segment",
    "naming_keywords",
    "profile_segments",
    "profiles_from_summary",
    "relabel",
    "rename_segments",
    "spend_object",
    "tokenize",
    "writer_shares",
]
