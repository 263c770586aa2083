"""The social security card's application logic, as pure functions over a `transmit(apdu)` callable.

Two ways into a card, tried in order:

1. The 社会保障 application (AID 'sx1.sh.社会保障' in GBK). READ RECORD ``00 B2 <n> 04 00`` answers one
   TLV-ish record ``<tag = n> <len> <value>``. What we decode:

   ====  =====  ===========================  ==========================================================
   EF    tag    field                        encoding -> CardRecord / extra key
   ====  =====  ===========================  ==========================================================
   EF05  01     卡识别码 (card identifier)     16 bytes, shown as hex -> ``card_identifier``; its first six
                                             digits are the issuing division -> ``issuing_region``
   EF05  02     卡类别 (card type)            1 byte, ASCII digit (hex if not printable) -> ``card_type``
   EF05  03     规范版本 (spec version)        ASCII, e.g. "3.00" -> ``card_version``
   EF05  05     发卡日期 (issued)              BCD YYYYMMDD -> ``valid_from``
   EF05  06     有效期 (expires)               BCD YYYYMMDD -> ``valid_to``
   EF05  07     社保卡卡号 (card number)        ASCII, 9 characters -> ``card_no``
   EF06  08     社会保障号码                    ASCII, 18 characters -> ``id_number``, ``social_security_no``
   EF06  09     姓名                          GBK (decoded as GB 18030), padded -> ``name``
   EF06  0A     性别                          '1'/'2' (ASCII or binary) -> ``sex`` 男/女
   EF06  0B     民族                          BCD GB/T 3304 code -> ``nation`` name, ``nation_code``
   EF06  0C     出生地                         BCD division code -> ``birthplace_code``
   EF06  0D     出生日期                       BCD YYYYMMDD -> ``birth_date``
   ====  =====  ===========================  ==========================================================

   EF05 is optional (a card without it still yields name and number); EF06 08 and 09 are required.

2. When that application is absent or refuses (6982: real cards often demand a PSAM-authenticated terminal),
   the financial (PBOC/EMV) application on the same chip: PPSE, else PSE, else well-known UnionPay AIDs; SELECT,
   GET PROCESSING OPTIONS with the PDOL filled with zeros, READ RECORD over the AFL, then BER-TLV tags 5F20
   (name), 9F61 (ID number) and 9F62 (ID type, 00 = 身份证). That path has no sex, nation or birth date; the
   application layer derives them from the number.

Every failure is a `ReaderError` with a plain Chinese message; loops are bounded so a hostile or broken card
cannot make us spin.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from devices.identity.card import CardKind, CardRecord
from devices.identity.nations import NATIONS
from devices.identity.reader import Cancelled, CardUnreadable, ProtocolError, ReaderError, ReaderUnavailable

Transmit = Callable[[bytes], tuple[bytes, int, int]]

SSC_AID: Final = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")  # 'sx1.sh.社会保障' in GBK
PPSE: Final = b"2PAY.SYS.DDF01"  # contactless directory
PSE: Final = b"1PAY.SYS.DDF01"  # contact directory
# Tried when neither directory answers: UnionPay debit, credit, quasi-credit, e-cash.
UNIONPAY_AIDS: Final = tuple(bytes.fromhex(f"A0000003330101{n:02X}") for n in (1, 2, 3, 6))

EF05_RECORDS: Final = (0x01, 0x02, 0x03, 0x05, 0x06, 0x07)
EF06_RECORDS: Final = (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)

# Bounds that keep a broken card from making us loop (each is generous for a real card).
MAX_GET_RESPONSE: Final = 16
MAX_RESPONSE_BYTES: Final = 8192
MAX_AFL_RECORDS: Final = 32
MAX_TLV_DEPTH: Final = 8

SW_OK: Final = 0x9000
ABSENT_SWS: Final = frozenset({0x6A82, 0x6A81, 0x6D00, 0x6E00})  # "no such application/file/command"

_SW_MESSAGES: Final = {
    0x6982: "社保卡需要在人社窗口专用设备读取，请改用身份证或人工录入",
    0x6983: "社保卡已被锁定，请到人社窗口处理",
    0x6985: "社保卡暂时无法读取，请取出后重新插入",
    0x6A82: "卡内没有所需的社保信息，请确认插入的是社会保障卡",
    0x6A83: "卡内社保信息不完整，请到人社窗口核对",
    0x6A81: "此卡不支持读取社保信息，请改用身份证或人工录入",
    0x6D00: "此卡不支持读取社保信息，请改用身份证或人工录入",
    0x6E00: "此卡不支持读取社保信息，请改用身份证或人工录入",
    0x6283: "社保卡已停用或挂失，请到人社窗口处理",
    0x6581: "社保卡芯片已损坏，请到人社窗口补换",
}
_SW_DEFAULT: Final = "社保卡读取失败，请取出后重新插入"
UNKNOWN_CARD: Final = "无法识别此卡，请确认插入的是社会保障卡（芯片朝向读卡器）"
GARBLED: Final = "社保卡数据有误，请取出后重新插入；仍不行请到人社窗口检查卡片"

ID_TYPES: Final = {0x00: "身份证", 0x01: "军官证", 0x02: "护照", 0x03: "入境证", 0x04: "临时身份证", 0x05: "其他"}



class StatusWordError(CardUnreadable):
    """The card answered a command with a status word other than 9000 (kept in `sw` for the fallback logic)."""

    def __init__(self, sw: int, step: str) -> None:
        super().__init__(_SW_MESSAGES.get(sw, _SW_DEFAULT), detail=f"{step}: SW {sw:04X}")
        self.sw = sw
        self.step = step


# --- APDU exchange -------------------------------------------------------------------------------------------


def command_apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = 0) -> bytes:
    """A short APDU; `le` None means no Le byte, 0 or 256 means 'up to 256' (encoded 00)."""
    apdu = bytes((cla, ins, p1, p2))
    if data:
        apdu += bytes((len(data),)) + data
    if le is not None:
        apdu += bytes((le % 256,))
    return apdu


def exchange(
    transmit: Transmit, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = 0, *, step: str
) -> bytes:
    """Send one command, following 61xx (GET RESPONSE) and 6Cxx (re-issue with Le); return data on 9000."""
    response, sw1, sw2 = transmit(command_apdu(cla, ins, p1, p2, data, le))
    if sw1 == 0x6C:
        # Wrong Le: the card tells us the right one. Only once, so a card repeating 6C cannot loop us.
        response, sw1, sw2 = transmit(command_apdu(cla, ins, p1, p2, data, sw2 or 256))
    collected = bytearray(response)
    rounds = 0
    while sw1 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE or len(collected) > MAX_RESPONSE_BYTES:
            raise ProtocolError(GARBLED, detail=f"{step}: endless 61xx chain")
        more, sw1, sw2 = transmit(command_apdu(0x00, 0xC0, 0x00, 0x00, b"", sw2 or 256))
        collected += more
    sw = (sw1 << 8) | sw2
    if sw1 == 0x6C:
        raise ProtocolError(GARBLED, detail=f"{step}: repeated 6Cxx")
    if sw != SW_OK:
        raise StatusWordError(sw, step)
    return bytes(collected)


def select_by_name(transmit: Transmit, name: bytes, step: str) -> bytes:
    return exchange(transmit, 0x00, 0xA4, 0x04, 0x00, name, 0, step=step)


def select_file(transmit: Transmit, file_id: int, step: str) -> bytes:
    return exchange(transmit, 0x00, 0xA4, 0x02, 0x00, file_id.to_bytes(2, "big"), None, step=step)


def read_record(transmit: Transmit, number: int, sfi: int | None = None, *, step: str) -> bytes:
    """READ RECORD `number` of the current EF (`sfi` None, P2 04) or of short file `sfi` (P2 = sfi<<3 | 4)."""
    p2 = 0x04 if sfi is None else (sfi << 3) | 0x04
    return exchange(transmit, 0x00, 0xB2, number, p2, b"", 0, step=step)


# --- Decoding helpers ----------------------------------------------------------------------------------------


def ssc_record_value(tag: int, response: bytes) -> bytes:
    """The value of a social security record answer `<tag> <len> <value>` (trailing padding ignored)."""
    if len(response) < 2:
        raise ProtocolError(GARBLED, detail=f"record {tag:02X}: {len(response)} bytes, no tag/length")
    if response[0] != tag:
        raise ProtocolError(GARBLED, detail=f"record {tag:02X}: answered tag {response[0]:02X}")
    length = response[1]
    if len(response) < 2 + length:
        raise ProtocolError(GARBLED, detail=f"record {tag:02X} truncated: says {length}, has {len(response) - 2}")
    return response[2 : 2 + length]


def _strip_padding(value: bytes) -> bytes:
    return value.strip(b"\x00\x20\xff")


def decode_text(value: bytes, what: str) -> str:
    """Chinese text off the card: GBK, read with the GB 18030 codec (a superset, so rare name characters in
    its four-byte range decode too). Control characters mean garbage, not a name."""
    try:
        text = _strip_padding(value).decode("gb18030").strip()
    except UnicodeDecodeError:
        raise ProtocolError(f"卡内{what}无法识别，请到人社窗口核对卡片", detail=f"{what}: not GBK") from None
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in text):
        raise ProtocolError(f"卡内{what}无法识别，请到人社窗口核对卡片", detail=f"{what}: control characters")
    return text


def decode_ascii(value: bytes, what: str) -> str:
    raw = _strip_padding(value)
    if not all(0x21 <= b < 0x7F for b in raw):
        raise ProtocolError(GARBLED, detail=f"{what}: not printable ASCII")
    return raw.decode("ascii")


def decode_bcd(value: bytes, what: str) -> str:
    """Compressed numeric (cn): BCD digits, right-padded with F nibbles."""
    digits = value.hex().upper().rstrip("F")
    if not digits.isdigit():
        raise ProtocolError(GARBLED, detail=f"{what}: not BCD")
    return digits


def decode_date(value: bytes, what: str) -> date | None:
    """A BCD YYYYMMDD date; None for empty/all-zero/impossible dates (the application decides what to ask)."""
    digits = decode_bcd(value, what) if _strip_padding(value) else ""
    if len(digits) != 8 or digits == "00000000":
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def decode_sex(value: bytes) -> str:
    code = value[:1]
    if code in (b"1", b"\x01"):
        return "男"
    if code in (b"2", b"\x02"):
        return "女"
    return ""


def decode_nation(value: bytes) -> str:
    """The GB/T 3304 two-digit code, from one BCD byte or two ASCII digits."""
    raw = _strip_padding(value) if len(value) > 1 else value
    if len(raw) == 2 and raw.isdigit():
        return raw.decode("ascii")
    if len(raw) == 1:
        return decode_bcd(raw, "nation").zfill(2)
    raise ProtocolError(GARBLED, detail=f"nation: {len(raw)} bytes")


# --- BER-TLV (EMV) -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    children: tuple[Tlv, ...] = ()


def parse_ber_tlv(data: bytes, depth: int = 0) -> list[Tlv]:
    """Parse BER-TLV; constructed tags (bit 6 of the first tag byte) are parsed into `children`.

    00 and FF between objects are padding (EMV allows both). Lengths: short form and 81/82; indefinite or
    longer forms, and anything running past the end, are a ProtocolError.
    """
    if depth > MAX_TLV_DEPTH:
        raise ProtocolError(GARBLED, detail="TLV nested too deep")
    items: list[Tlv] = []
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        start = i
        first = data[i]
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= len(data) or i - start > 3:
                    raise ProtocolError(GARBLED, detail="TLV tag truncated")
                i += 1
                if not data[i - 1] & 0x80:
                    break
        tag = int.from_bytes(data[start:i], "big")
        if i >= len(data):
            raise ProtocolError(GARBLED, detail=f"TLV {tag:X}: no length")
        length = data[i]
        i += 1
        if length & 0x80:
            count = length & 0x7F
            if count not in (1, 2) or i + count > len(data):
                raise ProtocolError(GARBLED, detail=f"TLV {tag:X}: bad length form")
            length = int.from_bytes(data[i : i + count], "big")
            i += count
        if i + length > len(data):
            raise ProtocolError(GARBLED, detail=f"TLV {tag:X} truncated: says {length}, has {len(data) - i}")
        value = data[i : i + length]
        i += length
        children = tuple(parse_ber_tlv(value, depth + 1)) if first & 0x20 else ()
        items.append(Tlv(tag, value, children))
    return items


def iter_tlv(items: list[Tlv] | tuple[Tlv, ...]) -> Iterator[Tlv]:
    for item in items:
        yield item
        yield from iter_tlv(item.children)


def find_tlv(items: list[Tlv] | tuple[Tlv, ...], tag: int) -> Tlv | None:
    return next((item for item in iter_tlv(items) if item.tag == tag), None)


def parse_dol(dol: bytes) -> list[tuple[int, int]]:
    """A data object list: (tag, length) pairs with no values (PDOL, CDOL)."""
    entries: list[tuple[int, int]] = []
    i = 0
    while i < len(dol):
        start = i
        i += 1
        if dol[start] & 0x1F == 0x1F:
            while i < len(dol) and dol[i] & 0x80 and i - start < 3:
                i += 1
            i += 1
        if i >= len(dol):
            raise ProtocolError(GARBLED, detail="PDOL truncated")
        entries.append((int.from_bytes(dol[start:i], "big"), dol[i]))
        i += 1
    return entries


# --- The social security application ------------------------------------------------------------------------


def _read_ef(transmit: Transmit, file_id: int, tags: tuple[int, ...], required: tuple[int, ...]) -> dict[int, bytes]:
    select_file(transmit, file_id, step=f"select {file_id:04X}")
    values: dict[int, bytes] = {}
    for tag in tags:
        try:
            answer = read_record(transmit, tag, step=f"read {file_id:04X}/{tag:02X}")
        except StatusWordError as exc:
            # A missing optional record is tolerated; a refusal (6982) or anything else is not.
            if exc.sw == 0x6A83 and tag not in required:
                continue
            raise
        values[tag] = ssc_record_value(tag, answer)
    return values


def read_ssc_application(transmit: Transmit) -> CardRecord:
    """Read through the 社会保障 application (see the module docstring for the fields)."""
    select_by_name(transmit, SSC_AID, step="select SSC")
    try:
        ef05 = _read_ef(transmit, 0xEF05, EF05_RECORDS, required=())
    except StatusWordError as exc:
        if exc.sw != 0x6A82:
            raise
        ef05 = {}  # the card data file is informative only
    ef06 = _read_ef(transmit, 0xEF06, EF06_RECORDS, required=(0x08, 0x09))

    extra = {"source": "ssc"}
    number = decode_ascii(ef06[0x08], "social security number")
    name = decode_text(ef06[0x09], "姓名")
    if not number or not name:
        raise CardUnreadable("卡内没有姓名或社会保障号码，请到人社窗口核对", detail="empty 08/09")
    extra["social_security_no"] = number
    if 0x01 in ef05:
        identifier = ef05[0x01].hex().upper()
        extra["card_identifier"] = identifier
        if identifier[:6].isdigit():
            extra["issuing_region"] = identifier[:6]
    if ef05.get(0x02):
        kind = ef05[0x02][:1]
        extra["card_type"] = kind.decode("ascii") if 0x21 <= kind[0] < 0x7F else kind.hex().upper()
    if 0x03 in ef05:
        extra["card_version"] = decode_ascii(ef05[0x03], "card version")
    if 0x07 in ef05:
        extra["card_no"] = decode_ascii(ef05[0x07], "card number")

    sex = decode_sex(ef06[0x0A]) if 0x0A in ef06 else ""
    nation = ""
    if 0x0B in ef06:
        code = decode_nation(ef06[0x0B])
        extra["nation_code"] = code
        nation = NATIONS.get(code, code)
    if 0x0C in ef06:
        extra["birthplace_code"] = decode_bcd(ef06[0x0C], "birthplace")
    return CardRecord(
        kind=CardKind.SOCIAL_SECURITY,
        name=name,
        sex=sex,
        nation=nation,
        birth_date=decode_date(ef06[0x0D], "birth date") if 0x0D in ef06 else None,
        address="",
        id_number=number,
        authority="",
        valid_from=decode_date(ef05[0x05], "issue date") if 0x05 in ef05 else None,
        valid_to=decode_date(ef05[0x06], "expiry date") if 0x06 in ef05 else None,
        extra=extra,
    )


# --- The financial (PBOC) application -----------------------------------------------------------------------


def _directory_aids(transmit: Transmit) -> list[bytes]:
    """AIDs listed by PPSE (in the FCI) or PSE (in the records of its SFI), by priority; [] when neither is
    there."""
    entries: list[Tlv] = []
    try:
        entries = [t for t in iter_tlv(parse_ber_tlv(select_by_name(transmit, PPSE, step="select PPSE")))
                   if t.tag == 0x61]
    except StatusWordError as exc:
        if exc.sw not in ABSENT_SWS:
            raise
    if not entries:
        try:
            fci = parse_ber_tlv(select_by_name(transmit, PSE, step="select PSE"))
        except StatusWordError as exc:
            if exc.sw not in ABSENT_SWS:
                raise
            return []
        sfi_item = find_tlv(fci, 0x88)
        sfi = sfi_item.value[0] if sfi_item and sfi_item.value else 1
        for number in range(1, 17):
            try:
                record = read_record(transmit, number, sfi & 0x1F, step=f"read PSE {number}")
            except StatusWordError as exc:
                if exc.sw in (0x6A83, 0x6A82):
                    break
                raise
            entries += [t for t in iter_tlv(parse_ber_tlv(record)) if t.tag == 0x61]

    def priority(entry: Tlv) -> int:
        found = find_tlv(entry.children, 0x87)
        return found.value[0] & 0x0F if found and found.value else 0x10

    aids = []
    for entry in sorted(entries, key=priority):
        aid = find_tlv(entry.children, 0x4F)
        if aid and 5 <= len(aid.value) <= 16:
            aids.append(aid.value)
    return aids


def _afl_records(afl: bytes) -> list[tuple[int, int]]:
    if len(afl) % 4:
        raise ProtocolError(GARBLED, detail=f"AFL length {len(afl)}")
    records: list[tuple[int, int]] = []
    for i in range(0, len(afl), 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        if not 1 <= sfi <= 30 or first == 0 or last < first:
            raise ProtocolError(GARBLED, detail=f"AFL entry {afl[i : i + 4].hex()}")
        records += [(sfi, number) for number in range(first, last + 1)]
    if len(records) > MAX_AFL_RECORDS:
        raise ProtocolError(GARBLED, detail=f"AFL lists {len(records)} records")
    return records


def read_bank_application(transmit: Transmit) -> CardRecord:
    """Read name and ID number from the financial application (PBOC: tags 5F20, 9F61, 9F62)."""
    aid = b""
    fci: list[Tlv] = []
    for candidate in _directory_aids(transmit) or list(UNIONPAY_AIDS):
        try:
            fci = parse_ber_tlv(select_by_name(transmit, candidate, step="select bank AID"))
        except StatusWordError as exc:
            if exc.sw in ABSENT_SWS:
                continue
            raise
        aid = candidate
        break
    if not aid:
        raise CardUnreadable(UNKNOWN_CARD, detail="no financial application")

    pdol = find_tlv(fci, 0x9F38)
    pdol_length = sum(length for _, length in parse_dol(pdol.value)) if pdol else 0
    if pdol_length > 250:
        raise ProtocolError(GARBLED, detail=f"PDOL asks {pdol_length} bytes")
    # Zeros are valid "unknown" values for every PDOL item; the card only needs the lengths to add up.
    gpo = exchange(transmit, 0x80, 0xA8, 0x00, 0x00, bytes((0x83, pdol_length)) + bytes(pdol_length), 0,
                   step="GET PROCESSING OPTIONS")
    if gpo[:1] == b"\x80":  # format 1: AIP (2 bytes) then the AFL, untagged
        afl = parse_ber_tlv(gpo)[0].value[2:]
    else:
        afl_item = find_tlv(parse_ber_tlv(gpo), 0x94)
        if afl_item is None:
            raise ProtocolError(GARBLED, detail="GPO answer has no AFL")
        afl = afl_item.value

    found: dict[int, bytes] = {}
    for sfi, record_no in _afl_records(afl):
        answer = read_record(transmit, record_no, sfi, step=f"read SFI {sfi}/{record_no}")
        for item in iter_tlv(parse_ber_tlv(answer)):
            if item.tag in (0x5F20, 0x9F61, 0x9F62, 0x50):
                found.setdefault(item.tag, item.value)
    if 0x5F20 not in found or 0x9F61 not in found:
        raise CardUnreadable("此卡的金融应用中没有持卡人信息，请改用身份证或人工录入",
                             detail=f"bank app {aid.hex().upper()}: no 5F20/9F61")
    name = decode_text(found[0x5F20], "姓名")
    number = decode_ascii(found[0x9F61], "ID number")
    if not name or not number:
        raise CardUnreadable("此卡的金融应用中没有持卡人信息，请改用身份证或人工录入", detail="empty 5F20/9F61")
    extra = {"source": "bank", "bank_app": aid.hex().upper()}
    id_type = found.get(0x9F62, b"")
    if id_type:
        extra["id_type"] = ID_TYPES.get(id_type[0], f"{id_type[0]:02X}")
    if 0x50 in found:
        label = _strip_padding(found[0x50])
        if label and all(0x20 <= b < 0x7F for b in label):
            extra["bank_app_label"] = label.decode("ascii")
    return CardRecord(
        kind=CardKind.SOCIAL_SECURITY,
        name=name,
        sex="",
        nation="",
        birth_date=None,
        address="",
        id_number=number,
        authority="",
        valid_from=None,
        valid_to=None,
        extra=extra,
    )


# --- Both -----------------------------------------------------------------------------------------------------


def _is_absent(error: ReaderError) -> bool:
    return (isinstance(error, StatusWordError) and error.sw in ABSENT_SWS) or error.message == UNKNOWN_CARD


def read_social_security_card(transmit: Transmit) -> CardRecord:
    """The social security application first, the financial application when it is absent or refuses.

    Which error a person sees when both fail: the social security one (e.g. 6982 "需要专用设备"), unless that
    application simply is not on the card, in which case the financial one; both absent -> "无法识别此卡".
    Service and cancellation errors are never masked by a fallback attempt.
    """
    try:
        return read_ssc_application(transmit)
    except (ReaderUnavailable, Cancelled):
        raise
    except ReaderError as ssc_error:
        try:
            record = read_bank_application(transmit)
        except (ReaderUnavailable, Cancelled):
            raise
        except ReaderError as bank_error:
            if not _is_absent(ssc_error):
                raise ssc_error from bank_error
            if _is_absent(bank_error):
                raise CardUnreadable(UNKNOWN_CARD, detail=f"{ssc_error.detail}; {bank_error.detail}") from None
            raise bank_error from None
        record.extra["fallback_reason"] = ssc_error.detail
        return record
