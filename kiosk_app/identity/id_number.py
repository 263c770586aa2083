"""Citizen identity numbers (GB 11643-1999) and the 18-digit numbers built on the same scheme.

Layout: 6-digit address code, 8-digit birth date, 3-digit sequence (odd = male), 1 check character.
The same scheme is used by HK/Macao/Taiwan residence permits (81/82/83) and by the 2023 foreign
permanent resident ID card, whose first digit is 9.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal

from kiosk_app.errors import InvalidInput

__all__ = [
    "EARLIEST_BIRTH_YEAR",
    "FOREIGN_PERMANENT_PREFIX",
    "ID_NUMBER_LENGTH",
    "PROVINCE_CODES",
    "RESIDENCE_PERMIT_PREFIXES",
    "birth_date_of",
    "check_character",
    "is_valid_id_number",
    "make_id_number",
    "normalize_id_number",
    "sex_of",
    "validate_id_number",
]

ID_NUMBER_LENGTH: Final = 18
EARLIEST_BIRTH_YEAR: Final = 1890

_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
_FIELD: Final = "id_number"

# GB/T 2260 province-level codes. 71 (Taiwan) is listed by the standard although no card carries it;
# 81/82 (HK, Macao) are in GB/T 2260 and 83 is the code used for Taiwan residents' residence permits.
PROVINCE_CODES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip
RESIDENCE_PERMIT_PREFIXES: Final = frozenset({"81", "82", "83"})
FOREIGN_PERMANENT_PREFIX: Final = "9"

# Kiosk on-screen keyboards and Chinese IMEs produce full-width digits; people read them as the same number.
_FULL_WIDTH: Final = {0xFF10 + i: str(i) for i in range(10)} | {0xFF38: "X", 0xFF58: "X", ord("x"): "X"}
# Only ASCII digits: str.isdigit() would let Arabic-Indic and other script digits through to int().
_ALLOWED_CHARS: Final = re.compile(r"[0-9X]*")
_BODY: Final = re.compile(r"[0-9]{17}[0-9X]")


def normalize_id_number(value: str) -> str:
    """Drop all whitespace, map full-width digits to ASCII and upper-case the x; nothing is validated."""
    return "".join(value.split()).translate(_FULL_WIDTH)


def check_character(first17: str) -> str:
    """Return the GB 11643 check character ('0'-'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _parse_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Return the normalised 18-character number, or raise `InvalidInput` saying which rule it breaks.

    `today` bounds the birth date; tests pass it to stay independent of the clock.
    """
    if not isinstance(value, str):
        raise InvalidInput("请输入身份证号码。", field=_FIELD)
    number = normalize_id_number(value)
    if not number:
        raise InvalidInput("请输入身份证号码。", field=_FIELD)
    if _ALLOWED_CHARS.fullmatch(number) is None:
        raise InvalidInput("身份证号码只能由数字组成，最后一位可以是字母X，请核对。", field=_FIELD)
    if len(number) == 15 and "X" not in number:
        raise InvalidInput(
            "这是15位的旧身份证号码，已停止使用。请输入18位身份证号码；"
            "如果证件上仍是15位号码，请先到派出所换领新的身份证。",
            field=_FIELD,
        )
    if len(number) != ID_NUMBER_LENGTH:
        raise InvalidInput(f"身份证号码应为18位，现在是{len(number)}位，请核对。", field=_FIELD)
    if _BODY.fullmatch(number) is None:
        raise InvalidInput("身份证号码前17位只能是数字，字母X只能出现在最后一位，请核对。", field=_FIELD)

    prefix = number[:2]
    if not number.startswith(FOREIGN_PERMANENT_PREFIX) and prefix not in PROVINCE_CODES:
        raise InvalidInput(f"身份证号码前两位“{prefix}”不是有效的省份代码，请核对。", field=_FIELD)

    birth = _parse_birth_date(number)
    if birth is None:
        raise InvalidInput("身份证号码第7到14位的出生日期不是真实存在的日期，请核对。", field=_FIELD)
    if birth > (today or date.today()):
        raise InvalidInput("身份证号码中的出生日期晚于今天，请核对。", field=_FIELD)
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise InvalidInput(f"身份证号码中的出生日期早于{EARLIEST_BIRTH_YEAR}年，请核对。", field=_FIELD)

    if number[17] != check_character(number[:17]):
        raise InvalidInput("身份证号码最后一位校验码不对，可能有数字输错了，请逐位核对。", field=_FIELD)
    return number


def is_valid_id_number(value: object, *, today: date | None = None) -> bool:
    """True when `value` is a string that `validate_id_number` accepts."""
    if not isinstance(value, str):
        return False
    try:
        validate_id_number(value, today=today)
    except InvalidInput:
        return False
    return True


def birth_date_of(number: str) -> date:
    """Birth date encoded in a valid number; raises `InvalidInput` if the number is not valid."""
    valid = validate_id_number(number)
    birth = _parse_birth_date(valid)
    assert birth is not None  # validate_id_number has already refused impossible dates
    return birth


def sex_of(number: str) -> Literal["男", "女"]:
    """Sex encoded by the parity of the 17th digit; raises `InvalidInput` if the number is not valid."""
    valid = validate_id_number(number)
    return "男" if int(valid[16]) % 2 == 1 else "女"


def make_id_number(area: str, birth: date, sequence: int) -> str:
    """Build a number with a correct check character, for tests and simulators that need fictional people.

    No plausibility check is made on `area`, so callers can also build numbers that must be refused.
    """
    if len(area) != 6 or not area.isascii() or not area.isdigit():
        raise ValueError("area must be 6 ASCII digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be in 0..999")
    first17 = f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + check_character(first17)
