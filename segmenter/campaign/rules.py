"""The one list of what copy may not say, in English and Chinese, shared by the output
grammar, the prompts and the checks.

Keep every word list here: the grammar (``copy_pattern``), the prompt and the post-checks
read the same lists, so a word added here is forbidden everywhere at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from segmenter.script_ranges import CJK_RANGES

OFFER_SLOT = "@OFFER"
"""What the model writes where the brief's offer goes; the app puts the offer's exact text
there. The grammar forbids digits, ``%`` and currency signs, so prices and percentages
can only reach the copy through this slot. ``@`` and capitals are allowed by the grammar,
and the default model copies the token from its examples reliably (docs/drafting.md)."""

_SLOT_RE = re.compile(r"(?i:@\s?o(?:f(?:f(?:er?)?)?)?(?![A-Za-z]))|(?<![A-Za-z])OFFER(?![A-Za-z])")
"""The slot as models actually write it: ``@OFFER``, ``@offer``, ``@ OFFER``, the bare
capitalised word when the ``@`` is dropped, or cut short by the grammar's length cap
(``@OFF``: the default model did that)."""

FORBIDDEN_CHARS = (
    '"\\[]{}<>（）【】0-9０-９%％$€£¥￥₹₩'
    "\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u2079\u2080-\u2089\u2150-\u218b\u2460-\u249b"
)
"""Characters no copy field may hold, as a regex character-class body: placeholder
brackets (full-width ones too: the default model wrote "订单号：（数字）", order number:
(digits)), digits (ASCII and full-width, and the fractions, superscripts and circled
numbers a model reaches for when digits are banned: it wrote "⅔") and money or percent
signs. The double quote and
backslash are left out too, so the JSON the model writes never needs an escape."""


def _category_ranges(categories: frozenset[str], start: int = 0x80, end: int = 0x20000) -> str:
    """Every character from ``start`` to ``end`` in one of the Unicode ``categories``, as
    the ranges of a regex character class."""
    parts: list[str] = []
    first = last = -2
    for code in range(start, end):
        if unicodedata.category(chr(code)) not in categories:
            continue
        if code != last + 1:
            if first >= 0:
                parts.append(chr(first) if first == last else f"{chr(first)}-{chr(last)}")
            first = code
        last = code
    if first >= 0:
        parts.append(chr(first) if first == last else f"{chr(first)}-{chr(last)}")
    return "".join(parts)


NUMBERS_AND_MONEY = _category_ranges(frozenset({"Nd", "Nl", "No", "Sc"}))
"""Every digit, numeral and currency sign beyond ASCII (Unicode categories Nd, Nl, No and
Sc): with ASCII and full-width digits banned, the default model wrote an amount in Bengali
digits with the taka sign. Chinese numerals (一, 二, 三) are letters and stay allowed."""
FORBIDDEN_CHARS += NUMBERS_AND_MONEY


REPLY_FORBIDDEN_CHARS = '"\\[]{}<>【】#'
"""A reply may quote numbers its policy states ("refunds within 14 days"), so only
placeholder brackets and hashtags are banned by its grammar; the checks judge the rest."""

SLOT_FIELDS = ("text", "body", "primary_text", "subheadline", "reply", "title", "headline")
"""The field that holds the offer slot, in order of preference: the channel's main text.
Other fields' grammar forbids ``@``, so the offer is never cut to fit a button or subject."""

HASHTAG = "#"
"""Allowed only in the social-ad channel."""

HASHTAG_CHANNELS = frozenset({"ad"})

PROMISE_WORDS: tuple[str, ...] = (
    "free",
    "refund",
    "refunds",
    "returns",
    "shipping",
    "guarantee",
    "guaranteed",
    "warranty",
    "gift",
    "gifts",
    "discount",
    "discounts",
    "percent",
    "coupon",
    "voucher",
    "cashback",
    "rebate",
    "bonus",
    "complimentary",
    "no charge",
    "money back",
    "half price",
    # Price claims the brief never made: the walk's email to a telecom segment said "Our
    # monthly charges are also lower than ever before".
    "lower than ever",
    "lowest price",
    "lowest prices",
    "cheaper than",
    "price drop",
    "免费",
    "包邮",
    "免运费",
    "退款",
    "退货",
    "赠品",
    "礼品",
    "赠送",
    "折扣",
    "打折",
    "优惠券",
    "返现",
    "保证",
    "保修",
    "半价",
)
"""Words that promise something of value. They may appear only where the brief's offer
says them (the offer's own words are allowed anywhere in the copy). Not "return" or
"delivery": a win-back asks customers to return, and copy for customers who wrote about
late deliveries may say so; "free delivery" is caught by "free"."""

DATA_TALK_WORDS: tuple[str, ...] = ("average", "averages", "平均", "campaign", "campaigns")
"""Single words of ``DATA_TALK_PATTERNS`` that the model can be kept from writing at all:
the segment's facts are stated against the average, and the model echoed the word."""


def words_to_avoid(offer: str, banned_words: Sequence[str] = ()) -> list[str]:
    """Words a backend should make impossible to write in copy for ``offer``: the promise
    words the offer does not say, data talk, and the brand's banned words.

    The offer's own words stay allowed: the model writes the slot, but may name the offer
    around it ("your free delivery").
    """
    said = {w.lower() for w in PROMISE_RE.findall(offer)}
    single = [w for w in PROMISE_WORDS if " " not in w and w.lower() not in said]
    return [*single, *DATA_TALK_WORDS, *(w.strip() for w in banned_words if w.strip())]


TIMELINE_PATTERNS: tuple[str, ...] = (
    r"\b(?:business|working) days?\b",
    r"\bwithin (?:the next )?(?:\w+ )?(?:minutes?|hours?|days?|weeks?)\b",
    r"\b(?:a|one|two|three|few|couple of) (?:business |working )?(?:hours?|days?|weeks?)\b",
    r"\b\d+\s?(?:hours?|days?|weeks?)\b",
    r"\b(?:by|before) (?:tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|"
    r"the end of the (?:day|week))\b",
    r"\bsame[- ]day\b",
    r"工作日",
    r"[一二三四五六七八九十两几\d]+\s?(?:个)?(?:小时|天|日|周|星期|个工作日)(?:内|之内)?",
    r"(?:今天|明天|24小时)(?:内|之内)",
)
"""Timelines a reply must not promise unless the brand's policy text states them."""

OUTCOME_PATTERNS: tuple[str, ...] = (
    r"\bwe (?:will|'ll) (?:refund|replace|reimburse|compensate|remove|delete|suppress|fix)\b",
    r"\byou (?:will|'ll) (?:receive|get) (?:a |your )?(?:refund|replacement|compensation)\b",
    r"我们(?:将|会)(?:退款|赔偿|更换|删除)",
)
"""Outcomes a reply must not promise unless the brand's policy text states them."""

CUSTOMER_VOICE_PATTERNS: tuple[str, ...] = (
    r"\bmy (?:(?:credit )?reports?|credit file|account|order|card|bank|refund|money|"
    r"package|parcel|bill|payment|loan|mortgage|debt|complaint|personal information)\b",
    r"\bI (?:am writing to|would like to (?:dispute|complain|request)|request that|"
    r"demand|want my)\b",
    r"\bplease (?:suppress|remove|delete) (?:the )?(?:specified )?items? from my\b",
    r"我的(?:订单|账户|账号|信用报告|银行卡|包裹|退款)",
    r"我(?:要求|投诉|申请退款)",
)
"""Signs that a reply speaks as the customer rather than to them."""

MASKED_RUN_PATTERN = r"(?<![A-Za-z])(?:X{3,}|\*{3,}|_{3,})(?![A-Za-z])"
"""A run of X, * or _ where a number or name was meant ("your payment date of XXXXX"): with
digits and brackets banned, the default model masked what it could not write."""

ESCALATIONS: dict[str, tuple[str, ...]] = {
    "legal": (
        r"\b(?:lawyer|attorney|solicitor|lawsuit|sue|suing|legal action|court|"
        r"small claims|regulator|ombudsman|CFPB|FTC|trading standards)\b",
        r"律师|起诉|法院|诉讼|仲裁|消协|12315|监管部门|投诉到",
    ),
    "fraud": (
        r"\b(?:fraud|fraudulent|scam|scammed|unauthori[sz]ed (?:charge|transaction|payment)|"
        r"stolen card|chargeback|phishing)\b",
        r"诈骗|欺诈|盗刷|骗子|被骗|未经授权",
    ),
    "identity theft": (
        r"\b(?:identity theft|stolen identity|identity was stolen|someone opened|"
        r"not my account|impersonat\w*)\b",
        r"身份盗用|冒用|盗用身份|冒名",
    ),
    "safety": (
        r"\b(?:injur\w*|hurt|burn(?:ed|t)?|fire|smoke|explod\w*|electric shock|choking|"
        r"allergic reaction|hospital|poison\w*|unsafe|dangerous)\b",
        r"受伤|烫伤|起火|着火|爆炸|触电|过敏|住院|医院|中毒|危险",
    ),
}
"""Complaints a person must handle: the reply is drafted but flagged for a human."""


DATA_TALK_PATTERNS: tuple[str, ...] = (
    r"\baverage\b",
    r"\b(?:segments?|data shows?|our records show|compared (?:with|to) (?:other|all) customers)\b",
    r"平均|细分|数据显示",
    # What earlier campaigns showed is for the writer (``PAST_RESULTS_PROMPT``): with it in
    # the prompt the default model wrote "We've been tracking your behavior … Here's what
    # we found about your previous campaigns".
    r"\b(?:campaigns?|response rates?|conversion rates?|(?:we(?:'ve| have) been )?tracking "
    r"your (?:behaviou?r|activity|purchases)|convert(?:ing|ed) customers"
    r"|(?:previous|past|earlier) (?:offers?|mailings?|emails?)|response to your)\b",
    r"活动数据|转化率|响应率",
    # A trait of the segment said to the customer's face: the same email said "as a senior
    # citizen, we understand" to customers whose card showed more senior citizens.
    r"\bas an? (?:senior(?: citizen)?|older|younger|pensioner|retiree)\b",
)
"""Copy that tells customers what the data says about them ("your spend is below average",
"your previous campaigns") instead of speaking to them."""


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


PROMISE_RE = _compile(
    tuple(
        rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)
        for w in sorted(PROMISE_WORDS, key=len, reverse=True)
    )
)
TIMELINE_RE = _compile(TIMELINE_PATTERNS)
OUTCOME_RE = _compile(OUTCOME_PATTERNS)
CUSTOMER_VOICE_RE = _compile(CUSTOMER_VOICE_PATTERNS)
DATA_TALK_RE = _compile(DATA_TALK_PATTERNS)
_ESCALATION_RES = {reason: _compile(patterns) for reason, patterns in ESCALATIONS.items()}
DIGIT_OR_MONEY_RE = re.compile(r"[0-9０-９%％$€£¥￥₹₩]")


def slot_field(names: Sequence[str]) -> str:
    """Which of a channel's fields holds the offer slot (``SLOT_FIELDS``)."""
    return next((n for n in SLOT_FIELDS if n in names), names[0])


def copy_pattern(
    channel: str, max_chars: int | None = None, *, slot: bool = True, no_cjk: bool = False
) -> str:
    """The JSON-schema ``pattern`` for one copy field of ``channel``: none of
    ``FORBIDDEN_CHARS``, no ``#`` outside the social-ad channel, and with ``no_cjk`` (copy
    in a language not written in CJK) no Chinese, Japanese or Korean character.

    >>> copy_pattern("sms", 160).endswith("#]{1,160}$")
    True
    """
    banned = _class_body(channel) + ("" if slot else "@") + (CJK_RANGES if no_cjk else "")
    count = f"{{1,{max_chars}}}" if max_chars else "+"
    return f"^[^{banned}]{count}$"


def _class_body(channel: str) -> str:
    chars = REPLY_FORBIDDEN_CHARS if channel == "reply" else FORBIDDEN_CHARS
    body = chars.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return body if channel in HASHTAG_CHANNELS or HASHTAG in body else body + HASHTAG


def forbidden_chars(text: str, channel: str) -> list[str]:
    """The characters of ``text`` that ``copy_pattern`` forbids, in order, once each; a
    quote mark or backslash is left alone (banned only so the JSON needs no escapes)."""
    found = [c for c in re.findall(f"[{_class_body(channel)}]", text) if c not in '"\\']
    return list(dict.fromkeys(found))


def fill_offer(text: str, offer: str) -> str:
    """``text`` with every offer slot replaced by the offer's exact text.

    >>> fill_offer("Come back for @OFFER.", "20% off your next order")
    'Come back for 20% off your next order.'
    """
    if not offer:
        return text
    dropped = False

    def placed(match: re.Match[str]) -> str:
        nonlocal dropped
        before = text[: match.start()].rstrip(" ")
        after = text[match.end() :].lstrip(" ")
        # The model wrote the offer's words and the slot beside them: the walk's email read
        # "to give you a free bottle with your next case a free bottle with your next case".
        if before.lower().endswith(offer.lower()) or after.lower().startswith(offer.lower()):
            dropped = True
            return ""
        starts = not before or before.endswith((".", "!", "?", "\n"))
        return sentence_start(offer) if starts else offer

    filled = _SLOT_RE.sub(placed, text)
    # The offer twice in a row, however it came about, is once.
    twice = re.compile(rf"({re.escape(offer)})(?:[ ,]+{re.escape(offer)})+", re.IGNORECASE)
    filled = twice.sub(lambda m: m.group(1), filled)
    if dropped:
        # The dropped slot leaves its spaces: "case ." -> "case.", "case  and" -> "case and".
        filled = re.sub(r" +(?=[.,!?])", "", filled)
        filled = re.sub(r"(?<=\S) {2,}(?=\S)", " ", filled)
    return filled


def sentence_start(text: str) -> str:
    """``text`` with its first letter capitalised, as a sentence opens ("a free review"
    -> "A free review"); text that opens with anything else is left as it is."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def has_slot(text: str) -> bool:
    """Whether ``text`` still holds an offer slot."""
    return bool(_SLOT_RE.search(text))


def escalation_reasons(message: str) -> list[str]:
    """Why a customer's message needs a person (legal, fraud, identity theft, safety)."""
    return [reason for reason, pattern in _ESCALATION_RES.items() if pattern.search(message)]
