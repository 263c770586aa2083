"""The identity reader contract: one small Protocol, its errors, and the handler it talks to people through.

Backends are plain synchronous classes; `owner.ReaderOwner` runs each on one thread of its own, so a backend
never has to be thread-safe and a GUI never blocks on serial or PC/SC I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from devices.identity.card import CardRecord


class ReaderError(Exception):
    """A failure with one plain Chinese sentence that says what to do (`message`)."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message if not detail else f"{message}（{detail}）")
        self.message = message
        self.detail = detail  # technical detail for logs (status codes, byte counts); never personal data


class ReaderUnavailable(ReaderError):
    """The device is absent, unplugged, or its service (pcscd) is down."""


class NoCard(ReaderError):
    """No card arrived before the timeout."""


class CardUnreadable(ReaderError):
    """A card is there but could not be read (moved too early, unknown type, damaged)."""


class ProtocolError(ReaderError):
    """The device answered with bytes that break its protocol (checksum, length, framing)."""


class Cancelled(ReaderError):
    """The caller cancelled the wait (session ended, person walked away)."""


class ReaderHandler(Protocol):
    """How a driver asks the person something. The UI implements it; tests and the CLI print or record."""

    def prompt(self, message: str) -> None:
        """Show/say a plain instruction, e.g. "请将身份证放在读卡区" or "请取走身份证"."""


class SilentHandler:
    def prompt(self, message: str) -> None:
        return None


@dataclass(frozen=True)
class Health:
    ok: bool
    summary: str  # plain Chinese, for the technician console
    detail: str = ""  # model, SAM id, firmware, reader name ...


class IdentityReader(Protocol):
    url: str

    def open(self) -> None:
        """Acquire the device. Raises ReaderUnavailable with a plain message when it is not there."""

    def close(self) -> None: ...

    def read_card(self, timeout: float, cancel: threading.Event | None = None) -> CardRecord:
        """Wait up to `timeout` seconds for a card, read it, return the record.

        Raises NoCard on timeout, Cancelled when `cancel` is set, CardUnreadable, ProtocolError or
        ReaderUnavailable otherwise. Must poll `cancel` at least every 0.2 s.
        """

    def card_present(self) -> bool: ...

    def wait_for_removal(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        """True once the card has left the field (resident cards must leave before the next read)."""

    def health(self) -> Health: ...
