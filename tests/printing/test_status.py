"""DLE EOT answers: every meaningful bit, the fixed bits, garbage, and the error each status raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printing.printer import CoverOpen, PaperOut, PrinterFault, PrinterStatus
from devices.printing.status import (
    ALL_REQUESTS,
    MSG_COVER_OPEN,
    MSG_GARBAGE,
    MSG_OFFLINE,
    MSG_PAPER_OUT,
    REQUESTS,
    UNKNOWN_STATUS,
    answer_bytes,
    parse_status,
    raise_for_status,
)

IDLE = 0x12  # fixed bits only: bit 1 and bit 4 set


def answers(printer: int = 0, offline: int = 0, error: int = 0, paper: int = 0) -> bytes:
    return bytes([IDLE | printer, IDLE | offline, IDLE | error, IDLE | paper])


def test_requests_are_dle_eot_1_to_4() -> None:
    assert REQUESTS == {1: b"\x10\x04\x01", 2: b"\x10\x04\x02", 3: b"\x10\x04\x03", 4: b"\x10\x04\x04"}
    assert ALL_REQUESTS == b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"


def test_idle_printer_is_ok() -> None:
    status = parse_status(answers())
    assert status == PrinterStatus(online=True) and status.ok and status.known


@pytest.mark.parametrize(("raw", "expected"), [
    (answers(printer=0x08), PrinterStatus(online=False)),  # n=1 bit 3 offline
    (answers(printer=0x04), PrinterStatus(online=True)),  # n=1 bit 2 drawer signal: ignored
    (answers(offline=0x04), PrinterStatus(online=True, cover_open=True)),  # n=2 bit 2
    (answers(offline=0x08), PrinterStatus(online=True)),  # n=2 bit 3 feed button: not an error
    (answers(offline=0x20), PrinterStatus(online=True, paper_out=True)),  # n=2 bit 5
    (answers(offline=0x40), PrinterStatus(online=True, error=True)),  # n=2 bit 6
    (answers(error=0x08), PrinterStatus(online=True, error=True)),  # n=3 bit 3 autocutter
    (answers(error=0x20), PrinterStatus(online=True, error=True)),  # n=3 bit 5 unrecoverable
    (answers(error=0x40), PrinterStatus(online=True, error=True)),  # n=3 bit 6 auto-recoverable
    (answers(paper=0x04), PrinterStatus(online=True, paper_near_end=True)),  # n=4 bits 2-3
    (answers(paper=0x08), PrinterStatus(online=True, paper_near_end=True)),
    (answers(paper=0x0C), PrinterStatus(online=True, paper_near_end=True)),
    (answers(paper=0x20), PrinterStatus(online=True, paper_out=True)),  # n=4 bits 5-6
    (answers(paper=0x40), PrinterStatus(online=True, paper_out=True)),
    (answers(printer=0x08, offline=0x20, paper=0x6C),
     PrinterStatus(online=False, paper_out=True, paper_near_end=True)),
])
def test_each_status_bit(raw: bytes, expected: PrinterStatus) -> None:
    assert parse_status(raw) == expected


def test_near_end_alone_still_prints() -> None:
    assert parse_status(answers(paper=0x0C)).ok


@pytest.mark.parametrize("position", range(4))
@pytest.mark.parametrize("bad", [IDLE | 0x01, IDLE & ~0x02, IDLE & ~0x10, IDLE | 0x80, 0x00, 0xFF])
def test_fixed_bits_are_checked_in_every_answer(position: int, bad: int) -> None:
    raw = bytearray(answers())
    raw[position] = bad
    with pytest.raises(PrinterFault) as caught:
        parse_status(bytes(raw))
    assert caught.value.message == MSG_GARBAGE
    assert f"DLE EOT {position + 1}" in caught.value.detail


@pytest.mark.parametrize("raw", [b"", b"\x12", b"\x12\x12\x12", b"\x12" * 5])
def test_wrong_number_of_answers_is_a_fault(raw: bytes) -> None:
    with pytest.raises(PrinterFault, match="状态回应异常"):
        parse_status(raw)


@given(st.binary(min_size=4, max_size=4))
def test_any_four_bytes_parse_or_fault_never_crash(raw: bytes) -> None:
    valid = all(b & 0x93 == 0x12 for b in raw)
    try:
        parse_status(raw)
    except PrinterFault:
        assert not valid
    else:
        assert valid


@given(st.lists(st.integers(0, 255).map(lambda v: v & ~0x93 | 0x12), min_size=4, max_size=4))
def test_well_formed_answers_always_parse_and_survive_the_emulator_side(values: list[int]) -> None:
    status = parse_status(bytes(values))
    assert parse_status(answer_bytes(status)) == status
    assert status.online == (not values[0] & 0x08)


@pytest.mark.parametrize("status", [
    PrinterStatus(online=True),
    PrinterStatus(online=False, paper_out=True, paper_near_end=True),
    PrinterStatus(online=False, cover_open=True),
    PrinterStatus(online=False, error=True),
    PrinterStatus(online=True, paper_near_end=True),
])
def test_emulator_answers_parse_back(status: PrinterStatus) -> None:
    assert parse_status(answer_bytes(status)) == status


@pytest.mark.parametrize(("status", "error", "message"), [
    (PrinterStatus(online=False, paper_out=True, cover_open=True), PaperOut, MSG_PAPER_OUT),
    (PrinterStatus(online=False, cover_open=True), CoverOpen, MSG_COVER_OPEN),
    (PrinterStatus(online=False, error=True), PrinterFault, "打印机故障，请联系工作人员"),
    (PrinterStatus(online=False), PrinterFault, MSG_OFFLINE),
])
def test_raise_for_status_names_the_cause(status: PrinterStatus, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        raise_for_status(status)
    assert str(caught.value).startswith(message)


def test_ok_or_unknown_status_raises_nothing() -> None:
    raise_for_status(PrinterStatus(online=True, paper_near_end=True))
    raise_for_status(UNKNOWN_STATUS)
    assert not UNKNOWN_STATUS.known
