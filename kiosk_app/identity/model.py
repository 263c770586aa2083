"""The one `Identity` value type, whatever the source: ID card reader, social security card or manual entry.

An `Identity` is validated when it is built, so any instance that exists obeys every rule below; screens,
printers and the database never need to re-check it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final, Literal, TypeAlias

from kiosk_app.errors import InvalidInput
from kiosk_app.identity.id_number import (
    EARLIEST_BIRTH_YEAR,
    FOREIGN_PERMANENT_PREFIX,
    RESIDENCE_PERMIT_PREFIXES,
    birth_date_of,
    sex_of,
    validate_id_number,
)
from kiosk_app.identity.masking import (
    mask_address,
    mask_birth_date,
    mask_id_number,
    mask_name,
    mask_phone,
)

__all__ = [
    "JSON_KEYS",
    "LONG_TERM",
    "REQUIRED_JSON_KEYS",
    "CardType",
    "Identity",
    "Sex",
    "ValidTo",
    "manual_identity",
]

Sex: TypeAlias = Literal["男", "女"]
LONG_TERM: Final = "长期"
ValidTo: TypeAlias = date | Literal["长期"] | None


class CardType(StrEnum):
    """Where the identity came from; decides which number forms are acceptable."""

    RESIDENT = "resident"
    HKMOTW_PERMIT = "hkmotw_permit"
    FOREIGN_PERMANENT = "foreign_permanent"
    SOCIAL_SECURITY = "social_security"
    MANUAL = "manual"


JSON_KEYS: Final = (
    "name",
    "sex",
    "nation",
    "birth_date",
    "address",
    "id_number",
    "authority",
    "valid_from",
    "valid_to",
    "card_type",
    "phone",
)
REQUIRED_JSON_KEYS: Final = frozenset({"name", "sex", "birth_date", "id_number", "card_type"})

_LABELS: Final = {
    "name": "姓名",
    "sex": "性别",
    "nation": "民族",
    "birth_date": "出生日期",
    "address": "住址",
    "id_number": "证件号码",
    "authority": "签发机关",
    "valid_from": "有效期起始日期",
    "valid_to": "有效期截止日期",
    "card_type": "证件类型",
    "phone": "联系电话",
    "photo": "照片",
}
_MAX_LENGTHS: Final = {"name": 64, "nation": 32, "address": 256, "authority": 64}

_FOREIGN_2017: Final = re.compile(r"[A-Z]{3}[0-9]{12}")
_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE: Final = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Control, format (bidi overrides, zero-width) and line-separator characters corrupt receipts and logs.
# Private-use characters stay allowed: older household registers encode rare name characters there.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _fail(key: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=key)


def _is_plain_date(value: object) -> bool:
    # datetime is a subclass of date but would serialise with a time part and never equal a card date.
    return isinstance(value, date) and not isinstance(value, datetime)


def _clean_text(key: str, value: object) -> str:
    label = _LABELS[key]
    if not isinstance(value, str):
        raise _fail(key, f"{label}应为文字。")
    text = value.strip()
    if len(text) > _MAX_LENGTHS[key]:
        raise _fail(key, f"{label}最多{_MAX_LENGTHS[key]}个字，请核对。")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text):
        raise _fail(key, f"{label}中含有无法显示的控制字符，请重新输入。")
    return text


def _clean_phone(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail("phone", "联系电话应为文字。")
    phone = "".join(value.split())
    if not phone:
        return None
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return phone
    raise _fail("phone", "联系电话应为11位手机号码，或带区号的固定电话（如0578-8123456），请核对。")


def _clean_id_number(card_type: CardType, value: object) -> str:
    if not isinstance(value, str):
        raise _fail("id_number", "请输入证件号码。")
    compact = "".join(value.split())
    if card_type is CardType.FOREIGN_PERMANENT:
        if _FOREIGN_2017.fullmatch(compact.upper()):
            return compact.upper()
        if compact[:1].isascii() and compact[:1].isalpha():
            raise _fail(
                "id_number",
                "2017年版外国人永久居留身份证号码应为3个英文字母加12位数字，请核对。",
            )
        number = validate_id_number(compact)
        if not number.startswith(FOREIGN_PERMANENT_PREFIX):
            raise _fail(
                "id_number",
                "外国人永久居留身份证号码应以9开头（2023年版），或为3个英文字母加12位数字（2017年版），请核对。",
            )
        return number
    number = validate_id_number(compact)
    is_permit = number[:2] in RESIDENCE_PERMIT_PREFIXES
    if card_type is CardType.HKMOTW_PERMIT and not is_permit:
        raise _fail("id_number", "港澳台居民居住证号码应以81、82或83开头，请核对。")
    if card_type is CardType.RESIDENT and is_permit:
        raise _fail("id_number", "这是港澳台居民居住证号码，不是居民身份证号码，请核对证件类型。")
    if card_type is CardType.RESIDENT and number.startswith(FOREIGN_PERMANENT_PREFIX):
        raise _fail("id_number", "这是外国人永久居留身份证号码，不是居民身份证号码，请核对证件类型。")
    return number


def _check_validity(valid_from: object, valid_to: object) -> None:
    if valid_from is not None and not _is_plain_date(valid_from):
        raise _fail("valid_from", "有效期起始日期格式不对。")
    if valid_to is not None and valid_to != LONG_TERM and not _is_plain_date(valid_to):
        raise _fail("valid_to", "有效期截止日期应为日期或“长期”。")
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_from > valid_to:
        raise _fail("valid_to", "证件有效期的截止日期早于起始日期，请核对。")


@dataclass(frozen=True, kw_only=True, slots=True, repr=False)
class Identity:
    """A person as read from a card or typed in. Text fields are stripped; the number is normalised.

    `photo` holds the card's raw WLT bytes; it is never serialised, never shown by repr and not part of
    equality, so an identity read twice compares equal even if the reader dropped the photo once.
    """

    name: str
    sex: Sex
    birth_date: date
    id_number: str
    card_type: CardType
    nation: str = ""
    address: str = ""
    authority: str = ""
    valid_from: date | None = None
    valid_to: ValidTo = None
    phone: str | None = None
    photo: bytes | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        card_type: object = self.card_type
        if not isinstance(card_type, CardType):
            try:
                card_type = CardType(str(card_type))
            except ValueError:
                raise _fail("card_type", "证件类型无法识别。") from None
        set_ = object.__setattr__
        set_(self, "card_type", card_type)
        for key in ("name", "nation", "address", "authority"):
            set_(self, key, _clean_text(key, getattr(self, key)))
        set_(self, "id_number", _clean_id_number(card_type, self.id_number))
        set_(self, "phone", _clean_phone(self.phone))
        photo: object = self.photo
        if isinstance(photo, bytearray | memoryview):
            set_(self, "photo", bytes(photo))
        elif photo is not None and not isinstance(photo, bytes):
            raise _fail("photo", "照片数据格式不对。")
        self.validate()

    def validate(self, *, today: date | None = None) -> None:
        """Raise `InvalidInput` naming the first field that breaks a rule; `today` bounds dates for tests."""
        today = today or date.today()
        if not self.name:
            raise _fail("name", "请填写姓名。")
        if self.sex not in ("男", "女"):
            raise _fail("sex", "性别只能是“男”或“女”。")
        if self.card_type is CardType.RESIDENT and not self.nation:
            raise _fail("nation", "居民身份证上的民族不能为空，请核对。")
        if not _is_plain_date(self.birth_date):
            raise _fail("birth_date", "出生日期格式不对。")
        if self.birth_date > today:
            raise _fail("birth_date", "出生日期晚于今天，请核对。")
        if self.birth_date.year < EARLIEST_BIRTH_YEAR:
            raise _fail("birth_date", f"出生日期早于{EARLIEST_BIRTH_YEAR}年，请核对。")
        if len(self.id_number) == 18:
            number = validate_id_number(self.id_number, today=today)
            encoded_birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            if encoded_birth != self.birth_date:
                raise _fail("birth_date", "出生日期与证件号码中的出生日期不一致，请核对。")
            if ("男" if int(number[16]) % 2 else "女") != self.sex:
                raise _fail("sex", "性别与证件号码不一致，请核对。")
        _check_validity(self.valid_from, self.valid_to)

    def to_json_dict(self, masked: bool = False) -> dict[str, str | None]:
        """Exactly the keys in `JSON_KEYS`, dates as YYYY-MM-DD; `masked` hides what identifies the person."""
        valid_to = self.valid_to.isoformat() if isinstance(self.valid_to, date) else self.valid_to
        data: dict[str, str | None] = {
            "name": self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": valid_to,
            "card_type": self.card_type.value,
            "phone": self.phone,
        }
        if masked:
            data["name"] = mask_name(self.name)
            data["id_number"] = mask_id_number(self.id_number)
            data["address"] = mask_address(self.address)
            data["birth_date"] = mask_birth_date(self.birth_date)
            data["phone"] = mask_phone(self.phone) if self.phone else None
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Identity:
        """Rebuild from `to_json_dict()` output; unknown and missing keys are refused by name."""
        if not isinstance(data, Mapping):
            raise InvalidInput("身份信息格式不对，应为JSON对象。")
        for key in data:
            if key not in JSON_KEYS:
                raise _fail(str(key), f"身份信息中有无法识别的字段“{key}”。")
        for key in JSON_KEYS:
            if key in REQUIRED_JSON_KEYS and key not in data:
                raise _fail(key, f"身份信息缺少必填项：{_LABELS[key]}（{key}）。")
        sex = data["sex"]
        if sex not in ("男", "女"):
            raise _fail("sex", "性别只能是“男”或“女”。")
        card_type = data["card_type"]
        if not isinstance(card_type, str) or card_type not in {member.value for member in CardType}:
            raise _fail("card_type", "证件类型无法识别。")
        valid_to_raw = data.get("valid_to")
        valid_to: ValidTo = LONG_TERM if valid_to_raw == LONG_TERM else _parse_date("valid_to", valid_to_raw)
        return cls(
            name=_require_str(data, "name"),
            sex=sex,
            nation=_require_str(data, "nation"),
            birth_date=_parse_required_date(data, "birth_date"),
            address=_require_str(data, "address"),
            id_number=_require_str(data, "id_number"),
            authority=_require_str(data, "authority"),
            valid_from=_parse_date("valid_from", data.get("valid_from")),
            valid_to=valid_to,
            card_type=CardType(card_type),
            phone=_optional_str(data, "phone"),
        )

    def __repr__(self) -> str:
        return (
            f"Identity(name={mask_name(self.name)!r}, sex={self.sex!r}, "
            f"id_number={mask_id_number(self.id_number)!r}, card_type={self.card_type.value!r})"
        )

    def __str__(self) -> str:
        return f"{mask_name(self.name)}（{mask_id_number(self.id_number)}）"


def _require_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _fail(key, f"{_LABELS[key]}应为文字。")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(key, f"{_LABELS[key]}应为文字。")
    return value


def _parse_date(key: str, value: object) -> date | None:
    if value is None:
        return None
    # date.fromisoformat alone would also take '19560308' and week dates; the JSON contract is YYYY-MM-DD.
    if not isinstance(value, str) or _ISO_DATE.fullmatch(value) is None:
        raise _fail(key, f"{_LABELS[key]}应写成“年-月-日”，例如1956-03-08。")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(key, f"{_LABELS[key]}不是真实存在的日期，请核对。") from None


def _parse_required_date(data: Mapping[str, Any], key: str) -> date:
    parsed = _parse_date(key, data[key])
    if parsed is None:
        raise _fail(key, f"请填写{_LABELS[key]}。")
    return parsed


def manual_identity(
    name: str,
    id_number: str,
    address: str = "",
    phone: str | None = None,
    nation: str = "汉",
) -> Identity:
    """An identity typed in for someone without a card at hand; sex and birth date come from the number."""
    number = validate_id_number(id_number)
    return Identity(
        name=name,
        sex=sex_of(number),
        birth_date=birth_date_of(number),
        id_number=number,
        card_type=CardType.MANUAL,
        nation=nation,
        address=address,
        phone=phone,
    )
