"""A GA 467 SAM reader on a pseudo-terminal: the real `SamvReader` talks to it through real pyserial.

The emulator owns the master side of a pty and serves it from one background thread. The path handed out by
`start()` is a symlink to the current slave (/dev/pts/N): `disconnect()` closes the master and removes the
link, as unplugging a USB-serial adapter does, and `reconnect()` makes a new pty behind the same path, so a
reader configured with that path finds "the same device" again.

Behaviour modelled on real SAMs:
- find card (20 01) answers 9F only for a card that has not been read since it entered the field; after a
  successful read it answers 80 until `remove()` + `insert()` (the card-must-leave rule). With
  `halt_after_read=False` it models a sloppy reader that finds the same card forever, to test the backend's
  own guard.
- select (20 02) needs a found card, reads (30 01/30 10/30 03) a selected one; a read may be repeated while
  the card stays selected (a host that lost a response can ask again).
- bytes leave at the line rate (115200 8N1 = 11520 bytes/s) unless `pacing=False`, and a request is answered
  only after its own bytes would have crossed the wire, so timings are realistic.

Faults (`set_fault`) apply to the next `count` responses (or until cleared), optionally only to one command.
Counters (`bytes_received`, `bytes_sent`) count exactly what crossed the pty, for benchmarks.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import tempfile
import threading
import time
import tty
from collections import Counter
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import Final

from devices.identity.card import CardRecord
from devices.identity.samv.frames import (
    MIN_REQUEST_LENGTH,
    Command,
    FrameDecoder,
    FrameError,
    Request,
    Status,
    encode_card_data,
    encode_response,
    encode_sam_id,
    parse_request,
)
from devices.identity.samv.text_block import encode_text_block
from devices.simulators.sample_cards import DECK

LINE_BYTES_PER_SECOND: Final = 115200 / 10  # 8N1: start + 8 data + stop bits per byte
CHUNK: Final = 16  # bytes per paced write, like a USB-serial adapter's small packets
DEFAULT_SAM_ID: Final = encode_sam_id(5, 1, 20101010, 12345678, 1234567890)
# Noise that contains preamble fragments, so resynchronisation is really exercised.
GARBAGE: Final = b"\x00\xff\xaa\xaa\x13\xaa\xaa\xaa\x96\x00\x69\x96\xaa"


class Fault(StrEnum):
    NONE = "none"
    NO_CARD = "no_card"  # find card answers 80 although a card lies there
    BAD_CHECKSUM = "bad_checksum"
    TRUNCATED_FRAME = "truncated_frame"  # first half of the frame, then silence
    SLOW = "slow"  # late first byte, then one byte at a time at line rate / slow_factor
    WRONG_LENGTH = "wrong_length"  # LEN too long, too short, impossibly small, impossibly large (in turn)
    GARBAGE_BEFORE_FRAME = "garbage_before_frame"
    STATUS = "status"  # answer SW3 `status` without doing the command
    SILENT = "silent"  # no answer at all
    DISCONNECT_MID_FRAME = "disconnect_mid_frame"  # half a frame, then the device vanishes


class _CardState(Enum):
    IDLE = "idle"  # in the field, not yet found
    FOUND = "found"
    SELECTED = "selected"


@dataclass
class _FaultSetting:
    mode: Fault = Fault.NONE
    remaining: int | None = None  # None: until cleared
    status: int = Status.READ_FAILED
    command: Command | None = None
    slow_factor: float = 4.0


class SamvEmulator:
    def __init__(
        self,
        deck: tuple[CardRecord, ...] = DECK,
        *,
        pacing: bool = True,
        halt_after_read: bool = True,
        sam_id: bytes = DEFAULT_SAM_ID,
        fingerprint_size: int = 1024,
    ) -> None:
        self.deck = deck
        self.pacing = pacing
        self.halt_after_read = halt_after_read
        self.sam_id = sam_id
        self.fingerprint_size = fingerprint_size
        self._lock = threading.RLock()
        self._commands_seen = threading.Condition(self._lock)
        self._card: CardRecord | None = None
        self._latest_address: str | None = None
        self._card_state = _CardState.IDLE
        self._read_done = False  # the SAM remembers a card it has read until the card leaves the field
        self._fault = _FaultSetting()
        self._wrong_length_turn = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        self.command_counts: Counter[Command | None] = Counter()
        self._master: int | None = None
        self._slave: int | None = None
        self._dir: Path | None = None
        self._link: Path | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._disconnect_requested = threading.Event()
        self._disconnected = threading.Event()
        self._wake_r = self._wake_w = -1  # a pipe that interrupts the serving thread's select; made by start()

    # --- life cycle ------------------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        if self._link is None:
            raise RuntimeError("emulator not started")
        return str(self._link)

    def start(self) -> str:
        """Create the pty, start serving, return the stable device path the reader should open."""
        if self._thread is not None:
            return self.path
        self._stopping.clear()
        self._wake_r, self._wake_w = os.pipe()
        self._dir = Path(tempfile.mkdtemp(prefix="samv-emulator-"))
        self._link = self._dir / "ttySAMV0"
        self._connect()
        self._thread = threading.Thread(target=self._serve, name="samv-emulator", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_pty()
        # Closed once only: a stale descriptor number may already belong to someone else's file.
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._dir is not None:
            with contextlib.suppress(OSError):
                self._dir.rmdir()
            self._dir = None

    def __enter__(self) -> SamvEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def disconnect(self) -> None:
        """Unplug: the master closes and the device path disappears (even mid-frame)."""
        if self._master is None:
            return
        self._disconnected.clear()
        self._disconnect_requested.set()
        self._wake()
        if not self._disconnected.wait(timeout=5):
            raise RuntimeError("emulator thread did not let go of the pty")

    def reconnect(self) -> None:
        """Plug back in: a fresh pty behind the same path. The card, if any, is still lying on the reader."""
        if self._master is not None:
            return
        with self._lock:
            # The SAM lost power while unplugged: it has forgotten which card it read.
            self._card_state = _CardState.IDLE
            self._read_done = False
        self._connect()
        self._wake()

    @property
    def connected(self) -> bool:
        return self._master is not None

    # --- the card on the reader ------------------------------------------------------------------------------

    def insert(self, card: int | CardRecord, *, latest_address: str | None = None) -> None:
        """Place a card (deck index or record) in the field; a card already there is taken away first."""
        record = self.deck[card] if isinstance(card, int) else card
        with self._lock:
            self._card = record
            self._latest_address = latest_address
            self._card_state = _CardState.IDLE
            self._read_done = False

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._latest_address = None
            self._card_state = _CardState.IDLE
            self._read_done = False

    # --- faults and counters ---------------------------------------------------------------------------------

    def set_fault(
        self,
        mode: Fault,
        *,
        count: int | None = None,
        status: int = Status.READ_FAILED,
        command: Command | None = None,
        slow_factor: float = 4.0,
    ) -> None:
        """Misbehave on the next `count` responses (None: until `clear_fault`), only to `command` if given.
        For Fault.STATUS, `status` is the SW3 to answer."""
        with self._lock:
            self._fault = _FaultSetting(mode, count, status, command, slow_factor)

    def clear_fault(self) -> None:
        self.set_fault(Fault.NONE)

    def reset_counters(self) -> None:
        with self._lock:
            self.bytes_received = 0
            self.bytes_sent = 0
            self.command_counts.clear()

    def wait_for_command(self, command: Command, timeout: float, *, seen: int = 0) -> bool:
        """Wait until more than `seen` requests of `command` have arrived (since the last counter reset)."""
        with self._commands_seen:
            return self._commands_seen.wait_for(lambda: self.command_counts[command] > seen, timeout)

    # --- serving ---------------------------------------------------------------------------------------------

    def _connect(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing, no CR/LF translation: a raw byte pipe like a UART
        os.set_blocking(master, False)
        assert self._link is not None
        self._link.unlink(missing_ok=True)
        self._link.symlink_to(os.ttyname(slave))
        # We keep our own slave fd open so the master never sees a hang-up while the reader is closed.
        with self._lock:
            self._master, self._slave = master, slave
        self._disconnected.clear()

    def _close_pty(self) -> None:
        with self._lock:
            fds = (self._master, self._slave)
            self._master = self._slave = None
        for fd in fds:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._link is not None:
            self._link.unlink(missing_ok=True)

    def _wake(self) -> None:
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"\x00")

    def _serve(self) -> None:
        decoder = FrameDecoder(min_length=MIN_REQUEST_LENGTH)
        while not self._stopping.is_set():
            if self._disconnect_requested.is_set():
                self._do_disconnect()
                decoder.clear()
            master = self._master
            watch = [self._wake_r] if master is None else [self._wake_r, master]
            ready, _, _ = select.select(watch, [], [], 0.2)
            if self._wake_r in ready:
                os.read(self._wake_r, 1024)
            if master is None or master not in ready:
                continue
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                time.sleep(0.01)  # EIO while the slave side is being reopened; do not spin
                continue
            arrived = time.monotonic()
            with self._lock:
                self.bytes_received += len(data)
            decoder.feed(data)
            while True:
                try:
                    body = decoder.next_frame()
                except FrameError as exc:
                    status = Status.LENGTH_ERROR if exc.reason == "length" else Status.CHECKSUM_ERROR
                    self._send(encode_response(status), arrived, len(data))
                    continue
                if body is None:
                    break
                request = parse_request(body)
                with self._commands_seen:
                    self.command_counts[request.command] += 1
                    self._commands_seen.notify_all()
                self._answer(request, arrived, len(body) + 8)

    def _do_disconnect(self) -> None:
        self._disconnect_requested.clear()
        self._close_pty()
        self._disconnected.set()

    def _answer(self, request: Request, arrived: float, request_size: int) -> None:
        with self._lock:
            fault = self._take_fault(request.command)
            if fault.mode is Fault.STATUS:
                frame = encode_response(fault.status)
            elif fault.mode is Fault.NO_CARD and request.command is Command.FIND_CARD:
                frame = encode_response(Status.FIND_FAILED)
            else:
                frame = self._execute(request)
        mode = fault.mode
        if mode is Fault.SILENT:
            return
        if mode is Fault.BAD_CHECKSUM:
            frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
        elif mode is Fault.WRONG_LENGTH:
            frame = self._wrong_length(frame)
        elif mode is Fault.GARBAGE_BEFORE_FRAME:
            frame = GARBAGE + frame
        elif mode in (Fault.TRUNCATED_FRAME, Fault.DISCONNECT_MID_FRAME):
            frame = frame[: max(3, len(frame) // 2)]
        slow = fault.slow_factor if mode is Fault.SLOW else 1.0
        self._send(frame, arrived, request_size, slow=slow)
        if mode is Fault.DISCONNECT_MID_FRAME:
            self._do_disconnect()

    def _take_fault(self, command: Command | None) -> _FaultSetting:
        fault = self._fault
        if fault.mode is Fault.NONE or (fault.command is not None and fault.command is not command):
            return _FaultSetting()
        if fault.mode is Fault.NO_CARD and command is not Command.FIND_CARD:
            return _FaultSetting()
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._fault = _FaultSetting()
        return fault

    def _wrong_length(self, frame: bytes) -> bytes:
        length = int.from_bytes(frame[5:7], "big")
        variants = (length + 7, max(1, length - 2), 1, 0xFFFF)
        wrong = variants[self._wrong_length_turn % len(variants)]
        self._wrong_length_turn += 1
        return frame[:5] + wrong.to_bytes(2, "big") + frame[7:]

    def _execute(self, request: Request) -> bytes:
        """The SAM proper: answer one well-formed request (lock held)."""
        command = request.command
        if command is None:
            return encode_response(Status.COMMAND_ERROR)
        if command in (Command.RESET, Command.STATUS):
            return encode_response(Status.OK)
        if command is Command.SAM_ID:
            return encode_response(Status.OK, self.sam_id)
        if command is Command.SET_MAX_RF_BYTES:
            return encode_response(Status.OK if len(request.data) == 1 else Status.COMMAND_ERROR)
        card = self._card
        if command is Command.FIND_CARD:
            if card is None or self._read_done:
                # A card that has been read stays active and ignores the find request (it answers only once it
                # has left the field and been powered up afresh), so its selected state survives this.
                return encode_response(Status.FIND_FAILED)
            self._card_state = _CardState.FOUND
            return encode_response(Status.FIND_OK, bytes(4))
        if command is Command.SELECT_CARD:
            if card is None or self._card_state is _CardState.IDLE:
                return encode_response(Status.SELECT_FAILED)
            self._card_state = _CardState.SELECTED
            return encode_response(Status.OK, bytes(8))
        if card is None or self._card_state is not _CardState.SELECTED:
            return encode_response(Status.READ_FAILED)
        if command is Command.READ_LATEST_ADDRESS:
            if not self._latest_address:
                return encode_response(Status.NO_CONTENT)
            address = (self._latest_address.encode("utf-16-le") + " ".encode("utf-16-le") * 35)[:70]
            return encode_response(Status.OK, address)
        text = encode_text_block(card)
        photo = card.photo or bytes(1024)
        fingerprint = None
        if command is Command.READ_TEXT_PHOTO_FINGERPRINT:
            fingerprint = _fake_fingerprint(card.id_number, self.fingerprint_size)
        self._read_done = self.halt_after_read
        return encode_response(Status.OK, encode_card_data(text, photo, fingerprint))

    def _send(self, frame: bytes, arrived: float, request_size: int, *, slow: float = 1.0) -> None:
        """Write `frame` to the master at line rate (or `slow` times slower), after the request's own wire time."""
        master = self._master
        if master is None:
            return
        rate = LINE_BYTES_PER_SECOND / slow
        chunk = CHUNK if slow == 1.0 else 1
        start = arrived + request_size / LINE_BYTES_PER_SECOND if self.pacing else time.monotonic()
        if slow != 1.0:
            start += 0.05 * slow  # a slow SAM also takes a while to start answering
        for offset in range(0, len(frame), chunk):
            piece = frame[offset : offset + chunk]
            if self.pacing or slow != 1.0:
                delay = start + (offset + len(piece)) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if self._stopping.is_set() or self._disconnect_requested.is_set():
                return
            with self._lock:
                # Counted before the write: once written, the reader may already be done and reset counters.
                self.bytes_sent += len(piece)
            if not self._write_all(master, piece):
                return

    def _write_all(self, fd: int, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                # The reader is not reading and the pty buffer is full: wait, but stay stoppable.
                if self._stopping.is_set() or self._disconnect_requested.is_set():
                    return False
                select.select([], [fd], [], 0.05)
                continue
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return False
            view = view[written:]
        return True


def _fake_fingerprint(seed: str, size: int) -> bytes:
    # Clearly not a fingerprint template: a repeated marker, deterministic per card.
    marker = f"FAKE-FP {seed[-4:]} ".encode("ascii")
    return (marker * (size // len(marker) + 1))[:size]
