"""Column types that encrypt on the way into SQLite and decrypt on the way out.

The cipher belongs to one open database, so it hangs off that engine's dialect instance (each engine has its
own); two stores with different keys can be open in one process, as the tests do. Each column passes its own
name as associated data, so ciphertext moved between columns or rows of another kind does not open.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from local_db.crypto import Cipher
from local_db.errors import CryptoError

_CIPHER_ATTR = "kiosk_cipher"


def attach_cipher(dialect: Dialect, cipher: Cipher) -> None:
    setattr(dialect, _CIPHER_ATTR, cipher)


def _cipher(dialect: Dialect) -> Cipher:
    cipher = getattr(dialect, _CIPHER_ATTR, None)
    if cipher is None:
        raise CryptoError("数据库未加载密钥，无法读写个人信息。")
    assert isinstance(cipher, Cipher)
    return cipher


class EncryptedText(TypeDecorator[str]):
    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _cipher(dialect).encrypt_field(value, self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).decrypt_field(value, self.context)


class EncryptedJSON(TypeDecorator[Any]):
    """JSON document stored encrypted; used for whole identities and filled-in forms."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return _cipher(dialect).encrypt_field(text, self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(_cipher(dialect).decrypt_field(value, self.context))
