"""A deck of fictional cards in all four SAM layouts, for the emulator, tests, demos and benchmarks.

Every person here is invented; numbers carry valid check digits (computed below, on purpose without
kiosk_app: devices must not import it), so the application layer accepts them like real cards. Photos are
random bytes marked FAKE-WLT: no decoder will make a face of them, which is the point.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Final

from devices.identity.card import LONG_TERM, CardKind, CardRecord

_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK: Final = "10X98765432"


def gb11643_check(first17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need 17 digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number(prefix: str, birth: date, sequence: int) -> str:
    """An 18-character number: 6-digit prefix (division code, 81xxxx for HK, 9+2+3 for foreigners),
    birth date, 3-digit sequence (odd: male), check character."""
    first17 = f"{prefix}{birth:%Y%m%d}{sequence:03d}"
    return first17 + gb11643_check(first17)


def mrz_check(text: str) -> str:
    """ICAO 9303 check digit (weights 7 3 1), used by the 15-character 2017 foreign permanent resident number."""
    total = 0
    for index, char in enumerate(text):
        value = int(char) if char.isdigit() else ord(char) - ord("A") + 10
        total += value * (7, 3, 1)[index % 3]
    return str(total % 10)


def foreign_2017_number(nationality: str, region: str, birth: date, sex_digit: int) -> str:
    """3-letter nationality, 4-digit accepting region, YYMMDD, sex digit (odd: male), check digit."""
    first14 = f"{nationality}{region}{birth:%y%m%d}{sex_digit}"
    return first14 + mrz_check(first14)


def fake_wlt(seed: int) -> bytes:
    """1024 bytes that look like nothing: a FAKE-WLT marker and seeded random bytes."""
    return b"FAKE-WLT" + random.Random(seed).randbytes(1016)


SHE_SUICHANG: Final = CardRecord(
    kind=CardKind.RESIDENT,
    name="蓝秀英",
    sex="女",
    nation="畲",
    birth_date=date(1968, 3, 15),
    address="浙江省遂昌县妙高街道云岙村下坑23号",
    id_number=id_number("331123", date(1968, 3, 15), 284),
    authority="遂昌县公安局",
    valid_from=date(2016, 5, 20),
    valid_to=date(2036, 5, 20),
    photo=fake_wlt(1),
)

ELDERLY_LONG_TERM: Final = CardRecord(
    kind=CardKind.RESIDENT,
    name="叶根土",
    sex="男",
    nation="汉",
    birth_date=date(1941, 9, 2),
    address="浙江省丽水市莲都区老竹畲族镇青坑村8号",
    id_number=id_number("331102", date(1941, 9, 2), 17),
    authority="丽水市公安局莲都分局",
    valid_from=date(2010, 7, 1),
    valid_to=LONG_TERM,
    photo=fake_wlt(2),
)

# Sequence 048 makes the check character X, so the X path is exercised end to end.
YOUNG_HANGZHOU: Final = CardRecord(
    kind=CardKind.RESIDENT,
    name="欧阳雨涵",
    sex="女",
    nation="汉",
    birth_date=date(2001, 11, 23),
    address="浙江省杭州市西湖区文新街道虚构路188号3幢2单元501室",
    id_number=id_number("330106", date(2001, 11, 23), 48),
    authority="杭州市公安局西湖分局",
    valid_from=date(2018, 2, 11),
    valid_to=date(2028, 2, 11),
    photo=fake_wlt(3),
)

HONG_KONG_PERMIT: Final = CardRecord(
    kind=CardKind.HKMOTW_PERMIT,
    name="陈嘉欣",
    sex="女",
    nation="",
    birth_date=date(1990, 5, 5),
    address="浙江省杭州市上城区望江街道虚构巷12号",
    id_number=id_number("810000", date(1990, 5, 5), 42),
    authority="杭州市公安局上城分局",
    valid_from=date(2023, 3, 1),
    valid_to=date(2028, 3, 1),
    photo=fake_wlt(4),
    extra={"pass_number": "H60123456", "issue_count": "01"},
)

FOREIGN_2017: Final = CardRecord(
    kind=CardKind.FOREIGN_PERMANENT,
    name="摩根",
    sex="女",
    nation="",
    birth_date=date(1980, 5, 12),
    address="",
    id_number=foreign_2017_number("CAN", "3301", date(1980, 5, 12), 2),
    authority="",
    valid_from=date(2017, 9, 1),
    valid_to=date(2027, 9, 1),
    photo=fake_wlt(5),
    extra={"english_name": "MORGAN, EMILY ROSE", "nationality": "CAN", "card_version": "01", "authority_code": "1500"},
)

# 2023 number: 9, province 33 (Zhejiang), ISO numeric nationality 276 (Germany), birth, sequence, check.
FOREIGN_2023: Final = CardRecord(
    kind=CardKind.FOREIGN_PERMANENT,
    name="瓦格纳",
    sex="男",
    nation="",
    birth_date=date(1975, 3, 18),
    address="",
    id_number=id_number("933276", date(1975, 3, 18), 123),
    authority="",
    valid_from=date(2024, 1, 15),
    valid_to=date(2034, 1, 15),
    photo=fake_wlt(6),
    extra={"english_name": "WAGNER, LUKAS JOHANNES", "nationality": "DEU", "card_version": "02"},
)

DECK: Final = (SHE_SUICHANG, ELDERLY_LONG_TERM, YOUNG_HANGZHOU, HONG_KONG_PERMIT, FOREIGN_2017, FOREIGN_2023)
