"""Request signatures: every request after enrolment is signed by the device's Ed25519 key.

The signed text binds the method, the path with its query, a timestamp, a one-time nonce and the SHA-256 of
the body, so a captured request cannot be replayed (nonce), kept for later (timestamp), pointed at another
endpoint (path) or given another body (hash). The station signs with platform time (local clock + measured
skew), so a wrong kiosk clock never stops a filing from reaching the platform.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME: Final = "KIOSK-ED25519-V1"
H_DEVICE: Final = "X-Kiosk-Device"
H_TIMESTAMP: Final = "X-Kiosk-Timestamp"  # integer milliseconds since the Unix epoch
H_NONCE: Final = "X-Kiosk-Nonce"  # 32 lowercase hex characters, never reused
H_SIGNATURE: Final = "X-Kiosk-Signature"  # base64 of the 64-byte signature


class SignatureInvalid(ValueError):
    pass


def canonical_message(method: str, path_and_query: str, timestamp_ms: int, nonce: str, body: bytes) -> bytes:
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((SCHEME, method.upper(), path_and_query, str(timestamp_ms), nonce, body_hash)).encode()


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key(b64: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(b64, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SignatureInvalid("public key is not a base64 raw Ed25519 key") from exc


@dataclass(frozen=True)
class SignedHeaders:
    device_id: str
    timestamp_ms: int
    nonce: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {H_DEVICE: self.device_id, H_TIMESTAMP: str(self.timestamp_ms), H_NONCE: self.nonce,
                H_SIGNATURE: self.signature}


def sign_request(key: Ed25519PrivateKey, device_id: str, method: str, path_and_query: str, body: bytes,
                 timestamp_ms: int) -> SignedHeaders:
    nonce = secrets.token_hex(16)
    signature = key.sign(canonical_message(method, path_and_query, timestamp_ms, nonce, body))
    return SignedHeaders(device_id, timestamp_ms, nonce, base64.b64encode(signature).decode("ascii"))


def verify_request(public_key: Ed25519PublicKey, method: str, path_and_query: str, body: bytes,
                   timestamp_ms: int, nonce: str, signature_b64: str) -> None:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, canonical_message(method, path_and_query, timestamp_ms, nonce, body))
    except (ValueError, InvalidSignature) as exc:
        raise SignatureInvalid("signature does not match the request") from exc
