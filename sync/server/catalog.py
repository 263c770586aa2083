"""The service-item catalogue as the platform publishes it: opaque item objects keyed by code, paged by change seq.

The platform does not interpret items beyond "an object with a string code" (the station validates the format
itself). Publishing a document gives every added or changed item, and every code that disappeared, a new
sequence number; a station asks for what changed after its cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.protocol.models import CatalogPage
from sync.server.models import CatalogItem, CatalogPublication
from sync.server.store import CATALOG_SEQ, canonical_hash, current_number, next_number, utc_now


class CatalogDocumentInvalid(ValueError):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class PublishSummary:
    version: str
    region: str
    items: int
    added: int
    changed: int
    removed: int
    unchanged: int
    cursor: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_document(document: Any) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(version, region, items by code) of a catalogue document, or CatalogDocumentInvalid in plain Chinese."""
    if not isinstance(document, Mapping):
        raise CatalogDocumentInvalid("目录文件应为 JSON 对象。")
    version, region, items = document.get("catalog_version"), document.get("region"), document.get("items")
    if not isinstance(version, str) or not version.strip() or len(version) > 200:
        raise CatalogDocumentInvalid("目录文件缺少 catalog_version（版本号，文本）。")
    if not isinstance(region, str) or len(region) > 200:
        raise CatalogDocumentInvalid("目录文件缺少 region（适用地区，文本）。")
    if not isinstance(items, list):
        raise CatalogDocumentInvalid("目录文件的 items 应为事项列表。")
    by_code: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items, start=1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.strip() or len(code) > 200:
            raise CatalogDocumentInvalid(f"第 {index} 个事项不是带 code（事项编码，文本）的对象。")
        if code in by_code:
            raise CatalogDocumentInvalid(f"事项编码 {code} 重复出现。")
        by_code[code] = item
    return version, region, by_code


def publish(session: Session, document: Any) -> PublishSummary:
    version, region, items = check_document(document)
    existing = {row.code: row for row in session.scalars(select(CatalogItem))}
    added = changed = removed = 0
    # Sorted so that the order of seq numbers, and therefore of pages, does not depend on the file's order.
    for code in sorted(items):
        body = items[code]
        digest = canonical_hash(body)
        row = existing.get(code)
        if row is None:
            session.add(CatalogItem(code=code, seq=next_number(session, CATALOG_SEQ), removed=False, body=body,
                                    body_hash=digest))
            added += 1
        elif row.removed or row.body_hash != digest:
            row.seq, row.removed, row.body, row.body_hash = next_number(session, CATALOG_SEQ), False, body, digest
            changed += 1
    for code in sorted(set(existing) - set(items)):
        row = existing[code]
        if not row.removed:
            row.seq, row.removed = next_number(session, CATALOG_SEQ), True
            removed += 1
    cursor = current_number(session, CATALOG_SEQ)
    session.add(CatalogPublication(version=version, region=region, published_at=utc_now(), last_seq=cursor,
                                   added=added, changed=changed, removed=removed))
    session.flush()
    unchanged = len(items) - added - changed
    return PublishSummary(version, region, len(items), added, changed, removed, unchanged, cursor)


def page(session: Session, since: int, limit: int) -> CatalogPage:
    latest = session.scalars(select(CatalogPublication).order_by(CatalogPublication.id.desc()).limit(1)).first()
    version, region = (latest.version, latest.region) if latest else ("", "")
    max_seq = current_number(session, CATALOG_SEQ)
    # A cursor from the future means the platform's catalogue was rebuilt: start the station over.
    full = since == 0 or since > max_seq
    query = select(CatalogItem).order_by(CatalogItem.seq).limit(limit + 1)
    query = query.where(CatalogItem.removed.is_(False)) if full else query.where(CatalogItem.seq > since)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return CatalogPage(full=full, version=version, region=region, cursor=rows[-1].seq if rows else max_seq,
                       more=more, items=[row.body for row in rows if not row.removed],
                       removed=[row.code for row in rows if row.removed])
