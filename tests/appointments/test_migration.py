"""Migration 0006: an older station keeps its print jobs when print_job is rebuilt with the new kind, the
appointment table arrives, and the step goes back down cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from local_db.crypto import Cipher
from local_db.database import _alembic_config, _make_engine, current_revision, upgrade

JOB_ROW = ("INSERT INTO print_job (id, kind, application_id, printer_url, state, attempts, last_error, reprint,"
           " created_at, updated_at) VALUES (:id, :kind, NULL, 'sim://', 'failed', 1, '打印机缺纸', 0,"
           " '2026-11-27 08:00:00', '2026-11-27 08:00:00')")


def test_upgrade_keeps_print_jobs_and_accepts_the_slip_kind(tmp_path: Path) -> None:
    engine = _make_engine(tmp_path / "kiosk.db", Cipher(b"\x01" * 32), "BEGIN")
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(text(JOB_ROW), {"id": "old-job", "kind": "receipt"})
            with pytest.raises(IntegrityError):  # the old constraint knows no slips
                conn.execute(text(JOB_ROW), {"id": "slip", "kind": "appointment_slip"})
        upgrade(engine, "0006")
        assert current_revision(engine) == "0006"
        with engine.begin() as conn:
            assert conn.execute(text("SELECT id, kind, last_error FROM print_job")).all() == [
                ("old-job", "receipt", "打印机缺纸")]
            conn.execute(text(JOB_ROW), {"id": "slip", "kind": "appointment_slip"})
            with pytest.raises(IntegrityError):
                conn.execute(text(JOB_ROW), {"id": "bad", "kind": "poster"})
            assert conn.execute(text("SELECT count(*) FROM appointment")).scalar() == 0

        cfg = _alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM print_job")).scalars().all() == ["old-job"]
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
            assert "appointment" not in names
    finally:
        engine.dispose()
