"""What the engine needs from the station's storage, and the status model the screens show.

The station implements `SyncStore` over its own database. Each method is one transaction on the station's
single writer, so a crash between two calls leaves the outbox consistent: work is either recorded done or
still pending, and redoing pending work is safe because every request is idempotent on the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sync.client import DeviceCredentials
from sync.protocol.models import (
    ApplicationCommit,
    BlobState,
    CatalogPage,
    CommitReceipt,
    EvaluationReceipt,
    EvaluationUpload,
    Heartbeat,
    StatusFeed,
)

JobKind = Literal["application", "blob", "evaluation"]
Outcome = CommitReceipt | BlobState | EvaluationReceipt


class CatalogRefused(Exception):
    """The catalogue the platform sent is invalid; the station keeps the one it has."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ItemUnavailable(Exception):
    """The station cannot produce this item (a material file lost or damaged, a record gone)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    ref_id: str  # application or evaluation UUID, or blob SHA-256
    attempts: int


@dataclass(frozen=True)
class ItemProblem:
    kind: str
    ref_id: str
    label: str  # what a technician recognises: tracking number, material name
    attempts: int
    message: str
    quarantined: bool

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "ref": self.ref_id, "label": self.label, "attempts": self.attempts,
                "message": self.message, "quarantined": self.quarantined}


@dataclass(frozen=True)
class QueueSummary:
    pending: int  # items not yet acknowledged (quarantined ones excluded)
    pending_bytes: int
    quarantined: int
    problems: tuple[ItemProblem, ...] = ()


@dataclass(frozen=True)
class SyncStatus:
    """One look at the sync state for the screens: is there a link, what waits, what went wrong."""

    provisioned: bool
    online: bool | None  # None: never tried
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    clock_skew_s: float | None
    queue: QueueSummary = field(default_factory=lambda: QueueSummary(0, 0, 0))


@dataclass(frozen=True)
class RunRecord:
    at: datetime
    online: bool
    succeeded: bool
    error: str | None
    clock_skew_s: float | None


class SyncStore(Protocol):
    def credentials(self) -> DeviceCredentials | None: ...

    def due_jobs(self, limit: int) -> list[Job]:
        """Pending jobs whose retry time has come, metadata before blobs, oldest first."""

    def application_commit(self, application_id: str) -> ApplicationCommit: ...

    def blob_bytes(self, sha256: str) -> bytes: ...

    def evaluation_upload(self, evaluation_id: str) -> EvaluationUpload: ...

    def jobs_succeeded(self, results: Sequence[tuple[Job, Outcome]]) -> None:
        """Record acknowledgements (case numbers, blob receipts) and retire the jobs, in one transaction."""

    def job_failed(self, job: Job, message: str, *, retry_at: datetime, quarantine: bool) -> None: ...

    def status_cursor(self) -> int: ...

    def apply_status(self, feed: StatusFeed) -> int:
        """Apply a page of platform events and store `feed.cursor`, in one transaction; return events applied."""

    def catalog_cursor(self) -> int: ...

    def apply_catalog(self, pages: Sequence[CatalogPage]) -> int:
        """Apply all pages of one catalogue sync at once (or nothing) and store the last cursor."""

    def heartbeat(self, clock_skew_s: float | None) -> Heartbeat: ...

    def record_run(self, run: RunRecord) -> None: ...

    def queue_summary(self) -> QueueSummary: ...
