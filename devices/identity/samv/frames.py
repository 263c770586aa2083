"""GA 467 SAM framing: commands, statuses, an encoder and an incremental decoder.

Request:  AA AA AA 96 69 | LEN (2, big-endian) | CMD PARA [DATA] | CHK
Response: AA AA AA 96 69 | LEN (2, big-endian) | SW1 SW2 SW3 [DATA] | CHK

LEN counts every byte after itself, CHK included; CHK is the XOR of LEN..last data byte. The "body" in this
module is what sits between LEN and CHK (CMD PARA DATA, or SW1 SW2 SW3 DATA).

A serial line delivers noise, half frames and bytes left over from an abandoned command, so the decoder never
trusts a position: it scans for the preamble, refuses impossible lengths, checks the checksum, and after any
error resumes scanning one byte further on. Its buffer is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

from devices.identity.reader import CardUnreadable, NoCard, ProtocolError, ReaderError, ReaderUnavailable

PREAMBLE: Final = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE: Final = len(PREAMBLE) + 2  # preamble + LEN
MIN_REQUEST_LENGTH: Final = 3  # CMD PARA CHK
MIN_RESPONSE_LENGTH: Final = 4  # SW1 SW2 SW3 CHK
# The longest real frame is 30 10 with a full fingerprint: 3 + 6 + 256 + 1024 + 1024 + 1 = 2314 bytes.
# Anything past this bound is noise, and waiting for it would stall the reader.
MAX_LENGTH: Final = 4096
# Room for a couple of whole frames; more than that unread means the caller stopped pulling frames.
MAX_BUFFER: Final = 4 * (HEADER_SIZE + MAX_LENGTH)

TEXT_SIZE: Final = 256
PHOTO_SIZE: Final = 1024
SAM_ID_SIZE: Final = 16

GARBLED: Final = "读卡器传来的数据有误，请稍后重试；反复出现请联系技术人员"


class Command(Enum):
    """(CMD, PARA) of every command the SAM understands."""

    RESET = (0x10, 0xFF)
    STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_LATEST_ADDRESS = (0x30, 0x03)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
    SET_MAX_RF_BYTES = (0x61, 0xFF)

    @property
    def cmd(self) -> int:
        return self.value[0]

    @property
    def para(self) -> int:
        return self.value[1]

    @classmethod
    def lookup(cls, cmd: int, para: int) -> Command | None:
        return _COMMANDS.get((cmd, para))


_COMMANDS: Final = {command.value: command for command in Command}


class Status(IntEnum):
    """SW3, the SAM's operation status."""

    CHECKSUM_ERROR = 0x10  # the SAM got our frame with a bad checksum
    LENGTH_ERROR = 0x11  # ... with a bad length
    COMMAND_ERROR = 0x21  # unknown command or bad parameters
    UNAUTHORIZED = 0x23  # operation not permitted (越权操作)
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31  # the card refused to authenticate the reader
    READER_AUTH_FAILED = 0x32  # the reader could not authenticate the card
    VERIFY_FAILED = 0x33  # information verification failed
    NO_CARD_YET = 0x34  # a card command before any card was found
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47  # getting a random challenge failed
    SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORIZED = 0x66
    FIND_FAILED = 0x80  # no card in the field (or only one already read)
    SELECT_FAILED = 0x81
    OK = 0x90
    NO_CONTENT = 0x91  # e.g. no latest address on this card
    FIND_OK = 0x9F


SUCCESS_STATUSES: Final = frozenset({Status.OK, Status.NO_CONTENT, Status.FIND_OK})
ERROR_STATUSES: Final = tuple(status for status in Status if status not in SUCCESS_STATUSES)

_PLACE_AGAIN: Final = "读卡失败，请将身份证重新放好"
_SAM_NOT_AUTHORISED: Final = "读卡器安全模块未授权，请联系技术人员"
_REPLUG: Final = "读卡器通信出错，请重新插拔读卡器后再试；反复出现请联系技术人员"

# What each error status means for the person in front of the kiosk, and which ReaderError family it is:
# ProtocolError for garbled traffic, ReaderUnavailable for a reader that cannot work until someone fixes it,
# CardUnreadable for "take the card, put it back", NoCard for "there is no card yet".
_STATUS_ERRORS: Final[dict[Status, tuple[type[ReaderError], str]]] = {
    Status.CHECKSUM_ERROR: (ProtocolError, _REPLUG),
    Status.LENGTH_ERROR: (ProtocolError, _REPLUG),
    Status.COMMAND_ERROR: (ProtocolError, "读卡器不支持此操作，请联系技术人员检查读卡器型号"),
    Status.UNAUTHORIZED: (ReaderUnavailable, _SAM_NOT_AUTHORISED),
    Status.UNKNOWN_ERROR: (ReaderUnavailable, "读卡器内部出错，请重新插拔读卡器后再试；反复出现请联系技术人员"),
    Status.CARD_AUTH_FAILED: (ReaderUnavailable, "读卡器安全模块认证失败，请联系技术人员"),
    Status.READER_AUTH_FAILED: (CardUnreadable, "身份证认证未通过，请重新放好；仍不行请到公安机关核查证件"),
    Status.VERIFY_FAILED: (CardUnreadable, "身份证信息校验未通过，请重新放好；仍不行请到公安机关核查证件"),
    Status.NO_CARD_YET: (NoCard, "请将身份证放在读卡区"),
    Status.UNKNOWN_CARD_TYPE: (CardUnreadable, "无法识别此卡，请放入居民身份证、居住证或外国人永久居留身份证"),
    Status.READ_FAILED: (CardUnreadable, _PLACE_AGAIN),
    Status.RANDOM_FAILED: (CardUnreadable, _PLACE_AGAIN),
    Status.SELF_TEST_FAILED: (ReaderUnavailable, "读卡器自检失败，请重新插拔读卡器；仍不行请联系技术人员"),
    Status.SAM_NOT_AUTHORIZED: (ReaderUnavailable, _SAM_NOT_AUTHORISED),
    Status.FIND_FAILED: (NoCard, "未检测到身份证，请将身份证放在读卡区"),
    Status.SELECT_FAILED: (CardUnreadable, _PLACE_AGAIN),
}


def status_error(sw3: int, command: Command | None = None) -> ReaderError:
    """The error for an SW3 that is not success, with a plain message; the code goes into `detail`."""
    where = f"{command.name} " if command is not None else ""
    try:
        status = Status(sw3)
    except ValueError:
        return ProtocolError("读卡器返回了无法识别的状态，请联系技术人员", detail=f"{where}SW3 {sw3:02X}")
    if status in SUCCESS_STATUSES:
        # Success where the caller expected something else (e.g. NO_CONTENT to a read): the reader misbehaves.
        return ProtocolError(GARBLED, detail=f"{where}unexpected SW3 {sw3:02X} ({status.name})")
    family, message = _STATUS_ERRORS[status]
    return family(message, detail=f"{where}SW3 {sw3:02X} ({status.name})")


# --- Encoding --------------------------------------------------------------------------------------------------


def checksum(data: bytes | bytearray | memoryview) -> int:
    result = 0
    for byte in data:
        result ^= byte
    return result


def encode_frame(body: bytes) -> bytes:
    """Wrap a body (CMD PARA DATA or SW1 SW2 SW3 DATA) into a frame."""
    length = len(body) + 1
    if length > MAX_LENGTH:
        raise ValueError(f"frame body of {len(body)} bytes exceeds the GA 467 bound")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes((checksum(head + body),))


def encode_request(command: Command, data: bytes = b"") -> bytes:
    """A host-to-SAM frame, e.g. FIND_CARD -> AA AA AA 96 69 00 03 20 01 22."""
    return encode_frame(bytes(command.value) + data)


def set_max_rf_bytes_request(count: int = 0x50) -> bytes:
    """61 FF <n>: the longest RF exchange the SAM may use (0x50 is what readers are usually set to)."""
    return encode_request(Command.SET_MAX_RF_BYTES, bytes((count,)))


def encode_response(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    """A SAM-to-host frame (used by the emulator and by tests)."""
    return encode_frame(bytes((sw1, sw2, sw3)) + data)


# --- Parsed frames ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command | None:
        return Command.lookup(self.cmd, self.para)


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> Status | None:
        try:
            return Status(self.sw3)
        except ValueError:
            return None


def parse_request(body: bytes) -> Request:
    if len(body) < MIN_REQUEST_LENGTH - 1:
        raise ProtocolError(GARBLED, detail=f"request body of {len(body)} bytes")
    return Request(body[0], body[1], bytes(body[2:]))


def parse_response(body: bytes) -> Response:
    if len(body) < MIN_RESPONSE_LENGTH - 1:
        raise ProtocolError(GARBLED, detail=f"response body of {len(body)} bytes")
    return Response(body[0], body[1], body[2], bytes(body[3:]))


@dataclass(frozen=True)
class CardData:
    """The data part of a 30 01 / 30 10 answer, split by its length fields."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def encode_card_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """30 01 data (fingerprint None): textlen photolen text photo; 30 10 data: three lengths, then the three."""
    parts = (text, photo) if fingerprint is None else (text, photo, fingerprint)
    return b"".join(len(part).to_bytes(2, "big") for part in parts) + b"".join(parts)


def parse_card_data(data: bytes, *, with_fingerprint: bool) -> CardData:
    """Split read data by its big-endian length fields; lengths that do not add up are a ProtocolError."""
    count = 3 if with_fingerprint else 2
    if len(data) < 2 * count:
        raise ProtocolError(GARBLED, detail=f"card data of {len(data)} bytes, no length fields")
    lengths = [int.from_bytes(data[2 * i : 2 * i + 2], "big") for i in range(count)]
    if 2 * count + sum(lengths) != len(data):
        raise ProtocolError(GARBLED, detail=f"card data lengths {lengths} do not match {len(data)} bytes")
    parts: list[bytes] = []
    offset = 2 * count
    for length in lengths:
        parts.append(bytes(data[offset : offset + length]))
        offset += length
    return CardData(*parts)


def format_sam_id(data: bytes) -> str:
    """The SAM id as printed on readers: "05.01-20101010-0012345678-1234567890".

    Layout (from implementations): byte 0 and byte 2 are the two leading numbers, then three little-endian
    32-bit numbers at 4, 8 and 12. Anything else is shown as hex rather than guessed at.
    """
    if len(data) != SAM_ID_SIZE:
        return data.hex().upper()

    def u32(offset: int) -> int:
        return int.from_bytes(data[offset : offset + 4], "little")

    return f"{data[0]:02d}.{data[2]:02d}-{u32(4):08d}-{u32(8):010d}-{u32(12):010d}"


def encode_sam_id(major: int, minor: int, date_part: int, batch: int, serial: int) -> bytes:
    """Inverse of `format_sam_id` (for the emulator)."""
    return (
        bytes((major, 0, minor, 0))
        + date_part.to_bytes(4, "little")
        + batch.to_bytes(4, "little")
        + serial.to_bytes(4, "little")
    )


# --- Incremental decoding --------------------------------------------------------------------------------------


class FrameError(ProtocolError):
    """A frame the decoder threw away; `reason` is "length" or "checksum" (a SAM answers 0x11 or 0x10)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(GARBLED, detail=detail)
        self.reason = reason


class FrameDecoder:
    """Feed bytes as they arrive; pull complete frame bodies with `next_frame()`.

    `next_frame()` returns None while a frame is incomplete and raises FrameError for a frame it has to
    throw away (impossible LEN, bad checksum); the decoder has then already moved past the bad preamble, so
    the caller may simply call it again. Garbage between frames is dropped silently and counted in
    `discarded`, because line noise before a good frame is not worth failing a read over.
    """

    def __init__(self, *, min_length: int = MIN_RESPONSE_LENGTH, max_length: int = MAX_LENGTH) -> None:
        self._min_length = min_length
        self._max_length = max_length
        self._buffer = bytearray()
        self.discarded = 0

    @property
    def pending(self) -> int:
        """Bytes held, waiting to become a frame."""
        return len(self._buffer)

    def clear(self) -> None:
        self.discarded += len(self._buffer)
        self._buffer.clear()

    def feed(self, data: bytes) -> None:
        self._buffer += data
        self._drop_garbage()
        overflow = len(self._buffer) - MAX_BUFFER
        if overflow > 0:
            # Nobody is pulling frames: keep the newest bytes, so the buffer stays bounded.
            del self._buffer[:overflow]
            self.discarded += overflow
            self._drop_garbage()

    def next_frame(self) -> bytes | None:
        self._drop_garbage()
        buffer = self._buffer
        if len(buffer) < HEADER_SIZE:
            return None
        length = int.from_bytes(buffer[5:7], "big")
        if not self._min_length <= length <= self._max_length:
            self._skip_preamble()
            raise FrameError("length", f"impossible frame length {length}")
        end = HEADER_SIZE + length
        if len(buffer) < end:
            return None
        expected = checksum(memoryview(buffer)[5 : end - 1])
        if buffer[end - 1] != expected:
            got = buffer[end - 1]
            self._skip_preamble()
            raise FrameError("checksum", f"checksum {got:02X}, expected {expected:02X}")
        body = bytes(buffer[HEADER_SIZE : end - 1])
        del buffer[:end]
        return body

    def bytes_wanted(self) -> int:
        """How many more bytes could complete the frame in progress (at least 1).

        Reading exactly this many lets a serial read return the moment a frame is whole, instead of waiting
        for a timeout to notice the line went quiet.
        """
        self._drop_garbage()
        buffer = self._buffer
        if len(buffer) < HEADER_SIZE:
            return HEADER_SIZE - len(buffer)
        length = int.from_bytes(buffer[5:7], "big")
        if not self._min_length <= length <= self._max_length:
            return 1
        return max(1, HEADER_SIZE + length - len(buffer))

    def abandon_partial(self) -> None:
        """The line went quiet mid-frame, so the frame in progress will never complete: drop its first byte
        and rescan what is held (a whole frame may sit behind a truncated one whose LEN claimed it)."""
        if self._buffer:
            self._skip_preamble()

    def _skip_preamble(self) -> None:
        # Only one byte: a corrupted LEN may have swallowed the start of the real next frame.
        del self._buffer[:1]
        self.discarded += 1
        self._drop_garbage()

    def _drop_garbage(self) -> None:
        buffer = self._buffer
        if buffer.startswith(PREAMBLE):
            return
        start = buffer.find(PREAMBLE)
        if start < 0:
            # Keep a tail that may be the first bytes of a preamble still on its way.
            keep = 0
            for size in range(min(len(PREAMBLE) - 1, len(buffer)), 0, -1):
                if buffer.endswith(PREAMBLE[:size]):
                    keep = size
                    break
            start = len(buffer) - keep
        if start:
            del buffer[:start]
            self.discarded += start
