"""The 256-byte text block a SAM reads off a card: UCS-2 little-endian, space padded, four layouts.

The card-type marker at byte 248 (one UCS-2 character) picks the layout:

=====  =================================================  ==========================================
mark   card                                               layout
=====  =================================================  ==========================================
' '    居民身份证 (resident ID)                             RESIDENT_LAYOUT
'J'    港澳台居民居住证 (HK/Macao/Taiwan residence permit)   HKMOTW_LAYOUT (resident + pass no., count)
'I'    外国人永久居留身份证, 2017 edition                    FOREIGN_2017_LAYOUT
'Y'    外国人永久居留身份证, 2023 edition                    FOREIGN_2023_LAYOUT (assumed, see below)
=====  =================================================  ==========================================

Offsets and sizes are in bytes (a character is two bytes). Values are decoded faithfully: ID numbers are not
check-digit tested here (kiosk_app.identity does that for every source alike), but bytes that cannot be card
text at all - wrong length, broken UTF-16, control characters, impossible dates, unknown codes - raise
`CardUnreadable`, and nothing else escapes this module.

The 2023 ('Y') layout: public implementations agree on the marker but we have no authoritative offset table.
Assumption, kept consistent between encoder and decoder here: the 2017 field order, with the 18-digit number
taking the resident layout's 36-byte slot at 122, so the nationality moves from 152 to 240 (where the 2017
authority code was; the 2023 card is issued by one authority, 国家移民管理局, and carries no code). Check this
against a real 2023 card or a vendor SDK before relying on `nationality`/`card_version` of 'Y' cards.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from typing import Final

from devices.identity.card import LONG_TERM, CardKind, CardRecord
from devices.identity.nations import nation_code, nation_name
from devices.identity.reader import CardUnreadable

TEXT_BLOCK_SIZE: Final = 256
MARKER_OFFSET: Final = 248
PAD: Final = " "

Layout = dict[str, tuple[int, int]]  # field -> (byte offset, byte size)

RESIDENT_LAYOUT: Final[Layout] = {
    "name": (0, 30),
    "sex": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    # 220..256 reserved; the marker sits at 248.
}
HKMOTW_LAYOUT: Final[Layout] = RESIDENT_LAYOUT | {
    "pass_number": (220, 18),  # 港澳台居民来往内地通行证 number, 9 characters
    "issue_count": (238, 4),  # 签发次数, 2 digits
}
FOREIGN_2017_LAYOUT: Final[Layout] = {
    "english_name": (0, 120),
    "sex": (120, 2),
    "id_number": (122, 30),  # 15 characters: 3 letters, 12 digits
    "nationality": (152, 6),  # ISO 3166 alpha-3
    "name": (158, 30),  # Chinese name, may be empty
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "card_version": (236, 4),
    "authority_code": (240, 8),  # 当次申请受理机关代码
}
FOREIGN_2023_LAYOUT: Final[Layout] = {  # ASSUMED, see the module docstring
    "english_name": (0, 120),
    "sex": (120, 2),
    "id_number": (122, 36),  # 18 digits starting with 9, GB 11643 check digit
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "card_version": (236, 4),
    "nationality": (240, 6),
}

_LAYOUTS: Final[dict[str, tuple[CardKind, Layout]]] = {
    " ": (CardKind.RESIDENT, RESIDENT_LAYOUT),
    "J": (CardKind.HKMOTW_PERMIT, HKMOTW_LAYOUT),
    "I": (CardKind.FOREIGN_PERMANENT, FOREIGN_2017_LAYOUT),
    "Y": (CardKind.FOREIGN_PERMANENT, FOREIGN_2023_LAYOUT),
}
# Which text-block fields go to CardRecord.extra (same key there).
_EXTRA_FIELDS: Final = ("english_name", "nationality", "pass_number", "issue_count", "card_version", "authority_code")

_SEXES: Final = {"1": "男", "2": "女", "0": "", "9": ""}  # GB/T 2261.1: 0 unknown, 9 not stated
_SEX_CODES: Final = {"男": "1", "女": "2", "": "0"}

# Shapes of the code-like fields; free text (names, addresses, authority) is only checked for control chars.
_SHAPES: Final = {
    "sex": re.compile(r"[0129]"),
    "nation": re.compile(r"(?:[0-9]{2})?"),
    "id_number": re.compile(r"[0-9A-Za-z]*"),
    "nationality": re.compile(r"[A-Z]{3}"),
    "pass_number": re.compile(r"[0-9A-Za-z]*"),
    "issue_count": re.compile(r"[0-9]*"),
    "card_version": re.compile(r"[0-9A-Za-z.]*"),
    "authority_code": re.compile(r"[0-9A-Za-z]*"),
}

_RETRY: Final = "身份证信息读取不完整，请将身份证重新放好"
_UNKNOWN_TYPE: Final = "无法识别此证件类型，请放入居民身份证、居住证或外国人永久居留身份证"


def decode_text_block(block: bytes, photo: bytes | None = None) -> CardRecord:
    """Decode the text block of any of the four layouts into a `CardRecord` (photo attached as given)."""
    if len(block) != TEXT_BLOCK_SIZE:
        raise CardUnreadable(_RETRY, detail=f"text block of {len(block)} bytes, expected {TEXT_BLOCK_SIZE}")
    marker = _field(block, "card type", MARKER_OFFSET, 2) or PAD
    if marker not in _LAYOUTS:
        raise CardUnreadable(_UNKNOWN_TYPE, detail=f"card type marker {block[248:250].hex()}")
    kind, layout = _LAYOUTS[marker]
    values = {name: _field(block, name, offset, size) for name, (offset, size) in layout.items()}
    for name, pattern in _SHAPES.items():
        if name in values and not pattern.fullmatch(values[name]):
            raise CardUnreadable(_RETRY, detail=f"{name} has unexpected characters")

    nation = ""
    if "nation" in values and (values["nation"] or kind is CardKind.RESIDENT):
        nation = nation_name(values["nation"]) or ""
        if not nation:
            raise CardUnreadable(_RETRY, detail=f"unknown nation code {values['nation']!r}")

    return CardRecord(
        kind=kind,
        name=values["name"],
        sex=_SEXES[values["sex"]],
        nation=nation,
        birth_date=_date(values["birth"], "birth"),
        address=values.get("address", ""),
        id_number=values["id_number"],
        authority=values.get("authority", ""),
        valid_from=_date(values["valid_from"], "valid_from"),
        valid_to=LONG_TERM if values["valid_to"] == LONG_TERM else _date(values["valid_to"], "valid_to"),
        photo=photo,
        extra={name: values[name] for name in _EXTRA_FIELDS if name in values},
    )


def layout_for(record: CardRecord) -> tuple[str, Layout]:
    """The marker and layout a record is written with: foreign cards by number length (15 -> 2017)."""
    if record.kind is CardKind.RESIDENT:
        return " ", RESIDENT_LAYOUT
    if record.kind is CardKind.HKMOTW_PERMIT:
        return "J", HKMOTW_LAYOUT
    if record.kind is CardKind.FOREIGN_PERMANENT:
        return ("I", FOREIGN_2017_LAYOUT) if len(record.id_number) == 15 else ("Y", FOREIGN_2023_LAYOUT)
    raise ValueError(f"{record.kind.value} cards are not read through a SAM")


def encode_text_block(record: CardRecord) -> bytes:
    """The inverse of `decode_text_block` (for the emulator and tests). Raises ValueError on a value that
    does not fit its field: the deck is written by programmers, so that is a bug, not a person's mistake."""
    marker, layout = layout_for(record)
    values = {
        "name": record.name,
        "sex": _SEX_CODES.get(record.sex, record.sex),
        "nation": "" if not record.nation else nation_code(record.nation) or record.nation,
        "birth": _date_text(record.birth_date),
        "address": record.address,
        "id_number": record.id_number,
        "authority": record.authority,
        "valid_from": _date_text(record.valid_from),
        "valid_to": _date_text(record.valid_to),
    } | {name: record.extra.get(name, "") for name in _EXTRA_FIELDS}
    block = bytearray(PAD.encode("utf-16-le") * (TEXT_BLOCK_SIZE // 2))
    for name, (offset, size) in (layout | {"card type": (MARKER_OFFSET, 2)}).items():
        raw = (marker if name == "card type" else values[name]).encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} needs {len(raw)} bytes, field holds {size}")
        block[offset : offset + len(raw)] = raw
    return bytes(block)


def as_read(record: CardRecord) -> CardRecord:
    """What a record looks like after a trip through a card: the fields a layout does not hold are dropped.

    Tests compare decoded records with this, so a deck entry carrying, say, an address on a foreign card
    does not make round-trip tests lie.
    """
    _, layout = layout_for(record)
    return replace(
        record,
        nation=record.nation if "nation" in layout else "",
        address=record.address if "address" in layout else "",
        authority=record.authority if "authority" in layout else "",
        extra={name: record.extra.get(name, "") for name in _EXTRA_FIELDS if name in layout},
    )


def _field(block: bytes, name: str, offset: int, size: int) -> str:
    try:
        text = block[offset : offset + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardUnreadable(_RETRY, detail=f"{name} is not valid UCS-2") from None
    text = text.strip(" \x00")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise CardUnreadable(_RETRY, detail=f"{name} has control characters")
    return text


def _date(text: str, name: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CardUnreadable(_RETRY, detail=f"{name} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardUnreadable(_RETRY, detail=f"{name} is an impossible date") from None


def _date_text(value: date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return value
