"""Just enough HTTP/1.1 framing for the fault proxy: request and response heads, bodies by Content-Length,
chunked or until close, read piece by piece so the proxy can throttle, cut or corrupt them where they fall."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

PIECE = 64 * 1024


class ConnectionGone(Exception):
    """The connection ended: peer closed, bad framing, a fault, or stop(). Expected, not a proxy failure."""


class SocketReader:
    """Buffered reads from one socket: heads up to CRLFCRLF, chunk-size lines, bodies piece by piece."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, bytearray()

    def until(self, marker: bytes, limit: int = PIECE) -> bytes | None:
        """Bytes up to and including `marker`; None if the peer closed cleanly before sending any (an idle
        keep-alive connection ending between messages)."""
        while (end := self.buf.find(marker)) < 0:
            if len(self.buf) > limit:
                raise ConnectionGone("head or chunk line too long")
            if not (data := self.sock.recv(PIECE)):
                if self.buf:
                    raise ConnectionGone("closed inside a head or chunk line")
                return None
            self.buf += data
        return self._take(end + len(marker))

    def line(self) -> bytes:
        if (line := self.until(b"\n", 8192)) is None:
            raise ConnectionGone("closed before a chunk line")
        return line

    def some(self, limit: int, *, eof_ok: bool = False) -> bytes:
        """1 to `limit` bytes; b"" at the end of the stream only when `eof_ok`."""
        if not self.buf:
            self.buf += self.sock.recv(PIECE)
            if not self.buf:
                if eof_ok:
                    return b""
                raise ConnectionGone("closed inside a body")
        return self._take(min(limit, len(self.buf)))

    def _take(self, n: int) -> bytes:
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def stale(self) -> bool:
        """Whether an idle kept-alive connection was closed (or spoke out of turn) and must not be reused."""
        return bool(self.buf) or bool(select.select([self.sock], [], [], 0)[0])


def parse_head(head: bytes) -> tuple[list[str], dict[str, str], bool]:
    """Start line, headers (lower-case names, repeats joined) and whether the sender ends the connection."""
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    start = lines[0].split(" ", 2)
    connection = headers.get("connection", "").lower()
    return start, headers, "close" in connection or ("HTTP/1.0" in start and "keep-alive" not in connection)


def content_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        raise ConnectionGone("bad Content-Length") from None


@dataclass(frozen=True)
class RequestHead:
    head: bytes
    method: str
    path: str  # without the query: counters are per path
    body_length: int
    close: bool


def parse_request(head: bytes) -> RequestHead:
    start, headers, close = parse_head(head)
    if len(start) != 3 or "chunked" in headers.get("transfer-encoding", "").lower():
        raise ConnectionGone("bad request line, or a chunked request body (the sync client never sends one)")
    target = start[1]
    path = urlsplit(target).path if target.startswith("http") else target.split("?", 1)[0]
    return RequestHead(head, start[0].upper(), path or "/", content_length(headers), close)


@dataclass(frozen=True)
class ResponseHead:
    head: bytes  # interim 1xx heads included: they are relayed as part of the answer
    framing: Literal["none", "length", "chunked", "eof"]
    length: int
    close: bool  # the connection ends with this answer


def read_response_head(reader: SocketReader, method: str) -> ResponseHead:
    raw = b""
    while True:
        head = reader.until(b"\r\n\r\n")
        if head is None:
            raise ConnectionGone("upstream closed without answering")
        raw += head
        start, headers, close = parse_head(head)
        status = int(start[1]) if len(start) > 1 and start[1].isdigit() else 0
        if not (100 <= status < 200 and status != 101):
            break
    if method == "HEAD" or status < 200 or status in (204, 304):
        return ResponseHead(raw, "none", 0, close)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return ResponseHead(raw, "chunked", 0, close)
    if "content-length" in headers:
        return ResponseHead(raw, "length", content_length(headers), close)
    return ResponseHead(raw, "eof", 0, True)


def body_pieces(reader: SocketReader, response: ResponseHead) -> Iterator[tuple[bytes, bool]]:
    """The response body as it arrives, as (bytes, is_payload): chunk framing comes as non-payload pieces, so
    corruption and body counters touch only the content."""
    if response.framing == "length":
        yield from ((data, True) for data in read_exactly(reader, response.length))
    elif response.framing == "eof":
        while data := reader.some(PIECE, eof_ok=True):
            yield data, True
    elif response.framing == "chunked":
        while True:  # a size line, the chunk, its CRLF; size 0 ends the body, after optional trailers
            size_line = reader.line()
            yield size_line, False
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ConnectionGone("bad chunk size") from None
            if size == 0:
                while (trailer := reader.line()) not in (b"\r\n", b"\n"):
                    yield trailer, False
                yield trailer, False
                return
            yield from ((data, True) for data in read_exactly(reader, size))
            yield reader.line(), False


def read_exactly(reader: SocketReader, size: int) -> Iterator[bytes]:
    while size:
        data = reader.some(min(size, PIECE))
        size -= len(data)
        yield data


def drain(pieces: Iterable[object]) -> None:
    """Consume a body piece by piece without keeping it (what a faulty line swallows)."""
    for _piece in pieces:
        continue
