"""Applying a catalogue the platform sent (full or delta, one or more pages) all at once or not at all.

Items from the network are validated exactly like an imported file (pydantic format and the consistency rules);
one bad item refuses the whole sync and the station keeps the catalogue it had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from kiosk_app.catalog.consistency import check_document
from kiosk_app.catalog.importer import (
    CatalogChange,
    CatalogInvalid,
    catalog_rows,
    describe_error,
    write_change,
)
from kiosk_app.catalog.schema import FORMAT_NAME, FORMAT_VERSION, CatalogDocument
from local_db.database import Database


@dataclass(frozen=True)
class CatalogPageData:
    """One page as the platform sent it (mirrors the protocol's CatalogPage without importing `sync`)."""

    full: bool
    version: str
    region: str
    items: list[dict[str, Any]]
    removed: list[str]


def apply_catalog_pages(db: Database, pages: Sequence[CatalogPageData], *, actor: str = "sync",
                        also: Callable[[Session], None] | None = None) -> int:
    """Validate every item of every page, then write them in one transaction (with `also`, e.g. the cursor).
    Returns the number of items written. Raises CatalogInvalid, leaving the catalogue untouched."""
    if not pages:
        return 0
    latest: dict[str, dict[str, Any]] = {}
    removed: set[str] = set()
    for page in pages:  # later pages supersede earlier ones for the same code
        for item in page.items:
            code = item.get("code") if isinstance(item, dict) else None
            if not isinstance(code, str):
                raise CatalogInvalid(["平台下发的事项缺少编码"])
            latest[code] = item
            removed.discard(code)
        for code in page.removed:
            latest.pop(code, None)
            removed.add(code)
    last = pages[-1]
    body = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "catalog_version": last.version,
            "region": last.region, "items": list(latest.values())}
    try:
        doc = CatalogDocument.model_validate(body)
    except ValidationError as exc:
        raise CatalogInvalid([describe_error(err, body) for err in exc.errors()]) from None
    problems = check_document(doc)
    if problems:
        raise CatalogInvalid([str(p) for p in problems])
    digest = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    change = CatalogChange(doc.catalog_version, doc.region, catalog_rows(doc.items, doc.catalog_version),
                           {item.code for item in doc.items}, removed, full=pages[0].full, source_sha256=digest)

    def job(session: Session) -> None:
        write_change(session, change, actor=actor)
        if also is not None:
            also(session)

    db.write(job)
    return len(change.codes) + len(removed)
