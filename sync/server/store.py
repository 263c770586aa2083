"""Opening the platform database and running transactions on it.

Writes are serialised by one lock: uvicorn runs the (synchronous) endpoints in a thread pool, and taking change
sequence numbers, checking a nonce then storing it, or checking a token then spending it, are all
read-then-write steps that must not interleave. SQLite gets WAL, `synchronous=FULL`, foreign keys and a busy
timeout, and writes begin with BEGIN IMMEDIATE so the `kiosk-platform` command can write beside a running
server without a lock-upgrade deadlock. Any other URL (PostgreSQL) gets a plain engine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from sync.server.models import Base, Counter

T = TypeVar("T")

BUSY_TIMEOUT_MS: Final = 10_000
CATALOG_SEQ: Final = "catalog"
STATUS_SEQ: Final = "status"


def utc_now() -> datetime:
    return datetime.now(UTC)


def canonical_hash(data: Any) -> str:
    """SHA-256 of a JSON value written one way only (sorted keys, no spaces), to compare bodies by content."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sqlite_file(db_url: str) -> Path | None:
    """The database file of a SQLite URL, or None for another database or an in-memory one."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _sqlite_engine(url: URL, begin_sql: str, memory: bool) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool  # one connection, or every checkout would see a new empty database
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is ours (the "begin" hook below), not pysqlite's
        cur = dbapi_conn.cursor()
        try:
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


class PlatformStore:
    """The platform database. `write` runs one transaction under the write lock; `read` one read transaction."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        url = make_url(db_url)
        self._write_lock = threading.Lock()
        self._read_lock: AbstractContextManager[Any] = nullcontext()
        if url.get_backend_name() == "sqlite":
            path = sqlite_file(db_url)
            if path is None:
                self.write_engine = _sqlite_engine(url, "BEGIN", memory=True)
                self.read_engine = self.write_engine
                self._read_lock = self._write_lock  # one shared connection: readers must take turns too
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", memory=False)
                self.read_engine = _sqlite_engine(url, "BEGIN", memory=False)
        else:
            self.write_engine = create_engine(url, pool_pre_ping=True)
            self.read_engine = self.write_engine
        try:
            Base.metadata.create_all(self.write_engine)
            self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
            self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
            self.write(_create_counters)
        except BaseException:
            self.close()
            raise

    def write(self, job: Callable[[Session], T]) -> T:
        with self._write_lock, self._write_sessions() as session, session.begin():
            return job(session)

    def read(self, job: Callable[[Session], T]) -> T:
        with self._read_lock, self._read_sessions() as session, session.begin():
            return job(session)

    def close(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()

    def __enter__(self) -> PlatformStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _create_counters(session: Session) -> None:
    # Created up front so taking a number is always an UPDATE of an existing, lockable row.
    for name in (CATALOG_SEQ, STATUS_SEQ):
        if session.get(Counter, name) is None:
            session.add(Counter(name=name, value=0))


def next_number(session: Session, name: str) -> int:
    """Take the next value of a named counter; the row lock is held until the transaction ends."""
    counter = session.execute(select(Counter).where(Counter.name == name).with_for_update()).scalar_one_or_none()
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return counter.value


def current_number(session: Session, name: str) -> int:
    counter = session.get(Counter, name)
    return 0 if counter is None else counter.value
