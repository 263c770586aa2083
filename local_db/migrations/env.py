"""Alembic environment: runs on the connection `local_db.database.upgrade` hands over (our pragmas apply)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from local_db.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through local_db.database.upgrade(), which supplies the connection.")
run_migrations(connection)
