"""The shipped sample catalogue (大柘镇, 遂昌县) must parse and satisfy the consistency rules.

The rule checks are written out inline on purpose: they restate docs/catalog-format.md independently of the
product's own checker, so a bug in one is caught by the other.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kiosk_app.catalog.schema import CatalogDocument, ServiceItem

SAMPLE = Path(__file__).resolve().parents[2] / "kiosk_app" / "catalog" / "data" / "zhejiang_township.json"

REQUIRED_NAMES = [
    "城乡居民基本医疗保险参保登记",
    "城乡居民基本养老保险参保登记",
    "最低生活保障申请",
    "特困人员救助供养",
    "临时救助",
    "残疾人两项补贴",
    "老年人优待证",
    "高龄津贴",
    "生育登记",
    "新生儿户口登记",
    "居住证申领",
    "农村宅基地建房审批",
    "社会保障卡申领",
    "就业失业登记",
    "个体工商户登记",
    "耕地地力保护补贴",
    "独生子女父母奖励",
]

CODE_PATTERN = re.compile(r"^[0-9]{6}-[A-Z]{2,4}-[0-9]{4}$")  # division - department - serial
MATERIAL_CODE_PATTERN = re.compile(r"^M[0-9]{2}$")
LIFE_EVENTS = {
    "生育收养",
    "户籍办理",
    "社会保障",
    "社会救助",
    "养老服务",
    "残疾人服务",
    "就业创业",
    "农业农村",
    "住房建房",
    "市场主体",
    "医疗卫生",
    "教育培训",
    "退役军人",
    "婚姻登记",
    "法律服务",
    "身后事",
    "公用事业",
}


@pytest.fixture(scope="module")
def doc() -> CatalogDocument:
    return CatalogDocument.model_validate_json(SAMPLE.read_text(encoding="utf-8"))


def _ids(doc: CatalogDocument) -> list[str]:
    return [item.code for item in doc.items]


def test_header(doc: CatalogDocument) -> None:
    assert doc.format == "kiosk-catalog"
    assert doc.format_version == 1
    assert doc.region.startswith("浙江省")


def test_item_count(doc: CatalogDocument) -> None:
    assert len(doc.items) >= 60


def test_required_names_present(doc: CatalogDocument) -> None:
    names = {item.name for item in doc.items}
    missing = [name for name in REQUIRED_NAMES if name not in names]
    assert not missing, f"missing items: {missing}"


def test_item_names_unique(doc: CatalogDocument) -> None:
    dupes = [name for name, n in Counter(item.name for item in doc.items).items() if n > 1]
    assert not dupes, f"duplicate item names: {dupes}"


def test_item_codes_unique_and_well_formed(doc: CatalogDocument) -> None:
    codes = _ids(doc)
    dupes = [code for code, n in Counter(codes).items() if n > 1]
    assert not dupes, f"duplicate item codes: {dupes}"
    bad = [code for code in codes if not CODE_PATTERN.match(code)]
    assert not bad, f"codes not in 行政区划代码-部门-序号 form: {bad}"


def _rule_violations(item: ServiceItem) -> list[str]:
    """Rules 1-8 of docs/catalog-format.md, restated as plain Python."""
    problems: list[str] = []
    # 1. case type and review type go together
    if (item.case_type == "即办件") != (item.review_type == "即审即办"):
        problems.append(f"rule 1: case_type {item.case_type} with review_type {item.review_type}")
    if (item.case_type == "承诺件") != (item.review_type == "前审后批"):
        problems.append(f"rule 1: case_type {item.case_type} with review_type {item.review_type}")
    # 2. a visit needs a reason
    if item.visits != 0 and not item.visit_reason.strip():
        problems.append("rule 2: visits != 0 without visit_reason")
    # 3. no visit and no online filing: the result must be posted
    if item.visits == 0 and not item.online and "快递送达" not in item.delivery:
        problems.append("rule 3: visits == 0 and online == false but no 快递送达")
    # 4. 全程网办 means zero visits
    if item.online_depth == "Ⅳ" and item.visits != 0:
        problems.append("rule 4: online_depth Ⅳ with visits != 0")
    # 5. nothing to pay online when nothing is charged
    if not item.fee.charged and item.fee.online_payment:
        problems.append("rule 5: fee not charged but online_payment true")
    # 6. licensing: the steps fit in the promised time
    if item.item_type == "行政许可":
        total = sum(step.days for step in item.process_steps)
        if total > item.promised_limit_days:
            problems.append(f"rule 6: process steps take {total} days > promised {item.promised_limit_days}")
    # 7. promised within statutory
    if item.statutory_limit_days > 0 and item.promised_limit_days > item.statutory_limit_days:
        problems.append(
            f"rule 7: promised {item.promised_limit_days} > statutory {item.statutory_limit_days}"
        )
    # 8. unique material codes and form-field keys within the item
    material_dupes = [c for c, n in Counter(m.code for m in item.materials).items() if n > 1]
    if material_dupes:
        problems.append(f"rule 8: duplicate material codes {material_dupes}")
    key_dupes = [k for k, n in Counter(f.key for f in item.form_fields).items() if n > 1]
    if key_dupes:
        problems.append(f"rule 8: duplicate form-field keys {key_dupes}")
    return problems


def test_consistency_rules_hold_for_every_item(doc: CatalogDocument) -> None:
    report = {f"{item.code} {item.name}": p for item in doc.items if (p := _rule_violations(item))}
    assert not report, report


def test_material_codes_and_field_keys_unique_within_item(doc: CatalogDocument) -> None:
    for item in doc.items:
        codes = [m.code for m in item.materials]
        assert len(codes) == len(set(codes)), item.code
        assert all(MATERIAL_CODE_PATTERN.match(c) for c in codes), (item.code, codes)
        keys = [f.key for f in item.form_fields]
        assert len(keys) == len(set(keys)), item.code


def test_rule_checker_catches_a_broken_item(doc: CatalogDocument) -> None:
    """Guard against the inline checks silently passing everything."""
    item = doc.items[0]
    broken = item.model_copy(
        update={"case_type": "即办件", "review_type": "前审后批", "visits": 1, "visit_reason": ""}
    )
    found = " ".join(_rule_violations(broken))
    assert "rule 1" in found
    assert "rule 2" in found


# ---- conventions of the sample data (not product rules; keep the sample tidy for kiosk tiles and forms) ----


def test_sample_conventions(doc: CatalogDocument) -> None:
    for item in doc.items:
        where = f"{item.code} {item.name}"
        assert item.materials and item.form_fields and item.process_steps, where
        assert item.life_events and set(item.life_events) <= LIFE_EVENTS, where
        assert (item.online_depth in ("Ⅲ", "Ⅳ")) == item.online, where
        if "村代办点领取" in item.delivery:
            assert "village" in item.levels, where
        if item.case_type == "即办件":
            assert item.promised_limit_days == 0, where
        for field in item.form_fields:
            if field.pattern is not None:
                re.compile(field.pattern)
            if field.prefill == "sex" and field.choices:
                assert set(field.choices) == {"男", "女"}, where
        assert any(f.type == "phone" and f.required for f in item.form_fields), f"{where}: no required phone"
