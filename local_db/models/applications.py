"""Applicants, applications, their materials and blobs, and everything that happens to them.

Personal data sits only in encrypted columns: the applicant's whole identity, the filled-in form, comments.
Applicants are found by a keyed hash of the ID number, never by the number itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_db.encrypted_types import EncryptedJSON, EncryptedText
from local_db.models.base import Base, UTCDateTime


class Applicant(Base):
    __tablename__ = "applicant"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    identity: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("applicant.identity"))
    card_type: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Application(Base):
    __tablename__ = "application"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # client UUID, the sync idempotency key
    tracking_no: Mapped[str] = mapped_column(String(40), unique=True)
    station_code: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(ForeignKey("service_item.code", ondelete="RESTRICT"), index=True)
    # Snapshots: the receipt and the queue must show what was filed even after the catalogue changes.
    item_name: Mapped[str] = mapped_column(String(200))
    catalog_version: Mapped[str] = mapped_column(String(40))
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicant.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    form_data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("application.form_data"))
    deferred_materials: Mapped[bool] = mapped_column(Boolean, default=False)  # 容缺受理
    delivery_method: Mapped[str] = mapped_column(String(20))
    promised_date: Mapped[date | None] = mapped_column(Date)
    case_no: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    materials: Mapped[list[ApplicationMaterial]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationMaterial.id"
    )


class Blob(Base):
    """A material file in the blob store, named by the SHA-256 of its clear content."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the platform holds a copy
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApplicationMaterial(Base):
    __tablename__ = "application_material"
    __table_args__ = (
        UniqueConstraint("application_id", "material_code"),
        CheckConstraint("source IN ('scan', 'file', 'elicence', 'reuse', 'deferred')", name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    material_code: Mapped[str] = mapped_column(String(64))
    material_name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"), index=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    elicence_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="materials")


class TrackingSequence(Base):
    """Per-station, per-day counter behind tracking numbers; survives clock jumps back to a used day."""

    __tablename__ = "tracking_sequence"

    station_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class OutboxEntry(Base):
    """Work for the sync engine, written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'in_flight', 'done', 'quarantined')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[int] = mapped_column(Integer)  # lower first: metadata before blobs
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusEvent(Base):
    """One lifecycle transition of an application, local or reported by the platform."""

    __tablename__ = "status_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who did what, when. `detail` is masked before it gets here: the audit log is read by many people."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class Evaluation(Base):
    """好差评: five levels, 5 非常满意 .. 1 非常不满意; the rater stays anonymous to station staff."""

    __tablename__ = "evaluation"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), index=True
    )
    level: Mapped[int] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(EncryptedText("evaluation.comment"))
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
