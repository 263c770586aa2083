"""出件: who received an application's result, how, and which operator handed it over.

The receiver's name is personal data and sits encrypted; the row goes with its application when that is removed
after the retention period (CASCADE). One hand-over per application: DELIVERED is a final state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from local_db.encrypted_types import EncryptedText
from local_db.models.base import Base, UTCDateTime


class Handover(Base):
    __tablename__ = "handover"
    __table_args__ = (
        CheckConstraint("relation IN ('本人', '代领人')", name="relation"),
        CheckConstraint("method IN ('窗口领取', '邮寄', '村代办员转交')", name="method"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    received_by: Mapped[str] = mapped_column(EncryptedText("handover.received_by"))
    relation: Mapped[str] = mapped_column(String(10))
    id_checked: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(20))
    post_tracking_no: Mapped[str | None] = mapped_column(String(40))
    # RESTRICT: accounts are deactivated, never deleted, so the record always names who handed the result over.
    operator_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    handed_over_at: Mapped[datetime] = mapped_column(UTCDateTime)
