"""Reading the latest records of the station's log files, filtered by level and masked again (Qt-free, runs on a
worker). A record is its first line plus the traceback lines under it, so filtering by level keeps a traceback
with its error. Only the tail of each file is read: a technician wants the last hours, not 30 MB."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from kiosk_app.identity.masking import redact_text

LEVELS: Final = {"all": frozenset[str](), "warning": frozenset({"WARNING", "ERROR", "CRITICAL"}),
                 "error": frozenset({"ERROR", "CRITICAL"})}
MAX_RECORDS: Final = 400
TAIL_BYTES: Final = 512 * 1024  # per file; a record cut at the start of the window is dropped
_START: Final = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[,.]\d{3} (?P<level>[A-Z]+) ")
_FILE: Final = re.compile(r"^[\w.-]+\.log(\.\d+)?$")


@dataclass(frozen=True)
class LogTail:
    records: list[str]  # oldest first, each already masked (several lines when it carries a traceback)
    files: list[str]
    scanned: int  # records looked at, before the level filter


def log_files(folder: Path) -> list[Path]:
    """The station's log files, newest first (kiosk.log, then kiosk.log.1 …); links are not followed."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = [p for p in folder.iterdir() if _FILE.match(p.name) and p.is_file() and not p.is_symlink()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _tail_lines(path: Path) -> list[str]:
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        start = max(0, size - TAIL_BYTES)
        fh.seek(start)
        data = fh.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if start and lines else lines  # the first line of a window is usually cut


def _records(lines: list[str]) -> list[tuple[str, list[str]]]:
    records: list[tuple[str, list[str]]] = []
    for line in lines:
        start = _START.match(line)
        if start:
            records.append((start.group("level"), [line]))
        elif records:
            records[-1][1].append(line)
        # lines before the first record start belong to a record cut off by the window: dropped
    return records


def read_log_tail(folder: Path, level: str = "all", limit: int = MAX_RECORDS) -> LogTail:
    """The last `limit` records at `level` (all | warning | error), from the newest file back as far as needed."""
    wanted = LEVELS[level]
    kept: list[str] = []
    used: list[str] = []
    scanned = 0
    for path in log_files(folder):
        try:
            records = _records(_tail_lines(path))
        except OSError:
            continue  # rotated away between listing and reading
        scanned += len(records)
        matching = ["\n".join(redact_text(line) for line in lines) for lvl, lines in records
                    if not wanted or lvl in wanted]
        if matching:
            used.append(path.name)
        kept = matching[-(limit - len(kept)):] + kept
        if len(kept) >= limit:
            break
    return LogTail(kept[-limit:], used, scanned)
