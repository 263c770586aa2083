"""Masks for personal data shown on screens other people can see, printed on slips, or written to logs.

ID numbers show at most 8 characters and never more than half; names, phones and addresses follow the
display conventions people already know from banks and government apps.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

__all__ = ["mask_address", "mask_birth_date", "mask_id_number", "mask_name", "mask_phone", "redact_text"]

MASK_CHAR: Final = "*"
_MAX_ID_EDGE: Final = 4
_ADDRESS_KEEP: Final = 6
_ADDRESS_TAIL: Final = "****"

_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE: Final = re.compile(r"(0[0-9]{2,3})-([0-9]{7,8})")
_LANDLINE_COMPACT: Final = re.compile(r"0[0-9]{9,11}")

# Digit look-arounds instead of \b: Chinese text glues numbers to characters ("身份证号330102..."), and
# \b sees no boundary between a CJK character and a digit. Longer digit runs (bank cards) are not ID numbers.
_SENSITIVE_IN_TEXT: Final = re.compile(
    r"(?P<foreign>[A-Z]{3}[0-9]{12})(?![0-9])"
    r"|(?<![0-9])(?P<id>[0-9]{17}[0-9Xx])(?![0-9])"
    r"|(?<![0-9])(?P<cc>(?:\+?86[- ]?)?)(?P<mobile>1[3-9][0-9]{9})(?![0-9])"
)


def _mask_edges(value: str, edge: int) -> str:
    """Keep `edge` characters at each end, but never more than a quarter of the value at each end."""
    keep = min(edge, len(value) // 4)
    if keep == 0:
        return MASK_CHAR * len(value)
    return value[:keep] + MASK_CHAR * (len(value) - 2 * keep) + value[-keep:]


def mask_id_number(value: str) -> str:
    """'330102199001011234' -> '3301**********1234'; same length, at most 8 and at most half shown."""
    return _mask_edges(value.strip(), _MAX_ID_EDGE)


def mask_name(value: str) -> str:
    """Keep the family name's first character: '张三' -> '张*', '欧阳修文' -> '欧***', '李' -> '*'."""
    name = value.strip()
    if len(name) <= 1:
        return MASK_CHAR * len(name)
    return name[0] + MASK_CHAR * (len(name) - 1)


def mask_phone(value: str) -> str:
    """'13812345678' -> '138****5678'; landlines keep the area code and the last 4 digits."""
    phone = value.strip()
    if _MOBILE.fullmatch(phone) or _LANDLINE_COMPACT.fullmatch(phone):
        return phone[:3] + MASK_CHAR * (len(phone) - 7) + phone[-4:]
    landline = _LANDLINE.fullmatch(phone)
    if landline:
        area, local = landline.groups()
        return f"{area}-{MASK_CHAR * (len(local) - 4)}{local[-4:]}"
    return _mask_edges(phone, 4)


def mask_address(value: str) -> str:
    """Keep the first 6 characters (province/city/county level) then a fixed '****' that hides the length."""
    address = value.strip()
    if not address:
        return ""
    keep = min(_ADDRESS_KEEP, len(address) // 2)
    return address[:keep] + _ADDRESS_TAIL


def mask_birth_date(value: date) -> str:
    """Year only, '1956-**-**': with the full date, a masked ID number narrows to about ten candidates."""
    return f"{value.year:04d}-**-**"


def _redact_match(match: re.Match[str]) -> str:
    if match.group("foreign") is not None:
        return mask_id_number(match.group("foreign"))
    if match.group("id") is not None:
        return mask_id_number(match.group("id"))
    return match.group("cc") + mask_phone(match.group("mobile"))


def redact_text(text: str) -> str:
    """Mask every ID number (18-digit, 17 digits + X, 2017 foreign permanent form) and mobile number in text.

    Meant for log records, so it matches by shape and masks numbers whose check character is wrong too.
    """
    return _SENSITIVE_IN_TEXT.sub(_redact_match, text)
