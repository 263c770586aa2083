"""Checking a filled-in form against the item's field definitions.

All problems are collected and reported together, field by field, in words a villager or agent understands;
the cleaned values are JSON-ready (dates as YYYY-MM-DD, decimals as strings so no float rounding creeps in).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import regex

from kiosk_app.catalog.library import FieldView
from kiosk_app.errors import InvalidInput
from kiosk_app.identity import Identity, validate_credit_code, validate_id_number

MAX_VALUE_CHARS: Final = 4000
N = TypeVar("N", int, Decimal)
_MOBILE: Final = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE: Final = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")
PATTERN_TIMEOUT_S: Final = 0.2
_NUMERIC_TYPES: Final = frozenset({"integer", "decimal", "date", "phone", "bank_account"})
_TRUE: Final = {"true", "1", "yes", "是", "y"}
_FALSE: Final = {"false", "0", "no", "否", "n"}


class FormInvalid(InvalidInput):
    def __init__(self, problems: Mapping[str, str], labels: Mapping[str, str]) -> None:
        listed = "；".join(f"{labels.get(key, key)}：{text}" for key, text in problems.items())
        super().__init__(f"表单有 {len(problems)} 处需要修改：{listed}")
        self.problems = dict(problems)


def prefilled(fields: Sequence[FieldView], identity: Identity | None) -> dict[str, Any]:
    """Values taken from the card, for fields that declare `prefill`; people never retype what the card says."""
    if identity is None:
        return {}
    source = identity.to_json_dict()
    return {f.key: source[f.prefill] for f in fields if f.prefill and source.get(f.prefill) not in (None, "")}


def validate_form(
    fields: Sequence[FieldView], values: Mapping[str, Any], identity: Identity | None = None
) -> dict[str, Any]:
    merged = {**prefilled(fields, identity), **{k: v for k, v in values.items() if v not in (None, "")}}
    labels = {f.key: f.label for f in fields}
    problems: dict[str, str] = {}
    for key in merged.keys() - labels.keys():
        problems[key] = "本事项的表单中没有这一项"
    cleaned: dict[str, Any] = {}
    for field in fields:
        raw = merged.get(field.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if field.required:
                problems[field.key] = "必须填写"
            continue
        try:
            cleaned[field.key] = _clean(field, raw)
        except InvalidInput as exc:
            problems[field.key] = exc.message
    if problems:
        raise FormInvalid(problems, labels)
    return cleaned


def _clean(field: FieldView, raw: Any) -> Any:
    rules = field.rules
    if field.type == "multi_choice":
        items = raw if isinstance(raw, list) else [p for p in re.split(r"[,，、]", str(raw)) if p.strip()]
        chosen = [str(i).strip() for i in items]
        if not chosen and field.required:
            raise InvalidInput("必须填写")
        bad = [c for c in chosen if c not in rules.get("choices", [])]
        if bad:
            raise InvalidInput(f"“{'、'.join(bad)}”不是可选项，可选：{'、'.join(rules['choices'])}")
        return chosen
    if isinstance(raw, bool) and field.type != "boolean":
        raise InvalidInput("应填写文字或数字")
    text = str(raw).strip()
    if field.type in _NUMERIC_TYPES:
        # Full-width digits from Chinese input methods are the same digits; store them as ASCII.
        text = unicodedata.normalize("NFKC", text)
    if len(text) > MAX_VALUE_CHARS:
        raise InvalidInput(f"内容过长（最多 {MAX_VALUE_CHARS} 字）")
    kind = field.type
    if kind in ("text", "textarea"):
        value: Any = _check_text(text, rules)
    elif kind == "integer":
        value = _check_range(_parse_int(text), rules)
    elif kind == "decimal":
        value = str(_check_range(_parse_decimal(text), rules))
    elif kind == "date":
        value = _parse_date(text).isoformat()
    elif kind == "choice":
        if text not in rules.get("choices", []):
            raise InvalidInput(f"请从以下选项中选择：{'、'.join(rules.get('choices', []))}")
        value = text
    elif kind == "boolean":
        value = _parse_bool(raw, text)
    elif kind == "phone":
        compact = text.replace(" ", "")
        if not (_MOBILE.match(compact) or _LANDLINE.match(compact)):
            raise InvalidInput("请填写11位手机号码或带区号的固定电话，如 0578-8123456")
        value = compact
    elif kind == "id_number":
        value = validate_id_number(text)
    elif kind == "credit_code":
        value = validate_credit_code(text)
    elif kind == "bank_account":
        compact = re.sub(r"[\s-]", "", text)
        if not re.fullmatch(r"[0-9]{10,30}", compact):
            raise InvalidInput("银行账号应为 10 到 30 位数字")
        value = compact
    else:
        raise InvalidInput(f"不支持的字段类型 {kind}")
    return value


def _check_text(text: str, rules: Mapping[str, Any]) -> str:
    if rules.get("min_length") is not None and len(text) < rules["min_length"]:
        raise InvalidInput(f"至少填写 {rules['min_length']} 个字")
    if rules.get("max_length") is not None and len(text) > rules["max_length"]:
        raise InvalidInput(f"最多填写 {rules['max_length']} 个字")
    pattern = rules.get("pattern")
    if pattern:
        try:
            # Patterns come from the network catalogue: a pathological one must not freeze the kiosk.
            matched = regex.fullmatch(pattern, text, timeout=PATTERN_TIMEOUT_S)
        except TimeoutError:
            raise InvalidInput("内容无法按规则校验，请简化后重试或联系工作人员") from None
        if not matched:
            raise InvalidInput("格式不正确")
    return text


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,15}", text):
        raise InvalidInput("请填写整数")
    return int(text)


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput("请填写数字") from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
        raise InvalidInput("请填写正常范围内的数字")
    return value


def _check_range(value: N, rules: Mapping[str, Any]) -> N:
    if rules.get("minimum") is not None and value < Decimal(str(rules["minimum"])):
        raise InvalidInput(f"不能小于 {_plain_number(rules['minimum'])}")
    if rules.get("maximum") is not None and value > Decimal(str(rules["maximum"])):
        raise InvalidInput(f"不能大于 {_plain_number(rules['maximum'])}")
    return value


def _plain_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _parse_date(text: str) -> date:
    match = re.fullmatch(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?", text)
    if not match:
        raise InvalidInput("日期格式应为 年-月-日，如 2026-11-25")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidInput("没有这一天，请检查日期") from None


def _parse_bool(raw: Any, text: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise InvalidInput("请填写“是”或“否”")
