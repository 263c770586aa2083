"""Reading a catalogue document and replacing the local catalogue with it in one transaction.

Nothing is written unless the whole document is valid: size, encoding, JSON syntax, the pydantic model and the
consistency rules are all checked first, and every problem is reported with the item code and field. The
replacement itself is one write transaction, so screens see the old catalogue or the new one, never half.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.catalog.consistency import check_document
from kiosk_app.catalog.pinyin_keys import pinyin_keys
from kiosk_app.catalog.schema import CatalogDocument, ServiceItem
from kiosk_app.errors import InvalidInput
from local_db.database import Database
from local_db.models import CatalogMeta, ItemAlias, ItemFormField, ItemMaterial, utcnow
from local_db.models import ServiceItem as ServiceItemRow

MAX_DOCUMENT_BYTES: Final = 256 * 1024 * 1024
MAX_REPORTED: Final = 30
_ERROR_WORDS: Final = {
    "missing": "缺少这一项",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_too_long": "文本过长",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "too_short": "条目太少",
    "too_long": "条目太多",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不正确",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "string_unicode": "文本含有无效字符",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


class CatalogInvalid(InvalidInput):
    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_REPORTED]
        more = f"；另有 {len(problems) - len(shown)} 处问题" if len(problems) > len(shown) else ""
        super().__init__(f"服务事项目录有 {len(problems)} 处问题，未导入：" + "；".join(shown) + more)
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    version: str
    region: str
    items: int
    added: int
    updated: int
    deactivated: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "region": self.region,
            "items": self.items,
            "added": self.added,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "seconds": round(self.seconds, 3),
        }


def parse_catalog(raw: bytes) -> CatalogDocument:
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise CatalogInvalid([f"文件大小 {len(raw) // (1024 * 1024)} MB 超过上限 256 MB"])
    body = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        # Parsed and validated in one pass by pydantic-core: no intermediate dict of a 200 MB document.
        doc = CatalogDocument.model_validate_json(body)
    except ValidationError as exc:
        raise CatalogInvalid(_problems(exc, body)) from None
    problems = check_document(doc)
    if problems:
        raise CatalogInvalid([str(p) for p in problems])
    return doc


def _problems(exc: ValidationError, body: bytes) -> list[str]:
    """Plain descriptions; the document is parsed again (failure path only) to name items by their code."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return ["文件不是 UTF-8 编码的文本"]
    except json.JSONDecodeError as err:
        return [f"不是有效的 JSON（第 {err.lineno} 行第 {err.colno} 列附近）"]
    except RecursionError:
        return ["JSON 嵌套层数过多"]
    if not isinstance(data, dict):
        return ["最外层应为 JSON 对象"]
    errors = exc.errors()
    if any(err["type"] == "json_invalid" for err in errors):  # e.g. NaN, which pydantic's parser refuses
        return ["不是有效的 JSON（含有 NaN、Infinity 等 JSON 不允许的值）"]
    return [describe_error(err, data) for err in errors]


def describe_error(err: ErrorDetails, data: dict[str, Any]) -> str:
    loc = list(err["loc"])
    where = "目录"
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        index = loc[1]
        items = data.get("items")
        code = None
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            code = items[index].get("code")
        label = f"{code}" if isinstance(code, str) and len(code) <= 64 else f"第 {index + 1} 项"
        where = f"事项 {label}"
        loc = loc[2:]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    text = _ERROR_WORDS.get(err["type"])
    if text is None:
        text = err["msg"].removeprefix("Value error, ")
    ctx = err.get("ctx") or {}
    if err["type"] == "string_too_long":
        text += f"（最多 {ctx.get('max_length')} 字）"
    elif err["type"] == "enum":
        text += f"（允许：{ctx.get('expected')}）"
    elif err["type"] in ("greater_than_equal", "less_than_equal"):
        text += f"（界限 {ctx.get('ge', ctx.get('le'))}）"
    return f"{where} 的 {path or '内容'}：{text}"


def import_catalog(db: Database, raw: bytes, *, actor: str = "system") -> ImportReport:
    started = time.perf_counter()
    doc = parse_catalog(raw)
    rows = catalog_rows(doc.items, doc.catalog_version)  # pinyin work happens here, outside the write transaction
    source_sha256 = hashlib.sha256(raw).hexdigest()
    change = CatalogChange(doc.catalog_version, doc.region, rows, {item.code for item in doc.items}, set(),
                           full=True, source_sha256=source_sha256)
    added, updated, deactivated = db.write(lambda session: write_change(session, change, actor=actor))
    return ImportReport(doc.catalog_version, doc.region, len(doc.items), added, updated, deactivated,
                        time.perf_counter() - started)


@dataclass
class CatalogChange:
    """Items to upsert (as rows) and codes to retire. `full`: the items are the whole catalogue, so every other
    active item retires too (an import, or a platform's full sync)."""

    version: str
    region: str
    rows: CatalogRows
    codes: set[str]
    removed: set[str]
    full: bool
    source_sha256: str


def write_change(session: Session, change: CatalogChange, *, actor: str) -> tuple[int, int, int]:
    """Apply `change` inside the caller's transaction; returns (added, updated, deactivated)."""
    existing = set(session.scalars(select(ServiceItemRow.code)))
    active_before = set(session.scalars(select(ServiceItemRow.code).where(ServiceItemRow.active.is_(True))))
    retire = (active_before - change.codes) if change.full else (active_before & (change.removed - change.codes))
    for part in _chunks(retire):  # SQLite caps bound parameters per statement
        session.execute(update(ServiceItemRow).where(ServiceItemRow.code.in_(part)).values(active=False))
    # Plain tuples through the driver's executemany: ORM/Core parameter handling per row cost more than
    # SQLite itself on a 100,000-item catalogue (a million child rows).
    conn = session.connection()
    if change.rows.items:
        conn.exec_driver_sql(_UPSERT_ITEM, change.rows.items)
    for child in (ItemAlias, ItemMaterial, ItemFormField):
        if change.full:  # after the upsert exactly the document's items are active
            imported = select(ServiceItemRow.code).where(ServiceItemRow.active.is_(True))
            session.execute(delete(child).where(child.item_code.in_(imported)))
        else:
            for part in _chunks(change.codes):
                session.execute(delete(child).where(child.item_code.in_(part)))
    for sql, child_rows in ((_INSERT_ALIAS, change.rows.aliases), (_INSERT_MATERIAL, change.rows.materials),
                            (_INSERT_FIELD, change.rows.fields)):
        if child_rows:
            conn.exec_driver_sql(sql, child_rows)
    active_count = session.scalar(select(func.count()).select_from(ServiceItemRow)
                                  .where(ServiceItemRow.active.is_(True))) or 0
    session.execute(delete(CatalogMeta))
    session.add(CatalogMeta(id=1, version=change.version, region=change.region, item_count=active_count,
                            source_sha256=change.source_sha256, imported_at=utcnow()))
    added = len(change.codes - existing)
    audit.record(session, actor=actor, action="catalog.import" if change.full else "catalog.delta",
                 subject_type="catalog", subject_id=change.version, items=len(change.codes), added=added,
                 deactivated=len(retire), sha256=change.source_sha256)
    return added, len(change.codes) - added, len(retire)


def _chunks(values: set[str], size: int = 500) -> Iterable[list[str]]:
    ordered = sorted(values)
    return (ordered[i:i + size] for i in range(0, len(ordered), size))


_ITEM_COLUMNS: Final = (
    "code", "name", "item_type", "department", "service_object", "conditions", "statutory_limit_days",
    "promised_limit_days", "case_type", "review_type", "fee", "visits", "visit_reason", "online_depth", "online",
    "delivery", "result", "process_steps", "life_events", "levels", "consult_phone", "complaint_phone",
    "address", "hours", "active", "catalog_version", "name_pinyin", "name_initials",
)
_UPSERT_ITEM: Final = (
    f"INSERT INTO service_item ({', '.join(_ITEM_COLUMNS)}) VALUES ({', '.join('?' * len(_ITEM_COLUMNS))}) "
    "ON CONFLICT (code) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _ITEM_COLUMNS[1:])
)
_INSERT_ALIAS: Final = "INSERT INTO item_alias (item_code, position, alias, pinyin, initials) VALUES (?, ?, ?, ?, ?)"
_INSERT_MATERIAL: Final = (
    "INSERT INTO item_material (item_code, position, code, name, form, copies, required, credibility,"
    " elicence_type, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FIELD: Final = (
    "INSERT INTO item_form_field (item_code, position, key, label, type, required, rules, prefill, help)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

Row = tuple[Any, ...]


@dataclass
class CatalogRows:
    items: list[Row]
    aliases: list[Row]
    materials: list[Row]
    fields: list[Row]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def catalog_rows(items: Iterable[ServiceItem], version: str) -> CatalogRows:
    """Rows in the column order of the statements above; JSON columns pre-serialised as SQLAlchemy's JSON
    type would read them back."""
    out = CatalogRows([], [], [], [])
    for item in items:
        name_pinyin, name_initials = pinyin_keys(item.name)
        out.items.append((
            item.code, item.name, item.item_type.value, item.department,
            _json([s.value for s in item.service_object]), _json(list(item.conditions)),
            item.statutory_limit_days, item.promised_limit_days, item.case_type.value, item.review_type.value,
            _json(item.fee.model_dump(mode="json")), item.visits, item.visit_reason, item.online_depth.value,
            item.online, _json([d.value for d in item.delivery]), _json(item.result.model_dump(mode="json")),
            _json([s.model_dump(mode="json") for s in item.process_steps]), _json(list(item.life_events)),
            _json([lv.value for lv in item.levels]), item.consult_phone, item.complaint_phone, item.address,
            item.hours, True, version, name_pinyin, name_initials,
        ))
        for pos, alias in enumerate(item.aliases):
            out.aliases.append((item.code, pos, alias, *pinyin_keys(alias)))
        for pos, m in enumerate(item.materials):
            out.materials.append((item.code, pos, m.code, m.name, m.form.value, m.copies, m.required,
                                  m.credibility.value, m.elicence_type, m.note))
        for pos, f in enumerate(item.form_fields):
            rules = {"min_length": f.min_length, "max_length": f.max_length, "pattern": f.pattern,
                     "minimum": f.minimum, "maximum": f.maximum, "choices": list(f.choices)}
            out.fields.append((item.code, pos, f.key, f.label, f.type.value, f.required,
                               _json({k: v for k, v in rules.items() if v not in (None, [])}),
                               f.prefill.value if f.prefill else None, f.help))
    return out
