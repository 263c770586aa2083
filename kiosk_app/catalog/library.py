"""The catalogue as the rest of the application sees it: plain read-only views, search, and import.

Views are frozen dataclasses so screens and workers can hold them without a database session. The search
index is built from the keys stored at import and rebuilt only when the catalogue version changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk_app.errors import NotFound
from local_db.database import Database
from local_db.models import CatalogMeta, ItemAlias, ServiceItem

if TYPE_CHECKING:
    from kiosk_app.catalog.importer import ImportReport
    from kiosk_app.catalog.search import CatalogSearchIndex, SearchHit

SAMPLE_CATALOG = "zhejiang_township.json"


@dataclass(frozen=True)
class MaterialView:
    code: str
    name: str
    form: str
    copies: int
    required: bool
    credibility: str
    elicence_type: str | None
    note: str


@dataclass(frozen=True)
class FieldView:
    key: str
    label: str
    type: str
    required: bool
    rules: dict[str, Any]
    prefill: str | None
    help: str


@dataclass(frozen=True)
class ItemView:
    code: str
    name: str
    aliases: tuple[str, ...]
    item_type: str
    department: str
    service_object: tuple[str, ...]
    conditions: tuple[str, ...]
    materials: tuple[MaterialView, ...]
    form_fields: tuple[FieldView, ...]
    statutory_limit_days: int
    promised_limit_days: int
    case_type: str
    review_type: str
    fee: dict[str, Any]
    visits: int
    visit_reason: str
    online_depth: str
    online: bool
    delivery: tuple[str, ...]
    result: dict[str, Any]
    process_steps: tuple[dict[str, Any], ...]
    life_events: tuple[str, ...]
    levels: tuple[str, ...]
    consult_phone: str | None
    complaint_phone: str | None
    address: str
    hours: str
    active: bool
    catalog_version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def material(self, code_or_name: str) -> MaterialView | None:
        """Find a material by code, exact name, or a name fragment that matches exactly one material."""
        key = code_or_name.strip()
        for m in self.materials:
            if key in (m.code, m.name):
                return m
        partial = [m for m in self.materials if key and key in m.name]
        return partial[0] if len(partial) == 1 else None


@dataclass(frozen=True)
class CatalogInfo:
    version: str
    region: str
    item_count: int


@dataclass
class _IndexCache:
    stamp: tuple[str, str] | None = None  # (content hash, import time) of the catalogue the index was built from
    checked_at: float = 0.0
    index: CatalogSearchIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# Another process (a CLI import beside the running kiosk) may replace the catalogue; looking at the stamp at
# most this often keeps a database read off every keystroke of a search.
STAMP_CHECK_SECONDS: Final = 2.0


class CatalogLibrary:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache = _IndexCache()

    def info(self) -> CatalogInfo | None:
        def job(session: Session) -> CatalogInfo | None:
            meta = session.get(CatalogMeta, 1)
            return None if meta is None else CatalogInfo(meta.version, meta.region, meta.item_count)

        return self._db.read(job)

    def import_document(self, raw: bytes, *, actor: str = "system") -> ImportReport:
        from kiosk_app.catalog.importer import import_catalog  # pydantic and pinyin: only when importing

        report = import_catalog(self._db, raw, actor=actor)
        with self._cache.lock:
            self._cache.checked_at = 0.0  # look at the new stamp on the next search
        return report

    def load_sample_if_empty(self) -> ImportReport | None:
        if self.info() is not None:
            return None
        raw = resources.files("kiosk_app.catalog").joinpath("data", SAMPLE_CATALOG).read_bytes()
        return self.import_document(raw, actor="system:first-start")

    def get(self, code: str) -> ItemView:
        def job(session: Session) -> ItemView | None:
            row = session.scalar(
                select(ServiceItem)
                .where(ServiceItem.code == code.strip())
                .options(
                    selectinload(ServiceItem.aliases),
                    selectinload(ServiceItem.materials),
                    selectinload(ServiceItem.form_fields),
                )
            )
            return None if row is None else _view(row)

        view = self._db.read(job)
        if view is None:
            raise NotFound(f"目录中没有编码为 {code.strip()[:64]} 的服务事项。")
        return view

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        return self._index().search(query, limit=limit)

    def life_events(self) -> dict[str, list[str]]:
        """Life-event tile name -> codes of active items under it, in catalogue order."""

        def job(session: Session) -> dict[str, list[str]]:
            tiles: dict[str, list[str]] = {}
            rows = session.execute(
                select(ServiceItem.code, ServiceItem.life_events).where(ServiceItem.active.is_(True))
            )
            for code, events in rows:
                for event in events:
                    tiles.setdefault(event, []).append(code)
            return tiles

        return self._db.read(job)

    def _index(self) -> CatalogSearchIndex:
        with self._cache.lock:
            now = time.monotonic()
            if self._cache.index is None or now - self._cache.checked_at > STAMP_CHECK_SECONDS:
                stamp = self._db.read(_stamp)
                self._cache.checked_at = now
                if self._cache.index is None or stamp != self._cache.stamp:
                    self._cache.index = self._db.read(_build_index)
                    self._cache.stamp = stamp
            return self._cache.index


def _stamp(session: Session) -> tuple[str, str] | None:
    meta = session.get(CatalogMeta, 1)
    return None if meta is None else (meta.source_sha256, meta.imported_at.isoformat())


def _build_index(session: Session) -> CatalogSearchIndex:
    # numpy and the index code load with the first search, not with every start of the program.
    from kiosk_app.catalog.search import CatalogSearchIndex, SearchEntry

    # Only the columns search needs: loading whole ORM rows (seven JSON columns each) took 15 s and 600 MB
    # on a 100,000-item catalogue.
    aliases: dict[str, list[tuple[str, str, str]]] = {}
    for code, alias, pinyin, initials in session.execute(
        select(ItemAlias.item_code, ItemAlias.alias, ItemAlias.pinyin, ItemAlias.initials).order_by(
            ItemAlias.item_code, ItemAlias.position)
    ):
        aliases.setdefault(code, []).append((alias, pinyin, initials))
    entries = []
    for code, name, name_pinyin, name_initials in session.execute(
        select(ServiceItem.code, ServiceItem.name, ServiceItem.name_pinyin, ServiceItem.name_initials).where(
            ServiceItem.active.is_(True))
    ):
        item_aliases = aliases.get(code, [])
        if not name_pinyin or any(not a[1] for a in item_aliases):  # rows older than migration 0002
            entries.append(SearchEntry.from_text(code, name, tuple(a[0] for a in item_aliases)))
            continue
        entries.append(SearchEntry(
            code=code,
            name=name,
            aliases=tuple(a[0] for a in item_aliases),
            name_pinyin=name_pinyin,
            name_initials=name_initials,
            alias_pinyin=tuple(a[1] for a in item_aliases),
            alias_initials=tuple(a[2] for a in item_aliases),
        ))
    return CatalogSearchIndex.build(entries)


def _view(row: ServiceItem) -> ItemView:
    return ItemView(
        code=row.code,
        name=row.name,
        aliases=tuple(a.alias for a in row.aliases),
        item_type=row.item_type,
        department=row.department,
        service_object=tuple(row.service_object),
        conditions=tuple(row.conditions),
        materials=tuple(
            MaterialView(m.code, m.name, m.form, m.copies, m.required, m.credibility, m.elicence_type, m.note)
            for m in row.materials
        ),
        form_fields=tuple(
            FieldView(f.key, f.label, f.type, f.required, dict(f.rules), f.prefill, f.help)
            for f in row.form_fields
        ),
        statutory_limit_days=row.statutory_limit_days,
        promised_limit_days=row.promised_limit_days,
        case_type=row.case_type,
        review_type=row.review_type,
        fee=dict(row.fee),
        visits=row.visits,
        visit_reason=row.visit_reason,
        online_depth=row.online_depth,
        online=row.online,
        delivery=tuple(row.delivery),
        result=dict(row.result),
        process_steps=tuple(row.process_steps),
        life_events=tuple(row.life_events),
        levels=tuple(row.levels),
        consult_phone=row.consult_phone,
        complaint_phone=row.complaint_phone,
        address=row.address,
        hours=row.hours,
        active=row.active,
        catalog_version=row.catalog_version,
    )
