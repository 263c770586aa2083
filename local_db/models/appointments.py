"""预约: a villager's booked time slot at this station's counter, so the agent can prepare and nobody queues.

The person's name, ID number and phone sit only in encrypted columns. A person's own appointments are found by a
keyed hash of the ID number (`person_lookup`, the same hash `applicant.id_lookup` holds), never by the number.
The row keeps a snapshot of the item's name: the catalogue may change between booking and the visit.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, Index, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from local_db.encrypted_types import EncryptedText
from local_db.models.base import Base, UTCDateTime


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("state IN ('booked', 'arrived', 'done', 'no_show', 'cancelled')", name="state"),
        CheckConstraint("channel IN ('kiosk', 'agent', 'cli')", name="channel"),
        # Capacity is counted per slot on every booking: one index answers "how many in this slot".
        Index("ix_appointment_day_slot_start", "day", "slot_start"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    booking_no: Mapped[str] = mapped_column(String(16), unique=True)  # YY + yymmdd + 3 digits, read aloud
    station_code: Mapped[str] = mapped_column(String(20))
    # Local date and wall-clock times of the counter's day: what the villager's watch and the slip say.
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[time] = mapped_column(Time)
    slot_end: Mapped[time] = mapped_column(Time)
    # No foreign key: "其他事项" has no code, and an item leaving the catalogue must not block the import.
    item_code: Mapped[str | None] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    person_lookup: Mapped[str] = mapped_column(String(64), index=True)
    person_name: Mapped[str] = mapped_column(EncryptedText("appointment.person_name"))
    id_number: Mapped[str] = mapped_column(EncryptedText("appointment.id_number"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("appointment.phone"))
    state: Mapped[str] = mapped_column(String(12), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
