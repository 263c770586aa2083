"""handover: who received each result (出件), how, and which operator handed it over

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("received_by", sa.LargeBinary(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("id_checked", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("post_tracking_no", sa.String(length=40), nullable=True),
        sa.Column("operator_user_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("relation IN ('本人', '代领人')", name=op.f("ck_handover_relation")),
        sa.CheckConstraint("method IN ('窗口领取', '邮寄', '村代办员转交')", name=op.f("ck_handover_method")),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"],
            name=op.f("fk_handover_application_id_application"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_user_id"], ["user_account.id"],
            name=op.f("fk_handover_operator_user_id_user_account"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
        sa.UniqueConstraint("application_id", name=op.f("uq_handover_application_id")),
    )
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_operator_user_id"), ["operator_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_operator_user_id"))
    op.drop_table("handover")
