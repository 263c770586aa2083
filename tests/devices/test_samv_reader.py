"""SamvReader against the GA 467 emulator: a real pty, real pyserial, real frames, injected faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pytest

from devices.identity.card import CardRecord
from devices.identity.owner import ReaderOwner
from devices.identity.reader import (
    Cancelled,
    CardUnreadable,
    IdentityReader,
    NoCard,
    ProtocolError,
    ReaderError,
    ReaderUnavailable,
)
from devices.identity.samv.backend import (
    NO_ANSWER,
    NOT_FOUND,
    PLACE_AGAIN,
    PLACE_CARD,
    READING,
    TAKE_CARD,
    UNPLUGGED,
    SamvReader,
)
from devices.identity.samv.frames import ERROR_STATUSES, Command, Status, status_error
from devices.identity.samv.text_block import as_read
from devices.simulators.sample_cards import DECK, ELDERLY_LONG_TERM, SHE_SUICHANG
from devices.simulators.samv_emulator import Fault, SamvEmulator

T = TypeVar("T")


class RecordingHandler:
    def __init__(self) -> None:
        self.prompts: list[str] = []

    def prompt(self, message: str) -> None:
        self.prompts.append(message)


@pytest.fixture
def emulator() -> Iterator[SamvEmulator]:
    with SamvEmulator(pacing=False) as emu:
        yield emu


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def reader(emulator: SamvEmulator, handler: RecordingHandler) -> Iterator[SamvReader]:
    device = SamvReader(emulator.path, handler=handler, poll_interval=0.02, response_timeout=0.3)
    device.open()
    yield device
    device.close()


def in_thread(fn: Callable[[], T]) -> tuple[ThreadPoolExecutor, Future[T]]:
    pool = ThreadPoolExecutor(max_workers=1)
    return pool, pool.submit(fn)


def read_again(emulator: SamvEmulator, reader: SamvReader, card: CardRecord = SHE_SUICHANG) -> None:
    """The recovery check after a fault: a fresh card placement reads correctly."""
    emulator.remove()
    emulator.insert(card)
    assert reader.read_card(2.0) == as_read(card)


def test_satisfies_the_protocol(reader: SamvReader) -> None:
    device: IdentityReader = reader
    assert device.url.startswith("samv:///")


def test_every_deck_card_reads_correctly(emulator: SamvEmulator, reader: SamvReader, handler: RecordingHandler) -> None:
    for card in DECK:
        emulator.insert(card)
        assert reader.card_present()
        record = reader.read_card(2.0)
        assert record == as_read(card)
        assert record.photo == card.photo and record.photo is not None and len(record.photo) == 1024
        emulator.remove()
    assert handler.prompts[:2] == [PLACE_CARD, READING]


def test_read_with_fingerprint_command(emulator: SamvEmulator, handler: RecordingHandler) -> None:
    device = SamvReader(emulator.path, handler=handler, poll_interval=0.02, read_fingerprint=True)
    emulator.insert(ELDERLY_LONG_TERM)
    assert device.read_card(2.0) == as_read(ELDERLY_LONG_TERM)
    assert emulator.command_counts[Command.READ_TEXT_PHOTO_FINGERPRINT] == 1
    assert emulator.command_counts[Command.READ_TEXT_PHOTO] == 0
    device.close()


def test_paced_read_takes_about_the_wire_time() -> None:
    with SamvEmulator(pacing=True) as emu:
        device = SamvReader(emu.path)
        device.open()
        emu.insert(SHE_SUICHANG)
        emu.reset_counters()
        started = time.monotonic()
        device.read_card(2.0)
        elapsed = time.monotonic() - started
        device.close()
    wire = (emu.bytes_sent + emu.bytes_received) * 10 / 115200
    assert emu.bytes_sent == 15 + 19 + 1295 + 11  # find, select, read, and the one-off removal-rule probe (80)
    assert wire <= elapsed < wire * 2


def test_health_reports_the_sam_id(reader: SamvReader) -> None:
    health = reader.health()
    assert health.ok and health.summary == "身份证读卡器工作正常"
    assert "05.01-20101010-0012345678-1234567890" in health.detail


def test_missing_port() -> None:
    device = SamvReader("/dev/does-not-exist-samv")
    with pytest.raises(ReaderUnavailable) as caught:
        device.open()
    assert caught.value.message == NOT_FOUND
    assert not device.health().ok
    with pytest.raises(ReaderUnavailable):
        device.read_card(0.1)


def test_latest_address(emulator: SamvEmulator, reader: SamvReader) -> None:
    emulator.insert(SHE_SUICHANG, latest_address="浙江省遂昌县妙高街道新路湾村5号")
    reader.read_card(2.0)
    assert reader.read_latest_address() == "浙江省遂昌县妙高街道新路湾村5号"
    emulator.insert(ELDERLY_LONG_TERM)
    reader.read_card(2.0)
    assert reader.read_latest_address() is None


# --- card-must-leave ----------------------------------------------------------------------------------------------


def test_card_must_leave_before_it_reads_again(emulator: SamvEmulator, reader: SamvReader) -> None:
    emulator.insert(SHE_SUICHANG)
    reader.read_card(2.0)
    assert not reader.card_present()  # the SAM will not find a card it has read
    with pytest.raises(NoCard):
        reader.read_card(0.2)
    assert reader.wait_for_removal(1.0)
    emulator.remove()
    emulator.insert(SHE_SUICHANG)
    assert reader.read_card(2.0) == as_read(SHE_SUICHANG)


def test_backend_enforces_the_rule_on_a_reader_that_does_not(handler: RecordingHandler) -> None:
    with SamvEmulator(pacing=False, halt_after_read=False) as emu:
        device = SamvReader(emu.path, handler=handler, poll_interval=0.02, response_timeout=0.3)
        emu.insert(SHE_SUICHANG)
        assert device.read_card(2.0) == as_read(SHE_SUICHANG)
        assert device.card_present()  # this reader finds the read card again ...
        with pytest.raises(NoCard):
            device.read_card(0.3)  # ... but the backend does not hand it out twice
        assert PLACE_AGAIN in handler.prompts
        assert emu.command_counts[Command.READ_TEXT_PHOTO] == 2  # refused once, then ignored
        assert not device.wait_for_removal(0.2)
        emu.remove()
        assert device.wait_for_removal(1.0)
        assert TAKE_CARD in handler.prompts
        emu.insert(SHE_SUICHANG)
        assert device.read_card(2.0) == as_read(SHE_SUICHANG)
        device.close()


# --- timeouts and cancelling -----------------------------------------------------------------------------------


def test_timeout_without_card_is_no_card(reader: SamvReader) -> None:
    started = time.monotonic()
    with pytest.raises(NoCard) as caught:
        reader.read_card(0.3)
    assert 0.3 <= time.monotonic() - started < 0.8
    assert caught.value.message == "未检测到身份证，请将身份证放在读卡区"


@pytest.mark.parametrize("silent", [False, True], ids=["polling", "waiting-for-bytes"])
def test_cancel_within_a_third_of_a_second(emulator: SamvEmulator, silent: bool) -> None:
    device = SamvReader(emulator.path, poll_interval=0.15, response_timeout=5.0)
    device.open()
    if silent:
        emulator.set_fault(Fault.SILENT)
    cancel = threading.Event()
    pool, future = in_thread(lambda: device.read_card(30.0, cancel))
    time.sleep(0.25)
    cancelled_at = time.monotonic()
    cancel.set()
    with pytest.raises(Cancelled):
        future.result(timeout=2)
    assert time.monotonic() - cancelled_at < 0.3
    pool.shutdown()
    emulator.clear_fault()
    read_again(emulator, device)
    device.close()


def test_cancel_through_the_owner_thread(emulator: SamvEmulator) -> None:
    owner = ReaderOwner(SamvReader(emulator.path, poll_interval=0.05))
    owner.open().result(timeout=2)
    future = owner.read_card(30.0)
    time.sleep(0.1)
    owner.cancel()
    with pytest.raises(Cancelled):
        future.result(timeout=1)
    emulator.insert(SHE_SUICHANG)
    assert owner.read_card(2.0).result(timeout=3) == as_read(SHE_SUICHANG)
    owner.close()


# --- faults -----------------------------------------------------------------------------------------------------

TRANSPORT_FAULTS = [Fault.BAD_CHECKSUM, Fault.TRUNCATED_FRAME, Fault.WRONG_LENGTH, Fault.SILENT]


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
def test_transient_transport_faults_are_retried_unnoticed(
    emulator: SamvEmulator, reader: SamvReader, fault: Fault
) -> None:
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(fault, count=2, command=Command.READ_TEXT_PHOTO)  # two of three attempts spoilt
    assert reader.read_card(3.0) == as_read(SHE_SUICHANG)
    assert emulator.command_counts[Command.READ_TEXT_PHOTO] == 3


def test_every_wrong_length_variant_is_survived(emulator: SamvEmulator, reader: SamvReader) -> None:
    for card in DECK[:4]:  # the emulator cycles through four wrong LEN values
        emulator.insert(card)
        emulator.set_fault(Fault.WRONG_LENGTH, count=1)
        assert reader.read_card(3.0) == as_read(card)


@pytest.mark.parametrize(
    ("fault", "family", "message"),
    [
        (Fault.BAD_CHECKSUM, ProtocolError, "读卡器传来的数据有误，请稍后重试；反复出现请联系技术人员"),
        (Fault.TRUNCATED_FRAME, ProtocolError, "读卡器传来的数据有误，请稍后重试；反复出现请联系技术人员"),
        (Fault.WRONG_LENGTH, ProtocolError, "读卡器传来的数据有误，请稍后重试；反复出现请联系技术人员"),
        (Fault.SILENT, ReaderUnavailable, NO_ANSWER),
        (Fault.NO_CARD, NoCard, "未检测到身份证，请将身份证放在读卡区"),
    ],
)
def test_persistent_faults_give_a_clear_error_then_recover(
    emulator: SamvEmulator, reader: SamvReader, fault: Fault, family: type[ReaderError], message: str
) -> None:
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(fault)
    with pytest.raises(ReaderError) as caught:
        reader.read_card(0.3)
    assert type(caught.value) is family
    assert caught.value.message == message
    emulator.clear_fault()
    read_again(emulator, reader)


@pytest.mark.parametrize("fault", [Fault.GARBAGE_BEFORE_FRAME, Fault.SLOW])
def test_noisy_or_slow_lines_still_read(emulator: SamvEmulator, reader: SamvReader, fault: Fault) -> None:
    emulator.set_fault(fault, slow_factor=3.0)
    for card in DECK[:2]:
        emulator.insert(card)
        assert reader.read_card(5.0) == as_read(card)
    assert reader.health().ok


@pytest.mark.parametrize("status", ERROR_STATUSES, ids=lambda s: f"{int(s):02X}-{s.name}")
def test_every_error_status_gives_its_error_then_recovers(
    emulator: SamvEmulator, reader: SamvReader, status: Status
) -> None:
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(Fault.STATUS, status=status)
    expected = status_error(status)
    with pytest.raises(ReaderError) as caught:
        reader.read_card(0.2)
    if status in (Status.FIND_FAILED, Status.NO_CARD_YET):
        assert type(caught.value) is NoCard  # to find-card these mean "no card yet": keep waiting
    else:
        assert type(caught.value) is type(expected)
        assert caught.value.message == expected.message
    emulator.clear_fault()
    read_again(emulator, reader)


@pytest.mark.parametrize("status", [Status.READ_FAILED, Status.SELECT_FAILED, Status.RANDOM_FAILED])
def test_a_card_hiccup_is_retried_once(emulator: SamvEmulator, reader: SamvReader, status: Status) -> None:
    command = Command.SELECT_CARD if status is Status.SELECT_FAILED else Command.READ_TEXT_PHOTO
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(Fault.STATUS, status=status, count=1, command=command)
    assert reader.read_card(2.0) == as_read(SHE_SUICHANG)
    emulator.remove()
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(Fault.STATUS, status=status, count=2, command=command)
    with pytest.raises(CardUnreadable, match="读卡失败，请将身份证重新放好"):
        reader.read_card(2.0)


# --- unplugging -------------------------------------------------------------------------------------------------


def test_unplugged_mid_read_then_plugged_back(emulator: SamvEmulator, reader: SamvReader) -> None:
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(Fault.SLOW, command=Command.READ_TEXT_PHOTO, slow_factor=8.0)
    pool, future = in_thread(lambda: reader.read_card(5.0))
    assert emulator.wait_for_command(Command.READ_TEXT_PHOTO, timeout=2)
    time.sleep(0.15)  # bytes of the answer are on their way
    emulator.disconnect()
    with pytest.raises(ReaderUnavailable) as caught:
        future.result(timeout=2)
    pool.shutdown()
    assert caught.value.message == UNPLUGGED
    with pytest.raises(ReaderUnavailable) as again:
        reader.read_card(0.2)
    assert again.value.message == NOT_FOUND
    assert not reader.health().ok
    emulator.clear_fault()
    emulator.reconnect()
    assert reader.read_card(2.0) == as_read(SHE_SUICHANG)  # the card never left; the SAM was power-cycled
    assert reader.health().ok


def test_device_vanishing_mid_frame(emulator: SamvEmulator, reader: SamvReader) -> None:
    emulator.insert(ELDERLY_LONG_TERM)
    emulator.set_fault(Fault.DISCONNECT_MID_FRAME, count=1, command=Command.READ_TEXT_PHOTO)
    with pytest.raises(ReaderUnavailable, match=UNPLUGGED):
        reader.read_card(2.0)
    emulator.reconnect()
    assert reader.read_card(2.0) == as_read(ELDERLY_LONG_TERM)


def test_unplugged_while_idle(emulator: SamvEmulator, reader: SamvReader) -> None:
    emulator.disconnect()
    with pytest.raises(ReaderUnavailable):
        reader.read_card(0.5)
    emulator.reconnect()
    read_again(emulator, reader)


def test_stale_answer_after_cancel_is_skipped(emulator: SamvEmulator, reader: SamvReader) -> None:
    # Cancel while a slow read answer is still arriving; the next commands must not take it for theirs.
    emulator.insert(SHE_SUICHANG)
    emulator.set_fault(Fault.SLOW, count=1, command=Command.READ_TEXT_PHOTO, slow_factor=4.0)
    cancel = threading.Event()
    pool, future = in_thread(lambda: reader.read_card(5.0, cancel))
    assert emulator.wait_for_command(Command.READ_TEXT_PHOTO, timeout=2)
    cancel.set()
    with pytest.raises(Cancelled):
        future.result(timeout=2)
    pool.shutdown()
    assert reader.health().ok
    read_again(emulator, reader, ELDERLY_LONG_TERM)
