"""sync state: device enrolment, sync cursors and run outcome, per-department progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_url", sa.String(length=300), nullable=False),
        sa.Column("platform_id", sa.String(length=100), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("station_code", sa.String(length=20), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_enrolment")),
    )
    op.create_table(
        "sync_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_meta")),
    )
    op.create_table(
        "department_progress",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"],
            name=op.f("fk_department_progress_application_id_application"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "department", name=op.f("pk_department_progress")),
    )


def downgrade() -> None:
    op.drop_table("department_progress")
    op.drop_table("sync_meta")
    op.drop_table("device_enrolment")
