"""appointments: booked counter time slots (预约), and the print queue learns the appointment slip

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_BEFORE = "kind IN ('receipt', 'test_page', 'a4_form', 'authorisation', 'checklist')"
_KINDS_AFTER = "kind IN ('receipt', 'test_page', 'a4_form', 'authorisation', 'checklist', 'appointment_slip')"


def upgrade() -> None:
    op.create_table(
        "appointment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("booking_no", sa.String(length=16), nullable=False),
        sa.Column("station_code", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_start", sa.Time(), nullable=False),
        sa.Column("slot_end", sa.Time(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("person_lookup", sa.String(length=64), nullable=False),
        sa.Column("person_name", sa.LargeBinary(), nullable=False),
        sa.Column("id_number", sa.LargeBinary(), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('booked', 'arrived', 'done', 'no_show', 'cancelled')", name=op.f("ck_appointment_state")
        ),
        sa.CheckConstraint("channel IN ('kiosk', 'agent', 'cli')", name=op.f("ck_appointment_channel")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("booking_no", name=op.f("uq_appointment_booking_no")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_day_slot_start", ["day", "slot_start"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_person_lookup"), ["person_lookup"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_state"), ["state"], unique=False)
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds print_job with the new one.
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_print_job_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_print_job_kind"), sa.text(_KINDS_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM print_job WHERE kind = 'appointment_slip'")
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_print_job_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_print_job_kind"), sa.text(_KINDS_BEFORE))
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_state"))
        batch_op.drop_index(batch_op.f("ix_appointment_person_lookup"))
        batch_op.drop_index("ix_appointment_day_slot_start")
    op.drop_table("appointment")
