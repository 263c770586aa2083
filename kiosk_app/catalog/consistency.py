"""Cross-field rules from the province's item checker (DOMAIN.md), reported all at once with code and field.

These are the rules a document can pass pydantic and still be wrong by: an instant item reviewed in advance, a
zero-visit item with no way to deliver the result, steps that take longer than the promise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk_app.catalog.schema import (
    CaseType,
    CatalogDocument,
    Delivery,
    FieldType,
    ItemType,
    OnlineDepth,
    ReviewType,
    ServiceItem,
)


@dataclass(frozen=True)
class Problem:
    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"事项 {self.code} 的 {self.field}：{self.message}"


def check_document(doc: CatalogDocument) -> list[Problem]:
    problems: list[Problem] = []
    counts = Counter(item.code for item in doc.items)
    for code, n in counts.items():
        if n > 1:
            problems.append(Problem(code, "code", f"事项编码重复出现 {n} 次"))
    for item in doc.items:
        problems.extend(check_item(item))
    return problems


def check_item(item: ServiceItem) -> list[Problem]:
    found: list[tuple[str, str]] = []
    instant = item.case_type is CaseType.INSTANT
    if instant != (item.review_type is ReviewType.INSTANT):
        found.append(("review_type", "即办件必须是即审即办，承诺件必须是前审后批"))
    if item.visits != 0 and not item.visit_reason.strip():
        found.append(("visit_reason", "到办事现场次数不为 0 时必须说明理由"))
    if item.visits == 0 and not item.online and Delivery.POSTAL not in item.delivery:
        found.append(("delivery", "零跑次且不能网办的事项必须支持快递送达"))
    if item.online_depth is OnlineDepth.IV and item.visits != 0:
        found.append(("visits", "网上办理深度为Ⅳ级（全程网办）时到现场次数必须为 0"))
    if not item.fee.charged and item.fee.online_payment:
        found.append(("fee.online_payment", "不收费的事项不能设置网上支付"))
    if item.item_type is ItemType.LICENSING:
        total = sum(step.days for step in item.process_steps)
        if total > item.promised_limit_days:
            found.append(("process_steps", f"各环节时限合计 {total} 天，超过承诺时限 {item.promised_limit_days} 天"))
    if 0 < item.statutory_limit_days < item.promised_limit_days:
        found.append(("promised_limit_days", "承诺时限不能长于法定时限"))
    found.extend(_duplicates("materials", (m.code for m in item.materials), "材料编码"))
    found.extend(_duplicates("form_fields", (f.key for f in item.form_fields), "表单字段"))
    for index, field in enumerate(item.form_fields):
        if field.pattern is not None:
            try:
                re.compile(field.pattern)
            except re.error:
                found.append((f"form_fields[{index}].pattern", "正则表达式无法解析"))
        if field.type in (FieldType.INTEGER, FieldType.DECIMAL) and field.choices:
            found.append((f"form_fields[{index}].choices", "数字类字段不能设置选项"))
    return [Problem(item.code, f, m) for f, m in found]


def _duplicates(field: str, values: Iterable[str], what: str) -> list[tuple[str, str]]:
    return [(field, f"{what} {value} 重复") for value, n in Counter(values).items() if n > 1]
