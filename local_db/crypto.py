"""Encryption at rest: one master key, purpose-bound subkeys, AES-GCM for data, HMAC for look-ups.

A stolen disk must show no ID number, name or scan in clear. The master key lives in the OS keyring where one
exists (Windows Credential Manager, Secret Service), otherwise in `keys/master.key` with 0600 rights under the
data folder. Subkeys are derived with HKDF so the field key, the blob key and the look-up key are independent:
knowing a look-up hash tells nothing about the ciphertexts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from local_db.errors import CryptoError
from local_db.fsync import fsync_dir

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
# Leading byte of every ciphertext, so a future key rotation or algorithm change can tell old from new.
FORMAT_V1: Final = b"\x01"
KEYRING_SERVICE: Final = "zj-service-kiosk"


class KeyStore(Protocol):
    def load_or_create(self) -> bytes: ...


@dataclass(frozen=True)
class FileKeyStore:
    """Master key in a file readable only by the owner. Created once, never rewritten."""

    path: Path

    def load_or_create(self) -> bytes:
        if self.path.exists():
            data = self.path.read_bytes()
            if len(data) != KEY_BYTES:
                raise CryptoError(f"密钥文件已损坏（{self.path}），请联系技术人员恢复备份密钥。")
            return data
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        key = secrets.token_bytes(KEY_BYTES)
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.path.parent)
        return key


@dataclass(frozen=True)
class KeyringKeyStore:
    """Master key in the OS keyring, one entry per data folder."""

    account: str

    def load_or_create(self) -> bytes:
        import keyring  # optional: present on Windows installs

        stored = keyring.get_password(KEYRING_SERVICE, self.account)
        if stored:
            return bytes.fromhex(stored)
        key = secrets.token_bytes(KEY_BYTES)
        keyring.set_password(KEYRING_SERVICE, self.account, key.hex())
        return key


def keyring_usable() -> bool:
    """True when an OS keyring backend that really stores secrets is present (not the fail/null backends)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 0) > 0


def choose_key_store(data_dir: Path, mode: str = "auto") -> KeyStore:
    """`mode` is the `security.key_storage` setting: auto, file or keyring."""
    file_store = FileKeyStore(data_dir / "keys" / "master.key")
    if mode == "file" or (mode == "auto" and (file_store.path.exists() or not keyring_usable())):
        return file_store
    return KeyringKeyStore(account=str(data_dir.resolve()))


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"kiosk/" + purpose).derive(master)


class Cipher:
    """Authenticated encryption of fields and blobs plus keyed hashes for look-ups.

    `context` is bound as associated data: a ciphertext copied from one column (or blob) into another fails
    to decrypt instead of silently showing the wrong person's data.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise CryptoError("密钥长度不正确。")
        self._fields = AESGCM(_derive(master_key, b"fields"))
        self._blobs = AESGCM(_derive(master_key, b"blobs"))
        self._lookup_key = _derive(master_key, b"lookup")

    def encrypt_field(self, plaintext: str, context: str) -> bytes:
        return self._seal(self._fields, plaintext.encode("utf-8"), context)

    def decrypt_field(self, token: bytes, context: str) -> str:
        return self._open(self._fields, token, context).decode("utf-8")

    def encrypt_blob(self, plaintext: bytes, sha256_hex: str) -> bytes:
        return self._seal(self._blobs, plaintext, "blob:" + sha256_hex)

    def decrypt_blob(self, token: bytes, sha256_hex: str) -> bytes:
        return self._open(self._blobs, token, "blob:" + sha256_hex)

    def lookup_hash(self, value: str, kind: str) -> str:
        """Deterministic keyed hash for equality look-ups (e.g. applications by ID number)."""
        mac = hmac.new(self._lookup_key, f"{kind}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()

    @staticmethod
    def _seal(aead: AESGCM, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return FORMAT_V1 + nonce + aead.encrypt(nonce, plaintext, context.encode("utf-8"))

    @staticmethod
    def _open(aead: AESGCM, token: bytes, context: str) -> bytes:
        if len(token) < 1 + NONCE_BYTES + 16 or token[:1] != FORMAT_V1:
            raise CryptoError("加密数据格式不正确，数据可能已损坏。")
        nonce = token[1 : 1 + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, token[1 + NONCE_BYTES :], context.encode("utf-8"))
        except InvalidTag as exc:
            raise CryptoError("加密数据无法解开：密钥不匹配或数据已被改动。") from exc
