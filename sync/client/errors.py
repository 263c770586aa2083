"""What can go wrong talking to the platform, sorted by what the engine should do about it.

Link problems (`link` True) say nothing about the item being sent: the engine stops the pass and backs off
without charging the item an attempt. Item problems count towards quarantine. Every error carries a plain
Chinese message for the technician's screen.
"""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    link = False  # True: the connection or the network is the problem, not the item

    def __init__(self, message: str, *, code: str = "", detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or {}


class LinkDown(SyncError):
    """No usable connection: refused, reset, timed out, cut mid-body, DNS failure."""

    link = True


class CaptivePortal(SyncError):
    """Something answered, but it is a Wi-Fi login page, not the platform."""

    link = True


class WrongHost(SyncError):
    """Something answered in JSON, but it is not the platform this station is enrolled with."""

    link = True


class ServerFailed(SyncError):
    """The platform answered 5xx; the request may or may not have taken effect, so retry it identically."""


class BadAnswer(SyncError):
    """An answer that does not parse or does not match the request (corrupted, or meant for another request)."""


class Rejected(SyncError):
    """The platform refused the request for a reason that resending will not change (4xx)."""


class Conflict(Rejected):
    """Same idempotency key, different body: the platform holds another version of this item."""


class NotEnrolled(SyncError):
    """The platform does not know this device or its signature: nothing will work until re-provisioned."""

    link = True


class OffsetMismatch(SyncError):
    def __init__(self, message: str, received: int) -> None:
        super().__init__(message, code="offset_mismatch", detail={"received": received})
        self.received = received


class HashMismatch(SyncError):
    """The platform assembled the blob and its hash differs: the upload starts over."""
