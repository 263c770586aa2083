"""A fault-injecting HTTP/1.1 proxy between the kiosk's sync client and the platform, for tests and benchmarks.

Real sockets on loopback, a thread per client connection, no mocks: the sync client meets what it meets on a
village line — slow or distant links, connections cut mid-upload or mid-answer, a platform that acted on a
request whose answer never arrived, captive portals and wrong hosts answering 200.

    with FaultProxy("http://127.0.0.1:8700") as proxy:
        proxy.link = Link(latency_ms=80, bandwidth_bps=2_000_000)
        proxy.schedule(Fault(FaultKind.CUT_REQUEST, path_prefix="/v1/blobs/", method="PUT", after_bytes=65536))
        ...  # sync against proxy.url, then read proxy.stats.request_body_bytes("/v1/blobs/", method="PUT")

Requests carry Content-Length (never chunked); responses may be Content-Length, chunked or ended by close, and
are relayed piece by piece as they arrive, not buffered, so throttling and cuts fall where they would on a line.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json
import logging
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from urllib.parse import urlsplit

from sync.testing.http_wire import (
    PIECE,
    ConnectionGone,
    RequestHead,
    SocketReader,
    body_pieces,
    drain,
    parse_request,
    read_exactly,
    read_response_head,
)

log = logging.getLogger(__name__)

_STALE_LIMIT = 4 * 1024 * 1024  # larger answers are not kept for STALE_RESPONSE: benchmarks move big blobs
_CORRUPT_EVERY = 4096  # flip the first body byte (breaks any JSON) and one per 4 KiB (breaks any hash)


class FaultKind(Enum):
    PASS = "pass"  # forward untouched
    DELAY = "delay"  # wait `seconds`, then forward
    CUT_REQUEST = "cut_request"  # forward the head and `after_bytes` of the body, then close both ends
    CUT_RESPONSE = "cut_response"  # relay the first `after_bytes` of the answer (head included), then close
    DROP_AFTER_COMMIT = "drop_after_commit"  # forward, read the whole answer, close without a byte to the client
    ERROR_AFTER_COMMIT = "error_after_commit"  # forward, drop the answer, send `status` with a small JSON body
    CORRUPT_RESPONSE = "corrupt_response"  # flip bytes of the answer's body; head and framing stay valid
    REFUSE = "refuse"  # read the request and close; the platform is never contacted
    HANG = "hang"  # read the request, say nothing for `seconds`, close
    PORTAL = "portal"  # a captive portal's 200 text/html login page
    WRONG_HOST = "wrong_host"  # some other service's 200 JSON (or nginx's 404 page)
    STALE_RESPONSE = "stale_response"  # forward, but answer with the last answer relayed (else as DROP_AFTER_COMMIT)


# Answered by the proxy itself: the platform never hears of these requests.
_LOCAL_KINDS = frozenset({FaultKind.REFUSE, FaultKind.HANG, FaultKind.PORTAL, FaultKind.WRONG_HOST})
# The platform gets the whole request and answers, but that answer never reaches the client.
_SWALLOW_KINDS = frozenset({FaultKind.DROP_AFTER_COMMIT, FaultKind.ERROR_AFTER_COMMIT, FaultKind.STALE_RESPONSE})


@dataclass(frozen=True)
class Fault:
    """One injected fault, for the next request under `path_prefix` and with `method` ("" = any).
    `fraction` (0..1), when set, puts a cut at that share of the request body (CUT_REQUEST) or of the response
    (CUT_RESPONSE; head + 1 KiB when the head gives no length) instead of at `after_bytes`.
    WRONG_HOST answers nginx's 404 page when `status` is 404, otherwise a 200 JSON from another service."""

    kind: FaultKind
    path_prefix: str = ""
    after_bytes: int = 0
    seconds: float = 0
    status: int = 500
    method: str = ""
    fraction: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (not self.method or self.method.upper() == method)


_PASS = Fault(FaultKind.PASS)


@dataclass(frozen=True)
class Link:
    """The standing condition of the line: `latency_ms` is added once each way (to every request and every
    response); `bandwidth_bps` (bits per second, each direction) is shared by all connections, like one line."""

    latency_ms: float = 0
    bandwidth_bps: float | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or (self.bandwidth_bps is not None and self.bandwidth_bps <= 0):
            raise ValueError("latency must be >= 0 and bandwidth > 0 (or None for unlimited)")


class ProxyStats:
    """What crossed the proxy. Counters are kept per (method, path without query) and summed by prefix when
    asked, so a benchmark can ask for "PUT body bytes under /v1/blobs/" without declaring prefixes first."""

    requests: int
    connections: int  # client connections accepted
    upstream_connections: int  # connections opened to the platform
    bytes_to_upstream: int  # heads and bodies
    bytes_to_client: int  # heads and bodies, synthesised answers included
    faults: Counter[FaultKind]  # kinds applied; PASS counts the requests that went through untouched
    events: list[tuple[str, str, FaultKind]]  # (method, path, kind) per request, in order of arrival
    _paths: dict[tuple[str, str], list[int]]  # [requests, request body bytes, response body bytes]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = self.connections = self.upstream_connections = 0
            self.bytes_to_upstream = self.bytes_to_client = 0
            self.faults, self.events, self._paths = Counter(), [], {}

    def fault_count(self, kind: FaultKind) -> int:
        with self._lock:
            return self.faults[kind]

    def requests_for(self, prefix: str = "", method: str | None = None) -> int:
        return self._sum(0, prefix, method)

    def request_body_bytes(self, prefix: str = "", method: str | None = None) -> int:
        """Request body bytes forwarded upstream; a cut request counts only what got through."""
        return self._sum(1, prefix, method)

    def response_body_bytes(self, prefix: str = "", method: str | None = None) -> int:
        """Response body bytes relayed to the client, chunk framing not included."""
        return self._sum(2, prefix, method)

    def _sum(self, index: int, prefix: str, method: str | None) -> int:
        with self._lock:
            return sum(counters[index] for (m, path), counters in self._paths.items()
                       if path.startswith(prefix) and (method is None or m == method.upper()))

    def _request(self, method: str, path: str, kind: FaultKind) -> None:
        with self._lock:
            self.requests += 1
            self.faults[kind] += 1
            self.events.append((method, path, kind))
            self._paths.setdefault((method, path), [0, 0, 0])[0] += 1

    def _connected(self, upstream: bool) -> None:
        with self._lock:
            self.upstream_connections += upstream
            self.connections += not upstream

    def _sent(self, upstream: bool, nbytes: int, body_of: tuple[str, str] | None) -> None:
        with self._lock:
            if upstream:
                self.bytes_to_upstream += nbytes
            else:
                self.bytes_to_client += nbytes
            if body_of is not None:
                self._paths.setdefault(body_of, [0, 0, 0])[1 if upstream else 2] += nbytes


def _corrupt(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    for i in range(-offset % _CORRUPT_EVERY, len(out), _CORRUPT_EVERY):
        out[i] ^= 0x55  # never a no-op, and makes every byte a JSON text can start with ({ [ " digit t f n -) invalid
    return bytes(out)


_PORTAL_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>村村通 WiFi 认证</title></head>
<body><h1>欢迎使用村村通 WiFi，请登录</h1>
<form method="post" action="/portal/login"><input name="phone" placeholder="请输入手机号">
<input name="code" placeholder="短信验证码"><button type="submit">登录上网</button></form></body></html>
""".encode()
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}
_NGINX_404 = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
              b"</center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n")


def _synthesised(fault: Fault) -> bytes:
    """The proxy's own answer for PORTAL, WRONG_HOST and ERROR_AFTER_COMMIT, complete with Content-Length."""
    status, server, content_type = fault.status, "fault-proxy", "application/json"
    body = json.dumps({"error": "injected by fault proxy", "status": status}).encode()
    if fault.kind is FaultKind.PORTAL:
        status, server, content_type, body = 200, "Portal", "text/html; charset=utf-8", _PORTAL_PAGE
    elif fault.kind is FaultKind.WRONG_HOST and status == 404:
        server, content_type, body = "nginx/1.18.0", "text/html", _NGINX_404
    elif fault.kind is FaultKind.WRONG_HOST:
        status, server, body = 200, "nginx/1.18.0", json.dumps({"service": "nginx-default", "status": "ok"}).encode()
    return (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nServer: {server}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class _RandomFaults:
    rng: random.Random
    rate: float
    kinds: tuple[FaultKind, ...]
    max_seconds: float
    scope: Fault  # only its path_prefix and method count

    def draw(self, request: RequestHead) -> Fault | None:
        if not self.scope.matches(request.method, request.path):
            return None
        # The same number of draws for every eligible request, so one seed gives one sequence of faults.
        hit, kind = self.rng.random() < self.rate, self.rng.choice(self.kinds)
        seconds, fraction = self.rng.uniform(0, self.max_seconds), self.rng.random()
        status = self.rng.choice((500, 502, 503, 504))
        return Fault(kind, seconds=seconds, fraction=fraction, status=status) if hit else None


class FaultProxy:
    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.link = Link()
        self.stats = ProxyStats()
        self.address: tuple[str, int] = (host, port)  # the real port once started
        self.url = ""  # "http://127.0.0.1:PORT" once started
        self._lock = threading.Lock()
        self._schedule: deque[Fault] = deque()
        self._random: _RandomFaults | None = None
        self._stale: tuple[bytes, bool] | None = None  # the last answer relayed intact, and whether it closed
        self._line_free_at = {True: 0.0, False: 0.0}  # per direction (to upstream?), when the line is next idle
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()

    def start(self) -> FaultProxy:
        self._listener = socket.create_server(self.address, backlog=128)
        self._listener.settimeout(0.25)  # stop()'s shutdown() wakes accept() on Linux; this is the fallback
        self.address = self._listener.getsockname()[:2]
        self.url = f"http://{self.address[0]}:{self.address[1]}"
        accept = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._threads.add(accept)
        accept.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection and join all threads, within about 2 s. Idempotent."""
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:  # shutdown, not close: the owning thread may be inside recv() on it
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 2
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def schedule(self, *faults: Fault) -> None:
        """Queue faults, first in first out. The head of the queue applies to the next request it matches;
        requests it does not match pass untouched (random faults apply only while the queue is empty)."""
        with self._lock:
            self._schedule.extend(faults)

    def random_faults(self, seed: int, rate: float, kinds: Sequence[FaultKind] | None = None, *,
                      max_seconds: float = 1.0, path_prefix: str = "", method: str = "") -> None:
        """Give each eligible request (under `path_prefix`, with `method` if set) a fault with probability `rate`,
        of a kind drawn from `kinds` (default: all but PASS). DELAY and HANG last up to `max_seconds`, cuts fall
        at a random fraction, errors are 500/502/503/504. One seed and one request order give one outcome."""
        chosen = tuple(kinds) if kinds else tuple(k for k in FaultKind if k is not FaultKind.PASS)
        with self._lock:
            scope = Fault(FaultKind.PASS, path_prefix, method=method)
            self._random = _RandomFaults(random.Random(seed), rate, chosen, max_seconds, scope)

    def clear(self) -> None:
        """Forget scheduled and random faults; the link condition and the stats stay."""
        with self._lock:
            self._schedule.clear()
            self._random = None

    @property
    def pending(self) -> int:
        """Scheduled faults not applied yet."""
        with self._lock:
            return len(self._schedule)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(t.name == "fault-proxy-conn" for t in self._threads)

    def _next_fault(self, request: RequestHead) -> Fault:
        with self._lock:
            if self._schedule:
                fault = self._schedule.popleft() if self._schedule[0].matches(request.method, request.path) else _PASS
            else:
                fault = (self._random.draw(request) if self._random else None) or _PASS
        self.stats._request(request.method, request.path, fault.kind)
        return fault

    def _register(self, sock: socket.socket, thread: threading.Thread | None = None) -> None:
        # Under the lock, so stop() either sees the socket or the socket sees stop(): nothing escapes shutdown.
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                raise ConnectionGone("stopping")
            self._sockets.add(sock)
            if thread is not None:
                self._threads.add(thread)
        self.stats._connected(upstream=thread is None)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        sock.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # stop() closed the listener
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # heads and bodies go out as sent
            thread = threading.Thread(target=_Connection(self, client).serve, name="fault-proxy-conn", daemon=True)
            with contextlib.suppress(ConnectionGone):
                self._register(client, thread)
                thread.start()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)
        if self._stopping.is_set():
            raise ConnectionGone("stopping")

    def _transmit(self, sock: socket.socket, data: bytes, *, upstream: bool, body_of: tuple[str, str] | None) -> None:
        """Send through the simulated line. Each piece reserves its transmission time after whatever is already
        queued in that direction, so concurrent connections share the bandwidth instead of each getting all."""
        view = memoryview(data)
        while view:
            bps = self.link.bandwidth_bps  # read per piece: the link may change mid-transfer
            piece = view[: len(view) if bps is None else max(512, min(PIECE, int(bps / 8 / 20)))]  # ~50 ms each
            if bps is not None:
                with self._lock:
                    done = self._line_free_at[upstream] = (max(time.monotonic(), self._line_free_at[upstream])
                                                           + len(piece) * 8 / bps)
                self._wait(done - time.monotonic())
            elif self._stopping.is_set():
                raise ConnectionGone("stopping")
            sock.sendall(piece)
            self.stats._sent(upstream, len(piece), body_of)
            view = view[len(piece):]


class _Connection:
    """One client connection and its upstream connection, opened on demand and kept alive like a real proxy's."""

    def __init__(self, proxy: FaultProxy, client: socket.socket) -> None:
        self.proxy, self.client, self.client_reader = proxy, client, SocketReader(client)
        self.upstream: socket.socket | None = None
        self.upstream_reader: SocketReader | None = None

    def serve(self) -> None:
        try:
            while (head := self.client_reader.until(b"\r\n\r\n")) is not None:
                request = parse_request(head)
                if not self._exchange(request, self.proxy._next_fault(request)) or request.close:
                    return
        except (ConnectionGone, OSError) as exc:  # peers vanish and faults close connections: that is the job here
            log.debug("fault proxy connection ended: %r", exc)
        except Exception:
            log.exception("fault proxy connection failed")
        finally:
            self._drop_upstream()
            self.proxy._forget(self.client)
            with self.proxy._lock:
                self.proxy._threads.discard(threading.current_thread())

    def _drop_upstream(self) -> None:
        if self.upstream is not None:
            self.proxy._forget(self.upstream)
            self.upstream = self.upstream_reader = None

    def _open_upstream(self) -> tuple[socket.socket, SocketReader]:
        if self.upstream_reader is not None and self.upstream_reader.stale():
            self._drop_upstream()  # the platform closed it while idle (uvicorn's keep-alive timeout)
        if self.upstream is None or self.upstream_reader is None:
            sock = socket.create_connection(self.proxy.upstream, timeout=5)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.proxy._register(sock)
            self.upstream, self.upstream_reader = sock, SocketReader(sock)
        return self.upstream, self.upstream_reader

    def _to_client(self, data: bytes, body_of: tuple[str, str] | None = None) -> None:
        self.proxy._transmit(self.client, data, upstream=False, body_of=body_of)

    def _exchange(self, request: RequestHead, fault: Fault) -> bool:
        """Carry one request and its answer through `fault`; False when the client connection must close."""
        proxy, kind, key = self.proxy, fault.kind, (request.method, request.path)
        latency = proxy.link.latency_ms / 1000
        proxy._wait(latency)  # the request crossing the line
        if kind in _LOCAL_KINDS:
            drain(read_exactly(self.client_reader, request.body_length))  # sent over the line all the same
            if kind is FaultKind.HANG:
                proxy._wait(fault.seconds)
            if kind in (FaultKind.REFUSE, FaultKind.HANG):
                return False
            proxy._wait(latency)
            self._to_client(_synthesised(fault))
            return True

        if kind is FaultKind.DELAY:
            proxy._wait(fault.seconds)
        upstream, reader = self._open_upstream()
        proxy._transmit(upstream, request.head, upstream=True, body_of=None)
        limit = request.body_length
        if kind is FaultKind.CUT_REQUEST:
            keep = fault.after_bytes if fault.fraction is None else int(fault.fraction * request.body_length)
            limit = min(limit, max(0, keep))
        for data in read_exactly(self.client_reader, limit):
            proxy._transmit(upstream, data, upstream=True, body_of=key)
        if kind is FaultKind.CUT_REQUEST:
            return False  # both ends close: the platform sees a short body, the client a dropped line

        response = read_response_head(reader, request.method)
        pieces = body_pieces(reader, response)
        if kind in _SWALLOW_KINDS:
            drain(pieces)  # read in full (the platform did commit), then thrown away
            if response.close or request.close:
                self._drop_upstream()
            stale = proxy._stale
            if kind is FaultKind.DROP_AFTER_COMMIT or (kind is FaultKind.STALE_RESPONSE and stale is None):
                return False
            proxy._wait(latency)
            if kind is FaultKind.ERROR_AFTER_COMMIT:
                self._to_client(_synthesised(fault))
                return True
            assert stale is not None
            self._to_client(stale[0])
            return not stale[1] and request.method != "HEAD"  # a HEAD answer cannot carry the stale body

        proxy._wait(latency)  # the answer crossing the line
        cut: int | None = None
        if kind is FaultKind.CUT_RESPONSE:
            total = len(response.head) + (response.length if response.framing == "length" else 1024)
            cut = fault.after_bytes if fault.fraction is None else int(fault.fraction * total)
        record: list[bytes] | None = [] if kind in (FaultKind.PASS, FaultKind.DELAY) else None
        sent = offset = 0
        for data, payload in itertools.chain([(response.head, False)], pieces):
            if payload and kind is FaultKind.CORRUPT_RESPONSE:
                data = _corrupt(data, offset)
            offset += len(data) if payload else 0
            if cut is not None and sent + len(data) >= cut:
                self._to_client(data[: cut - sent], key if payload else None)
                self._drop_upstream()  # the rest of the answer is never read: the connection is spoilt
                return False
            self._to_client(data, key if payload else None)
            sent += len(data)
            if record is not None and sent <= _STALE_LIMIT:
                record.append(data)
        if response.close or request.close:
            self._drop_upstream()
        if record is not None and sent <= _STALE_LIMIT and request.method != "HEAD":
            proxy._stale = (b"".join(record), response.close)
        return not response.close and kind is not FaultKind.CUT_RESPONSE
