"""Enrolment and request signatures against the real platform under uvicorn on loopback.

Covers who may enrol (a good token once; not twice, not expired, not unknown), and that a signed request cannot
be replayed, re-signed by another device, sent by an unenrolled device, kept for later, or altered, plus a
property: no body, however broken, gets a 500 or changes anything stored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sync.protocol.models import SERVICE_NAME, Limits
from sync.protocol.signing import H_DEVICE, H_NONCE, new_private_key, public_key_b64
from sync.server import RunningPlatform, back_office
from sync.server.models import (
    Application,
    ApplicationBlob,
    ApplicationVersion,
    Blob,
    CatalogItem,
    Device,
    EnrolToken,
    Evaluation,
    StatusEvent,
)
from sync.server.store import PlatformStore
from tests.sync.platform_support import STATION_A, SignedDevice, commit_body, enrol, new_uuid, now_ms

LIMITS = Limits(max_body_bytes=32 * 1024, max_chunk_bytes=4096, chunk_bytes=1024, clock_window_s=60)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    folder = tmp_path_factory.mktemp("platform-auth")
    with RunningPlatform(f"sqlite:///{folder / 'platform.db'}", folder / "blobs", limits=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def device(platform: RunningPlatform) -> SignedDevice:
    return enrol(platform.url, platform.store)


def enrol_with(platform: RunningPlatform, token: str) -> requests.Response:
    key = new_private_key()
    return requests.post(f"{platform.url}/v1/enrol", json={"token": token, "public_key": public_key_b64(key)},
                         timeout=10)


def test_hello_is_unsigned_and_carries_server_time(platform: RunningPlatform) -> None:
    before = now_ms()
    answer = requests.get(f"{platform.url}/v1/hello", timeout=10)
    assert answer.status_code == 200
    hello = answer.json()
    assert hello["service"] == SERVICE_NAME and hello["api_version"] == 1
    assert hello["platform_id"] == "zj-reference"
    assert hello["limits"]["max_chunk_bytes"] == 4096 and hello["limits"]["clock_window_s"] == 60
    assert before - 1000 <= int(answer.headers["X-Server-Time"]) <= now_ms() + 1000


def test_token_enrols_once_and_only_its_hash_is_stored(platform: RunningPlatform) -> None:
    token = back_office.create_token(platform.store, STATION_A)["token"]
    first = enrol_with(platform, token)
    assert first.status_code == 200, first.text
    assert first.json()["station_code"] == STATION_A
    uuid.UUID(first.json()["device_id"])
    again = enrol_with(platform, token)
    assert again.status_code == 403 and again.json()["error"] == "token_invalid"
    assert "令牌" in again.json()["message"]
    stored = platform.store.read(lambda s: [(t.token_hash, t.device_id) for t in s.scalars(select(EnrolToken))])
    assert all(token not in row[0] for row in stored)
    assert (first.json()["device_id"] in {row[1] for row in stored})


def test_expired_and_unknown_tokens_are_refused(platform: RunningPlatform) -> None:
    expired = back_office.create_token(platform.store, STATION_A, ttl_hours=0.5 / 3600 / 1000)["token"]
    time.sleep(0.01)
    assert enrol_with(platform, expired).json()["error"] == "token_invalid"
    unknown = enrol_with(platform, f"{STATION_A}-not-a-real-token")
    assert unknown.status_code == 403 and unknown.json()["error"] == "token_invalid"


def test_every_answer_has_server_time_even_refusals(platform: RunningPlatform) -> None:
    for answer in (requests.get(f"{platform.url}/v1/status", timeout=10),
                   requests.get(f"{platform.url}/nowhere", timeout=10)):
        assert answer.status_code in (401, 404)
        assert int(answer.headers["X-Server-Time"]) > 0


def test_signed_request_works(device: SignedDevice) -> None:
    answer = device.call("GET", "/v1/status?since=0")
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == []


def test_missing_headers_are_unsigned(platform: RunningPlatform, device: SignedDevice) -> None:
    headers = device.signed_headers("GET", "/v1/status", b"")
    del headers[H_NONCE]
    answer = requests.get(f"{platform.url}/v1/status", headers=headers, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "unsigned"


def test_replayed_request_is_refused(platform: RunningPlatform, device: SignedDevice) -> None:
    body = json.dumps({"hashes": []}).encode()
    headers = {"Content-Type": "application/json", **device.signed_headers("POST", "/v1/blobs/query", body)}
    first = requests.post(f"{platform.url}/v1/blobs/query", data=body, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    second = requests.post(f"{platform.url}/v1/blobs/query", data=body, headers=headers, timeout=10)
    assert second.status_code == 409 and second.json()["error"] == "replay"


def test_request_resigned_with_another_devices_key_is_refused(platform: RunningPlatform,
                                                              device: SignedDevice) -> None:
    other = enrol(platform.url, platform.store, name="另一台终端")
    answer = device.call("GET", "/v1/status", key=other.key)
    assert answer.status_code == 401 and answer.json()["error"] == "signature_invalid"


def test_altered_body_or_path_breaks_the_signature(platform: RunningPlatform, device: SignedDevice) -> None:
    signed = device.signed_headers("POST", "/v1/blobs/query", b'{"hashes":[]}')
    answer = requests.post(f"{platform.url}/v1/blobs/query", data=b'{"hashes": []}',
                           headers={"Content-Type": "application/json", **signed}, timeout=10)
    assert answer.json()["error"] == "signature_invalid"
    signed = device.signed_headers("GET", "/v1/status?since=0", b"")
    answer = requests.get(f"{platform.url}/v1/status?since=5", headers=signed, timeout=10)
    assert answer.json()["error"] == "signature_invalid"
    signed = device.signed_headers("GET", "/v1/status", b"")
    answer = requests.get(f"{platform.url}/v1/status", headers={**signed, H_NONCE: "XYZ"}, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "signature_invalid"


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("GET", "/v1/catalog?since=0", None),
    ("GET", "/v1/status?since=0", None),
    ("POST", "/v1/blobs/query", {"hashes": ["0" * 64]}),
    ("POST", "/v1/heartbeat", {"queue_depth": 0, "pending_bytes": 0, "app_version": "x",
                               "client_time": "2026-11-01T00:00:00Z"}),
    ("PUT", "/v1/applications/{id}", "commit"),
    ("PUT", "/v1/blobs/" + "a" * 64 + "?offset=0&size=1", None),
])
def test_unenrolled_device_gets_nothing(platform: RunningPlatform, method: str, path: str, payload: Any) -> None:
    stranger = SignedDevice(platform.url, str(uuid.uuid4()), new_private_key(), STATION_A)
    if payload == "commit":
        payload = commit_body(STATION_A)
        path = path.format(id=payload["client_id"])
    answer = stranger.call(method, path, payload)
    assert answer.status_code == 401
    assert answer.json()["error"] == "device_unknown"
    assert set(answer.json()) == {"error", "message", "detail"}


def test_unknown_device_with_garbage_body_gets_401_not_a_parse_error(platform: RunningPlatform) -> None:
    stranger = SignedDevice(platform.url, "not-a-device", new_private_key(), STATION_A)
    answer = stranger.send("PUT", f"/v1/applications/{new_uuid()}", body=b"{not json")
    assert answer.status_code == 401 and answer.json()["error"] == "device_unknown"


@pytest.mark.parametrize("offset_s", [-61, 61, -3600])
def test_timestamp_outside_the_window_is_refused_with_server_time(device: SignedDevice, offset_s: int) -> None:
    answer = device.call("GET", "/v1/status", timestamp_ms=now_ms() + offset_s * 1000)
    assert answer.status_code == 401
    error = answer.json()
    assert error["error"] == "clock_skew"
    assert abs(error["detail"]["server_time_ms"] - now_ms()) < 5000


def test_timestamp_inside_the_window_is_accepted(device: SignedDevice) -> None:
    assert device.call("GET", "/v1/status", timestamp_ms=now_ms() - 50_000).status_code == 200


def test_oversized_json_body_is_refused_before_parsing(device: SignedDevice) -> None:
    answer = device.call("POST", "/v1/heartbeat", {"junk": "x" * (LIMITS.max_body_bytes + 10)})
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"


def test_device_id_header_longer_than_any_id(platform: RunningPlatform, device: SignedDevice) -> None:
    headers = {**device.signed_headers("GET", "/v1/status", b""), H_DEVICE: "d" * 5000}
    answer = requests.get(f"{platform.url}/v1/status", headers=headers, timeout=10)
    assert answer.status_code == 401


# ---- property: broken bodies never hurt ------------------------------------------------------------------------

def _snapshot(store: PlatformStore) -> tuple[Any, ...]:
    def rows(session: Any, model: Any, *skip: str) -> list[tuple[Any, ...]]:
        columns = [c.key for c in model.__table__.columns if c.key not in skip]
        return sorted(tuple(str(getattr(row, c)) for c in columns) for row in session.scalars(select(model)))

    tables = (Application, ApplicationVersion, ApplicationBlob, Blob, CatalogItem, EnrolToken, Evaluation, StatusEvent)
    return store.read(lambda s: (*(rows(s, m) for m in tables), rows(s, Device, "last_seen")))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20)
# Dictionaries that use the real field names get further into validation than arbitrary keys would.
field_names = st.sampled_from(["client_id", "version", "station_code", "materials", "hashes", "token", "public_key",
                               "id", "level", "channel", "created_at", "queue_depth", "app_version", "client_time",
                               "supersedes_version", "applicant", "form", "pending_bytes"])
bodies = (st.binary(max_size=300)
          | json_values.map(lambda v: json.dumps(v).encode())
          | st.dictionaries(field_names, json_values, max_size=8).map(lambda v: json.dumps(v).encode()))
FIXED_ID = "3f0c1a52-8d7e-4f43-9a51-0c2f2b1d9e77"
targets = st.sampled_from([
    ("POST", "/v1/enrol", False), ("POST", "/v1/blobs/query", True), ("PUT", f"/v1/applications/{FIXED_ID}", True),
    ("PUT", f"/v1/evaluations/{FIXED_ID}", True), ("POST", "/v1/heartbeat", True),
    ("PUT", "/v1/blobs/" + "b" * 64 + "?offset=7&size=100", True), ("PUT", f"/v1/applications/{FIXED_ID}", False),
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=targets, body=bodies, content_type=st.sampled_from(["application/json", "application/octet-stream",
                                                                  "text/plain"]))
def test_random_bodies_never_fail_the_server_nor_change_data(platform: RunningPlatform, device: SignedDevice,
                                                             target: tuple[str, str, bool], body: bytes,
                                                             content_type: str) -> None:
    before = _snapshot(platform.store)
    method, path, signed = target
    if signed:
        answer = device.send(method, path, body=body, content_type=content_type)
    else:
        answer = requests.request(method, platform.url + path, data=body, headers={"Content-Type": content_type},
                                  timeout=10)
    assert answer.status_code in (401, 403, 404, 409, 413, 422) or (answer.status_code == 200 and
                                                                     path.endswith("/query")), answer.text
    error = answer.json()
    if answer.status_code != 200:
        assert set(error) == {"error", "message", "detail"} and error["message"]
    assert _snapshot(platform.store) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(since=st.text(max_size=25), limit=st.text(max_size=25), which=st.sampled_from(["catalog", "status"]))
def test_random_query_strings_never_fail_the_server(device: SignedDevice, since: str, limit: str,
                                                    which: str) -> None:
    answer = device.call("GET", f"/v1/{which}?since={quote(since, safe='')}&limit={quote(limit, safe='')}")
    assert answer.status_code in (200, 422), answer.text


def test_database_file_is_wal(tmp_path: Path) -> None:
    with PlatformStore(f"sqlite:///{tmp_path / 'p.db'}") as store:
        mode = store.write(lambda s: s.connection().exec_driver_sql("PRAGMA journal_mode").scalar())
    assert mode == "wal"
