"""What the station knows about its link to the platform: its enrolment, sync cursors, departments' progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from local_db.encrypted_types import EncryptedText
from local_db.models.base import Base, UTCDateTime


class DeviceEnrolment(Base):
    """One row once the station is provisioned. The device's signing key is encrypted like personal data:
    whoever holds it can file in the station's name."""

    __tablename__ = "device_enrolment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_url: Mapped[str] = mapped_column(String(300))
    platform_id: Mapped[str] = mapped_column(String(100))
    device_id: Mapped[str] = mapped_column(String(64))
    station_code: Mapped[str] = mapped_column(String(20))
    private_key: Mapped[str] = mapped_column(EncryptedText("device_enrolment.private_key"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncMeta(Base):
    """Small named values the sync engine keeps: cursors, the last run's outcome, the measured clock skew."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DepartmentProgress(Base):
    """Per-department progress of an application in parallel approval (并联审批), as the platform reports it."""

    __tablename__ = "department_progress"

    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), primary_key=True)
    department: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
