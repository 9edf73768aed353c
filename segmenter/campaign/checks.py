"""Checks on a model's copy: lengths, the SMS alphabet, placeholders, claims the offer does
not back, HTML, and cutting copy to fit its limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from segmenter.campaign.brief import (
    SMS_GSM_LIMIT,
    SMS_UNICODE_LIMIT,
    FieldSpec,
    is_cjk_language,
)
from segmenter.campaign.rules import (
    CUSTOMER_VOICE_RE,
    DATA_TALK_RE,
    HASHTAG_CHANNELS,
    MASKED_RUN_PATTERN,
    OFFER_SLOT,
    PROMISE_RE,
    forbidden_chars,
    has_slot,
)
from segmenter.script_ranges import CJK

LENGTH_PROBLEM = " characters; the limit is "
CUT_OFF = "the reply stopped before its end: write less"


_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


_GSM_LOOKALIKES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
     "…": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " "}
)  # fmt: skip


def sms_text(text: str) -> str:
    """Typographic quotes, dashes and ellipses swapped for GSM-7 ones, as SMS gateways do,
    and emoji dropped when that is all that keeps the text out of GSM-7, so that one
    smiley does not cut an English SMS to 70 characters (the brief asks for none).
    """
    text = text.translate(_GSM_LOOKALIKES)
    if all(ch in _GSM7 for ch in text):
        return text
    without = "".join(ch for ch in text if not _is_emoji_part(ch))
    without = re.sub(r" {2,}", " ", without).strip()
    return without if all(ch in _GSM7 for ch in without) else text


def _is_emoji_part(ch: str) -> bool:
    return (
        unicodedata.category(ch) == "So"
        or ch in "\u200d\ufe0f\ufe0e"
        or ("\U0001f3fb" <= ch <= "\U0001f3ff")
    )


def sms_limit(text: str) -> int:
    """160 characters when ``text`` fits the GSM-7 alphabet, else 70 (UCS-2)."""
    return SMS_GSM_LIMIT if all(ch in _GSM7 for ch in text) else SMS_UNICODE_LIMIT


def check_fields(
    value: Mapping[str, Any] | None,
    fields: Sequence[FieldSpec],
    limits: Mapping[str, int | None],
    *,
    channel: str = "",
) -> list[str]:
    """What is wrong with a parsed answer; empty when it is usable as is."""
    if value is None:
        return ["the reply is not a JSON object"]
    problems = []
    for spec in fields:
        text = value.get(spec.name)
        if not isinstance(text, str) or not text.strip():
            problems.append(f'"{spec.name}" is missing or empty')
            continue
        limit = limits.get(spec.name)
        if channel == "sms":
            limit = min(limit or SMS_GSM_LIMIT, sms_limit(text))
        if limit is not None and len(text) > limit:
            problems.append(f'"{spec.name}" is {len(text)}{LENGTH_PROBLEM}{limit}')
    return problems


_PLACEHOLDER = re.compile(r"\[[A-Za-z _]{2,30}\]|<[A-Za-z_ ]{2,30}>|\{\{?[A-Za-z_ ]{2,30}\}?\}")
_CLAIM = re.compile(
    r"\d+(?:[.,]\d+)?\s?%|[$€£¥]\s?\d+(?:[.,]\d+)?|\d+(?:[.,]\d+)?\s?(?:USD|EUR|GBP|元)"
    r"|\d+\s?(?:months?|weeks?|days?|years?|个月|天|周|年)(?![A-Za-z])",
    re.IGNORECASE,
)


def grounding_problems(fields: Mapping[str, str], offer: str) -> list[str]:
    """Placeholders left in the copy, and prices or percentages the offer does not contain.

    >>> grounding_problems({"body": "Save 20% today, [Name]!"}, offer="free shipping")
    ['"body" has a placeholder [Name]', '"body" promises 20%, which is not in the offer']
    """
    allowed = {re.sub(r"\s", "", m) for m in _CLAIM.findall(offer)}
    problems = []
    for name, text in fields.items():
        placeholder = _PLACEHOLDER.search(text)
        if placeholder:
            problems.append(f'"{name}" has a placeholder {placeholder.group()}')
        for claim in _CLAIM.findall(text):
            if re.sub(r"\s", "", claim) not in allowed:
                problems.append(f'"{name}" promises {claim}, which is not in the offer')
    return problems


_BREAK_TAG = re.compile(r"</p>\s*<p[^>]*>|<br\s*/?>|</?p[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]{0,80}>")


def plain_text(text: str) -> str:
    """Copy as plain text: models sometimes wrap an email body in HTML paragraphs.

    >>> plain_text("<p>Hello.</p><p>Come back <b>soon</b>.</p>")
    'Hello.\\n\\nCome back soon.'
    """
    text = _BREAK_TAG.sub("\n\n", text)
    text = _ANY_TAG.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_CJK_CHAR = re.compile(CJK)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping whole sentences where it can.

    Keeps the opening sentences and, when it fits, the last one, which usually carries
    the call to action; cuts at a word when whole sentences would keep less than half.

    >>> shorten("Come back today. We miss you and your dog very much. Tap to return.", 40)
    'Come back today. Tap to return.'
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]
    # Chinese sentences join with nothing, others with a space: judged by most letters, as
    # a model's English SMS sometimes ends in a stray Chinese word.
    joiner = "" if 2 * len(_CJK_CHAR.findall(text)) > len(re.findall(r"\w", text)) else " "
    with_last, prefix = "", ""
    for keep in range(len(sentences) - 1, 0, -1):
        candidate = joiner.join([*sentences[:keep], sentences[-1]])
        if len(with_last) < len(candidate) <= limit:
            with_last = candidate
        candidate = joiner.join(sentences[:keep])
        if len(prefix) < len(candidate) <= limit:
            prefix = candidate
    for best in (with_last, prefix):
        if len(best) >= limit // 2:
            return best
    head = text[: limit - 1]
    space = head.rfind(" ")
    cut = head[:space] if space >= limit // 2 else head
    return cut.rstrip(" ,;:-") + "…"


def shorten_keeping(text: str, limit: int, keep: str = "") -> str:
    """``shorten``, but the sentence holding ``keep`` (the offer) survives the cut: the rest
    is shortened around it. Without ``keep`` in ``text`` this is ``shorten``."""
    if not keep or keep not in text or len(text) <= limit:
        return shorten(text, limit)
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text.strip()) if s.strip()]
    pinned = next((s for s in sentences if mentions(s, keep)), keep)
    if len(pinned) > limit:
        return shorten(text, limit)
    joiner = "" if _CJK_CHAR.search(text) else " "
    room = limit - len(pinned) - len(joiner)
    if room < MIN_KEPT_CHARS:
        return pinned
    # Whole sentences only beside the offer: a word cut ("you've been a…") mid-copy reads
    # worse than the offer's sentence alone.
    kept: list[str] = []
    for sentence in (x for x in sentences if x != pinned):
        if len(joiner.join([*kept, sentence])) > room:
            break
        kept.append(sentence)
    if not kept:
        return pinned
    before = text.index(pinned) > 0
    return joiner.join([*kept, pinned] if before else [pinned, *kept])


MIN_KEPT_CHARS = 12
"""Less room than this beside the offer's sentence, and the offer's sentence stands alone."""


def fit_to_limits(
    fields: Mapping[str, str],
    limits: Mapping[str, int | None],
    *,
    channel: str = "",
    keep: str = "",
) -> tuple[dict[str, str], list[str]]:
    """Fields shortened to their limits, and a note for each one that was cut; the sentence
    holding ``keep`` (the offer) is never cut away."""
    out = dict(fields)
    notes = []
    for name, text in fields.items():
        limit = limits.get(name)
        if channel == "sms":
            limit = min(limit or SMS_GSM_LIMIT, sms_limit(text))
        if limit is not None and len(text) > limit:
            out[name] = shorten_keeping(text, limit, keep)
            if channel == "sms" and len(out[name]) > sms_limit(out[name]):
                out[name] = shorten(out[name], sms_limit(out[name]))
            notes.append(f'"{name}" was {len(text)} characters and was cut to fit {limit}')
    return out, notes


# --- the rules of ``rules.py``, checked after the fact ---------------------------------------
# The grammar already makes most of these impossible; these checks are the second line for
# servers that ignore grammars, and the only line for words (which a grammar cannot ban).

_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")
MIN_SCRIPT_SHARE = 0.5
"""Share of letters that must be in the requested language's script."""


def _outside(text: str, allowed: Sequence[str]) -> str:
    """``text`` with the allowed phrases (the offer, the brand's name) cut out, in any case
    (an offer that opens a sentence is capitalised)."""
    for phrase in sorted((a for a in allowed if a.strip()), key=len, reverse=True):
        text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
    return text


def same_script(line: str, copy: str) -> bool:
    """Whether ``line`` (a sign-off, an opt-out) reads in the script of ``copy``: CJK copy
    wants CJK words, other copy none. A line without letters fits any copy."""
    cjk = bool(_CJK_CHAR.search(line))
    if not cjk and not _LATIN_LETTER.search(line):
        return True
    copy_cjk = len(_CJK_CHAR.findall(copy))
    return cjk == (
        copy_cjk > (1 - MIN_SCRIPT_SHARE) * (copy_cjk + len(_LATIN_LETTER.findall(copy)))
    )


_TRAILING_HASHTAGS = re.compile(r"(?:\s*[#＃]\w+)+\s*$")
MID_SENTENCE = "ends mid-sentence"
"""The words of the problem for copy cut short; ``bench/copy_eval.py`` keeps a draft that
had it from the final pass even when the app's opt-out line, added after, hides the cut."""
SENTENCE_FIELDS = ("text", "body", "primary_text", "subheadline", "reply")
"""Fields written in whole sentences: one that ends on a word or a comma was cut short
("…disputed, times, or"), by the grammar's length cap or a cut to fit. Buttons, subjects
and headlines may end without a full stop, but not with the "…" of a cut."""


def _without_brand_lines(text: str, allowed: Sequence[str]) -> str:
    """``text`` without the lines the app adds at its end (signature, opt-out)."""
    core = text.rstrip()
    phrases = sorted({p.strip() for p in allowed if p.strip()}, key=len, reverse=True)
    changed = True
    while changed and core:
        changed = False
        for phrase in phrases:
            for tail in (phrase, f"{phrase},", f"{phrase}，"):
                if core.endswith(tail):
                    core = core[: -len(tail)].rstrip()
                    changed = True
    return core


def mentions(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase`` in any case (the offer, capitalised or not)."""
    return phrase.casefold() in text.casefold()


_MASKED_RUN = re.compile(MASKED_RUN_PATTERN)
_GAP = re.compile(r"\S {2,}\S|\S[ \t]+[，、。,;!?！？]")
"""A blank where the model meant a number it may not write: two spaces, or a space before a
comma."""
_CJK_GAP = re.compile(f"{CJK} +{CJK}")
"""The same blank in Chinese: a space between two Chinese characters, which Chinese never
puts there ("申请 退回，订单 未按时完成": apply for a [number] return, order [number] not
on time). Judged with the offer and the brand's words taken out, as they may stand
between spaces."""


def _gap(text: str, allowed: Sequence[str]) -> str:
    """The first blank left where a number was meant, or ``""``."""
    found = _GAP.search(text)
    if found:
        return found.group().strip()
    for phrase in sorted((a for a in allowed if a.strip()), key=len, reverse=True):
        text = re.sub(rf"\s*{re.escape(phrase)}\s*", "|", text, flags=re.IGNORECASE)
    found = _CJK_GAP.search(text)
    return found.group() if found else ""


"""Two spaces between words, or a space before a comma or stop: what is left where the model
meant a number the grammar does not allow ("包括订单  、订单  和订单 ，", orders _, _ and _)."""


def copy_problems(
    fields: Mapping[str, str],
    *,
    channel: str,
    offer: str = "",
    language: str = "",
    banned_words: Sequence[str] = (),
    raw_names: Sequence[str] = (),
    allowed: Sequence[str] = (),
) -> list[str]:
    """Everything in filled copy that breaks the rules: forbidden characters, hashtags
    outside ads, numbers or promise words not in the offer, a slot left unfilled, banned
    words, raw column names, and a script that does not match ``language``.

    >>> copy_problems({"text": "Free returns! #Sale"}, channel="sms", offer="")[:2]
    ['"text" has "#", which copy for this channel may not hold', ...]
    """
    problems = []
    offer_words = {w.lower() for w in PROMISE_RE.findall(offer)}
    for name, text in fields.items():
        rest = _outside(text, [offer, *allowed])
        chars = forbidden_chars(rest, channel)
        if chars:
            shown = " ".join(chars)
            problems.append(f'"{name}" has "{shown}", which copy for this channel may not hold')
        if has_slot(text) or "@" in rest:
            problems.append(
                f'"{name}" still holds {OFFER_SLOT}'
                + ("" if offer else ": the brief has no offer, so write none")
            )
        promises = [w for w in PROMISE_RE.findall(rest) if w.lower() not in offer_words]
        if promises:
            listed = ", ".join(dict.fromkeys(p.lower() for p in promises))
            problems.append(f'"{name}" promises {listed}, which the offer does not')
        for word in banned_words:
            if word.strip() and re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", text, re.I):
                problems.append(f'"{name}" uses the banned word "{word.strip()}"')
        for column in raw_names:
            if re.search(rf"(?<![\w]){re.escape(column)}(?![\w])", text):
                problems.append(f'"{name}" names the raw column {column}: say it in plain words')
        core = _without_brand_lines(text, allowed)
        if channel in HASHTAG_CHANNELS:
            # An ad may close on its hashtags ("…arrives late. #DeliveryDelay"): judge the
            # sentence before them.
            core = _TRAILING_HASHTAGS.sub("", core)
        # Copy may end on the offer itself ("Thanks for staying. Free delivery this month").
        on_offer = bool(offer) and core.lower().endswith(offer.lower())
        if core.endswith("…") or (
            name in SENTENCE_FIELDS
            and core
            and not on_offer
            and (core[-1].isalnum() or core[-1] in ",;:-、，")
        ):
            problems.append(
                f'"{name}" {MID_SENTENCE} ("…{core[-25:]}"): end it with a whole sentence'
            )
        masked = _MASKED_RUN.search(rest)
        if masked:
            problems.append(
                f'"{name}" has "{masked.group()}" where something was meant: write whole '
                "sentences, with nothing to fill in"
            )
        voice = CUSTOMER_VOICE_RE.search(rest)
        if voice:
            problems.append(
                f'"{name}" speaks as the customer ("{voice.group()}"): write as the brand, '
                "to the customer"
            )
        gap = _gap(text, [offer, *allowed])
        if gap:
            problems.append(
                f'"{name}" has a gap where something was left out ("{gap}"): '
                "write whole sentences, with no numbers to fill in"
            )
        talk = DATA_TALK_RE.search(rest)
        if talk:
            problems.append(
                f'"{name}" talks about our data ("{talk.group()}"): speak to the customer about '
                "what they care about, not about averages or segments"
            )
    if offer and not any(mentions(text, offer) for text in fields.values()):
        problems.append(f"the copy does not mention the offer: write {OFFER_SLOT} where it goes")
    problems += language_problems(fields, language, allowed=[offer, *allowed])
    return problems


QUOTE_RUN_LATIN = 30
QUOTE_RUN_CJK = 10
"""Copy that repeats this many characters of a customer's quote speaks in the customer's
words, not the brand's: the default model put "价格实惠，做工太差了，申请退回" (good price,
poor work, I asked to return it) in a subject line. CJK characters carry more per
character than Latin letters."""


def _quoted_run(text: str, quotes: Sequence[str]) -> str:
    """The longest run of a customer's quote that ``text`` repeats, when it is long enough
    to speak in the customer's words (``QUOTE_RUN_*``), else ``""``."""
    for quote in quotes:
        match = SequenceMatcher(None, text, quote, autojunk=False).find_longest_match()
        run = text[match.a : match.a + match.size].strip()
        cjk = len(_CJK_CHAR.findall(run))
        if cjk >= QUOTE_RUN_CJK or (not cjk and len(run) >= QUOTE_RUN_LATIN):
            return run
    return ""


def quoted_problems(fields: Mapping[str, str], quotes: Sequence[str]) -> list[str]:
    """A problem per field that repeats a run of a customer's quote (``QUOTE_RUN_*``)."""
    problems = []
    for name, text in fields.items():
        run = _quoted_run(text, quotes)
        if run:
            problems.append(
                f'"{name}" repeats a customer\'s words ("{run}"): write as the brand, '
                "to the customer"
            )
    return problems


def language_problems(
    fields: Mapping[str, str], language: str, *, allowed: Sequence[str] = ()
) -> list[str]:
    """A problem when the copy's script does not match ``language`` (a name such as
    "English" or "Simplified Chinese"): CJK languages need mostly CJK letters, the others
    mostly other letters. Unknown languages are not judged."""
    text = _outside(" ".join(fields.values()), allowed)
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if cjk + latin == 0:
        return []
    if is_cjk_language(language) and cjk < MIN_SCRIPT_SHARE * (cjk + latin):
        return [f"the copy is not in {language}: write it in {language}"]
    if language and not is_cjk_language(language) and cjk:
        # Copy in a language not written in CJK holds no CJK at all: a Chinese word slipped
        # into English copy ("We'll do our best to纠正") is not a brand name.
        return [f"the copy is not all in {language}: write it in {language} only"]
    return []


def drop_promises(
    fields: Mapping[str, str],
    offer: str,
    allowed: Sequence[str] = (),
    quotes: Sequence[str] = (),
) -> tuple[dict[str, str], list[str]]:
    """Copy with each sentence removed that promises what the offer does not, talks about
    our data ("below average"), has a gap where a number was meant ("only  cheaper"), or
    repeats a customer's ``quotes``, and a note per removal: the last line, after a retry
    failed, so such copy is never handed on.
    A field that would be left empty is kept as it is (and still fails its check)."""
    offer_words = {w.lower() for w in PROMISE_RE.findall(offer)}

    def flaws(sentence: str) -> list[str]:
        rest = _outside(sentence, [offer, *allowed])
        talk = [m.group() for m in DATA_TALK_RE.finditer(rest)]
        gap = ["a gap"] if _gap(sentence.strip(), [offer, *allowed]) else []
        quoted = ["a customer's words"] if _quoted_run(sentence, quotes) else []
        masked = ["a masked blank"] if _MASKED_RUN.search(rest) else []
        voice = [m.group() for m in CUSTOMER_VOICE_RE.finditer(rest)]
        promised = [w for w in PROMISE_RE.findall(rest) if w.lower() not in offer_words]
        return promised + talk + gap + quoted + masked + voice

    out, notes = dict(fields), []
    for name, text in fields.items():
        joiner = "" if _CJK_CHAR.search(text) else " "
        paragraphs: list[str] = []
        removed: list[str] = []
        for paragraph in text.split("\n\n"):
            kept: list[str] = []
            for sentence in (s for s in _SENTENCE_SPLIT.split(paragraph) if s.strip()):
                bad = flaws(sentence)
                (removed if bad else kept).append(bad[0].lower() if bad else sentence.strip())
            if kept:
                paragraphs.append(joiner.join(kept))
        if removed and paragraphs:
            out[name] = "\n\n".join(paragraphs)
            listed = ", ".join(dict.fromkeys(removed))
            notes.append(f'removed from "{name}" what the brief does not back: {listed}')
    return out, notes
