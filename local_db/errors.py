"""Failures of the local store, each with one plain Chinese sentence for the person in front of the screen.

`local_db` does not import `kiosk_app` (layer rule), so it has its own base; the CLI and screens treat
`StoreError` like `kiosk_app.errors.KioskError`.
"""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotADatabase(StoreError):
    """The data file exists but is not an SQLite database of ours (wrong file, corruption)."""


class CryptoError(StoreError):
    """The key is missing or wrong, or encrypted data was altered."""


class DiskFull(StoreError):
    """The disk or quota ran out while writing; nothing was half-saved."""


class BlobMissing(StoreError):
    """A material file the database points at is not on disk or fails its hash check."""
