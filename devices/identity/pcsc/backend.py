"""`PcscReader`: social security cards through pcscd, implementing `IdentityReader`.

Threading. pyscard's `CardMonitor` runs one process-wide thread and calls observers on it. Our observer only
puts an event on a `queue.Queue`; the thread that called `read_card`/`wait_for_removal` (the reader's owning
thread, see `owner.ReaderOwner`) takes events off it, so prompts, connects and APDUs never run on pyscard's
thread. Waits poll the queue every 0.1 s, which is also how often `cancel` and the deadline are checked.

Card I/O uses pyscard's thin `smartcard.scard` layer with one PC/SC context owned by this object, rather than
`createConnection()`, which opens a context per connection and whose destructors raise when pcscd has died;
here every PC/SC status code is seen and mapped to a plain message.

pcscd going away. The monitor thread dies on `SCARD_E_NO_SERVICE` and pyscard never restarts it, and a context
made before a pcscd restart stays dead. So every wait checks that the monitor thread is alive and (every 0.5 s)
that our context still answers; a dead service is `ReaderUnavailable`, and the next call re-establishes the
context and, when needed, replaces pyscard's monitor singleton. pyscard prints a traceback to stderr when its
monitor thread dies; that is pyscard's, not an error of ours.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from smartcard import scard
from smartcard.CardMonitoring import CardMonitor, CardMonitoringThread, CardObserver

from devices.identity.card import CardRecord
from devices.identity.pcsc.social_security import read_social_security_card
from devices.identity.reader import (
    Cancelled,
    CardUnreadable,
    Health,
    NoCard,
    ReaderError,
    ReaderHandler,
    ReaderUnavailable,
    SilentHandler,
)

NO_SERVICE_MESSAGE: Final = "读卡服务未启动（pcscd），请联系技术人员"
SERVICE_STOPPED_MESSAGE: Final = "读卡服务已停止（pcscd），请联系技术人员"
NO_READER_MESSAGE: Final = "未找到社保卡读卡器"
ACCESS_DENIED_MESSAGE: Final = "读卡服务拒绝访问（pcscd 权限设置），请联系技术人员"
INSERT_PROMPT: Final = "请将社保卡芯片朝里插入读卡器"
READING_PROMPT: Final = "正在读取社保卡，请勿拔卡"
DONE_PROMPT: Final = "读卡完成，请取回社保卡"
TAKE_PROMPT: Final = "请取回社保卡"
REMOVED_PROMPT: Final = "社保卡已取出"

POLL_SECONDS: Final = 0.1  # queue wait slice: bounds the latency of cancel and timeout
SERVICE_CHECK_SECONDS: Final = 0.5  # how often a wait asks pcscd whether it is still there


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF  # pyscard has returned both signed and unsigned values across versions


_SERVICE_GONE: Final = frozenset(
    _code(c)
    for c in (scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_F_COMM_ERROR,
              scard.SCARD_E_INVALID_HANDLE)
)
_CARD_GONE: Final = frozenset(
    _code(c) for c in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD)
)
_READER_GONE: Final = frozenset(
    _code(c) for c in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE,
                       scard.SCARD_E_NO_READERS_AVAILABLE)
)
_MONITOR_LOCK: Final = threading.Lock()


def _detail(step: str, hresult: int) -> str:
    return f"{step}: {scard.SCardGetErrorMessage(hresult)} (0x{_code(hresult):08X})"


@dataclass(frozen=True)
class CardEvent:
    inserted: bool  # False: removed
    reader: str
    atr: bytes


class _QueueingObserver(CardObserver):  # type: ignore[misc]  # pyscard is untyped
    """Runs on pyscard's monitor thread: hand the event over and nothing else."""

    def __init__(self, events: queue.Queue[CardEvent]) -> None:
        self._events = events

    def update(self, observable: Any, handlers: Any) -> None:
        added, removed = handlers
        for card in added:
            self._events.put(CardEvent(True, str(card.reader), bytes(card.atr)))
        for card in removed:
            self._events.put(CardEvent(False, str(card.reader), bytes(card.atr)))


def _monitor_alive() -> bool:
    thread = CardMonitoringThread.instance
    return thread is not None and thread.is_alive()


def live_card_monitor() -> Any:
    """pyscard's monitor singleton, replaced when its thread has died (pcscd stopped since it started)."""
    with _MONITOR_LOCK:
        if CardMonitoringThread.instance is not None and not _monitor_alive():
            with CardMonitoringThread.lock:
                CardMonitoringThread.instance = None
            with CardMonitor.lock:
                CardMonitor.instance = None
        return CardMonitor()


def stop_card_monitor(timeout: float = 2.0) -> None:
    """Stop pyscard's monitor thread cleanly: at process exit, or before stopping pcscd on purpose.

    The thread sits in a 60 s SCardGetStatusChange; cancelling that call lets it see its stop flag and end
    quietly, instead of dying with a traceback when pcscd goes. The next wait starts a fresh monitor.
    """
    with _MONITOR_LOCK:
        thread = CardMonitoringThread.instance
        if thread is None:
            return
        thread.stop()
        request = getattr(getattr(thread, "cardrequest", None), "pcsccardrequest", None)
        context = getattr(request, "hcontext", None)
        if context is not None and thread.is_alive():
            scard.SCardCancel(context)
        thread.join(timeout)
        with CardMonitoringThread.lock:
            CardMonitoringThread.instance = None
        with CardMonitor.lock:
            CardMonitor.instance = None


class PcscReader:
    """A PC/SC reader holding social security cards. Not thread-safe: one owning thread (ReaderOwner)."""

    def __init__(self, reader_name: str | None = None, handler: ReaderHandler | None = None) -> None:
        self.url = f"pcsc://{reader_name or ''}"
        self._wanted = reader_name
        self._handler: ReaderHandler = handler or SilentHandler()
        self._context: int | None = None
        self._reader = ""

    # --- context and reader ------------------------------------------------------------------------------

    def open(self) -> None:
        self._drop_context()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if _code(hresult) == _code(scard.SCARD_W_SECURITY_VIOLATION):  # polkit, or a pcscd shutting down
            raise ReaderUnavailable(ACCESS_DENIED_MESSAGE, detail=_detail("establish context", hresult))
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailable(NO_SERVICE_MESSAGE, detail=_detail("establish context", hresult))
        self._context = context
        self._reader = self._pick_reader()

    def close(self) -> None:
        self._drop_context()

    def _drop_context(self) -> None:
        if self._context is not None:
            with contextlib.suppress(Exception):  # a context from before a pcscd restart cannot be released
                scard.SCardReleaseContext(self._context)
            self._context = None

    def _pick_reader(self) -> str:
        assert self._context is not None
        hresult, names = scard.SCardListReaders(self._context, [])
        if hresult != scard.SCARD_S_SUCCESS and _code(hresult) not in _READER_GONE:
            raise self._unavailable(_detail("list readers", hresult), hresult)
        names = list(names) if hresult == scard.SCARD_S_SUCCESS else []
        if self._wanted is not None:
            if self._wanted not in names:
                raise self._unavailable(f"{self._wanted!r} not in {names}")
            return self._wanted
        if not names:
            raise self._unavailable("no PC/SC readers")
        # vpcd (development/tests) always lists two phantom readers; a kiosk that has it installed by mistake
        # must still pick its real reader when none is named.
        real = [name for name in names if not str(name).startswith("Virtual PCD")]
        return str((real or names)[0])

    def _unavailable(self, detail: str, hresult: int | None = None) -> ReaderUnavailable:
        """The reader or the service is gone: say which. A stopping pcscd first drops its readers and answers
        oddly (SCARD_W_SECURITY_VIOLATION), so an error that is not plainly "no service" is re-checked once."""
        gone = hresult is not None and _code(hresult) in _SERVICE_GONE
        if not gone:
            gone = not self._service_up()
        if not gone:
            time.sleep(0.2)  # a shutdown in progress starts refusing new contexts within this
            gone = not self._service_up()
        if gone:
            self._drop_context()
            return ReaderUnavailable(SERVICE_STOPPED_MESSAGE, detail=detail)
        return ReaderUnavailable(NO_READER_MESSAGE, detail=detail)

    def _ensure_open(self) -> None:
        """Open, or check the open context still reaches pcscd and reopen once if it does not (restart)."""
        if self._context is None:
            self.open()
            return
        try:
            self._reader = self._pick_reader()
        except ReaderUnavailable as exc:
            if exc.message != SERVICE_STOPPED_MESSAGE:
                raise
            self.open()  # pcscd was restarted since: a fresh context works, or this raises NO_SERVICE

    def _card_state(self) -> tuple[bool, bytes]:
        """(present, ATR) now, straight from pcscd (no waiting)."""
        assert self._context is not None
        hresult, states = scard.SCardGetStatusChange(self._context, 0, [(self._reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS or not states:
            raise self._unavailable(_detail("status", hresult), hresult)
        _, state, atr = states[0]
        present = bool(state & scard.SCARD_STATE_PRESENT)  # a mute card counts: connect reports it plainly
        return present, bytes(atr) if present else b""

    # --- waiting for events ------------------------------------------------------------------------------

    def _wait_for(self, inserted: bool, timeout: float, cancel: threading.Event | None) -> bool:
        """Wait on the caller's thread until a card is (inserted=True) or is not (False) in our reader.

        Returns False on timeout; raises Cancelled or ReaderUnavailable.
        """
        deadline = time.monotonic() + timeout
        events: queue.Queue[CardEvent] = queue.Queue()
        observer = _QueueingObserver(events)
        monitor = live_card_monitor()
        monitor.addObserver(observer)
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled("已取消读卡", detail="cancel event set")
            # The monitor's view may lag pcscd by a poll; ask pcscd directly first.
            if self._card_state()[0] == inserted:
                return True
            next_check = time.monotonic() + SERVICE_CHECK_SECONDS
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("已取消读卡", detail="cancel event set")
                now = time.monotonic()
                if now >= deadline:
                    return False
                try:
                    event: CardEvent | None = events.get(timeout=min(POLL_SECONDS, deadline - now))
                except queue.Empty:
                    event = None
                if event is not None:
                    if event.reader == self._reader and event.inserted == inserted:
                        return True
                    continue
                if _monitor_alive() and time.monotonic() < next_check:
                    continue
                next_check = time.monotonic() + SERVICE_CHECK_SECONDS
                if self._card_state()[0] == inserted:  # raises ReaderUnavailable if pcscd is gone
                    return True
                if not _monitor_alive():  # pcscd restarted under us: a new monitor, same wait
                    if not self._service_up():  # e.g. a pcscd shutting down refuses new contexts
                        self._drop_context()
                        raise ReaderUnavailable(SERVICE_STOPPED_MESSAGE, detail="pcscd refuses new contexts")
                    monitor.deleteObserver(observer)
                    monitor = live_card_monitor()
                    monitor.addObserver(observer)
        finally:
            with contextlib.suppress(ValueError):
                monitor.deleteObserver(observer)

    # --- IdentityReader -----------------------------------------------------------------------------------

    def read_card(self, timeout: float, cancel: threading.Event | None = None) -> CardRecord:
        self._ensure_open()
        deadline = time.monotonic() + timeout
        if not self._card_state()[0]:
            self._handler.prompt(INSERT_PROMPT)
        while True:
            if not self._wait_for(True, max(0.0, deadline - time.monotonic()), cancel):
                raise NoCard("没有检测到社保卡，请将社保卡芯片朝里插入读卡器", detail=f"timeout {timeout:g}s")
            self._handler.prompt(READING_PROMPT)
            record = self._read_inserted(cancel)
            if record is not None:
                self._handler.prompt(DONE_PROMPT)
                return record
            # The card left between the event and the connect, and pcscd may not have noticed yet: give it a
            # moment rather than hammering a stale "present", then keep waiting for the next card.
            time.sleep(POLL_SECONDS)

    def card_present(self) -> bool:
        self._ensure_open()
        return self._card_state()[0]

    def wait_for_removal(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        self._ensure_open()
        if not self._card_state()[0]:
            return True
        self._handler.prompt(TAKE_PROMPT)
        removed = self._wait_for(False, timeout, cancel)
        if removed:
            self._handler.prompt(REMOVED_PROMPT)
        return removed

    def health(self) -> Health:
        try:
            self._ensure_open()
            present, atr = self._card_state()
        except ReaderError as exc:
            return Health(ok=False, summary=exc.message, detail=exc.detail)
        detail = f"reader={self._reader}" + (f"; atr={atr.hex(' ').upper()}" if present else "")
        summary = "社保卡读卡器正常，已插卡" if present else "社保卡读卡器正常，未插卡"
        return Health(ok=True, summary=summary, detail=detail)

    # --- one card session ---------------------------------------------------------------------------------

    def _service_up(self) -> bool:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return False
        scard.SCardReleaseContext(context)
        return True

    def _io_error(self, step: str, hresult: int) -> ReaderError:
        detail = _detail(step, hresult)
        if _code(hresult) in _SERVICE_GONE or not self._service_up():
            self._drop_context()
            return ReaderUnavailable(SERVICE_STOPPED_MESSAGE, detail=detail)
        if _code(hresult) in _CARD_GONE:
            return CardUnreadable("社保卡在读取时被拔出，请重新插入，读完之前不要拔卡", detail=detail)
        if _code(hresult) in _READER_GONE:
            return self._unavailable(detail, hresult)
        if _code(hresult) == _code(scard.SCARD_E_SHARING_VIOLATION):
            return ReaderUnavailable("读卡器正被其他程序占用，请联系技术人员", detail=detail)
        return CardUnreadable("读卡中断，请取出社保卡后重新插入", detail=detail)

    def _read_inserted(self, cancel: threading.Event | None) -> CardRecord | None:
        """Connect, run the card application logic, disconnect. None if the card was already gone."""
        assert self._context is not None
        hresult, card, protocol = scard.SCardConnect(
            self._context, self._reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if _code(hresult) in _CARD_GONE:
            return None
        if _code(hresult) in (_code(scard.SCARD_W_UNRESPONSIVE_CARD), _code(scard.SCARD_W_UNPOWERED_CARD)):
            message = "社保卡没有响应，请确认芯片朝里插入；仍不行请到人社窗口检查卡片"
            raise CardUnreadable(message, detail=_detail("connect", hresult))
        if hresult != scard.SCARD_S_SUCCESS:
            raise self._io_error("connect", hresult)
        pci = scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1

        def transmit(apdu: bytes) -> tuple[bytes, int, int]:
            if cancel is not None and cancel.is_set():
                raise Cancelled("已取消读卡", detail="cancelled between APDUs")
            result, response = scard.SCardTransmit(card, pci, list(apdu))
            if result != scard.SCARD_S_SUCCESS:
                raise self._io_error(f"transmit {apdu[:2].hex().upper()}", result)
            if len(response) < 2:
                raise CardUnreadable("读卡中断，请取出社保卡后重新插入", detail=f"{len(response)}-byte response")
            return bytes(response[:-2]), response[-2], response[-1]

        try:
            # A transaction keeps other PC/SC clients from interleaving APDUs with our selected application.
            hresult = scard.SCardBeginTransaction(card)
            if hresult != scard.SCARD_S_SUCCESS:
                raise self._io_error("begin transaction", hresult)
            try:
                return read_social_security_card(transmit)
            finally:
                with contextlib.suppress(Exception):
                    scard.SCardEndTransaction(card, scard.SCARD_LEAVE_CARD)
        finally:
            with contextlib.suppress(Exception):  # the card or pcscd may already be gone
                scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD)
