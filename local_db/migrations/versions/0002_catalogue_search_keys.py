"""catalogue search keys: full pinyin and initials of item names and aliases, computed at import

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get empty keys; the catalogue loader recomputes keys for rows that lack them.
    with op.batch_alter_table("service_item") as batch_op:
        batch_op.add_column(sa.Column("name_pinyin", sa.String(length=1000), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("name_initials", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("item_alias") as batch_op:
        batch_op.add_column(sa.Column("pinyin", sa.String(length=1000), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("initials", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("item_alias") as batch_op:
        batch_op.drop_column("initials")
        batch_op.drop_column("pinyin")
    with op.batch_alter_table("service_item") as batch_op:
        batch_op.drop_column("name_initials")
        batch_op.drop_column("name_pinyin")
