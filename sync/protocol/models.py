"""Request and answer bodies of the platform API, version 1, as pydantic models used by client and server.

Identifiers the station makes (application and evaluation UUIDs, blob SHA-256) are the idempotency keys: the
same request sent twice is answered the same way twice. Every string has a length cap and every list a size
cap, so a broken or hostile body is refused by validation before anything is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

API_VERSION: Final = 1
API_PREFIX: Final = "/v1"
SERVICE_NAME: Final = "zj-kiosk-platform"  # what /v1/hello must say: anything else is a portal or a wrong host

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
StationCode = Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{3})?(\d{3})?$")]
Short = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=4000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Answer(BaseModel):
    # Answers may grow fields in later minor versions; an older station ignores what it does not know.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Limits(_Answer):
    """What the platform accepts; the station must honour these rather than its own defaults."""

    chunk_bytes: int = 256 * 1024  # preferred blob chunk size
    max_chunk_bytes: int = 1024 * 1024
    max_body_bytes: int = 2 * 1024 * 1024  # any JSON request body
    max_blob_bytes: int = 64 * 1024 * 1024
    max_query_hashes: int = 1000
    status_page: int = 500
    catalog_page: int = 2000
    clock_window_s: int = 300  # signed timestamps further than this from platform time are refused


class ErrorBody(_Answer):
    """Every 4xx/5xx answer: a stable machine code plus a plain Chinese message for people."""

    error: str
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Hello(_Answer):
    service: str
    api_version: int
    platform_id: str
    server_time: datetime
    limits: Limits


class EnrolRequest(_Body):
    token: Annotated[str, StringConstraints(min_length=8, max_length=200)]
    public_key: Annotated[str, StringConstraints(min_length=40, max_length=100)]  # raw Ed25519 key, base64
    device_name: Short = ""
    app_version: Short = ""


class EnrolResponse(_Answer):
    device_id: str
    station_code: str
    platform_id: str
    server_time: datetime
    limits: Limits


# ---- catalogue -------------------------------------------------------------------------------------------------

class CatalogPage(_Answer):
    """Items changed after `since` (or, when `full`, every active item), in change order, one page at a time.

    Items are catalogue-format item objects (docs/catalog-format.md); the station validates them itself.
    A station applies nothing until it has the last page (`more` false), then applies all pages at once."""

    full: bool
    version: str
    region: str
    cursor: int  # pass as `since` for the next page / the next sync
    more: bool
    items: list[dict[str, Any]]
    removed: list[str]


# ---- blobs -----------------------------------------------------------------------------------------------------

class BlobQuery(_Body):
    hashes: list[Sha256] = Field(max_length=1000)


class BlobState(_Answer):
    sha256: str
    size: int | None = None  # declared total size, once an upload started
    received: int  # bytes held; the next chunk must start here
    complete: bool


class BlobQueryAnswer(_Answer):
    blobs: list[BlobState]


# ---- applications ----------------------------------------------------------------------------------------------

class MaterialRef(_Body):
    code: Short
    name: Short
    source: Literal["scan", "file", "elicence", "reuse", "deferred"]
    sha256: Sha256 | None = None
    media_type: Short | None = None
    size: int | None = Field(default=None, ge=0)
    pages: int = Field(default=0, ge=0, le=10_000)
    elicence_ref: Short | None = None


class ApplicationCommit(_Body):
    client_id: Uuid
    version: int = Field(ge=1, le=1000)
    supersedes_version: int | None = Field(default=None, ge=1)  # set when resubmitting after 补正
    station_code: StationCode
    tracking_no: Short
    item_code: Short
    item_name: Short
    catalog_version: Short
    channel: Short
    applicant: dict[str, Any]
    form: dict[str, Any]
    deferred_materials: bool = False
    delivery_method: Short
    promised_date: date | None = None
    submitted_at: datetime
    materials: list[MaterialRef] = Field(max_length=200)


class CommitReceipt(_Answer):
    client_id: str
    case_no: str
    version: int
    state: str
    missing_blobs: list[str]  # referenced hashes the platform does not hold yet; the case waits for them
    received_at: datetime


# ---- status feed -----------------------------------------------------------------------------------------------

class PlatformState(StrEnum):
    RECEIVED = "received"  # committed, case number given
    ACCEPTED = "accepted"  # 受理
    IN_REVIEW = "in_review"
    CORRECTION_REQUESTED = "correction_requested"  # 补正, with a reason
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_READY = "result_ready"


class StatusUpdate(_Answer):
    seq: int
    client_id: str
    case_no: str
    version: int
    state: PlatformState  # the case's overall state after this event
    reason: str | None = None
    department: str | None = None  # set for per-department progress in parallel approval (并联审批)
    department_state: str | None = None
    occurred_at: datetime


class StatusFeed(_Answer):
    events: list[StatusUpdate]
    cursor: int
    more: bool


# ---- evaluations and heartbeats --------------------------------------------------------------------------------

class EvaluationUpload(_Body):
    id: Uuid
    client_id: Uuid | None = None  # the application rated, if any
    level: int = Field(ge=1, le=5)
    labels: list[Short] = Field(default_factory=list, max_length=20)
    comment: Text | None = None
    channel: Short
    created_at: datetime


class EvaluationReceipt(_Answer):
    id: str
    received_at: datetime


class Heartbeat(_Body):
    queue_depth: int = Field(ge=0)
    pending_bytes: int = Field(ge=0)
    quarantined: int = Field(ge=0, default=0)
    app_version: Short
    catalog_version: Short = ""
    clock_skew_s: float | None = None
    devices: dict[Short, Short] = Field(default_factory=dict, max_length=20)
    client_time: datetime


class HeartbeatReply(_Answer):
    server_time: datetime
    limits: Limits
