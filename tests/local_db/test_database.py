from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from local_db.crypto import Cipher
from local_db.database import Database, _make_engine, current_revision, head_revision, upgrade
from local_db.errors import NotADatabase
from local_db.models import Base, Role, Setting, utcnow


def test_pragmas_make_commits_durable(db: Database) -> None:
    with db.write_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_models_and_migrations_agree(db: Database) -> None:
    assert current_revision(db.write_engine) == head_revision()
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_roles_are_seeded(db: Database) -> None:
    names = db.read(lambda s: sorted(s.scalars(select(Role.name))))
    assert names == ["agent", "technician", "villager"]


def test_writes_run_on_the_single_writer_thread(db: Database) -> None:
    seen: list[str] = []

    def job(session: Session) -> None:
        seen.append(threading.current_thread().name)
        session.add(Setting(key="x", value=1, updated_at=utcnow()))

    db.write(job)
    db.write(lambda s: seen.append(threading.current_thread().name))
    assert len(set(seen)) == 1 and seen[0].startswith("db-writer")
    assert threading.current_thread().name not in seen


def test_failed_write_job_rolls_back(db: Database) -> None:
    def job(session: Session) -> None:
        session.add(Setting(key="kept-out", value=1, updated_at=utcnow()))
        session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.write(job)
    assert db.read(lambda s: s.get(Setting, "kept-out")) is None


def test_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    junk = b"PK\x03\x04 this is a zip file, not a database" * 100
    (home / "kiosk.db").write_bytes(junk)
    with pytest.raises(NotADatabase, match="不是本系统的数据库"):
        Database(home, key_storage="file")
    assert (home / "kiosk.db").read_bytes() == junk


def test_corrupt_sqlite_body_gives_plain_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Database(home, key_storage="file").close()
    path = home / "kiosk.db"
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # keep the magic, wreck the first page's b-tree
    path.write_bytes(bytes(data))
    for leftover in home.glob("kiosk.db-*"):
        leftover.unlink()
    with pytest.raises(NotADatabase):
        Database(home, key_storage="file")


def test_upgrading_an_older_database_keeps_its_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    engine = _make_engine(home / "kiosk.db", Cipher(b"\x00" * 32), "BEGIN")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO service_item (code, name, item_type, department, service_object, conditions,"
            " statutory_limit_days, promised_limit_days, case_type, review_type, fee, visits, visit_reason,"
            " online_depth, online, delivery, result, process_steps, life_events, levels, address, hours,"
            " active, catalog_version) VALUES ('OLD-1', '最低生活保障申请', '行政给付', '县民政局', '[]', '[]',"
            " 30, 20, '承诺件', '前审后批', '{}', 0, '', 'Ⅲ', 1, '[\"快递送达\"]', '{}', '[]', '[]',"
            " '[\"township\"]', '', '', 1, '2025.1')"))
        conn.execute(text("INSERT INTO item_alias (item_code, position, alias) VALUES ('OLD-1', 0, '低保')"))
        conn.execute(text("INSERT INTO setting (key, value, updated_at) VALUES ('station.name', '\"老站\"',"
                          " '2025-01-01 00:00:00')"))
    engine.dispose()

    with Database(home, key_storage="file") as db:
        assert current_revision(db.write_engine) == head_revision()
        with db.write_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name, name_pinyin FROM service_item").all() == [
                ("最低生活保障申请", "")
            ]
            assert conn.exec_driver_sql("SELECT alias FROM item_alias").scalar() == "低保"
            assert conn.exec_driver_sql("SELECT value FROM setting").scalar() == '"老站"'
def test_head_revision_read_from_the_files_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    from local_db.database import _alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()
