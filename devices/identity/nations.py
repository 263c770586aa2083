"""GB/T 3304 ethnic group codes and the names as printed on resident ID cards.

Cards print the short form without "族" ("汉", "畲", "蒙古"), and the SAM text block carries the two-digit
code, so this table turns one into the other. 97 and 98 are the two codes outside the 56 groups.
"""

from __future__ import annotations

from typing import Final

# Codes 01..56 in GB/T 3304 order.
_GROUPS: Final = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)  # fmt: skip

NATIONS: Final[dict[str, str]] = {f"{number:02d}": name for number, name in enumerate(_GROUPS, start=1)} | {
    "97": "其他",
    "98": "外国血统",
}

_CODES_BY_NAME: Final = {name: code for code, name in NATIONS.items()}


def nation_name(code: str) -> str | None:
    """The printed name for a two-digit code ("22" -> "畲"), or None for a code outside GB/T 3304."""
    return NATIONS.get(code)


def nation_code(name: str) -> str | None:
    """The code for a printed name; accepts the long form too ("畲族" -> "22"). None when unknown."""
    code = _CODES_BY_NAME.get(name)
    if code is None and name.endswith("族"):
        code = _CODES_BY_NAME.get(name[:-1])
    return code
