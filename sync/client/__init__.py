"""The station's HTTP client for the platform API: signing, clock-skew measurement, error classification."""

from sync.client.client import DeviceCredentials, PlatformClient
from sync.client.errors import (
    BadAnswer,
    CaptivePortal,
    Conflict,
    HashMismatch,
    LinkDown,
    NotEnrolled,
    OffsetMismatch,
    Rejected,
    ServerFailed,
    SyncError,
    WrongHost,
)

__all__ = [
    "BadAnswer",
    "CaptivePortal",
    "Conflict",
    "DeviceCredentials",
    "HashMismatch",
    "LinkDown",
    "NotEnrolled",
    "OffsetMismatch",
    "PlatformClient",
    "Rejected",
    "ServerFailed",
    "SyncError",
    "WrongHost",
]
