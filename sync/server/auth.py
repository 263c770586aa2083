"""Checking request signatures: who sent it, that they signed exactly this, recently, and only once.

Order of checks: the device must be enrolled, the signature must verify with its key (so nothing below is
answered to a forger), the timestamp must be inside the clock window (answered with the platform's time, so
an honest station can correct and resend), and the nonce must be new. Nonces are kept for twice the window:
anything older is refused by its timestamp anyway.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.protocol.signing import (
    H_DEVICE,
    H_NONCE,
    H_SIGNATURE,
    H_TIMESTAMP,
    SignatureInvalid,
    load_public_key,
    verify_request,
)
from sync.server.errors import PlatformError
from sync.server.models import Device, SeenNonce
from sync.server.store import PlatformStore, utc_now

_NONCE: Final = re.compile(r"^[0-9a-f]{32}$")
_TIMESTAMP: Final = re.compile(r"^\d{1,15}$")
_PRUNE_EVERY_MS: Final = 60_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SignedDevice:
    device_id: str
    station_code: str


class RequestVerifier:
    def __init__(self, store: PlatformStore, clock_window_s: int) -> None:
        self.store = store
        self.window_ms = clock_window_s * 1000
        self._keys: dict[str, tuple[Ed25519PublicKey, str]] = {}  # device keys never change once enrolled
        self._keys_lock = threading.Lock()
        self._last_prune_ms = 0

    def verify(self, method: str, path_and_query: str, headers: Mapping[str, str], body: bytes) -> SignedDevice:
        values = [headers.get(name) for name in (H_DEVICE, H_TIMESTAMP, H_NONCE, H_SIGNATURE)]
        device_id, timestamp, nonce, signature = values
        if device_id is None or timestamp is None or nonce is None or signature is None:
            missing = [name for name, value in zip((H_DEVICE, H_TIMESTAMP, H_NONCE, H_SIGNATURE), values,
                                                   strict=True) if value is None]
            raise PlatformError(401, "unsigned", detail={"missing": missing})
        key, station_code = self._device_key(device_id)
        if not _TIMESTAMP.match(timestamp) or not _NONCE.match(nonce):
            raise PlatformError(401, "signature_invalid", detail={"reason": "malformed timestamp or nonce"})
        timestamp_ms = int(timestamp)
        try:
            verify_request(key, method, path_and_query, body, timestamp_ms, nonce, signature)
        except SignatureInvalid:
            raise PlatformError(401, "signature_invalid") from None
        server_ms = now_ms()
        if abs(server_ms - timestamp_ms) > self.window_ms:
            raise PlatformError(401, "clock_skew", detail={"server_time_ms": server_ms,
                                                          "clock_window_s": self.window_ms // 1000})
        try:
            self.store.write(lambda s: self._spend_nonce(s, device_id, nonce, server_ms))
        except IntegrityError:
            # Another process holding the same database stored this nonce between our check and insert.
            raise PlatformError(409, "replay") from None
        return SignedDevice(device_id, station_code)

    def _device_key(self, device_id: str) -> tuple[Ed25519PublicKey, str]:
        with self._keys_lock:
            cached = self._keys.get(device_id)
        if cached is not None:
            return cached
        row = None if len(device_id) > 36 else self.store.read(
            lambda s: _key_and_station(s, device_id))
        if row is None:
            raise PlatformError(401, "device_unknown")
        try:
            entry = (load_public_key(row[0]), row[1])
        except SignatureInvalid:
            raise PlatformError(401, "device_unknown") from None
        with self._keys_lock:
            self._keys[device_id] = entry
        return entry

    def _spend_nonce(self, session: Session, device_id: str, nonce: str, server_ms: int) -> None:
        if session.get(SeenNonce, (device_id, nonce)) is not None:
            raise PlatformError(409, "replay")
        session.add(SeenNonce(device_id=device_id, nonce=nonce, seen_ms=server_ms))
        device = session.get(Device, device_id)
        if device is not None:
            device.last_seen = utc_now()
        if server_ms - self._last_prune_ms > _PRUNE_EVERY_MS:
            session.execute(delete(SeenNonce).where(SeenNonce.seen_ms < server_ms - 2 * self.window_ms))
            self._last_prune_ms = server_ms
        session.flush()


def _key_and_station(session: Session, device_id: str) -> tuple[str, str] | None:
    device = session.get(Device, device_id)
    return None if device is None else (device.public_key, device.station_code)
