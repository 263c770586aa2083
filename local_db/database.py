"""Opening the station database: file checks, SQLite pragmas, migrations, and the single writer.

Durability first: WAL with `synchronous=FULL` so a committed application survives a power cut; foreign keys on;
a busy timeout so the CLI and the running app can share the file. Writes run on one dedicated thread, a
session per job, opened with BEGIN IMMEDIATE so two processes never deadlock upgrading a read lock.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from alembic.config import Config

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from local_db.blobstore import BlobStore
from local_db.crypto import Cipher, choose_key_store
from local_db.early_read import DB_FILENAME
from local_db.encrypted_types import attach_cipher
from local_db.errors import DiskFull, NotADatabase, StoreError

T = TypeVar("T")

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS: Final = 10_000
MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
_REVISION: Final = re.compile(r"""^revision: str = ["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION: Final = re.compile(r"""^down_revision: str \| None = (?:["']([^"']+)["']|None)""", re.MULTILINE)


def check_database_file(path: Path) -> None:
    """Refuse a file that is not SQLite before SQLAlchemy or Alembic touch (and possibly rewrite) it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise NotADatabase(f"数据文件 {path} 不是本系统的数据库（可能被替换或损坏），请联系技术人员从备份恢复。")


def _make_engine(path: Path, cipher: Cipher, begin_sql: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours (see the "begin" hook below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    attach_cipher(engine.dialect, cipher)
    return engine


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration, read from the migration files' own headers.

    Alembic is imported only when a schema actually has to change: it costs a tenth of a second at every
    start of a kiosk whose database is already current. A test checks this agrees with Alembic's answer."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down else None
    heads = set(revisions) - {d for d in revisions.values() if d}
    if len(heads) != 1:
        raise StoreError(f"数据库迁移脚本不完整（找到 {len(heads)} 个最新版本），请重新安装程序。")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:  # a new, empty database file
            return None
        return None if value is None else str(value)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction per migration step (SQLite DDL is transactional)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


class Database:
    """The station's store: one SQLite file, its blob folder and its key. Close it when done."""

    def __init__(self, data_dir: Path, *, key_storage: str = "auto", migrate: bool = True) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILENAME
        check_database_file(self.path)
        self.cipher = Cipher(choose_key_store(data_dir, key_storage).load_or_create())
        self.write_engine = _make_engine(self.path, self.cipher, "BEGIN IMMEDIATE")
        self.read_engine = _make_engine(self.path, self.cipher, "BEGIN")
        try:
            with _plain_errors():
                if migrate and current_revision(self.write_engine) != head_revision():
                    upgrade(self.write_engine)
        except BaseException:
            self.dispose()
            raise
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self.blobs = BlobStore(data_dir / "blobs", self.cipher)

    def submit_write(self, job: Callable[[Session], T]) -> Future[T]:
        """Queue `job` on the writer thread; it runs in its own transaction, committed when it returns."""
        return self._writer.submit(self._run_write, job)

    def write(self, job: Callable[[Session], T]) -> T:
        return self.submit_write(job).result()

    def read(self, job: Callable[[Session], T]) -> T:
        """Run a read-only job on the caller's thread with a session of its own (WAL readers never block)."""
        with _plain_errors(), self._read_sessions() as session, session.begin():
            return job(session)

    def _run_write(self, job: Callable[[Session], T]) -> T:
        with _plain_errors(), self._write_sessions() as session, session.begin():
            return job(session)

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()

    def close(self) -> None:
        if hasattr(self, "_writer"):
            self._writer.shutdown(wait=True)
        self.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextmanager
def _plain_errors() -> Iterator[None]:
    """Turn the SQLite failures a person can meet into StoreErrors; let everything else through untouched."""
    try:
        yield
    except SADatabaseError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "file is not a database" in text or "malformed" in text:
            raise NotADatabase("数据库文件已损坏，请联系技术人员从备份恢复。") from exc
        if isinstance(exc, OperationalError) and ("disk is full" in text or "disk I/O" in text):
            raise DiskFull("磁盘空间不足或磁盘故障，本次操作未保存；请联系技术人员。") from exc
        if isinstance(exc, OperationalError) and "locked" in text:
            raise StoreError("数据库正忙，请稍后重试。") from exc
        raise
