"""Masking of personal data before any text reaches a language model.

Emails, phone numbers and card-like numbers become ``[email]``, ``[phone]`` and
``[card]``. The patterns lean towards masking too much: an order number that looks
like a phone number is masked as well, which costs the copy nothing.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Boundaries are ASCII-only so that a number written right after Chinese text still matches.
# 13-19 digits, optionally grouped by spaces or dashes: every card number format.
_CARD = re.compile(r"(?<![A-Za-z0-9_.,])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9_]|[.,]\d)")
# A leading + or (, then digits with the usual separators; checked for digit count below.
_PHONE = re.compile(r"(?<![A-Za-z0-9_.,/])(?:\+|\(\+?)?\d[\d ()./-]{5,}\d(?![A-Za-z0-9_/]|[.,]\d)")
_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_DECIMAL = re.compile(r"\d+\.\d{1,2}")
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15


def _phone_or_keep(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(ch.isdigit() for ch in text)
    if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        return text
    if _ISO_DATE.fullmatch(text.strip()) or _DECIMAL.fullmatch(text.strip()):
        return text
    return PHONE_MASK


def mask_pii(text: str) -> str:
    """Replace emails, card-like numbers and phone numbers in ``text`` with placeholders.

    >>> mask_pii("Call +44 20 7946 0958 or mail jo@example.com, card 4111 1111 1111 1111")
    'Call [phone] or mail [email], card [card]'
    """
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _CARD.sub(CARD_MASK, text)
    return _PHONE.sub(_phone_or_keep, text)
