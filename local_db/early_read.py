"""Reading one stored setting straight from the database file, before the store itself is opened.

Opening the store means SQLAlchemy, the ORM models, the key and perhaps a migration: about half a second on a
kiosk. The first screen needs only the station's name, so it peeks at that read-only with the standard library
and shows itself while the store opens behind it. Anything unexpected (no file yet, a file being migrated, a
locked or damaged file) reads as "not stored"; the real store reports real problems when it opens.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Final

DB_FILENAME: Final = "kiosk.db"


def peek_setting(data_dir: Path, key: str) -> Any | None:
    """The stored (decoded JSON) value of setting `key`, or None when there is none to be had."""
    path = data_dir / DB_FILENAME
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            row = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        finally:
            connection.close()
        return json.loads(row[0]) if row is not None and isinstance(row[0], str) else None
    except (sqlite3.Error, ValueError):
        return None
