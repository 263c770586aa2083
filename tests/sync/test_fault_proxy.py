"""The fault proxy against a real upstream on loopback, with `requests` (or a raw socket) as the client.

The upstream is a small `ThreadingHTTPServer` that keeps connections alive, echoes and counts requests, records
how many body bytes actually reached it, and serves large, chunked, HEAD and 204 answers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.testing.fault_proxy import Fault, FaultKind, FaultProxy, Link

BIG = bytes(i * 7 % 251 for i in range(200_000))
CHUNKS = [b'{"items": [', b'"\xe6\x9d\x91", ', b'"\xe9\x95\x87"', b"]}"]


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, int]] = []  # (method, path, body bytes that arrived)
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.received]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the proxy resets connections on purpose; a broken handler still fails the test that uses it


class UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn
    disable_nagle_algorithm = True  # like uvicorn; otherwise head and body writes stall on delayed ACKs

    @property
    def upstream(self) -> Upstream:
        return cast(Upstream, self.server)

    def setup(self) -> None:
        super().setup()
        with self.upstream.lock:
            self.upstream.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self, nbytes: int) -> int:
        with self.upstream.lock:
            self.upstream.received.append((self.command, urlsplit(self.path).path, nbytes))
            return len(self.upstream.received)

    def _reply(self, status: int, body: bytes, content_type: str = "application/json", *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        seen = self._record(0)
        if url.path == "/big":
            self._reply(200, BIG[: int(parse_qs(url.query)["n"][0])], "application/octet-stream")
        elif url.path == "/chunked":
            chunks = CHUNKS
            if "sizes" in (query := parse_qs(url.query, keep_blank_values=True)):
                ends = list(itertools.accumulate(int(size) for size in query["sizes"][0].split(",") if size))
                chunks = [BIG[start:end] for start, end in zip([0, *ends], ends, strict=False)]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            body = json.dumps({"path": url.path, "query": url.query, "seen": seen}).encode()
            self._reply(200, body, close=url.path == "/close")

    do_HEAD = do_GET

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        seen = self._record(len(body))
        if len(body) < length:  # the proxy cut the body: nobody is left to answer
            self.close_connection = True
            return
        answer = {"received": len(body), "sha256": hashlib.sha256(body).hexdigest(), "seen": seen}
        self._reply(201, json.dumps(answer).encode())

    do_POST = do_PUT


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url) as started:
        yield started


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as client:
        yield client


def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_pass_relays_answers_and_keeps_both_connections_alive(proxy: FaultProxy, upstream: Upstream,
                                                                session: requests.Session) -> None:
    for i in range(5):
        answer = session.get(f"{proxy.url}/v1/status?i={i}", timeout=5)
        assert answer.json() == {"path": "/v1/status", "query": f"i={i}", "seen": i + 1}
    assert session.put(f"{proxy.url}/v1/blobs/a", data=b"x" * 3000, timeout=5).json()["received"] == 3000
    assert session.get(f"{proxy.url}/big?n=150000", timeout=5).content == BIG[:150_000]
    assert proxy.stats.connections == 1 and upstream.connections == 1
    assert proxy.stats.requests == 7 and proxy.stats.fault_count(FaultKind.PASS) == 7


def test_head_204_and_chunked_answers_pass_on_one_connection(proxy: FaultProxy, upstream: Upstream,
                                                            session: requests.Session) -> None:
    head = session.head(f"{proxy.url}/big?n=1000", timeout=5)
    assert head.status_code == 200 and head.headers["Content-Length"] == "1000" and head.content == b""
    assert session.get(f"{proxy.url}/empty", timeout=5).status_code == 204
    chunked = session.get(f"{proxy.url}/chunked", timeout=5)
    assert chunked.headers["Transfer-Encoding"] == "chunked" and chunked.json() == {"items": ["村", "镇"]}
    assert session.get(f"{proxy.url}/json", timeout=5).json()["seen"] == 4
    assert proxy.stats.connections == 1 and upstream.connections == 1
    assert proxy.stats.response_body_bytes("/chunked") == sum(map(len, CHUNKS))  # chunk framing not counted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 5000), max_size=8), corrupt=st.booleans())
def test_any_chunking_passes_through_intact_or_corrupted_in_place(proxy: FaultProxy, session: requests.Session,
                                                                  sizes: list[int], corrupt: bool) -> None:
    if corrupt:
        proxy.schedule(Fault(FaultKind.CORRUPT_RESPONSE))
    answer = session.get(f"{proxy.url}/chunked?sizes={','.join(map(str, sizes))}", timeout=5)
    expected = BIG[: sum(sizes)]
    assert len(answer.content) == len(expected)
    assert (answer.content != expected) == (corrupt and bool(sizes))


def test_an_unreachable_platform_looks_like_a_dropped_connection() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with FaultProxy(f"http://127.0.0.1:{port}") as proxy, pytest.raises(requests.ConnectionError):
        requests.get(f"{proxy.url}/v1/status", timeout=5)


def test_a_connection_closed_by_upstream_is_reopened(proxy: FaultProxy, upstream: Upstream,
                                                     session: requests.Session) -> None:
    assert session.get(f"{proxy.url}/close", timeout=5).headers["Connection"] == "close"
    assert session.get(f"{proxy.url}/json", timeout=5).json()["seen"] == 2
    assert upstream.connections == 2 and proxy.stats.upstream_connections == 2


def test_delay_waits_before_forwarding(proxy: FaultProxy, session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.DELAY, seconds=0.3))
    started = time.monotonic()
    assert session.get(f"{proxy.url}/json", timeout=5).status_code == 200
    assert 0.3 <= time.monotonic() - started < 1.5
    assert proxy.stats.fault_count(FaultKind.DELAY) == 1


def test_cut_request_truncates_the_body_upstream_and_drops_the_client(proxy: FaultProxy, upstream: Upstream,
                                                                      session: requests.Session) -> None:
    assert session.get(f"{proxy.url}/json", timeout=5).ok
    proxy.schedule(Fault(FaultKind.CUT_REQUEST, after_bytes=3000))
    with pytest.raises(requests.ConnectionError):
        session.put(f"{proxy.url}/v1/blobs/abc", data=b"y" * 10_000, timeout=5)
    eventually(lambda: len(upstream.received) == 2)
    assert upstream.received[1] == ("PUT", "/v1/blobs/abc", 3000)
    # the next request gets a new connection and passes
    assert session.put(f"{proxy.url}/v1/blobs/abc", data=b"y" * 10_000, timeout=5).json()["received"] == 10_000
    assert proxy.stats.connections == 2
    assert proxy.stats.request_body_bytes("/v1/blobs/", method="PUT") == 13_000


def test_cut_response_relays_exactly_after_bytes(proxy: FaultProxy, session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.CUT_RESPONSE, after_bytes=100), Fault(FaultKind.CUT_RESPONSE, after_bytes=1000))
    with socket.create_connection(proxy.address, timeout=5) as raw:
        raw.sendall(b"GET /big?n=5000 HTTP/1.1\r\nHost: kiosk\r\n\r\n")
        received = b""
        while data := raw.recv(65536):
            received += data
    assert len(received) == 100 and received.startswith(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(requests.RequestException):  # cut inside the body: an incomplete read
        session.get(f"{proxy.url}/big?n=5000", timeout=5)
    assert session.get(f"{proxy.url}/big?n=5000", timeout=5).content == BIG[:5000]


def test_drop_after_commit_reaches_upstream_but_answers_nothing(proxy: FaultProxy, upstream: Upstream,
                                                                session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.DROP_AFTER_COMMIT))
    with pytest.raises(requests.ConnectionError):
        session.post(f"{proxy.url}/v1/applications", data=b"{}" * 500, timeout=5)
    assert upstream.received == [("POST", "/v1/applications", 1000)]


def test_error_after_commit_replaces_the_answer(proxy: FaultProxy, upstream: Upstream,
                                                session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.ERROR_AFTER_COMMIT), Fault(FaultKind.ERROR_AFTER_COMMIT, status=503))
    first = session.post(f"{proxy.url}/v1/applications", data=b"{}", timeout=5)
    assert first.status_code == 500 and first.json()["status"] == 500
    assert session.post(f"{proxy.url}/v1/applications", data=b"{}", timeout=5).status_code == 503
    assert [path for _, path, _ in upstream.received] == ["/v1/applications"] * 2
    assert proxy.stats.connections == 1  # a complete error answer keeps the connection


def test_corrupt_response_keeps_head_and_length_but_breaks_the_json(proxy: FaultProxy,
                                                                    session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.CORRUPT_RESPONSE), Fault(FaultKind.CORRUPT_RESPONSE),
                   Fault(FaultKind.CORRUPT_RESPONSE))
    answer = session.get(f"{proxy.url}/json", timeout=5)
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(answer.content)
    with pytest.raises(ValueError):
        answer.json()
    corrupted = session.get(f"{proxy.url}/chunked", timeout=5)  # chunk framing stays valid
    assert len(corrupted.content) == sum(map(len, CHUNKS)) and corrupted.content != b"".join(CHUNKS)
    big = session.get(f"{proxy.url}/big?n=20000", timeout=5).content
    assert len(big) == 20_000 and sum(a != b for a, b in zip(big, BIG, strict=False)) == 5  # one per 4 KiB
    assert proxy.stats.connections == 1


def test_refuse_closes_without_contacting_upstream(proxy: FaultProxy, upstream: Upstream,
                                                   session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.REFUSE))
    with pytest.raises(requests.ConnectionError):
        session.put(f"{proxy.url}/v1/blobs/a", data=b"z" * 2000, timeout=5)
    assert upstream.received == [] and proxy.stats.upstream_connections == 0
    assert session.get(f"{proxy.url}/json", timeout=5).ok


def test_hang_lets_the_client_time_out(proxy: FaultProxy, upstream: Upstream, session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.HANG, seconds=5), Fault(FaultKind.HANG, seconds=0.2))
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        session.get(f"{proxy.url}/json", timeout=0.3)
    assert time.monotonic() - started < 1.5
    with pytest.raises(requests.ConnectionError):  # a short hang ends in a closed connection
        session.get(f"{proxy.url}/json", timeout=5)
    assert upstream.received == []


def test_portal_answers_a_chinese_login_page(proxy: FaultProxy, upstream: Upstream,
                                            session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.PORTAL))
    page = session.post(f"{proxy.url}/v1/applications", data=b"{}", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "欢迎使用村村通 WiFi，请登录" in page.content.decode("utf-8")
    assert upstream.received == []
    assert session.get(f"{proxy.url}/json", timeout=5).ok and proxy.stats.connections == 1


def test_wrong_host_answers_as_another_service(proxy: FaultProxy, upstream: Upstream,
                                               session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.WRONG_HOST), Fault(FaultKind.WRONG_HOST, status=404))
    assert session.get(f"{proxy.url}/v1/status", timeout=5).json() == {"service": "nginx-default", "status": "ok"}
    missing = session.get(f"{proxy.url}/v1/status", timeout=5)
    assert missing.status_code == 404 and b"nginx" in missing.content
    assert upstream.received == []


def test_stale_response_answers_with_the_previous_answer(proxy: FaultProxy, upstream: Upstream,
                                                         session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.STALE_RESPONSE))
    with pytest.raises(requests.ConnectionError):  # nothing relayed yet: behaves as DROP_AFTER_COMMIT
        session.post(f"{proxy.url}/v1/applications", data=b"{}", timeout=5)
    earlier = session.get(f"{proxy.url}/v1/status", timeout=5).json()
    proxy.schedule(Fault(FaultKind.STALE_RESPONSE))
    assert session.post(f"{proxy.url}/v1/applications", data=b"{}", timeout=5).json() == earlier
    assert upstream.paths() == ["/v1/applications", "/v1/status", "/v1/applications"]


def test_bandwidth_limits_downloads_and_uploads(proxy: FaultProxy, session: requests.Session) -> None:
    proxy.link = Link(bandwidth_bps=1_000_000)
    started = time.monotonic()
    assert session.get(f"{proxy.url}/big?n=200000", timeout=10).content == BIG
    assert 1.55 <= time.monotonic() - started < 3.0  # 1.6 Mbit at 1 Mbit/s
    proxy.link = Link(bandwidth_bps=2_000_000)
    started = time.monotonic()
    assert session.put(f"{proxy.url}/v1/blobs/a", data=BIG[:100_000], timeout=10).json()["received"] == 100_000
    assert 0.38 <= time.monotonic() - started < 1.5


def test_bandwidth_is_shared_by_all_connections(proxy: FaultProxy) -> None:
    proxy.link = Link(bandwidth_bps=2_000_000)
    sizes: list[int] = []

    def download() -> None:
        sizes.append(len(requests.get(f"{proxy.url}/big?n=100000", timeout=10).content))

    threads = [threading.Thread(target=download) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sizes == [100_000, 100_000]
    assert 0.78 <= time.monotonic() - started < 2.0  # one line: 1.6 Mbit in all, not 0.8 Mbit each in parallel
    assert proxy.stats.connections == 2


def test_latency_is_added_each_way(proxy: FaultProxy, session: requests.Session) -> None:
    proxy.link = Link(latency_ms=100)
    started = time.monotonic()
    for _ in range(2):
        assert session.get(f"{proxy.url}/json", timeout=5).ok
    assert 0.4 <= time.monotonic() - started < 1.2
    proxy.link = Link()
    started = time.monotonic()
    assert session.get(f"{proxy.url}/json", timeout=5).ok
    assert time.monotonic() - started < 0.3


def test_schedule_is_fifo_and_waits_for_a_matching_request(proxy: FaultProxy, upstream: Upstream,
                                                           session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.ERROR_AFTER_COMMIT, path_prefix="/v1/blobs/", method="PUT", status=502),
                   Fault(FaultKind.WRONG_HOST))
    assert session.get(f"{proxy.url}/v1/status", timeout=5).json()["path"] == "/v1/status"  # passes
    assert session.head(f"{proxy.url}/v1/blobs/a", timeout=5).ok  # right path, wrong method: passes
    assert proxy.pending == 2
    assert session.put(f"{proxy.url}/v1/blobs/a", data=b"1", timeout=5).status_code == 502
    assert session.get(f"{proxy.url}/v1/status", timeout=5).json()["service"] == "nginx-default"
    assert proxy.pending == 0
    assert session.get(f"{proxy.url}/v1/status", timeout=5).json()["path"] == "/v1/status"
    kinds = [kind for _, _, kind in proxy.stats.events]
    assert kinds == [FaultKind.PASS, FaultKind.PASS, FaultKind.ERROR_AFTER_COMMIT, FaultKind.WRONG_HOST,
                     FaultKind.PASS]
    proxy.schedule(Fault(FaultKind.REFUSE))
    proxy.clear()
    assert proxy.pending == 0 and session.get(f"{proxy.url}/json", timeout=5).ok


def _random_run(upstream: Upstream, seed: int, rate: float) -> list[tuple[FaultKind, int | None]]:
    with FaultProxy(upstream.url) as proxy, requests.Session() as client:
        proxy.random_faults(seed, rate, max_seconds=0.05)
        statuses: list[int | None] = []
        for i in range(30):
            try:
                statuses.append(client.put(f"{proxy.url}/v1/blobs/{i}", data=b"b" * 500, timeout=2).status_code)
            except requests.RequestException:
                statuses.append(None)
        return [(kind, status) for (_, _, kind), status in zip(proxy.stats.events, statuses, strict=True)]


def test_random_faults_are_deterministic_per_seed(upstream: Upstream) -> None:
    first = _random_run(upstream, seed=7, rate=0.5)
    assert _random_run(upstream, seed=7, rate=0.5) == first
    assert _random_run(upstream, seed=8, rate=0.5) != first
    assert 5 <= sum(kind is not FaultKind.PASS for kind, _ in first) <= 25
    assert all(kind is FaultKind.PASS for kind, _ in _random_run(upstream, seed=7, rate=0.0))


def test_random_faults_wait_for_the_schedule_and_respect_their_prefix(proxy: FaultProxy,
                                                                      session: requests.Session) -> None:
    proxy.random_faults(1, 1.0, [FaultKind.WRONG_HOST], path_prefix="/v1/blobs/")
    proxy.schedule(Fault(FaultKind.ERROR_AFTER_COMMIT, path_prefix="/never"))
    assert session.get(f"{proxy.url}/v1/blobs/a", timeout=5).json()["path"] == "/v1/blobs/a"  # schedule not empty
    proxy.clear()
    proxy.random_faults(1, 1.0, [FaultKind.WRONG_HOST], path_prefix="/v1/blobs/")
    assert session.get(f"{proxy.url}/v1/status", timeout=5).json()["path"] == "/v1/status"
    assert session.get(f"{proxy.url}/v1/blobs/a", timeout=5).json()["service"] == "nginx-default"


def test_stats_count_requests_faults_and_bytes_per_prefix(proxy: FaultProxy, session: requests.Session) -> None:
    proxy.schedule(Fault(FaultKind.CUT_REQUEST, path_prefix="/v1/blobs/", fraction=0.25))
    blob = f"{proxy.url}/v1/blobs/{'ab' * 32}/chunks?offset=0"
    with pytest.raises(requests.ConnectionError):
        session.put(blob, data=b"c" * 8000, timeout=5)
    session.put(blob, data=b"c" * 8000, timeout=5).raise_for_status()
    session.post(f"{proxy.url}/v1/applications", data=b"a" * 300, timeout=5).raise_for_status()
    stats = proxy.stats
    assert stats.request_body_bytes("/v1/blobs/", method="PUT") == 2000 + 8000
    assert stats.request_body_bytes("/v1/blobs/", method="POST") == 0
    assert stats.request_body_bytes() == 10_300 and stats.requests_for("/v1/blobs/") == 2
    assert stats.fault_count(FaultKind.CUT_REQUEST) == 1 and stats.fault_count(FaultKind.PASS) == 2
    assert stats.bytes_to_upstream > 10_300 and stats.bytes_to_client > stats.response_body_bytes() > 0
    assert stats.connections == 2 and stats.upstream_connections == 2
    stats.reset()
    assert (stats.requests, stats.bytes_to_upstream, stats.request_body_bytes(), stats.events) == (0, 0, 0, [])


def test_stop_closes_open_connections_and_joins_threads(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url).start()
    idle = requests.Session()
    assert idle.get(f"{proxy.url}/json", timeout=5).ok  # leaves an idle keep-alive connection
    half = socket.create_connection(proxy.address)
    half.sendall(b"GET /json HTTP/1.1\r\nHo")  # a head that never ends
    proxy.schedule(Fault(FaultKind.HANG, seconds=30, path_prefix="/hang"))
    outcomes: list[str] = []

    def call(path: str) -> None:
        try:
            requests.get(f"{proxy.url}{path}", timeout=30)
            outcomes.append("answered")
        except requests.RequestException as exc:
            outcomes.append(type(exc).__name__)

    proxy.link = Link(bandwidth_bps=200_000)  # a slow download still in flight at stop()
    callers = [threading.Thread(target=call, args=(path,)) for path in ("/hang", "/big?n=200000")]
    for caller in callers:
        caller.start()
    eventually(lambda: proxy.open_connections == 4 and proxy.stats.response_body_bytes("/big") > 0)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 2.0
    assert proxy.open_connections == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("fault-proxy")]
    for caller in callers:
        caller.join(2)
    assert len(outcomes) == 2 and "answered" not in outcomes
    with pytest.raises(OSError):
        socket.create_connection(proxy.address, timeout=1)
    half.close()
    idle.close()
    proxy.stop()  # idempotent
