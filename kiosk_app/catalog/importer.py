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
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CatalogInvalid(["文件不是 UTF-8 编码的文本"]) from None
    except json.JSONDecodeError as exc:
        raise CatalogInvalid([f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近）"]) from None
    except RecursionError:
        raise CatalogInvalid(["JSON 嵌套层数过多"]) from None
    if not isinstance(data, dict):
        raise CatalogInvalid(["最外层应为 JSON 对象"])
    try:
        doc = CatalogDocument.model_validate(data)
    except ValidationError as exc:
        raise CatalogInvalid([_describe(err, data) for err in exc.errors()]) from None
    problems = check_document(doc)
    if problems:
        raise CatalogInvalid([str(p) for p in problems])
    return doc


def _describe(err: ErrorDetails, data: dict[str, Any]) -> str:
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
    rows = _rows(doc.items, doc.catalog_version)  # pinyin work happens here, outside the write transaction
    source_sha256 = hashlib.sha256(raw).hexdigest()

    def job(session: Session) -> tuple[int, int, int]:
        existing = set(session.scalars(select(ServiceItemRow.code)))
        active_before = set(session.scalars(select(ServiceItemRow.code).where(ServiceItemRow.active.is_(True))))
        session.execute(update(ServiceItemRow).values(active=False))
        stmt = sqlite_insert(ServiceItemRow)
        item_columns = [c for c in rows.items[0] if c != "code"] if rows.items else []
        for batch in _batches(rows.items, 2000):
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["code"], set_={c: getattr(stmt.excluded, c) for c in item_columns}
                ),
                batch,
            )
        imported = select(ServiceItemRow.code).where(ServiceItemRow.active.is_(True))
        for child in (ItemAlias, ItemMaterial, ItemFormField):
            session.execute(delete(child).where(child.item_code.in_(imported)))
        for child, child_rows in ((ItemAlias, rows.aliases), (ItemMaterial, rows.materials),
                                  (ItemFormField, rows.fields)):
            for batch in _batches(child_rows, 5000):
                session.execute(insert(child), batch)
        session.execute(delete(CatalogMeta))
        session.add(
            CatalogMeta(
                id=1,
                version=doc.catalog_version,
                region=doc.region,
                item_count=len(doc.items),
                source_sha256=source_sha256,
                imported_at=utcnow(),
            )
        )
        imported_codes = {item.code for item in doc.items}
        added = len(imported_codes - existing)
        deactivated = len(active_before - imported_codes)
        audit.record(
            session,
            actor=actor,
            action="catalog.import",
            subject_type="catalog",
            subject_id=doc.catalog_version,
            items=len(doc.items),
            added=added,
            deactivated=deactivated,
            sha256=source_sha256,
        )
        return added, len(doc.items) - added, deactivated

    added, updated, deactivated = db.write(job)
    return ImportReport(doc.catalog_version, doc.region, len(doc.items), added, updated, deactivated,
                        time.perf_counter() - started)


@dataclass
class _Rows:
    items: list[dict[str, Any]]
    aliases: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    fields: list[dict[str, Any]]


def _rows(items: Iterable[ServiceItem], version: str) -> _Rows:
    out = _Rows([], [], [], [])
    for item in items:
        name_pinyin, name_initials = pinyin_keys(item.name)
        out.items.append({
            "code": item.code, "name": item.name, "item_type": item.item_type.value,
            "department": item.department, "service_object": [s.value for s in item.service_object],
            "conditions": list(item.conditions), "statutory_limit_days": item.statutory_limit_days,
            "promised_limit_days": item.promised_limit_days, "case_type": item.case_type.value,
            "review_type": item.review_type.value, "fee": item.fee.model_dump(mode="json"),
            "visits": item.visits, "visit_reason": item.visit_reason, "online_depth": item.online_depth.value,
            "online": item.online, "delivery": [d.value for d in item.delivery],
            "result": item.result.model_dump(mode="json"),
            "process_steps": [s.model_dump(mode="json") for s in item.process_steps],
            "life_events": list(item.life_events), "levels": [lv.value for lv in item.levels],
            "consult_phone": item.consult_phone, "complaint_phone": item.complaint_phone,
            "address": item.address, "hours": item.hours, "active": True, "catalog_version": version,
            "name_pinyin": name_pinyin, "name_initials": name_initials,
        })
        for pos, alias in enumerate(item.aliases):
            alias_pinyin, alias_initials = pinyin_keys(alias)
            out.aliases.append({"item_code": item.code, "position": pos, "alias": alias,
                                "pinyin": alias_pinyin, "initials": alias_initials})
        for pos, m in enumerate(item.materials):
            out.materials.append({
                "item_code": item.code, "position": pos, "code": m.code, "name": m.name, "form": m.form.value,
                "copies": m.copies, "required": m.required, "credibility": m.credibility.value,
                "elicence_type": m.elicence_type, "note": m.note,
            })
        for pos, f in enumerate(item.form_fields):
            rules = {"min_length": f.min_length, "max_length": f.max_length, "pattern": f.pattern,
                     "minimum": f.minimum, "maximum": f.maximum, "choices": list(f.choices)}
            out.fields.append({
                "item_code": item.code, "position": pos, "key": f.key, "label": f.label, "type": f.type.value,
                "required": f.required, "rules": {k: v for k, v in rules.items() if v not in (None, [])},
                "prefill": f.prefill.value if f.prefill else None, "help": f.help,
            })
    return out


def _batches(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
