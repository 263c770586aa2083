"""PcscReader against the real stack: pcscd (started here) + vpcd + the virtual card + pyscard."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from smartcard.CardMonitoring import CardMonitoringThread, CardObserver

from devices.identity.owner import ReaderOwner
from devices.identity.pcsc.backend import (
    DONE_PROMPT,
    INSERT_PROMPT,
    NO_READER_MESSAGE,
    NO_SERVICE_MESSAGE,
    READING_PROMPT,
    REMOVED_PROMPT,
    SERVICE_STOPPED_MESSAGE,
    TAKE_PROMPT,
    PcscReader,
    live_card_monitor,
    stop_card_monitor,
)
from devices.identity.reader import Cancelled, CardUnreadable, NoCard, ReaderUnavailable
from devices.simulators.vicc import SAMPLE_PEOPLE, CardFault, VirtualSocialSecurityCard, VpcdClient
from tests.devices.pcscd_daemon import (
    VPCD_POLL_SECONDS,
    VPCD_READER,
    PcscdDaemon,
    running_pcscd,
    wait_for_card,
)

# These tests stop pcscd on purpose. pyscard's monitor thread then dies with an exception and its card request
# fails to release a dead context in __del__; both are pyscard's internals reacting as designed, not our errors.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


class RecordingHandler:
    """Remembers every prompt with the thread it was shown on; `seen[message]` fires when it appears."""

    def __init__(self) -> None:
        self.prompts: list[tuple[str, threading.Thread]] = []
        self.seen: dict[str, threading.Event] = {}

    def prompt(self, message: str) -> None:
        self.prompts.append((message, threading.current_thread()))
        self.seen.setdefault(message, threading.Event()).set()

    def wait_for(self, message: str, timeout: float = 5.0) -> bool:
        return self.seen.setdefault(message, threading.Event()).wait(timeout)

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.prompts]


@pytest.fixture(scope="module")
def pcscd() -> Iterator[PcscdDaemon]:
    with running_pcscd() as daemon:
        yield daemon
        stop_card_monitor()


@pytest.fixture
def daemon(pcscd: PcscdDaemon) -> PcscdDaemon:
    pcscd.start()  # an earlier test may have stopped it on purpose
    return pcscd


@pytest.fixture
def vicc(daemon: PcscdDaemon) -> Iterator[VpcdClient]:
    client = VpcdClient(VirtualSocialSecurityCard(SAMPLE_PEOPLE[0]))
    client.start()
    yield client
    client.stop()
    if daemon.running:  # leave the slot empty in pcscd's eyes for the next test
        assert wait_for_card(False)


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def reader(daemon: PcscdDaemon, handler: RecordingHandler) -> Iterator[PcscReader]:
    pcsc = PcscReader(VPCD_READER, handler=handler)
    pcsc.open()
    yield pcsc
    pcsc.close()


def in_thread(fn: Any, *args: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run fn(*args) on a new thread; the dict gets 'result' or 'error' and 'at' (monotonic end time)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = fn(*args)
        except Exception as exc:
            outcome["error"] = exc
        outcome["at"] = time.monotonic()

    thread = threading.Thread(target=run, name="caller")
    thread.start()
    return thread, outcome


def test_card_inserted_during_wait_is_read(reader: PcscReader, vicc: VpcdClient, handler: RecordingHandler) -> None:
    person = SAMPLE_PEOPLE[0]
    thread, outcome = in_thread(reader.read_card, 5.0)
    assert handler.wait_for(INSERT_PROMPT)
    vicc.insert()
    thread.join(5)
    record = outcome["result"]
    assert (record.name, record.id_number, record.sex, record.birth_date) == (
        person.name, person.id_number, person.sex, person.birth_date)
    assert record.extra["source"] == "ssc" and record.extra["card_no"] == person.card_no
    assert handler.messages == [INSERT_PROMPT, READING_PROMPT, DONE_PROMPT]


@pytest.mark.parametrize("card_kwargs", [{"with_ssc_app": False}, {"fault": CardFault.REFUSE_SSC}],
                         ids=["ssc-missing", "ssc-refused"])
def test_bank_application_fallback(reader: PcscReader, vicc: VpcdClient, card_kwargs: dict[str, Any]) -> None:
    person = SAMPLE_PEOPLE[1]
    vicc.card = VirtualSocialSecurityCard(person, **card_kwargs)
    vicc.insert()
    assert wait_for_card(True)
    record = reader.read_card(3.0)  # card already in: no event needed
    assert (record.name, record.id_number) == (person.name, person.id_number)
    assert record.extra["source"] == "bank" and record.extra["id_type"] == "身份证"


def test_events_handled_on_the_callers_thread(daemon: PcscdDaemon, vicc: VpcdClient) -> None:
    handler = RecordingHandler()
    owner = ReaderOwner(PcscReader(VPCD_READER, handler=handler), name="id-reader-owner")
    owner.open().result(5)
    pyscard_threads: list[threading.Thread] = []

    class Spy(CardObserver):  # type: ignore[misc]  # pyscard is untyped
        def update(self, observable: Any, handlers: Any) -> None:
            pyscard_threads.append(threading.current_thread())

    monitor = live_card_monitor()
    spy = Spy()
    monitor.addObserver(spy)
    pyscard_threads.clear()  # addObserver replays the current cards on the calling thread: not an event
    try:
        reading = owner.read_card(5.0)
        assert handler.wait_for(INSERT_PROMPT)
        vicc.insert()
        assert reading.result(5).name == SAMPLE_PEOPLE[0].name
        removal = owner.wait_for_removal(5.0)
        assert handler.wait_for(TAKE_PROMPT)
        vicc.remove()
        assert removal.result(5) is True
    finally:
        monitor.deleteObserver(spy)
        owner.close()
    assert handler.messages == [INSERT_PROMPT, READING_PROMPT, DONE_PROMPT, TAKE_PROMPT, REMOVED_PROMPT]
    caller_threads = {thread for _, thread in handler.prompts}
    assert len(caller_threads) == 1
    (caller,) = caller_threads
    assert caller.name.startswith("id-reader-owner")
    # pyscard did deliver insert and remove callbacks, and on its own thread, never on the caller's.
    assert len(pyscard_threads) >= 2
    assert caller not in pyscard_threads and threading.main_thread() not in pyscard_threads


def test_timeout_raises_no_card(reader: PcscReader, vicc: VpcdClient) -> None:
    started = time.monotonic()
    with pytest.raises(NoCard, match="没有检测到社保卡"):
        reader.read_card(0.6)
    assert 0.55 <= time.monotonic() - started < 1.2


def test_cancel_is_honoured_within_0_3_s(reader: PcscReader, vicc: VpcdClient, handler: RecordingHandler) -> None:
    cancel = threading.Event()
    thread, outcome = in_thread(reader.read_card, 30.0, cancel)
    assert handler.wait_for(INSERT_PROMPT)
    time.sleep(0.25)
    cancelled_at = time.monotonic()
    cancel.set()
    thread.join(2)
    assert isinstance(outcome["error"], Cancelled)
    assert outcome["at"] - cancelled_at < 0.3


def test_card_pulled_mid_read_then_next_card_reads(reader: PcscReader, vicc: VpcdClient) -> None:
    vicc.card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0], fault=CardFault.DROP, fault_at=6)
    vicc.insert()
    assert wait_for_card(True)
    with pytest.raises(CardUnreadable) as caught:
        reader.read_card(3.0)
    assert "重新插入" in caught.value.message
    # pcscd polls vpcd every 0.4 s; a pull and re-insert inside one poll is invisible to it (the failed
    # power-down already marked the slot empty), so the "person" takes longer than that to swap cards.
    time.sleep(VPCD_POLL_SECONDS + 0.1)
    vicc.card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[2])
    vicc.insert()
    assert reader.read_card(3.0).name == SAMPLE_PEOPLE[2].name


def test_card_present_and_health(reader: PcscReader, vicc: VpcdClient) -> None:
    assert reader.card_present() is False
    assert reader.health().ok and "未插卡" in reader.health().summary
    vicc.insert()
    assert wait_for_card(True)
    assert reader.card_present() is True
    health = reader.health()
    assert health.ok and VPCD_READER in health.detail and "atr=3B 88 80 01" in health.detail
    vicc.remove()
    assert wait_for_card(False)
    assert reader.wait_for_removal(0.1) is True


def test_unknown_reader_name(daemon: PcscdDaemon) -> None:
    with pytest.raises(ReaderUnavailable) as caught:
        PcscReader("No Such Reader 00 00").open()
    assert caught.value.message == NO_READER_MESSAGE


def test_open_without_pcscd(daemon: PcscdDaemon) -> None:
    daemon.stop()
    pcsc = PcscReader()
    with pytest.raises(ReaderUnavailable) as caught:
        pcsc.open()
    assert caught.value.message == NO_SERVICE_MESSAGE
    assert pcsc.health().ok is False and pcsc.health().summary == NO_SERVICE_MESSAGE
    daemon.start()
    pcsc.open()  # the same object works once the service is there
    assert pcsc.health().ok


def test_pcscd_stopped_while_waiting_then_restarted(
    daemon: PcscdDaemon, reader: PcscReader, vicc: VpcdClient, handler: RecordingHandler
) -> None:
    thread, outcome = in_thread(reader.read_card, 20.0)
    assert handler.wait_for(INSERT_PROMPT)
    stopped_at = time.monotonic()
    daemon.stop()
    thread.join(5)
    error = outcome["error"]
    assert isinstance(error, ReaderUnavailable) and error.message == SERVICE_STOPPED_MESSAGE, error.detail
    assert outcome["at"] - stopped_at < 2.5  # includes pcscd's own shutdown (~0.8 s)
    daemon.start()
    vicc.insert()
    assert reader.read_card(5.0).name == SAMPLE_PEOPLE[0].name


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "crashed"])
def test_pcscd_gone_mid_read_then_restarted(
    daemon: PcscdDaemon, reader: PcscReader, vicc: VpcdClient, handler: RecordingHandler, sig: signal.Signals
) -> None:
    vicc.card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[1], fault=CardFault.SLOW, slow_seconds=0.1)
    vicc.insert()
    assert wait_for_card(True)
    thread, outcome = in_thread(reader.read_card, 10.0)
    assert handler.wait_for(READING_PROMPT)
    time.sleep(0.25)  # a few APDUs in
    daemon.stop(sig)
    thread.join(5)
    error = outcome["error"]
    assert isinstance(error, ReaderUnavailable) and error.message == SERVICE_STOPPED_MESSAGE
    # The card stays in the slot; the client reconnects to the new vpcd by itself.
    vicc.card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[1])
    daemon.start()
    record = reader.read_card(5.0)
    assert (record.name, record.extra["source"]) == (SAMPLE_PEOPLE[1].name, "ssc")


def test_monitor_stopped_for_shutdown_comes_back_on_next_wait(
    reader: PcscReader, vicc: VpcdClient, handler: RecordingHandler
) -> None:
    live_card_monitor()
    stop_card_monitor()
    assert CardMonitoringThread.instance is None
    thread, outcome = in_thread(reader.read_card, 5.0)
    assert handler.wait_for(INSERT_PROMPT)
    vicc.insert()
    thread.join(5)
    assert outcome["result"].name == SAMPLE_PEOPLE[0].name
    assert CardMonitoringThread.instance is not None and CardMonitoringThread.instance.is_alive()
