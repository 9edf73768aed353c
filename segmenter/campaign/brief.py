"""What the marketer asks for: goals, tones, languages, channels and their length limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from segmenter.campaign.safety import sanitise
from segmenter.embedding.script import dominant_language_hint
from segmenter.errors import SegmenterError
from segmenter.profile import SegmentProfile

GOALS: dict[str, str] = {
    "win_back": "make lapsed or unhappy customers want to come back (or stay)",
    "upsell": "make customers want a bigger plan, a premium product or a larger basket",
    "welcome": "welcome new customers and get them to their first success with us",
    "loyalty": "thank loyal customers and keep them engaged",
    "announce": "tell customers about something new that matters to them",
}
GOAL_LABELS: dict[str, str] = {
    "win_back": "Win back",
    "upsell": "Upsell",
    "welcome": "Welcome",
    "loyalty": "Loyalty",
    "announce": "Announce",
}
STOCK_CALLS_TO_ACTION: dict[str, dict[str, str]] = {
    "English": {
        "win_back": "Come back and see",
        "upsell": "See what's new",
        "welcome": "Get started",
        "loyalty": "See your reward",
        "announce": "Find out more",
    },
    "Simplified Chinese": {
        "win_back": "回来看看",
        "upsell": "看看新品",
        "welcome": "立即开始",
        "loyalty": "查看专属礼遇",
        "announce": "了解更多",
    },
}
"""A button for each goal, used when the model's call to action is still too long after
the retry: a button cut mid-phrase ("Upgrade to our premium…") cannot be sent, a plain
one can. Each fits the shortest button limit (25 characters)."""
GOAL_STRUCTURES: dict[str, tuple[str, ...]] = {
    "win_back": (
        "acknowledge that they have been away or that something went wrong",
        "give one reason to return, tied to what they care about",
        "the offer",
        "one clear action",
    ),
    "loyalty": (
        "thank them, tied to something true about them",
        "one benefit they get for staying",
        "one clear action",
    ),
    "welcome": (
        "welcome them by what they signed up for",
        "the first useful step",
        "one clear action",
    ),
    "upsell": (
        "what they already do well with us",
        "what the bigger option adds for them",
        "one clear action",
    ),
    "announce": (
        "the news in one line",
        "why it matters to them",
        "one clear action",
    ),
}
"""Each goal's shape: the parts of the copy, in order ("the offer" only when there is one)."""
TONES = ("friendly", "warm", "professional", "playful", "urgent", "reassuring", "premium")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "Simplified Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
}
_CJK_LANGUAGES = tuple(LANGUAGE_NAMES[c] for c in ("zh", "ja", "ko"))


def is_cjk_language(name: str) -> bool:
    """Whether copy in the language ``name`` ("Simplified Chinese") is written in CJK."""
    return name in _CJK_LANGUAGES or any(
        word in name for word in ("Chinese", "Japanese", "Korean", "Cantonese")
    )


AUTO_LANGUAGE = "auto"
"""The brief's default: the segment's main language."""
MAX_VARIANTS = 5


CJK_LONG_FIELD_LIMIT = 500
"""Chinese, Japanese and Korean take about a token a character: long fields are shorter."""


SMS_GSM_LIMIT = 160
SMS_UNICODE_LIMIT = 70
"""An SMS with any character outside the GSM-7 alphabet (Chinese, emoji) holds 70."""


@dataclass(frozen=True)
class FieldSpec:
    """One part of a piece of copy, such as an email's subject line."""

    name: str
    label: str
    max_chars: int | None
    description: str


@dataclass(frozen=True)
class ChannelSpec:
    """What a channel's copy consists of and how long each part may be."""

    name: str
    label: str
    fields: tuple[FieldSpec, ...]
    guidance: str
    max_tokens: int


CHANNELS: dict[str, ChannelSpec] = {
    spec.name: spec
    for spec in (
        ChannelSpec(
            "email",
            "Email",
            (
                FieldSpec("subject", "Subject line", 70, "a subject line under 70 characters"),
                FieldSpec("body", "Body", 1200, "the email body, 2-3 short paragraphs"),
                FieldSpec("call_to_action", "Call to action", 30, "button text, 2-4 words"),
            ),
            "an email with a subject line, a short body and one call to action",
            600,
        ),
        ChannelSpec(
            "sms",
            "SMS",
            (
                FieldSpec(
                    "text",
                    "Message",
                    SMS_GSM_LIMIT,
                    "the whole SMS including the call to action, under 160 characters, no emoji",
                ),
            ),
            "one SMS text message that fits in a single SMS",
            120,
        ),
        ChannelSpec(
            "push",
            "Push notification",
            (
                FieldSpec("title", "Title", 50, "a title under 50 characters"),
                FieldSpec("body", "Body", 120, "one or two short sentences under 120 characters"),
            ),
            "a mobile push notification",
            120,
        ),
        ChannelSpec(
            "ad",
            "Social ad",
            (
                FieldSpec("headline", "Headline", 40, "a headline under 40 characters"),
                FieldSpec(
                    "primary_text", "Primary text", 125, "text above the ad, under 125 characters"
                ),
                FieldSpec("call_to_action", "Call to action", 25, "button text, 2-3 words"),
            ),
            "a social media ad",
            200,
        ),
        ChannelSpec(
            "landing",
            "Landing-page hero",
            (
                FieldSpec("headline", "Headline", 70, "a headline under 70 characters"),
                FieldSpec("subheadline", "Subheadline", 160, "one supporting sentence"),
                FieldSpec("call_to_action", "Call to action", 30, "button text, 2-4 words"),
            ),
            "the hero section at the top of a landing page",
            200,
        ),
    )
}


DEFAULT_SMS_OPT_OUT = "Reply STOP to opt out"
ZH_SMS_OPT_OUT = "回T退订"
"""The opt-out Chinese marketing SMS end with ("reply T to unsubscribe"): Chinese copy gets
it while the brand's opt-out is still the English default."""


@dataclass(frozen=True)
class BrandProfile:
    """Who speaks in the copy, set once per run and kept with it (``brand.json``).

    Every field is the marketer's own text; empty fields are left out of prompts.
    """

    brand_name: str = ""
    sender_name: str = ""
    """Who signs an email or a reply ("Maya from the Acme team")."""
    sign_off: str = ""
    """The closing line of an email or a reply ("Warm regards")."""
    voice_notes: str = ""
    """How the brand sounds ("plain words, no exclamation marks")."""
    banned_words: tuple[str, ...] = ()
    """Words the copy must never use."""
    sms_opt_out: str = DEFAULT_SMS_OPT_OUT
    """Added to an SMS when it fits (empty: never added)."""
    policy_text: str = ""
    """What replies may promise (refund rules, response times); replies promise nothing else."""

    def sms_opt_out_for(self, language: str) -> str:
        """The opt-out line for an SMS in ``language`` (a name such as "English")."""
        opt_out = self.sms_opt_out.strip()
        if opt_out == DEFAULT_SMS_OPT_OUT and language == LANGUAGE_NAMES["zh"]:
            return ZH_SMS_OPT_OUT
        return opt_out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to ``brand.json``."""
        return {**asdict(self), "banned_words": list(self.banned_words)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BrandProfile:
        """Rebuild from ``to_dict`` output; unknown keys are ignored, missing ones default."""
        text = {f: str(data[f]) for f in cls.__dataclass_fields__ if f in data}
        text.pop("banned_words", None)
        banned = tuple(str(w) for w in data.get("banned_words", ()) if str(w).strip())
        return cls(**text, banned_words=banned)


@dataclass(frozen=True)
class CampaignBrief:
    """What the marketer asks for. ``language`` is a code from ``LANGUAGE_NAMES``, a
    language name, or ``"auto"`` for the segment's main language.
    """

    channel: str = "email"
    goal: str = "win_back"
    tone: str = "friendly"
    language: str = AUTO_LANGUAGE
    offer: str = ""
    brand_voice: str = ""
    variants: int = 1
    brand: BrandProfile = field(default_factory=BrandProfile)

    def __post_init__(self) -> None:
        if self.brand_voice and not self.brand.voice_notes:
            # ``brand_voice`` predates the brand profile: it fills the profile's voice notes.
            object.__setattr__(self, "brand", replace(self.brand, voice_notes=self.brand_voice))
        if self.channel not in CHANNELS:
            raise SegmenterError(
                f"Unknown channel {self.channel!r}: choose one of {', '.join(CHANNELS)}."
            )
        if self.goal not in GOALS:
            raise SegmenterError(f"Unknown goal {self.goal!r}: choose one of {', '.join(GOALS)}.")
        if not 1 <= self.variants <= MAX_VARIANTS:
            raise SegmenterError(f"Ask for 1 to {MAX_VARIANTS} variants, not {self.variants}.")

    @property
    def spec(self) -> ChannelSpec:
        """The channel's fields and limits."""
        return CHANNELS[self.channel]


def brief_language(brief: CampaignBrief, profile: SegmentProfile) -> str:
    """The language to write in, in words: the brief's choice, or ``default_language``."""
    code = default_language(profile) if brief.language == AUTO_LANGUAGE else brief.language
    return language_name(code)


def default_language(profile: SegmentProfile) -> str:
    """The language code copy for ``profile`` is written in when the brief says "auto".

    The segment's texts decide when it has any; a table without text is written in the
    language of its column names (Chinese column names give Chinese), else English.
    """
    if profile.language in LANGUAGE_NAMES:
        return profile.language
    names = [t.column for t in profile.numeric]
    names += [t.column for t in profile.categories] + [o.column for o in profile.offers]
    hint = dominant_language_hint(names)
    return hint if hint in ("zh", "ja", "ko") else "en"


def language_name(code: str) -> str:
    """A language's English name from its code, for prompts and the panel; unknown
    codes pass through as names, and no code at all means English."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    if code in ("", "other", AUTO_LANGUAGE):
        return LANGUAGE_NAMES["en"]
    return sanitise(code, 40)


def field_limit(spec: FieldSpec, language: str, channel: str) -> int | None:
    """A field's character limit; an SMS in Chinese, Japanese or Korean holds 70 characters.

    Other languages keep the channel's limit; an SMS is still checked against the
    alphabet it actually uses (``sms_limit``).
    """
    if language not in _CJK_LANGUAGES or spec.max_chars is None:
        return spec.max_chars
    if channel == "sms":
        return SMS_UNICODE_LIMIT
    return min(spec.max_chars, CJK_LONG_FIELD_LIMIT)
