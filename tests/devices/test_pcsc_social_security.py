"""The social security card application logic against the virtual card model, without pcscd (fast)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.identity.card import CardKind, CardRecord
from devices.identity.pcsc.social_security import (
    PPSE,
    PSE,
    UNKNOWN_CARD,
    StatusWordError,
    Transmit,
    decode_text,
    exchange,
    parse_ber_tlv,
    read_social_security_card,
    ssc_record_value,
)
from devices.identity.reader import CardUnreadable, ProtocolError, ReaderError
from devices.simulators.vicc import (
    SAMPLE_PEOPLE,
    CardFault,
    SamplePerson,
    VirtualSocialSecurityCard,
    ber_tlv,
)
from kiosk_app.identity import is_valid_id_number

MAX_APDUS = 200  # far above a real read (~30); more would mean a loop


def transmit_to(card: VirtualSocialSecurityCard, intercept: Callable[[bytes], bytes | None] | None = None) -> Transmit:
    """A transmit over the card model; `intercept` may answer an APDU itself (response + SW)."""

    def transmit(apdu: bytes) -> tuple[bytes, int, int]:
        assert len(card.log) < MAX_APDUS, "the reader is looping"
        answer = intercept(apdu) if intercept else None
        if answer is None:
            answer = card.answer(apdu)
        else:
            card.log.append(apdu)
        assert answer is not None
        return answer[:-2], answer[-2], answer[-1]

    return transmit


def select_of(name: bytes) -> bytes:
    return bytes((0x00, 0xA4, 0x04, 0x00, len(name))) + name


@pytest.mark.parametrize("t0_style", [True, False], ids=["t0", "t1"])
@pytest.mark.parametrize("person", SAMPLE_PEOPLE, ids=lambda p: p.card_no)
def test_ssc_application_decodes_every_field(person: SamplePerson, t0_style: bool) -> None:
    card = VirtualSocialSecurityCard(person, t0_style=t0_style)
    record = read_social_security_card(transmit_to(card))
    assert record.kind is CardKind.SOCIAL_SECURITY
    assert (record.name, record.id_number, record.sex) == (person.name, person.id_number, person.sex)
    assert record.birth_date == person.birth_date
    assert (record.valid_from, record.valid_to) == (person.issued, person.expires)
    assert record.extra["source"] == "ssc"
    assert record.extra["social_security_no"] == person.id_number
    assert record.extra["card_no"] == person.card_no
    assert record.extra["card_version"] == person.card_version
    assert record.extra["birthplace_code"] == person.birthplace
    assert record.extra["issuing_region"] == person.birthplace
    assert record.extra["nation_code"] == person.nation_code
    assert record.address == "" and record.photo is None
    if t0_style:  # the model answered SELECT with 61xx and READ RECORD (Le 00) with 6Cxx: both were followed
        assert any(apdu[1] == 0xC0 for apdu in card.log)
        assert len(card.log) > 20


def test_nation_and_rare_character_name() -> None:
    she_people = read_social_security_card(transmit_to(VirtualSocialSecurityCard(SAMPLE_PEOPLE[1])))
    assert she_people.nation == "畲" and she_people.sex == "男"
    rare = read_social_security_card(transmit_to(VirtualSocialSecurityCard(SAMPLE_PEOPLE[2])))
    assert rare.name == "周䶮芳"  # U+4DAE is outside GBK's two-byte range: GB 18030 four-byte sequence


def test_sample_people_have_valid_id_numbers() -> None:
    # The simulator computes check digits itself (devices may not import kiosk_app); the app's rules agree.
    for person in SAMPLE_PEOPLE:
        assert is_valid_id_number(person.id_number)
        assert int(person.id_number[16]) % 2 == (person.sex == "男")


def test_missing_ssc_application_falls_back_to_bank() -> None:
    person = SAMPLE_PEOPLE[0]
    record = read_social_security_card(transmit_to(VirtualSocialSecurityCard(person, with_ssc_app=False)))
    assert (record.name, record.id_number) == (person.name, person.id_number)
    assert record.extra["source"] == "bank"
    assert record.extra["id_type"] == "身份证"
    assert record.extra["bank_app"] == "A000000333010101"
    assert "6A82" in record.extra["fallback_reason"]
    assert (record.sex, record.birth_date, record.nation) == ("", None, "")


def test_refused_ssc_application_falls_back_to_bank() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[1], fault=CardFault.REFUSE_SSC)
    record = read_social_security_card(transmit_to(card))
    assert record.extra["source"] == "bank" and "6982" in record.extra["fallback_reason"]
    assert record.name == SAMPLE_PEOPLE[1].name


def test_refusal_without_bank_application_says_where_to_go() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], fault=CardFault.REFUSE_SSC, with_bank_app=False)
    with pytest.raises(StatusWordError) as caught:
        read_social_security_card(transmit_to(card))
    assert caught.value.sw == 0x6982
    assert "人社窗口专用设备" in caught.value.message


def test_card_without_either_application_is_unknown() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], with_ssc_app=False, with_bank_app=False)
    with pytest.raises(CardUnreadable) as caught:
        read_social_security_card(transmit_to(card))
    assert caught.value.message == UNKNOWN_CARD


def test_pse_used_when_ppse_is_absent() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], with_ssc_app=False)
    transmit = transmit_to(card, lambda apdu: b"\x6a\x82" if apdu.startswith(select_of(PPSE)) else None)
    assert read_social_security_card(transmit).extra["source"] == "bank"
    assert any(apdu.startswith(select_of(PSE)) for apdu in card.log)


def test_well_known_aids_tried_without_directories() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], with_ssc_app=False)

    def no_directories(apdu: bytes) -> bytes | None:
        return b"\x6a\x82" if apdu.startswith((select_of(PPSE), select_of(PSE))) else None

    assert read_social_security_card(transmit_to(card, no_directories)).name == SAMPLE_PEOPLE[0].name


def test_gpo_format_1_answer() -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], with_ssc_app=False, t0_style=False)

    def format_1(apdu: bytes) -> bytes | None:
        if apdu[:2] != b"\x80\xa8":
            return None
        answer = card.answer(apdu)
        assert answer is not None and answer[-2:] == b"\x90\x00"
        card.log.pop()
        template = parse_ber_tlv(answer[:-2])[0]
        aip, afl = (next(c.value for c in template.children if c.tag == tag) for tag in (0x82, 0x94))
        return ber_tlv(0x80, aip + afl) + b"\x90\x00"

    assert read_social_security_card(transmit_to(card, format_1)).extra["source"] == "bank"


def test_get_response_chain_and_wrong_le() -> None:
    answers = iter([(b"", 0x6C, 0x05), (b"\x01\x02", 0x61, 0x03), (b"\x03\x04\x05", 0x90, 0x00)])
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> tuple[bytes, int, int]:
        sent.append(apdu)
        return next(answers)

    assert exchange(transmit, 0x00, 0xB2, 0x09, 0x04, le=0, step="t") == b"\x01\x02\x03\x04\x05"
    assert sent == [bytes.fromhex("00B2090400"), bytes.fromhex("00B2090405"), bytes.fromhex("00C0000003")]


def test_endless_61xx_and_repeated_6c_are_protocol_errors() -> None:
    calls = 0

    def endless(apdu: bytes) -> tuple[bytes, int, int]:
        nonlocal calls
        calls += 1
        return b"\x00", 0x61, 0x01

    with pytest.raises(ProtocolError):
        exchange(endless, 0x00, 0xA4, 0x04, 0x00, b"x", step="t")
    assert calls < 20
    with pytest.raises(ProtocolError):
        exchange(lambda apdu: (b"", 0x6C, 0x10), 0x00, 0xB2, 1, 4, step="t")


@pytest.mark.parametrize("fault", [CardFault.TRUNCATED_TLV, CardFault.GARBAGE])
def test_broken_cards_give_plain_errors(fault: CardFault) -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], fault=fault, seed=7)
    with pytest.raises((ProtocolError, CardUnreadable)) as caught:
        read_social_security_card(transmit_to(card))
    assert "社保卡" in caught.value.message


def test_record_and_text_decoding_errors() -> None:
    assert ssc_record_value(0x09, bytes((0x09, 2)) + b"ab\x00\x00") == b"ab"
    with pytest.raises(ProtocolError, match="社保卡数据有误"):
        ssc_record_value(0x09, bytes((0x09, 30)) + b"short")
    with pytest.raises(ProtocolError):
        ssc_record_value(0x09, bytes((0x08, 1)) + b"a")
    assert decode_text("叶春兰".encode("gbk") + bytes(24), "姓名") == "叶春兰"
    with pytest.raises(ProtocolError, match="姓名无法识别"):
        decode_text(b"\x81\x20", "姓名")
    with pytest.raises(ProtocolError):
        decode_text(b"ab\x07", "姓名")


def test_ber_tlv_nesting_padding_and_long_lengths() -> None:
    inner = ber_tlv(0x5F20, b"x" * 200) + ber_tlv(0x9F62, b"\x00")
    items = parse_ber_tlv(b"\x00\x00" + ber_tlv(0x70, inner) + b"\xff")
    assert [c.tag for c in items[0].children] == [0x5F20, 0x9F62]
    assert items[0].children[0].value == b"x" * 200
    with pytest.raises(ProtocolError):
        parse_ber_tlv(ber_tlv(0x70, inner)[:-3])
    with pytest.raises(ProtocolError):
        parse_ber_tlv(b"\x9f")


# --- Property tests: whatever the card says, the reader ends with a record or a ReaderError ---------------

_SWS = st.sampled_from([0x9000, 0x6A82, 0x6982, 0x6A83, 0x6100, 0x6110, 0x61FF, 0x6C00, 0x6C12, 0x6700, 0x6F00])
_ANSWERS = st.tuples(st.binary(max_size=64), st.one_of(_SWS, st.integers(0, 0xFFFF)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ANSWERS, max_size=60), _ANSWERS)
def test_random_answers_end_in_record_or_reader_error(
    answers: list[tuple[bytes, int]], last: tuple[bytes, int]
) -> None:
    script = iter(answers)
    calls = 0

    def transmit(apdu: bytes) -> tuple[bytes, int, int]:
        nonlocal calls
        calls += 1
        assert calls < MAX_APDUS, "the reader is looping"
        data, sw = next(script, last)
        return data, sw >> 8, sw & 0xFF

    try:
        record = read_social_security_card(transmit)
    except ReaderError:
        return
    assert isinstance(record, CardRecord) and record.name and record.id_number


_MUTATIONS = st.sampled_from(["flip", "truncate", "extend", "sw", "empty"])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 2),
    st.booleans(),
    st.booleans(),
    st.dictionaries(st.integers(1, 40), st.tuples(_MUTATIONS, st.integers(0, 255), st.binary(max_size=8)), max_size=4),
)
def test_mutated_card_answers_end_in_record_or_reader_error(
    who: int, with_ssc: bool, t0_style: bool, mutations: dict[int, tuple[str, int, bytes]]
) -> None:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[who], with_ssc_app=with_ssc, t0_style=t0_style)
    index = 0

    def mutate(apdu: bytes) -> bytes | None:
        nonlocal index
        index += 1
        if index not in mutations:
            return None
        answer = card.answer(apdu)
        card.log.pop()
        assert answer is not None
        kind, position, junk = mutations[index]
        body, sw = answer[:-2], answer[-2:]
        if kind == "flip" and body:
            i = position % len(body)
            body = body[:i] + bytes((body[i] ^ 0xFF,)) + body[i + 1 :]
        elif kind == "truncate":
            body = body[: position % (len(body) + 1)]
        elif kind == "extend":
            body += junk
        elif kind == "sw":
            sw = bytes((position, junk[0] if junk else 0))
        elif kind == "empty":
            body = b""
        return body + sw

    try:
        record = read_social_security_card(transmit_to(card, mutate))
    except ReaderError:
        return
    assert isinstance(record, CardRecord) and record.kind is CardKind.SOCIAL_SECURITY


@given(st.binary(max_size=300))
def test_ber_tlv_parser_never_raises_anything_else(data: bytes) -> None:
    try:
        items = parse_ber_tlv(data)
    except ProtocolError:
        return
    assert all(isinstance(item.tag, int) for item in items)


@given(st.lists(st.tuples(st.sampled_from([0x50, 0x5A, 0x5F20, 0x9F61, 0x9F62, 0xDF8101]), st.binary(max_size=300))))
def test_ber_tlv_round_trip(objects: list[tuple[int, bytes]]) -> None:
    encoded = b"".join(ber_tlv(tag, value) for tag, value in objects)
    assert [(t.tag, t.value) for t in parse_ber_tlv(encoded)] == objects


@given(st.binary(max_size=40))
def test_text_decoder_returns_text_or_protocol_error(data: bytes) -> None:
    try:
        assert isinstance(decode_text(data, "姓名"), str)
    except ProtocolError as exc:
        assert exc.message.startswith("卡内姓名")


def test_dates_that_are_not_dates_become_none() -> None:
    person = SamplePerson("测试", "女", "01", date(1980, 1, 1), "330102198001010024", "330102", "A00000001",
                          date(2020, 1, 1), date(2030, 1, 1))
    card = VirtualSocialSecurityCard(person)
    card.ssc_records[0x06] = bytes(4)  # all-zero expiry: unknown, not an error
    card.ssc_records[0x0D] = bytes.fromhex("19801399")  # month 13
    record = read_social_security_card(transmit_to(card))
    assert record.valid_to is None and record.birth_date is None and record.name == "测试"
