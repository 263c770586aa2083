"""`SamvReader`: the resident ID card SAM reader (GA 467 frames over a serial line) as an `IdentityReader`.

One command at a time: flush stale input, write the request, then read exactly as many bytes as the frame in
progress still needs (the decoder knows from LEN), so a response is taken the moment its last byte lands
instead of when a timeout notices the line went quiet. Serial reads are sliced to 50 ms, which is how often a
cancel request is looked at.

Recovery, in layers:
- transport (checksum, impossible length, half frame, silence, the SAM reporting 0x10/0x11 for our frame):
  flush and resend, `attempts` times in all, then ProtocolError (bytes came, but wrong) or ReaderUnavailable
  (nothing came);
- a response that belongs to an earlier, abandoned command (a cancel leaves one in flight) is skipped;
- the card (select/read failing because it is still being put down): find again, once;
- the device (port vanished, I/O error): ReaderUnavailable and the port is dropped; the next call re-opens it.

Card-must-leave: a SAM answers find-card with 0x80 for a card it has already read until that card has left the
field. Real SAMs cannot tell "already read, still lying there" from "gone", so `wait_for_removal` reports True
once find-card fails, and the next `read_card` succeeds only after the card was taken away and put back.
Some readers do not enforce the rule. After the first read on an open port we probe once (one find-card, 25
bytes on the wire): a reader that finds the card it has just read does not enforce it, and for such a reader
the backend enforces it itself - it keeps a digest of the last card returned until find-card reports no card,
refuses that same card again before then (asking the person to take it away and put it back) and ignores it
until it has left the field.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from typing import Final

import serial

from devices.identity.card import CardRecord
from devices.identity.reader import (
    Cancelled,
    CardUnreadable,
    Health,
    NoCard,
    ProtocolError,
    ReaderError,
    ReaderHandler,
    ReaderUnavailable,
    SilentHandler,
)
from devices.identity.samv.frames import (
    GARBLED,
    SUCCESS_STATUSES,
    Command,
    FrameDecoder,
    Response,
    Status,
    encode_request,
    format_sam_id,
    parse_card_data,
    parse_response,
    status_error,
)
from devices.identity.samv.text_block import decode_text_block

try:  # termios.error is not an OSError; tcflush on a vanished pty raises it
    import termios

    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # Windows
    _IO_ERRORS = (serial.SerialException, OSError)

log = logging.getLogger(__name__)

READ_SLICE: Final = 0.05  # seconds per serial read call: the cancel latency while waiting for bytes
MAX_STALE_FRAMES: Final = 4
REMOVAL_CONFIRMATIONS: Final = 2  # consecutive "no card" answers before a card counts as gone

PLACE_CARD: Final = "请将身份证放在读卡区"
READING: Final = "正在读取，请勿移动身份证"
TAKE_CARD: Final = "请取走身份证"
PLACE_AGAIN: Final = "请取走身份证后重新放上"
NOT_FOUND: Final = "未找到身份证读卡器，请检查连接线"
UNPLUGGED: Final = "身份证读卡器连接已断开，请检查连接线"
NO_ANSWER: Final = "身份证读卡器没有响应，请检查连接线和电源"
NO_CARD: Final = "未检测到身份证，请将身份证放在读卡区"
CANCELLED: Final = "已取消读卡"


class _Silence(Exception):
    """No byte at all arrived before the first-byte timeout."""


class SamvReader:
    def __init__(
        self,
        port: str,
        baud: int = 115200,
        handler: ReaderHandler | None = None,
        *,
        poll_interval: float = 0.15,
        read_fingerprint: bool = False,
        response_timeout: float = 1.0,
        attempts: int = 3,
    ) -> None:
        self.port = port
        self.baud = baud
        self.url = f"samv://{port}" if baud == 115200 else f"samv://{port}?baud={baud}"
        self.handler: ReaderHandler = handler or SilentHandler()
        self.poll_interval = poll_interval
        # 30 10 also carries fingerprint templates; we never keep them (biometrics), so the default is 30 01.
        self.read_fingerprint = read_fingerprint
        self.response_timeout = response_timeout  # first byte of an answer; a card read gets twice this
        self.attempts = max(1, attempts)
        # Within a frame the line may pause (USB latency, a slow SAM) but not for long: 100 byte times, >= 0.2 s.
        self.byte_gap = max(0.2, 1000.0 / baud)
        self._serial: serial.Serial | None = None
        self._decoder = FrameDecoder()
        # Card-must-leave guard (module docstring): digest of the last card returned, and whether that card was
        # found again without having left. Both clear when find-card reports no card.
        self._last_card: bytes | None = None
        self._holding_same_card = False
        self._sam_enforces_removal: bool | None = None  # learnt by the probe after the first read

    # --- IdentityReader ----------------------------------------------------------------------------------------

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(self.port, self.baud, timeout=READ_SLICE, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderUnavailable(NOT_FOUND, detail=f"{self.port}: {exc}") from None
        try:
            answer = self._exchange(Command.STATUS)
            if answer.sw3 != Status.OK:
                raise status_error(answer.sw3, Command.STATUS)
        except ReaderError:
            self.close()
            raise
        self._forget_card()  # a re-plugged SAM has forgotten what it read, and so do we
        self._sam_enforces_removal = None
        log.info("SAM reader open on %s", self.port)

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(*_IO_ERRORS):
                port.close()
        self._decoder.clear()

    def read_card(self, timeout: float, cancel: threading.Event | None = None) -> CardRecord:
        _check(cancel)
        self.open()
        deadline = time.monotonic() + timeout
        self.handler.prompt(PLACE_CARD)
        told_to_replace = False
        while True:
            _check(cancel)
            if self._find(cancel) and not self._holding_same_card:
                self.handler.prompt(READING)
                record, digest = self._read_found_card(cancel)
                if self._sam_enforces_removal or digest != self._last_card:
                    if self._sam_enforces_removal is None:
                        self._probe_removal_rule(cancel)
                    self._last_card = digest
                    return record
                # The same card again without having left the field: a reader that does not enforce the rule.
                self._holding_same_card = True
                if not told_to_replace:
                    self.handler.prompt(PLACE_AGAIN)
                    told_to_replace = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoCard(NO_CARD, detail=f"no card within {timeout:.1f} s")
            _pause(cancel, min(self.poll_interval, remaining))

    def card_present(self) -> bool:
        """True when a card the SAM is willing to read lies in the field (an already read one is not)."""
        self.open()
        return self._find(None)

    def wait_for_removal(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        """True once find-card has failed REMOVAL_CONFIRMATIONS times in a row; False on timeout.
        Raises Cancelled when `cancel` is set."""
        _check(cancel)
        self.open()
        deadline = time.monotonic() + timeout
        self.handler.prompt(TAKE_CARD)
        misses = 0
        while True:
            _check(cancel)
            misses = 0 if self._find(cancel) else misses + 1
            if misses >= REMOVAL_CONFIRMATIONS:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _pause(cancel, min(self.poll_interval, remaining))

    def health(self) -> Health:
        try:
            self.open()
            status = self._exchange(Command.STATUS)
            if status.sw3 != Status.OK:
                raise status_error(status.sw3, Command.STATUS)
            sam = self._exchange(Command.SAM_ID)
            if sam.sw3 != Status.OK:
                raise status_error(sam.sw3, Command.SAM_ID)
        except ReaderError as exc:
            return Health(ok=False, summary=exc.message, detail=f"{self.url} {exc.detail}".strip())
        return Health(ok=True, summary="身份证读卡器工作正常", detail=f"{self.url} SAM {format_sam_id(sam.data)}")

    # --- extras beyond the Protocol ----------------------------------------------------------------------------

    def read_latest_address(self) -> str | None:
        """The card's latest address (30 03), right after `read_card` while the card is still selected;
        None when the card has none."""
        self.open()
        answer = self._exchange(Command.READ_LATEST_ADDRESS)
        if answer.sw3 == Status.NO_CONTENT:
            return None
        if answer.sw3 != Status.OK:
            raise status_error(answer.sw3, Command.READ_LATEST_ADDRESS)
        try:
            text = answer.data.decode("utf-16-le").strip(" \x00")
        except UnicodeDecodeError:
            raise CardUnreadable("身份证信息读取不完整，请将身份证重新放好", detail="latest address") from None
        return text or None

    def reset(self) -> None:
        """10 FF: reset the SAM (technician console)."""
        self.open()
        answer = self._exchange(Command.RESET, timeout=2 * self.response_timeout)
        if answer.sw3 != Status.OK:
            raise status_error(answer.sw3, Command.RESET)

    # --- card steps --------------------------------------------------------------------------------------------

    def _find(self, cancel: threading.Event | None) -> bool:
        answer = self._exchange(Command.FIND_CARD, cancel=cancel)
        if answer.sw3 == Status.FIND_OK:
            return True
        if answer.sw3 in (Status.FIND_FAILED, Status.NO_CARD_YET):
            self._forget_card()
            return False
        raise status_error(answer.sw3, Command.FIND_CARD)

    def _probe_removal_rule(self, cancel: threading.Event | None) -> None:
        # Right after a read the card cannot have left yet, so "found" means the reader would serve it again.
        try:
            self._sam_enforces_removal = not self._find(cancel)
        except ReaderError as exc:
            log.info("removal-rule probe failed (%s); will probe after the next read", exc.detail)
        else:
            log.info("SAM enforces card removal between reads: %s", self._sam_enforces_removal)

    def _forget_card(self) -> None:
        self._last_card = None
        self._holding_same_card = False

    def _read_found_card(self, cancel: threading.Event | None) -> tuple[CardRecord, bytes]:
        # A card being put down may fail select or read once; find it again and retry, but only once, so a
        # damaged card gets its clear message quickly.
        for attempt in range(2):
            try:
                if attempt and not self._find(cancel):
                    raise CardUnreadable("读卡失败，请将身份证重新放好", detail="card left during the read")
                answer = self._exchange(Command.SELECT_CARD, cancel=cancel)
                if answer.sw3 != Status.OK:
                    raise status_error(answer.sw3, Command.SELECT_CARD)
                return self._read_selected_card(cancel)
            except CardUnreadable as exc:
                if attempt:
                    raise
                log.info("card read failed once (%s), retrying", exc.detail)
        raise AssertionError("unreachable")

    def _read_selected_card(self, cancel: threading.Event | None) -> tuple[CardRecord, bytes]:
        """The record and a digest of the card's bytes (for the card-must-leave guard; no personal data kept)."""
        command = Command.READ_TEXT_PHOTO_FINGERPRINT if self.read_fingerprint else Command.READ_TEXT_PHOTO
        answer = self._exchange(command, cancel=cancel, timeout=2 * self.response_timeout)
        if answer.sw3 != Status.OK:
            raise status_error(answer.sw3, command)
        data = parse_card_data(answer.data, with_fingerprint=self.read_fingerprint)
        # data.fingerprint is dropped here on purpose: nothing downstream may store biometrics.
        record = decode_text_block(data.text, data.photo or None)
        return record, hashlib.sha256(data.text + data.photo).digest()

    # --- one command -------------------------------------------------------------------------------------------

    def _exchange(
        self, command: Command, data: bytes = b"", *, cancel: threading.Event | None = None, timeout: float = 0.0
    ) -> Response:
        """Send one command and return its answer, resending on transport trouble (see module docstring)."""
        frame = encode_request(command, data)
        first_byte_timeout = timeout or self.response_timeout
        failure: ReaderError | None = None
        heard_anything = False
        for attempt in range(self.attempts):
            port = self._serial
            if port is None:
                raise ReaderUnavailable(UNPLUGGED, detail=f"{command.name}: port closed")
            try:
                port.reset_input_buffer()
                self._decoder.clear()
                port.write(frame)
                answer = self._receive(port, command, first_byte_timeout, cancel)
            except _IO_ERRORS as exc:
                self.close()
                raise ReaderUnavailable(UNPLUGGED, detail=f"{command.name}: {exc}") from None
            except _Silence:
                failure = failure if heard_anything else ReaderUnavailable(NO_ANSWER, detail=f"{command.name}")
                log.warning("%s: no answer (attempt %d)", command.name, attempt + 1)
                continue
            except ProtocolError as exc:
                heard_anything = True
                failure = ProtocolError(exc.message, detail=f"{command.name}: {exc.detail}")
                log.warning("%s: %s (attempt %d)", command.name, exc.detail, attempt + 1)
                continue
            if answer.sw3 in (Status.CHECKSUM_ERROR, Status.LENGTH_ERROR):
                # The SAM got our request garbled: the line is noisy, so simply say it again.
                heard_anything = True
                failure = status_error(answer.sw3, command)
                log.warning("%s: SAM reports SW3 %02X (attempt %d)", command.name, answer.sw3, attempt + 1)
                continue
            return answer
        assert failure is not None
        raise failure

    def _receive(
        self, port: serial.Serial, command: Command, first_byte_timeout: float, cancel: threading.Event | None
    ) -> Response:
        decoder = self._decoder
        started = last_byte = time.monotonic()
        heard = False
        stale = 0
        while True:
            body = decoder.next_frame()  # FrameError is a ProtocolError: the caller resends
            if body is not None:
                answer = parse_response(body)
                if _fits(command, answer):
                    return answer
                # An answer to an abandoned earlier command: skip it and keep listening.
                stale += 1
                if stale > MAX_STALE_FRAMES:
                    raise ProtocolError(GARBLED, detail="only answers to other commands")
                continue
            _check(cancel)
            chunk = port.read(decoder.bytes_wanted())
            now = time.monotonic()
            if chunk:
                heard = True
                last_byte = now
                decoder.feed(chunk)
            elif not heard and now - started > first_byte_timeout:
                raise _Silence()
            elif heard and now - last_byte > self.byte_gap:
                held = decoder.pending
                # A truncated frame's LEN may have claimed a whole frame behind it: rescan before giving up.
                while decoder.pending:
                    decoder.abandon_partial()
                    try:
                        body = decoder.next_frame()
                    except ProtocolError:
                        continue
                    if body is not None and _fits(command, answer := parse_response(body)):
                        return answer
                raise ProtocolError(GARBLED, detail=f"half frame: line went quiet with {held} bytes held")


def _fits(command: Command, answer: Response) -> bool:
    """Could `answer` be the reply to `command`? Error statuses fit anything; successes must look right."""
    if answer.sw3 not in SUCCESS_STATUSES:
        return True
    if command is Command.FIND_CARD:
        return answer.sw3 == Status.FIND_OK
    if answer.sw3 == Status.FIND_OK:
        return False
    if command in (Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FINGERPRINT):
        return answer.sw3 == Status.OK and len(answer.data) >= 4
    return len(answer.data) <= 70  # SAM id 16, select 8, latest address 70: only card reads are longer


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(CANCELLED)


def _pause(cancel: threading.Event | None, seconds: float) -> None:
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled(CANCELLED)
