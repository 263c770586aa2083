"""Unified social credit codes (GB 32100-2015) of enterprises, village collectives and other organisations.

Layout: 1 registration authority code, 1 type code, 6-digit division code, 9-character organisation code
(GB 11714, with its own check character), 1 check character over the first 17.
"""

from __future__ import annotations

import re
from typing import Final

from kiosk_app.errors import InvalidInput

__all__ = [
    "CREDIT_CODE_CHARSET",
    "credit_check_character",
    "is_valid_credit_code",
    "make_credit_code",
    "normalize_credit_code",
    "organization_check_character",
    "validate_credit_code",
]

# I, O, Z, S, V are left out because they are easily confused with 1, 0, 2, 5, U.
CREDIT_CODE_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES: Final = {char: index for index, char in enumerate(CREDIT_CODE_CHARSET)}
_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_FIELD: Final = "credit_code"

# GB 32100 registration authorities: 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会,
# 9 市场监管, A 军队编制, N 农业农村 (village collective economic organisations), Y 其他.
# Type codes differ per authority and keep being added, so only their form (a digit 1-9) is checked.
REGISTRATION_AUTHORITIES: Final = frozenset("123456789ANY")

_FULL_WIDTH_OFFSET: Final = 0xFEE0
_SEPARATORS: Final = frozenset(" -\u3000\t\r\n")
_ORG_BODY: Final = re.compile(r"[0-9A-Z]{8}")


def normalize_credit_code(value: str) -> str:
    """Drop spaces and hyphens, map full-width ASCII to half-width and upper-case; nothing is validated."""
    chars: list[str] = []
    for char in value:
        if "\uff01" <= char <= "\uff5e":
            char = chr(ord(char) - _FULL_WIDTH_OFFSET)
        if char in _SEPARATORS:
            continue
        chars.append(char.upper() if char.isascii() else char)
    return "".join(chars)


def credit_check_character(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(char not in _VALUES for char in first17):
        raise ValueError("credit_check_character needs 17 characters from the code charset")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _org_value(char: str) -> int:
    # GB 11714 counts letters A=10 .. Z=35 over the whole Latin alphabet, unlike the GB 32100 charset.
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def organization_check_character(first8: str) -> str:
    """GB 11714 check character ('0'-'9' or 'X') of an 8-character organisation code body."""
    if _ORG_BODY.fullmatch(first8) is None:
        raise ValueError("organization_check_character needs 8 ASCII digits or upper-case letters")
    total = sum(_org_value(char) * weight for char, weight in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def validate_credit_code(value: str) -> str:
    """Return the normalised 18-character code, or raise `InvalidInput` saying which rule it breaks."""
    if not isinstance(value, str):
        raise InvalidInput("请输入统一社会信用代码。", field=_FIELD)
    code = normalize_credit_code(value)
    if not code:
        raise InvalidInput("请输入统一社会信用代码。", field=_FIELD)
    if len(code) != 18:
        raise InvalidInput(f"统一社会信用代码应为18位，现在是{len(code)}位，请核对。", field=_FIELD)
    bad = [char for char in code if char not in _VALUES]
    if bad:
        if all(char in "IOZSV" for char in bad):
            raise InvalidInput(
                "统一社会信用代码中不会出现字母I、O、Z、S、V，请核对是否把数字1、0、2、5或字母U看错了。",
                field=_FIELD,
            )
        raise InvalidInput("统一社会信用代码只能由数字和大写字母组成，请核对。", field=_FIELD)
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise InvalidInput(
            f"统一社会信用代码第1位“{code[0]}”不是有效的登记管理部门代码，请核对。", field=_FIELD
        )
    if not "1" <= code[1] <= "9":
        raise InvalidInput("统一社会信用代码第2位机构类别代码应为数字1到9，请核对。", field=_FIELD)
    if not code[2:8].isdigit():
        raise InvalidInput("统一社会信用代码第3到8位是行政区划代码，只能是数字，请核对。", field=_FIELD)
    if code[16] != organization_check_character(code[8:16]):
        raise InvalidInput(
            "统一社会信用代码第9到17位的组织机构代码校验不通过，可能有字符输错了，请逐位核对。",
            field=_FIELD,
        )
    if code[17] != credit_check_character(code[:17]):
        raise InvalidInput("统一社会信用代码最后一位校验码不对，可能有字符输错了，请逐位核对。", field=_FIELD)
    return code


def is_valid_credit_code(value: object) -> bool:
    """True when `value` is a string that `validate_credit_code` accepts."""
    if not isinstance(value, str):
        return False
    try:
        validate_credit_code(value)
    except InvalidInput:
        return False
    return True


def make_credit_code(prefix: str) -> str:
    """Complete a code for tests and simulators.

    With 16 characters (authority, type, division, 8-character organisation body) both the organisation
    check character and the final check character are computed. With 17 characters only the final one is
    appended, so a test can build a code whose organisation check is wrong but whose final check is right.
    """
    prefix = prefix.upper()
    if len(prefix) == 16:
        prefix += organization_check_character(prefix[8:16])
    if len(prefix) != 17:
        raise ValueError("make_credit_code needs 16 or 17 characters")
    return prefix + credit_check_character(prefix)
