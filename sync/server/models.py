"""The platform's own tables (SQLAlchemy 2 typed models), independent of the station's schema.

Only portable column types and constructs, so the same models run on SQLite (default) and PostgreSQL.
Change sequences (catalogue seq, status seq, daily case numbers) come from the `counters` table, taken under
a row lock, so on any database the order of sequence numbers is the order of commits: a reader paging by
cursor never skips a row that commits later with a smaller number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable), handed out as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class EnrolToken(Base):
    __tablename__ = "enrol_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # the token itself is never stored
    station_code: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[str | None] = mapped_column(String(36))


class Device(Base):
    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(100))
    station_code: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(200))
    app_version: Mapped[str] = mapped_column(String(200))
    enrolled_at: Mapped[datetime]
    last_seen: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    heartbeat: Mapped[dict[str, Any] | None]


class SeenNonce(Base):
    __tablename__ = "seen_nonces"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class CatalogItem(Base):
    __tablename__ = "catalog_items"

    code: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[dict[str, Any]]
    body_hash: Mapped[str] = mapped_column(String(64))


class CatalogPublication(Base):
    __tablename__ = "catalog_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(BigInteger)
    added: Mapped[int]
    changed: Mapped[int]
    removed: Mapped[int]


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)  # declared by the uploader
    durable: Mapped[int] = mapped_column(BigInteger)  # bytes fsynced before this row was written: all we vouch for
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class Application(Base):
    __tablename__ = "applications"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    station_code: Mapped[str] = mapped_column(String(12), index=True)
    device_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(32))
    tracking_no: Mapped[str] = mapped_column(String(200))
    item_code: Mapped[str] = mapped_column(String(200))
    item_name: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApplicationVersion(Base):
    __tablename__ = "application_versions"

    client_id: Mapped[str] = mapped_column(ForeignKey("applications.client_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[dict[str, Any]]
    body_hash: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[datetime]


class ApplicationBlob(Base):
    """A material of one version of an application. No foreign key to `blobs`: metadata may arrive first."""

    __tablename__ = "application_blobs"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)


class DepartmentProgress(Base):
    __tablename__ = "department_progress"

    client_id: Mapped[str] = mapped_column(ForeignKey("applications.client_id"), primary_key=True)
    department: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class StatusEvent(Base):
    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_station_seq", "station_code", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    client_id: Mapped[str] = mapped_column(ForeignKey("applications.client_id"), index=True)
    station_code: Mapped[str] = mapped_column(String(12))
    case_no: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200))
    department_state: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime]


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    station_code: Mapped[str] = mapped_column(String(12), index=True)
    client_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[dict[str, Any]]
    body_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
