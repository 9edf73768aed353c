"""Does a segment's name or persona claim only what its profile shows?

A language model asked to name a low-income segment with more children called it "Tech
Innovators: always looking for the latest gadgets", and called families "Travel
Enthusiasts". This module finds such claims: interests and attributes that a name or a
persona states and that nothing in the segment's traits, keywords, quotes or offers
supports. ``campaign.name_segments`` sends the problems back to the model once, then keeps
the rule-based name.

Two kinds of claim are checked:

- **Concepts** (``CONCEPTS``): attributes a persona often invents (technology, travel,
  families, wealth, budget, age, loyalty, ...), each with the words that claim it and the
  evidence that supports it. Some need a direction: "affluent" needs a money column above
  average, "families" needs children *more* than average.
- **Interests** in the shape "X lovers", "X enthusiasts", "X-savvy", "X fans": X itself
  must appear in the evidence (a label of a trait above average, a category value, a
  keyword, a quote or an offer).

>>> claim_problems("Travel Enthusiasts", "Always planning the next trip", evidence)
['claims travel, which nothing in this segment supports']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from segmenter.profile import RATIO_MIN_Z, SegmentProfile, describe_traits

EVIDENCE_MIN_Z = RATIO_MIN_Z
"""A numeric trait this far from the table (in standard deviations) supports a claim in its
direction; a nearer one supports nothing (0.25: the weakest trait that names a segment)."""


@dataclass(frozen=True)
class Concept:
    """An attribute a name or persona may claim, and what in a profile supports it.

    ``claims``: words or phrases that state it. ``words``: evidence words that support it
    anywhere (keywords, quotes, category values, labels of traits above average).
    ``columns``: words of a numeric column's label whose trait supports it when it points
    ``direction`` (+1 above average, -1 below)."""

    name: str
    claims: tuple[str, ...]
    words: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    direction: int = 1


GROUND_MAX_CHARS = 90
"""A quote shown as what a name rests on is cut to one line."""

MONEY_COLUMNS = (
    "income",
    "salary",
    "earnings",
    "wealth",
    "spend",
    "spending",
    "spent",
    "charges",
    "amount",
    "revenue",
    "monetary",
    "value",
    "sales",
    "balance",
    "price",
)
AGE_COLUMNS = ("age", "senior")
CONCEPTS: tuple[Concept, ...] = (
    Concept(
        "technology",
        (
            "tech",
            "technology",
            "gadget",
            "gadgets",
            "innovator",
            "innovators",
            "techie",
            "geek",
            "geeks",
            "early adopter",
            "early adopters",
            "latest devices",
        ),
        (
            "tech",
            "technology",
            "gadget",
            "device",
            "phone",
            "smartphone",
            "computer",
            "laptop",
            "software",
            "app",
            "electronic",
            "electronics",
            "streaming",
            "fiber",
        ),
    ),
    Concept(
        "travel",
        (
            "travel",
            "travelling",
            "traveling",
            "traveller",
            "travellers",
            "traveler",
            "travelers",
            "trip",
            "trips",
            "vacation",
            "vacations",
            "holiday",
            "holidays",
            "tourist",
            "tourists",
            "wanderlust",
            "jetsetter",
            "jet setter",
            "globetrotter",
            "explorer",
            "explorers",
            "adventure",
            "adventurer",
            "adventurers",
        ),
        (
            "travel",
            "trip",
            "flight",
            "hotel",
            "vacation",
            "holiday",
            "booking",
            "airline",
            "airport",
            "luggage",
            "tour",
            "abroad",
            "beach",
            "旅行",
            "酒店",
        ),
    ),
    Concept(
        "families with children",
        (
            "family",
            "families",
            "parent",
            "parents",
            "mom",
            "moms",
            "mum",
            "mums",
            "dad",
            "dads",
            "kids",
            "children",
            "child",
            "household with children",
        ),
        (
            "kid",
            "kids",
            "child",
            "children",
            "family",
            "families",
            "baby",
            "babies",
            "son",
            "daughter",
            "parent",
            "mom",
            "mum",
            "dad",
            "teen",
            "teenager",
            "dependents",
            "孩子",
            "宝宝",
        ),
        ("kid", "kids", "child", "children", "teen", "teenagers", "dependents", "family"),
    ),
    Concept(
        "wealth",
        (
            "affluent",
            "wealthy",
            "rich",
            "luxury",
            "luxurious",
            "upscale",
            "well off",
            "high income",
            "high earners",
            "high earning",
            "big spender",
            "big spenders",
            "high spenders",
            "heavy spenders",
            "high value",
            "vip",
            "vips",
            "elite",
            "premium",
        ),
        ("premium", "luxury", "vip", "gold", "platinum", "elite", "exclusive"),
        MONEY_COLUMNS,
    ),
    Concept(
        "a tight budget",
        (
            "budget",
            "frugal",
            "thrifty",
            "bargain",
            "bargains",
            "deal seekers",
            "deal hunters",
            "price conscious",
            "cost conscious",
            "price sensitive",
            "low income",
            "cheap",
            "savers",
            "economical",
            "penny",
            "coupon",
            "coupons",
        ),
        (
            "price",
            "prices",
            "cheap",
            "cheaper",
            "discount",
            "deal",
            "deals",
            "sale",
            "coupon",
            "expensive",
            "cost",
            "costs",
            "bargain",
            "promo",
            "afford",
            "budget",
            "refund",
            "价格",
            "便宜",
            "优惠",
            "贵",
        ),
        MONEY_COLUMNS,
        -1,
    ),
    Concept(
        "youth",
        (
            "young",
            "youth",
            "youthful",
            "millennial",
            "millennials",
            "gen z",
            "student",
            "students",
            "college",
            "teens",
        ),
        ("young", "student", "students", "college", "university", "school", "学生"),
        AGE_COLUMNS,
        -1,
    ),
    Concept(
        "older age",
        (
            "senior",
            "seniors",
            "retiree",
            "retirees",
            "retired",
            "elderly",
            "older",
            "mature",
            "golden years",
            "pensioner",
            "pensioners",
            "boomer",
            "boomers",
        ),
        ("senior", "retired", "retirement", "pension", "elderly", "older", "grandchildren"),
        AGE_COLUMNS,
    ),
    Concept(
        "loyalty",
        (
            "loyal",
            "loyalists",
            "long time",
            "longtime",
            "devoted",
            "regulars",
            "veteran",
            "veterans",
            "long standing",
            "faithful",
        ),
        ("loyal", "loyalty", "years", "always", "regular", "member", "membership"),
        (
            "tenure",
            "orders",
            "purchases",
            "frequency",
            "visits",
            "membership",
            "loyalty",
            "years",
            "months",
            "recency",
        ),
    ),
    Concept(
        "health and fitness",
        (
            "fitness",
            "gym",
            "athlete",
            "athletes",
            "athletic",
            "wellness",
            "health conscious",
            "healthy",
            "sporty",
            "runners",
            "yoga",
        ),
        (
            "fitness",
            "gym",
            "sport",
            "sports",
            "health",
            "healthy",
            "wellness",
            "running",
            "workout",
            "yoga",
            "organic",
            "运动",
            "健康",
        ),
    ),
    Concept(
        "eco-consciousness",
        ("eco", "green", "sustainable", "sustainability", "environmentally", "ethical"),
        ("eco", "green", "sustainable", "organic", "recycled", "environment", "plastic"),
    ),
)
"""Attributes personas invent, from the failures the issue reports and the usual marketing
archetypes. Claims are matched as whole words (hyphens read as spaces)."""

INTEREST_MARKERS = (
    "lovers",
    "lover",
    "enthusiasts",
    "enthusiast",
    "fans",
    "fan",
    "aficionados",
    "connoisseurs",
    "buffs",
    "junkies",
    "seekers",
    "savvy",
    "addicts",
    "devotees",
    "collectors",
    "hunters",
    "aficionado",
    "connoisseur",
)
""""X lovers", "X-savvy", "X seekers": an interest in X that the evidence must show."""
MARKER_SKIP = frozenset({"the", "a", "an", "of", "and", "&", "true", "big", "real"})

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


def _stem(word: str) -> str:
    """Crude but enough to match "wines" with "wine" and "traveller" with "travel"."""
    if len(word) > 3 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6]


def _has_phrase(words: Sequence[str], phrase: str) -> bool:
    target = phrase.split()
    return any(words[i : i + len(target)] == target for i in range(len(words) - len(target) + 1))


@dataclass(frozen=True)
class Evidence:
    """What a segment's profile shows, in the forms the claims are checked against."""

    statements: tuple[str, ...]
    """Trait statements (``profile.describe_traits``), strongest first."""
    stems: frozenset[str]
    """Word stems of keywords, quotes, category values, offers and the labels of traits
    above average."""
    columns: tuple[tuple[frozenset[str], int, str], ...]
    """Per numeric or category trait clear of ``EVIDENCE_MIN_Z``: its label's words, its
    direction, its statement."""
    texts: tuple[str, ...]
    """Keywords, values and quotes, to name what a claim rests on."""


def evidence_of(profile: SegmentProfile) -> Evidence:
    """The evidence a name or persona of ``profile`` may rest on."""
    statements = describe_traits(profile, limit=len(profile.numeric) + len(profile.categories))
    stems: set[str] = set()
    texts = [*profile.keywords, *profile.examples, *(o.value for o in profile.offers)]
    for category in profile.categories:
        texts.append(f"{category.label} {category.value}")
    for text in texts:
        stems.update(_stem(w) for w in _words(text))
    columns = []
    by_column = {s.column: s for s in statements}
    for trait in profile.numeric:
        statement = by_column.get(trait.column)
        if statement is None or abs(trait.z) < EVIDENCE_MIN_Z:
            continue
        words = frozenset(_words(trait.label or trait.column))
        columns.append((words, 1 if trait.z > 0 else -1, statement.text))
        if trait.z > 0:
            stems.update(_stem(w) for w in words)
    for category in profile.categories:
        statement = by_column.get(category.column)
        if statement is not None and category.strength >= EVIDENCE_MIN_Z:
            words = frozenset(_words(f"{category.label} {category.value}"))
            columns.append((words, 1, statement.text))
    return Evidence(
        statements=tuple(s.text for s in statements),
        stems=frozenset(stems),
        columns=tuple(columns),
        texts=tuple(texts),
    )


def _supports(concept: Concept, evidence: Evidence) -> list[str]:
    """The evidence for ``concept``: statements or texts (empty when there is none)."""
    found = [
        statement
        for words, direction, statement in evidence.columns
        if direction == concept.direction and words & set(concept.columns)
    ]
    wanted = {_stem(w) for word in concept.words for w in _words(word)}
    if wanted & evidence.stems:
        found += _mentioning(wanted, evidence.texts)[:2]
        if not found:  # the label of a trait above average
            above = [s for words, d, s in evidence.columns if d > 0]
            found += _mentioning(wanted, above)[:1]
    return found


def _mentioning(stems: set[str], texts: Iterable[str]) -> list[str]:
    """The texts that hold one of ``stems``, shortened to a line."""
    found = []
    for text in texts:
        if stems & {_stem(w) for w in _words(text)}:
            found.append(
                text if len(text) <= GROUND_MAX_CHARS else text[: GROUND_MAX_CHARS - 1] + "…"
            )
    return found


def claims(text: str) -> tuple[list[Concept], list[str]]:
    """The concepts ``text`` claims, and the interests it names ("wine" in "Wine Lovers")."""
    words = _words(text)
    concepts = [c for c in CONCEPTS if any(_has_phrase(words, p) for p in c.claims)]
    interests = []
    for position, word in enumerate(words):
        if word in INTEREST_MARKERS and position > 0 and words[position - 1] not in MARKER_SKIP:
            interests.append(words[position - 1])
    return concepts, interests


@dataclass(frozen=True)
class ClaimCheck:
    """The outcome of checking one name and persona against its segment."""

    problems: tuple[str, ...]
    """What is claimed without support, in words for the model and the user."""
    grounds: tuple[str, ...]
    """The evidence the claims rest on (or the segment's strongest traits)."""


def check_claims(name: str, persona: str, evidence: Evidence) -> ClaimCheck:
    """Which claims of ``name`` and ``persona`` nothing in ``evidence`` supports.

    >>> check_claims("Tech Innovators", "Always after the latest gadgets", evidence).problems
    ('claims technology, which nothing in this segment supports',)
    """
    concepts, interests = claims(f"{name}. {persona}")
    problems: list[str] = [*_not_a_name(name), *_contradictions(f"{name}. {persona}", evidence)]
    grounds: list[str] = []
    for concept in concepts:
        support = _supports(concept, evidence)
        if support:
            grounds += support
        else:
            problems.append(f"claims {concept.name}, which nothing in this segment supports")
    claimed_concepts = {w for c in concepts for p in c.claims for w in p.split()}
    for interest in interests:
        if interest in claimed_concepts:
            continue  # judged as a concept above
        if _stem(interest) in evidence.stems:
            grounds += _mentioning({_stem(interest)}, (*evidence.statements, *evidence.texts))[:1]
        else:
            problems.append(
                f"claims an interest in {interest}, which nothing in this segment shows"
            )
    if not grounds:
        grounds = list(evidence.statements[:3])
    return ClaimCheck(tuple(dict.fromkeys(problems)), tuple(dict.fromkeys(grounds))[:4])


SCAFFOLD_NAMES = frozenset(
    {"customer quotes", "customers", "customer", "segment", "segment id", "persona", "name"}
)
"""Words of the prompt's own structure that a small model copies instead of naming."""
_NOT_NAME = re.compile(r"[<>{}\[\]_|]|^segment( id)? \d+$", re.IGNORECASE)
LOW_WORDS = frozenset(
    "low lower less little few fewer rarely seldom no not never without hardly small smaller "
    "minimal light cheap budget tight modest limited lean".split()
)
HIGH_WORDS = frozenset(
    "high higher more many lot lots big bigger heavy heavily frequent often large larger much "
    "top generous avid love loves lover lovers enthusiast enthusiasts fans".split()
)
"""Words that say which way a claim about a column goes ("spend a lot on wine")."""
FUNCTION_WORDS = frozenset("a an the of on in for to very so too quite really".split())
PURCHASE_WORDS = frozenset("spend spending spent purchases purchase bought buy amount".split())
"""Labels of what customers buy: naming the product at all claims they buy it."""
LABEL_FILLER = frozenset(
    "on of at the a an in and per number amount total count average spend spending spent "
    "date days months years value product products prods purchases items goods".split()
)
"""Words of a label that do not say what it measures ("spend on", "number of", the
"products" of "meat products": "organic products" in a persona is no claim about meat)."""
QUALIFIER_WINDOW = 3


def _not_a_name(name: str) -> list[str]:
    words = " ".join(_words(name))
    if not words or _NOT_NAME.search(name.strip()) or words in SCAFFOLD_NAMES:
        return ["is not a name but words of the prompt: name what sets the segment apart"]
    return []


def _contradictions(text: str, evidence: Evidence) -> list[str]:
    """Claims that go against a clear trait: "spend a lot on wine" where the segment spends
    less than average on wine, "low income" where its income is above average."""
    words = _words(text)
    stems = [_stem(w) for w in words]
    problems: dict[str, str] = {}  # the claim's words -> the first fact it goes against
    for label_words, direction, statement in evidence.columns:
        measured = {_stem(w) for w in label_words - LABEL_FILLER}
        for position, stem in enumerate(stems):
            if stem not in measured:
                continue
            claimed = _qualifier(words[max(0, position - QUALIFIER_WINDOW) : position])
            bought = bool(label_words & PURCHASE_WORDS)
            if claimed == 0 and direction < 0 and bought and stem not in evidence.stems:
                claimed = 1  # a product they buy less of, named as if it were their thing
            if claimed and claimed != direction:
                claim = " ".join(words[max(0, position - 2) : position + 1])
                problems.setdefault(claim, f"says {claim}, against the facts ({statement})")
                break
    return list(problems.values())


def _qualifier(before: Sequence[str]) -> int:
    """-1 or +1 when the words just before a claim say "less" or "more" of it ("spend a lot
    on"), reading back over small words only ("tight income with kids" says nothing of kids).
    """
    for word in reversed(before):
        if word in LOW_WORDS:
            return -1
        if word in HIGH_WORDS:
            return 1
        if word not in FUNCTION_WORDS:
            return 0
    return 0


def check_profile_claims(name: str, persona: str, profile: SegmentProfile) -> ClaimCheck:
    """``check_claims`` against ``profile``'s evidence."""
    return check_claims(name, persona, evidence_of(profile))
