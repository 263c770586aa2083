"""The print queue: one row per receipt, form or test page sent (or to be sent) to a printer.

A job holds no personal data: the document is rebuilt from the application when the job runs, so a receipt's
name and materials never sit in a second table. A job's state moves only forward and only when told to: no
silent re-queue, no silent expiry, so the job list always says what really came out of the printer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from local_db.models.base import Base, UTCDateTime


class PrintJob(Base):
    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("kind IN ('receipt', 'test_page', 'a4_form', 'authorisation', 'checklist',"
                        " 'appointment_slip')", name="kind"),
        CheckConstraint("state IN ('queued', 'printing', 'printed', 'failed')", name="state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # SET NULL: the job history outlives an application removed after its retention period.
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), index=True
    )
    printer_url: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
