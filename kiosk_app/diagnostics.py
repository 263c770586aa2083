"""The diagnostics bundle a technician exports for the help desk: settings, versions, sync state, logs, device
test results, catalogue and outbox counts, in one zip.

What never goes in: the database, material files and keys (the bundle is built from named parts, never by
copying the data folder). Logs are masked when written; they are masked again here line by line, because a
bundle leaves the station and an old log written before masking existed, or by another tool, must not leak
an ID number. Every text part gets the same second pass.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app import __version__, audit
from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.errors import KioskError
from kiosk_app.identity.masking import redact_text
from kiosk_app.station import Station
from kiosk_app.syncing.service import StationSync, sync_status_json
from local_db.database import current_revision
from local_db.models import OutboxEntry, utcnow

LOGS_DIR: Final = "logs"
# Reported with their versions when installed; looked up by distribution metadata, so Qt is never imported.
DISTRIBUTIONS: Final = ("PySide6", "SQLAlchemy", "alembic", "cryptography", "pydantic", "opencv-python-headless",
                        "python-escpos", "pyscard", "pyserial", "requests")
# Keys whose values describe a person; a device test that read a card must not carry the holder into the bundle.
_PERSONAL_KEYS: Final = frozenset({"identity", "holder", "holder_name", "address", "id_number", "phone", "birth_date"})
_HIDDEN: Final = "***"


class DiagnosticsFailed(KioskError):
    pass


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _versions(station: Station) -> dict[str, Any]:
    return {
        "app": __version__,
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "sqlite": sqlite3.sqlite_version,
        "schema_revision": current_revision(station.db.read_engine),
        "qt": _dist_version("PySide6"),
        "packages": {name: _dist_version(name) for name in DISTRIBUTIONS},
    }


def _catalog(station: Station) -> dict[str, Any] | None:
    info = station.catalog.info()
    return None if info is None else {"version": info.version, "region": info.region, "item_count": info.item_count}


def _queue(session: Session) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for kind, state, n in session.execute(select(OutboxEntry.kind, OutboxEntry.state, func.count())
                                          .group_by(OutboxEntry.kind, OutboxEntry.state)
                                          .order_by(OutboxEntry.kind, OutboxEntry.state)):
        counts.setdefault(kind, {})[state] = int(n)
    return counts


def _scrub(value: Any) -> Any:
    """Hide personal values by key in device results; ID and phone numbers anywhere are masked later by text."""
    if isinstance(value, dict):
        return {str(k): (_HIDDEN if str(k).lower() in _PERSONAL_KEYS and v not in (None, "") else _scrub(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _json_bytes(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return redact_text(text).encode("utf-8")


def _log_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """Regular files under the logs folder; symlinks are skipped, so a link cannot smuggle the database in."""
    if not folder.is_dir() or folder.is_symlink():
        return
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            continue
        yield path.relative_to(folder).as_posix(), path


def _masked_log(path: Path) -> bytes:
    out: list[str] = []
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        out.extend(redact_text(line) for line in fh)
    return "".join(out).encode("utf-8")


def _target(out: Path, station_code: str, at: datetime) -> Path:
    if out.is_dir():
        return out / f"diagnostics-{station_code}-{at.astimezone():%Y%m%d-%H%M%S}.zip"
    if out.suffix.lower() != ".zip":
        return out.with_name(out.name + ".zip")
    return out


def export_diagnostics(station: Station, operator: Operator | None, out: Path, *,
                       device_results: list[dict[str, Any]] | None = None) -> Path:
    """Write the bundle to `out` (a .zip path, or a folder to put a dated one in) and return the zip's path."""
    technician = require(operator, Permission.EXPORT_DIAGNOSTICS)
    now = utcnow()
    station.db.read(lambda s: ensure_active(s, technician))
    settings = station.settings.all()
    target = _target(out, str(settings.get("station.code", "station")), now)
    if not target.parent.is_dir():
        raise DiagnosticsFailed(f"保存位置 {target.parent} 不存在，请选择一个已有的文件夹（如 U 盘）。")
    parts: dict[str, bytes] = {
        "manifest.json": _json_bytes({"created_at": now.isoformat(), "exported_by": technician.username,
                                      "station_code": settings.get("station.code")}),
        "config.json": _json_bytes(settings),
        "versions.json": _json_bytes(_versions(station)),
        "sync.json": _json_bytes(sync_status_json(StationSync(station).status())),
        "devices.json": _json_bytes(_scrub(device_results or [])),
        "catalog.json": _json_bytes(_catalog(station)),
        "queue.json": _json_bytes(station.db.read(_queue)),
    }
    for name, path in _log_files(station.home / LOGS_DIR):
        parts[f"logs/{name}"] = _masked_log(path)

    # Written to a temporary file beside the target and renamed, so a pulled USB stick leaves no half bundle.
    fd, tmp_name = tempfile.mkstemp(prefix=".diagnostics-", suffix=".zip.part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                for name, data in parts.items():
                    bundle.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DiagnosticsFailed(
            f"诊断包写入失败（{exc.strerror or exc}），请检查保存位置是否可写、空间是否足够。") from exc

    def job(session: Session) -> None:
        audit.record(session, actor=technician.actor, action="diagnostics.export", subject_type="station",
                     subject_id=str(settings.get("station.code")), file=target.name, parts=len(parts))

    station.db.write(job)
    return target
