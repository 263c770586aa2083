"""The SAM text block: the four layouts at their byte offsets, the nation table, and hostile blocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.identity.card import LONG_TERM, CardKind, CardRecord
from devices.identity.nations import NATIONS, nation_code, nation_name
from devices.identity.reader import CardUnreadable
from devices.identity.samv.text_block import (
    FOREIGN_2017_LAYOUT,
    FOREIGN_2023_LAYOUT,
    HKMOTW_LAYOUT,
    RESIDENT_LAYOUT,
    as_read,
    decode_text_block,
    encode_text_block,
)
from devices.identity.samv.wlt import ENV_VAR, bmp_from_pixels, find_wlt_decoder
from devices.simulators.sample_cards import (
    DECK,
    ELDERLY_LONG_TERM,
    FOREIGN_2017,
    FOREIGN_2023,
    HONG_KONG_PERMIT,
    SHE_SUICHANG,
    YOUNG_HANGZHOU,
    gb11643_check,
    mrz_check,
)


def field(block: bytes, offset: int, size: int) -> str:
    return block[offset : offset + size].decode("utf-16-le").rstrip(" ")


def put(block: bytes, offset: int, text: str) -> bytes:
    raw = text.encode("utf-16-le")
    return block[:offset] + raw + block[offset + len(raw) :]


@pytest.mark.parametrize("card", DECK, ids=lambda c: c.kind.value + "-" + c.id_number[-4:])
def test_deck_round_trips(card: CardRecord) -> None:
    block = encode_text_block(card)
    assert len(block) == 256
    record = decode_text_block(block, card.photo)
    assert record == as_read(card)
    assert record.photo == card.photo


def test_resident_layout_offsets() -> None:
    block = encode_text_block(SHE_SUICHANG)
    assert field(block, 0, 30) == "蓝秀英"
    assert field(block, 30, 2) == "2"
    assert field(block, 32, 4) == "22"  # 畲
    assert field(block, 36, 16) == "19680315"
    assert field(block, 52, 70) == SHE_SUICHANG.address
    assert field(block, 122, 36) == SHE_SUICHANG.id_number
    assert SHE_SUICHANG.id_number.startswith("331123")
    assert field(block, 158, 30) == "遂昌县公安局"
    assert (field(block, 188, 16), field(block, 204, 16)) == ("20160520", "20360520")
    assert block[248:250] == " ".encode("utf-16-le")
    record = decode_text_block(block)
    assert (record.kind, record.sex, record.nation, record.birth_date) == (
        CardKind.RESIDENT,
        "女",
        "畲",
        date(1968, 3, 15),
    )


def test_long_term_validity_and_x_check_character() -> None:
    block = encode_text_block(ELDERLY_LONG_TERM)
    assert field(block, 204, 16) == "长期"
    assert decode_text_block(block).valid_to == LONG_TERM
    assert decode_text_block(encode_text_block(YOUNG_HANGZHOU)).id_number.endswith("X")


def test_hkmotw_layout() -> None:
    block = encode_text_block(HONG_KONG_PERMIT)
    assert block[248:250] == "J".encode("utf-16-le")
    assert field(block, 220, 18) == "H60123456"
    assert field(block, 238, 4) == "01"
    assert field(block, 32, 4) == ""
    record = decode_text_block(block)
    assert record.kind is CardKind.HKMOTW_PERMIT
    assert record.id_number.startswith("81")
    assert record.nation == ""
    assert record.extra == {"pass_number": "H60123456", "issue_count": "01"}


def test_foreign_2017_layout() -> None:
    block = encode_text_block(FOREIGN_2017)
    assert block[248:250] == "I".encode("utf-16-le")
    assert field(block, 0, 120) == "MORGAN, EMILY ROSE"
    assert field(block, 120, 2) == "2"
    assert field(block, 122, 30) == FOREIGN_2017.id_number and len(FOREIGN_2017.id_number) == 15
    assert field(block, 152, 6) == "CAN"
    assert field(block, 158, 30) == "摩根"
    assert field(block, 220, 16) == "19800512"
    assert field(block, 236, 4) == "01"
    assert field(block, 240, 8) == "1500"
    record = decode_text_block(block)
    assert (record.kind, record.name, record.nation, record.address) == (CardKind.FOREIGN_PERMANENT, "摩根", "", "")
    assert record.extra == {
        "english_name": "MORGAN, EMILY ROSE",
        "nationality": "CAN",
        "card_version": "01",
        "authority_code": "1500",
    }


def test_foreign_2023_layout_as_assumed() -> None:
    block = encode_text_block(FOREIGN_2023)
    assert block[248:250] == "Y".encode("utf-16-le")
    assert field(block, 122, 36) == FOREIGN_2023.id_number
    assert FOREIGN_2023.id_number.startswith("9") and len(FOREIGN_2023.id_number) == 18
    assert field(block, 240, 6) == "DEU"
    record = decode_text_block(block)
    assert record.kind is CardKind.FOREIGN_PERMANENT
    assert (record.extra["english_name"], record.extra["nationality"]) == ("WAGNER, LUKAS JOHANNES", "DEU")


def test_layout_tables_fit_and_do_not_overlap() -> None:
    for layout in (RESIDENT_LAYOUT, HKMOTW_LAYOUT, FOREIGN_2017_LAYOUT, FOREIGN_2023_LAYOUT):
        spans = sorted((*layout.values(), (248, 2)))
        for (offset, size), (next_offset, _) in pairwise(spans):
            assert offset % 2 == 0 and size % 2 == 0
            assert offset + size <= next_offset
        assert spans[-1][0] + spans[-1][1] <= 256


def test_check_digit_helpers() -> None:
    assert gb11643_check("11010519491231002") == "X"
    assert mrz_check("L898902C3") == "6"  # ICAO 9303 specimen passport number


@pytest.mark.parametrize(("code", "sex"), [("1", "男"), ("2", "女"), ("0", ""), ("9", "")])
def test_sex_codes(code: str, sex: str) -> None:
    assert decode_text_block(put(encode_text_block(SHE_SUICHANG), 30, code)).sex == sex


def test_nation_table() -> None:
    assert len(NATIONS) == 58
    assert [NATIONS[c] for c in ("01", "02", "05", "22", "56", "97", "98")] == [
        "汉",
        "蒙古",
        "维吾尔",
        "畲",
        "基诺",
        "其他",
        "外国血统",
    ]
    assert nation_code("畲族") == "22" and nation_code("蒙古") == "02"
    assert nation_name("57") is None and nation_code("火星") is None
    for code, name in NATIONS.items():
        card = replace(SHE_SUICHANG, nation=name)
        block = encode_text_block(card)
        assert field(block, 32, 4) == code
        assert decode_text_block(block).nation == name


def odd_blocks() -> list[tuple[str, bytes]]:
    good = encode_text_block(SHE_SUICHANG)
    return [
        ("short", good[:255]),
        ("long", good + b"\x20\x00"),
        ("empty", b""),
        ("lone surrogate in name", good[:2] + b"\x00\xd8" + good[4:]),
        ("control character", put(good, 0, "蓝\x07")),
        ("impossible date", put(good, 36, "19680230")),
        ("date of letters", put(good, 188, "2016052A")),
        ("blank birth", put(good, 36, " " * 8)),
        ("unknown nation", put(good, 32, "77")),
        ("blank nation on a resident card", put(good, 32, "  ")),
        ("unknown sex", put(good, 30, "5")),
        ("unknown card type", put(good, 248, "Z")),
        ("Chinese in the number", put(good, 122, "三三")),
        ("zeros", bytes(256)),
        ("0xFF", b"\xff" * 256),
    ]


@pytest.mark.parametrize(("why", "block"), odd_blocks(), ids=[why for why, _ in odd_blocks()])
def test_odd_blocks_are_card_unreadable(why: str, block: bytes) -> None:
    with pytest.raises(CardUnreadable) as caught:
        decode_text_block(block)
    assert caught.value.message in (
        "身份证信息读取不完整，请将身份证重新放好",
        "无法识别此证件类型，请放入居民身份证、居住证或外国人永久居留身份证",
    )


def test_encoder_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        encode_text_block(replace(SHE_SUICHANG, name="很" * 16))
    with pytest.raises(ValueError):
        encode_text_block(replace(SHE_SUICHANG, kind=CardKind.SOCIAL_SECURITY))


@settings(max_examples=400, deadline=1000)
@given(st.binary(min_size=0, max_size=300))
def test_random_blocks_decode_or_refuse_plainly(block: bytes) -> None:
    try:
        record = decode_text_block(block)
    except CardUnreadable:
        return
    assert isinstance(record, CardRecord)


@settings(max_examples=400, deadline=1000)
@given(
    st.sampled_from(DECK),
    st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_mutated_blocks_decode_or_refuse_plainly(card: CardRecord, flips: list[tuple[int, int]]) -> None:
    block = bytearray(encode_text_block(card))
    for position, value in flips:
        block[position] = value
    try:
        record = decode_text_block(bytes(block))
    except CardUnreadable:
        return
    assert record.kind in (CardKind.RESIDENT, CardKind.HKMOTW_PERMIT, CardKind.FOREIGN_PERMANENT)
    assert record.birth_date is not None and record.valid_from is not None


@settings(max_examples=200, deadline=1000)
@given(st.text(max_size=15), st.text(max_size=35))
def test_any_text_in_name_and_address(name: str, address: str) -> None:
    card = replace(SHE_SUICHANG, name=name, address=address)
    try:
        block = encode_text_block(card)
    except ValueError:
        return  # characters outside the BMP take two UCS-2 units and may not fit
    try:
        record = decode_text_block(block)
    except CardUnreadable:
        return
    assert record.name == name.strip(" \x00") and record.address == address.strip(" \x00")


# --- the photo ---------------------------------------------------------------------------------------------------


def test_no_wlt_decoder_without_a_vendor_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert find_wlt_decoder() is None
    monkeypatch.setenv(ENV_VAR, "/nonexistent/libwlt.so")
    assert find_wlt_decoder() is None
    monkeypatch.setenv(ENV_VAR, "libc.so.6")  # loads, but is no WLT decoder
    assert find_wlt_decoder() is None


def test_bmp_wrapping_of_bare_pixels() -> None:
    bmp = bmp_from_pixels(bytes(102 * 3 * 126))
    assert bmp[:2] == b"BM" and len(bmp) == 38862
    assert int.from_bytes(bmp[18:22], "little", signed=True) == 102
    assert int.from_bytes(bmp[22:26], "little", signed=True) == 126
    with pytest.raises(CardUnreadable):
        bmp_from_pixels(b"\x00" * 10)
