"""What the platform tests share: a signed station device speaking HTTP with `requests`, and sample bodies."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol.signing import new_private_key, public_key_b64, sign_request
from sync.server import back_office
from sync.server.store import PlatformStore

STATION_A = "331123001001"
STATION_B = "331123002001"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SignedDevice:
    """An enrolled device: signs each request with its key, exactly as a station does."""

    def __init__(self, base_url: str, device_id: str, key: Ed25519PrivateKey, station_code: str) -> None:
        self.base_url = base_url
        self.device_id = device_id
        self.key = key
        self.station_code = station_code
        self.http = requests.Session()

    def signed_headers(self, method: str, path: str, body: bytes, *, timestamp_ms: int | None = None,
                       key: Ed25519PrivateKey | None = None) -> dict[str, str]:
        ts = now_ms() if timestamp_ms is None else timestamp_ms
        return sign_request(key or self.key, self.device_id, method, path, body, ts).as_dict()

    def send(self, method: str, path: str, *, body: bytes = b"", content_type: str = "application/json",
             headers: dict[str, str] | None = None, **sign: Any) -> requests.Response:
        all_headers = {"Content-Type": content_type, **self.signed_headers(method, path, body, **sign),
                       **(headers or {})}
        return self.http.request(method, self.base_url + path, data=body, headers=all_headers, timeout=30)

    def call(self, method: str, path: str, payload: Any = None, **kw: Any) -> requests.Response:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self.send(method, path, body=body, **kw)

    def put_chunk(self, digest: str, offset: int, size: int, chunk: bytes) -> requests.Response:
        return self.send("PUT", f"/v1/blobs/{digest}?offset={offset}&size={size}", body=chunk,
                         content_type="application/octet-stream")

    def upload(self, data: bytes, chunk: int = 1024) -> requests.Response:
        digest = sha(data)
        answer = self.put_chunk(digest, 0, len(data), data[:chunk])
        for offset in range(chunk, len(data), chunk):
            answer = self.put_chunk(digest, offset, len(data), data[offset:offset + chunk])
        return answer


def enrol(base_url: str, store: PlatformStore, station_code: str = STATION_A, name: str = "测试终端") -> SignedDevice:
    token = back_office.create_token(store, station_code)["token"]
    key = new_private_key()
    answer = requests.post(f"{base_url}/v1/enrol", json={"token": token, "public_key": public_key_b64(key),
                                                         "device_name": name, "app_version": "0.1.0"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return SignedDevice(base_url, answer.json()["device_id"], key, station_code)


def commit_body(station_code: str, *, client_id: str | None = None, blobs: tuple[str, ...] = (), version: int = 1,
                supersedes: int | None = None, note: str = "") -> dict[str, Any]:
    return {
        "client_id": client_id or str(uuid.uuid4()),
        "version": version,
        "supersedes_version": supersedes,
        "station_code": station_code,
        "tracking_no": "DB20261101-0001",
        "item_code": "331123-MZ-0001",
        "item_name": "最低生活保障申请",
        "catalog_version": "2026.11.1",
        "channel": "agent",
        "applicant": {"name": "叶春兰", "id_number": "331123195804121220"},
        "form": {"household_size": 2, "note": note},
        "deferred_materials": False,
        "delivery_method": "pickup",
        "promised_date": None,
        "submitted_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC).isoformat(),
        "materials": [{"code": f"M{i}", "name": f"材料{i}", "source": "scan", "sha256": digest,
                       "media_type": "application/pdf", "size": 10, "pages": 1}
                      for i, digest in enumerate(blobs, start=1)],
    }


def put_application(device: SignedDevice, body: dict[str, Any]) -> requests.Response:
    return device.call("PUT", f"/v1/applications/{body['client_id']}", body)


def new_uuid() -> str:
    return str(uuid.uuid4())
