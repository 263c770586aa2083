"""Catalogue import: a bad document is refused as a whole with a Chinese message naming item and field, and the
catalogue already on the station stays exactly as it was; a good document replaces it in one go.

Every test runs against a real station database (sample catalogue loaded) in a temporary folder.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.applications.queries import application_detail
from kiosk_app.catalog import importer
from kiosk_app.catalog.importer import CatalogInvalid
from kiosk_app.errors import InvalidInput
from kiosk_app.station import Station
from local_db.models import CatalogMeta, ItemAlias, ItemFormField, ItemMaterial, ServiceItem
from tests.conftest import make_person

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "kiosk_app" / "catalog" / "data" / "zhejiang_township.json"
SAMPLE_VERSION = "2026.11.1"
SAMPLE_COUNT = 75
KNOWN = "331123-RS-0005"  # 社会保障卡补领换领: one paper material (M03), one e-licence (M01)
LICENSING = "331123-SJ-0004"  # 食品小作坊登记: 行政许可, 承诺件, statutory 10 / promised 5, steps 5 days, Ⅲ
INSTANT = "331123-WJ-0008"  # 老年人优待证: 即办件, Ⅳ
SMALL = (KNOWN, LICENSING, INSTANT)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(48))

Snapshot = tuple[Any, ...]


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@cache
def _sample_bytes() -> bytes:
    return SAMPLE_PATH.read_bytes()


def sample_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_sample_bytes())
    return doc


def sample_item(code: str) -> dict[str, Any]:
    for item in sample_doc()["items"]:
        if item["code"] == code:
            return copy.deepcopy(item)  # type: ignore[no-any-return]
    raise AssertionError(f"sample catalogue has no {code}")


def small_doc(codes: tuple[str, ...] = SMALL, version: str = "2027.01.1") -> dict[str, Any]:
    doc = sample_doc()
    by_code = {item["code"]: item for item in doc["items"]}
    doc["items"] = [copy.deepcopy(by_code[code]) for code in codes]
    doc["catalog_version"] = version
    return doc


def encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def snapshot(station: Station) -> Snapshot:
    """Everything an import writes about the catalogue, in a comparable form."""

    def job(session: Any) -> Snapshot:
        meta = session.get(CatalogMeta, 1)
        items = tuple(
            tuple(row)
            for row in session.execute(
                select(ServiceItem.code, ServiceItem.active, ServiceItem.catalog_version, ServiceItem.name,
                       ServiceItem.visits, ServiceItem.promised_limit_days).order_by(ServiceItem.code)
            )
        )
        children = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (ItemAlias, ItemMaterial, ItemFormField)
        )
        meta_row = None if meta is None else (meta.version, meta.item_count, meta.source_sha256)
        return meta_row, items, children

    return station.db.read(job)  # type: ignore[no-any-return]


def assert_sample_intact(station: Station, before: Snapshot) -> None:
    info = station.catalog.info()
    assert info is not None
    assert (info.version, info.item_count) == (SAMPLE_VERSION, SAMPLE_COUNT)
    known = station.catalog.get(KNOWN)
    assert known.active and known.catalog_version == SAMPLE_VERSION
    assert [m.code for m in known.materials] == ["M01", "M02", "M03"]
    assert snapshot(station) == before


def refuse(station: Station, raw: bytes) -> CatalogInvalid:
    """Import `raw`, expect a refusal, check nothing changed, return the error for message checks."""
    before = snapshot(station)
    with pytest.raises(CatalogInvalid) as caught:
        station.catalog.import_document(raw)
    assert isinstance(caught.value, InvalidInput)
    assert str(caught.value).startswith(f"服务事项目录有 {len(caught.value.problems)} 处问题，未导入：")
    assert_sample_intact(station, before)
    return caught.value


def refuse_item(station: Station, code: str, mutate: Callable[[dict[str, Any]], None]) -> CatalogInvalid:
    doc = small_doc()
    item = next(i for i in doc["items"] if i["code"] == code)
    mutate(item)
    return refuse(station, encode(doc))


# --- the starting point --------------------------------------------------------------------------------------


def test_small_valid_document_imports_and_replaces_the_catalogue(station: Station) -> None:
    report = station.catalog.import_document(encode(small_doc()))
    assert (report.version, report.items, report.added, report.updated, report.deactivated) == (
        "2027.01.1", 3, 0, 3, SAMPLE_COUNT - 3)
    info = station.catalog.info()
    assert info is not None and (info.version, info.item_count) == ("2027.01.1", 3)
    item = station.catalog.get(KNOWN)
    assert item.active and item.catalog_version == "2027.01.1"
    assert station.catalog.get("331123-MZ-0001").active is False


def test_utf8_bom_is_accepted(station: Station) -> None:
    report = station.catalog.import_document(b"\xef\xbb\xbf" + encode(small_doc()))
    assert report.items == 3


# --- structural problems ----------------------------------------------------------------------------------------


def test_visits_as_text_is_refused_naming_item_and_field(station: Station) -> None:
    err = refuse_item(station, KNOWN, lambda item: item.__setitem__("visits", "zero"))
    assert err.problems == [f"事项 {KNOWN} 的 visits：应为整数"]


def test_negative_copies_is_refused_naming_the_material_position(station: Station) -> None:
    err = refuse_item(station, KNOWN, lambda item: item["materials"][2].__setitem__("copies", -1))
    assert len(err.problems) == 1
    assert err.problems[0].startswith(f"事项 {KNOWN} 的 materials[2].copies：数值太小")


@pytest.mark.parametrize("key", ["item_type", "department", "case_type", "levels", "delivery", "name"])
def test_missing_required_item_field_is_named(station: Station, key: str) -> None:
    err = refuse_item(station, LICENSING, lambda item: item.pop(key))
    assert err.problems == [f"事项 {LICENSING} 的 {key}：缺少这一项"]


def test_missing_code_is_reported_by_position(station: Station) -> None:
    err = refuse_item(station, INSTANT, lambda item: item.pop("code"))
    assert err.problems == ["事项 第 3 项 的 code：缺少这一项"]


@pytest.mark.parametrize("key", ["region", "catalog_version", "items", "format"])
def test_missing_top_level_field_is_named(station: Station, key: str) -> None:
    doc = small_doc()
    del doc[key]
    err = refuse(station, encode(doc))
    assert f"目录 的 {key}：缺少这一项" in err.problems


def test_unknown_keys_are_refused_at_every_level(station: Station) -> None:
    doc = small_doc()
    doc["publisher"] = "某厂商"
    doc["items"][0]["colour"] = "红色"
    doc["items"][1]["materials"][0]["pages"] = 3
    doc["items"][1]["fee"]["currency"] = "CNY"
    err = refuse(station, encode(doc))
    assert sorted(err.problems) == sorted([
        "目录 的 publisher：不认识的字段",
        f"事项 {KNOWN} 的 colour：不认识的字段",
        f"事项 {LICENSING} 的 materials[0].pages：不认识的字段",
        f"事项 {LICENSING} 的 fee.currency：不认识的字段",
    ])


def test_ten_megabyte_name_is_refused_with_a_short_message(station: Station) -> None:
    huge = "乡" * (10 * 1024 * 1024 // 3)  # ~10 MB of UTF-8
    err = refuse_item(station, KNOWN, lambda item: item.__setitem__("name", huge))
    assert err.problems == [f"事项 {KNOWN} 的 name：文本过长（最多 200 字）"]
    assert len(str(err)) < 500


def test_duplicate_item_codes_are_refused(station: Station) -> None:
    doc = small_doc()
    twin = copy.deepcopy(doc["items"][0])
    twin["name"] = "另一个名称"
    doc["items"].append(twin)
    err = refuse(station, encode(doc))
    assert err.problems == [f"事项 {KNOWN} 的 code：事项编码重复出现 2 次"]


def test_codes_equal_after_stripping_are_duplicates(station: Station) -> None:
    doc = small_doc()
    twin = copy.deepcopy(doc["items"][0])
    twin["code"] = f"  {KNOWN} "
    doc["items"].append(twin)
    err = refuse(station, encode(doc))
    assert f"事项 {KNOWN} 的 code：事项编码重复出现 2 次" in err.problems


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"format": "kiosk-catalog", "items": [', "不是有效的 JSON（第 1 行"),
        (b"", "不是有效的 JSON"),
        (b"{'format': 'kiosk-catalog'}", "不是有效的 JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "JSON"),
        (b'{"a": 1}\n{"b": 2}', "不是有效的 JSON（第 2 行"),
    ],
    ids=["truncated", "empty", "single-quotes", "deeply-nested", "two-documents"],
)
def test_invalid_json_is_refused(station: Station, raw: bytes, expected: str) -> None:
    err = refuse(station, raw)
    assert len(err.problems) == 1
    assert expected in err.problems[0]


def test_non_utf8_bytes_are_refused(station: Station) -> None:
    err = refuse(station, json.dumps(small_doc(), ensure_ascii=False).encode("gbk"))
    assert err.problems == ["文件不是 UTF-8 编码的文本"]
    err = refuse(station, b'{"region": "\xff\xfe"}')
    assert err.problems == ["文件不是 UTF-8 编码的文本"]


@pytest.mark.parametrize("top", [[], [1, 2], "kiosk-catalog", 42, None, True])
def test_top_level_must_be_an_object(station: Station, top: Any) -> None:
    err = refuse(station, json.dumps(top).encode())
    assert err.problems == ["最外层应为 JSON 对象"]


def test_top_level_array_of_the_items_is_refused(station: Station) -> None:
    err = refuse(station, encode(small_doc()["items"]))
    assert err.problems == ["最外层应为 JSON 对象"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("format", "kiosk-catalogue"), ("format", "KIOSK-CATALOG"), ("format_version", 2), ("format_version", "1"),
     ("format_version", 0)],
)
def test_wrong_format_or_version_is_refused(station: Station, key: str, value: Any) -> None:
    doc = small_doc()
    doc[key] = value
    err = refuse(station, encode(doc))
    assert err.problems == [f"目录 的 {key}：取值不正确"]


def test_document_over_the_size_limit_is_refused_before_parsing(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = encode(small_doc())
    monkeypatch.setattr(importer, "MAX_DOCUMENT_BYTES", len(raw) - 1)
    err = refuse(station, raw)
    assert len(err.problems) == 1 and "超过上限" in err.problems[0]


def test_choice_field_without_choices_is_refused(station: Station) -> None:
    def mutate(item: dict[str, Any]) -> None:
        item["form_fields"].append({"key": "village_name", "label": "所在村", "type": "choice"})

    err = refuse_item(station, KNOWN, mutate)
    assert err.problems == [f"事项 {KNOWN} 的 form_fields[5]：选择类字段必须给出 choices"]


def test_multi_choice_field_with_empty_choices_is_refused(station: Station) -> None:
    def mutate(item: dict[str, Any]) -> None:
        item["form_fields"][3]["type"] = "multi_choice"
        item["form_fields"][3]["choices"] = []

    err = refuse_item(station, KNOWN, mutate)
    assert err.problems == [f"事项 {KNOWN} 的 form_fields[3]：选择类字段必须给出 choices"]


def test_all_problems_of_a_document_are_reported_together(station: Station) -> None:
    doc = small_doc()
    doc["items"][0]["visits"] = "zero"
    doc["items"][1]["materials"][0]["copies"] = -1
    doc["items"][2]["fee"]["online_payment"] = True  # a consistency problem is only checked once types pass
    err = refuse(station, encode(doc))
    assert len(err.problems) == 2
    assert any(p.startswith(f"事项 {KNOWN} 的 visits") for p in err.problems)
    assert any(p.startswith(f"事项 {LICENSING} 的 materials[0].copies") for p in err.problems)


def test_long_problem_lists_are_cut_in_the_message_but_kept_in_full(station: Station) -> None:
    doc = small_doc()
    for item in doc["items"]:
        for n in range(15):
            item[f"extra_{n}"] = n
    err = refuse(station, encode(doc))
    assert len(err.problems) == 45
    assert str(err).endswith("；另有 15 处问题")


# --- consistency rules (consistency.py) -------------------------------------------------------------------------


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(item: dict[str, Any]) -> None:
        item.update(copy.deepcopy(changes))

    return mutate


def _append(key: str, entry: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def mutate(item: dict[str, Any]) -> None:
        item[key].append(entry(item))

    return mutate


CONSISTENCY_CASES: list[tuple[str, str, Callable[[dict[str, Any]], None], str, str]] = [
    ("instant-with-pre-review", KNOWN, _set(case_type="即办件"), "review_type", "即办件必须是即审即办"),
    ("promised-with-instant-review", KNOWN, _set(review_type="即审即办"), "review_type", "承诺件必须是前审后批"),
    ("visit-without-reason", LICENSING, _set(visits=1, visit_reason="  "), "visit_reason", "必须说明理由"),
    ("zero-visits-offline-no-post", LICENSING, _set(online=False), "delivery", "必须支持快递送达"),
    ("depth-IV-with-a-visit", KNOWN, _set(visits=1, visit_reason="需现场拍照"), "visits", "Ⅳ级"),
    ("free-with-online-payment", KNOWN,
     _set(fee={"charged": False, "standard": "不收费", "online_payment": True}),
     "fee.online_payment", "不收费的事项不能设置网上支付"),
    ("licensing-steps-over-promise", LICENSING,
     _set(process_steps=[{"name": "受理", "days": 1}, {"name": "审批", "days": 5}]),
     "process_steps", "各环节时限合计 6 天，超过承诺时限 5 天"),
    ("promised-over-statutory", LICENSING, _set(promised_limit_days=11), "promised_limit_days",
     "承诺时限不能长于法定时限"),
    ("duplicate-material-code", KNOWN,
     _append("materials", lambda item: {**item["materials"][2], "name": "另一张照片"}),
     "materials", "材料编码 M03 重复"),
    ("duplicate-field-key", KNOWN,
     _append("form_fields", lambda item: {**item["form_fields"][3], "label": "另一个原因"}),
     "form_fields", "表单字段 reason 重复"),
    ("pattern-does-not-compile", KNOWN,
     _append("form_fields", lambda item: {"key": "card_no", "label": "卡号", "pattern": "[0-9"}),
     "form_fields[5].pattern", "正则表达式无法解析"),
    ("number-field-with-choices", KNOWN,
     _append("form_fields", lambda item: {"key": "count", "label": "张数", "type": "integer",
                                          "choices": ["1", "2"]}),
     "form_fields[5].choices", "数字类字段不能设置选项"),
]


@pytest.mark.parametrize(
    ("code", "mutate", "field", "words"),
    [case[1:] for case in CONSISTENCY_CASES],
    ids=[case[0] for case in CONSISTENCY_CASES],
)
def test_each_consistency_rule_refuses_the_document(
    station: Station, code: str, mutate: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    err = refuse_item(station, code, mutate)
    assert len(err.problems) == 1, err.problems  # exactly the rule under test fired
    assert err.problems[0].startswith(f"事项 {code} 的 {field}：")
    assert words in err.problems[0]


def test_the_unmutated_consistency_items_are_valid(station: Station) -> None:
    # Guards the table above: each refusal is caused by the mutation, not by the base item.
    report = station.catalog.import_document(encode(small_doc()))
    assert report.items == len(SMALL)


def test_zero_statutory_limit_means_no_statutory_limit(station: Station) -> None:
    doc = small_doc()
    assert doc["items"][0]["statutory_limit_days"] == 0 and doc["items"][0]["promised_limit_days"] == 10
    assert station.catalog.import_document(encode(doc)).items == 3


def test_non_finite_number_bounds_are_refused(station: Station) -> None:
    # json.loads accepts the NaN literal; a NaN bound later makes validate_form raise decimal.InvalidOperation.
    def mutate(item: dict[str, Any]) -> None:
        item["form_fields"].append({"key": "area", "label": "面积", "type": "decimal", "minimum": float("nan")})

    refuse_item(station, KNOWN, mutate)


@pytest.mark.parametrize(
    "mutate",
    [
        _append("form_fields", lambda item: {"key": "area", "label": "面积", "type": "decimal", "minimum": "abc"}),
        _append("form_fields", lambda item: {"key": "area", "label": "面积", "type": "decimal", "maximum": [1]}),
        _set(visits=float("inf")),
        _set(name="社保\ud800卡"),
    ],
    ids=["float_parsing", "float_type", "finite_number", "string_unicode"],
)
def test_every_problem_is_described_in_chinese(station: Station, mutate: Callable[[dict[str, Any]], None]) -> None:
    doc = small_doc()
    mutate(doc["items"][0])
    err = refuse(station, json.dumps(doc).encode())  # ensure_ascii so a lone surrogate can be written
    assert "Input should" not in str(err)


# --- re-import ---------------------------------------------------------------------------------------------------


def test_newer_version_without_an_item_deactivates_it(station: Station) -> None:
    removed = "331123-WJ-0008"  # 老年人优待证
    assert any(hit.code == removed for hit in station.catalog.search("老年人优待证"))
    doc = sample_doc()
    doc["catalog_version"] = "2026.12.1"
    doc["items"] = [item for item in doc["items"] if item["code"] != removed]

    report = station.catalog.import_document(encode(doc))
    assert (report.items, report.added, report.updated, report.deactivated) == (74, 0, 74, 1)
    info = station.catalog.info()
    assert info is not None and (info.version, info.item_count) == ("2026.12.1", 74)

    gone = station.catalog.get(removed)
    assert gone.active is False
    assert gone.catalog_version == SAMPLE_VERSION  # the row still says which version it last came from
    assert [m.code for m in gone.materials] == ["M01", "M02"]  # kept for applications that point at it
    assert all(hit.code != removed for hit in station.catalog.search("老年人优待证"))
    assert all(removed not in codes for codes in station.catalog.life_events().values())
    assert station.catalog.get(KNOWN).catalog_version == "2026.12.1"

    # The same document again: nothing more to deactivate.
    doc["catalog_version"] = "2026.12.2"
    again = station.catalog.import_document(encode(doc))
    assert (again.added, again.updated, again.deactivated) == (0, 74, 0)


def test_new_items_are_counted_as_added_and_returning_items_reactivate(station: Station) -> None:
    doc = small_doc(version="2027.01.1")
    station.catalog.import_document(encode(doc))

    fresh = sample_item(KNOWN)
    fresh["code"] = "331123-RS-0099"
    fresh["name"] = "社会保障卡临时挂失"
    fresh["aliases"] = ["社保卡临时挂失"]
    doc = sample_doc()
    doc["catalog_version"] = "2027.02.1"
    doc["items"].append(fresh)
    report = station.catalog.import_document(encode(doc))
    assert (report.items, report.added, report.updated, report.deactivated) == (76, 1, 75, 0)
    assert station.catalog.get("331123-MZ-0001").active is True
    assert station.catalog.get("331123-RS-0099").name == "社会保障卡临时挂失"
    assert any(hit.code == "331123-RS-0099" for hit in station.catalog.search("临时挂失"))


def test_reimport_replaces_materials_fields_and_aliases_of_changed_items(station: Station) -> None:
    doc = small_doc()
    item = doc["items"][0]
    assert item["code"] == KNOWN
    item["materials"] = [
        item["materials"][2] | {"name": "近期免冠照片"},
        {"code": "M09", "name": "挂失证明", "form": "复印件", "copies": 2, "required": False},
    ]
    item["form_fields"] = [
        item["form_fields"][3] | {"choices": ["遗失补领", "损坏换领"]},
        {"key": "lost_date", "label": "遗失日期", "type": "date", "required": False},
    ]
    item["aliases"] = ["补社保卡"]
    station.catalog.import_document(encode(doc))

    view = station.catalog.get(KNOWN)
    assert [(m.code, m.name, m.copies, m.required) for m in view.materials] == [
        ("M03", "近期免冠照片", 1, True), ("M09", "挂失证明", 2, False)]
    assert [(f.key, f.type) for f in view.form_fields] == [("reason", "choice"), ("lost_date", "date")]
    assert view.form_fields[0].rules == {"choices": ["遗失补领", "损坏换领"]}
    assert view.aliases == ("补社保卡",)
    assert any(hit.code == KNOWN for hit in station.catalog.search("补社保卡"))
    assert all(hit.code != KNOWN for hit in station.catalog.search("社保卡挂失补办"))

    # Unchanged items in the same document keep their own children.
    assert [m.code for m in station.catalog.get(LICENSING).materials] == [f"M0{n}" for n in range(1, 8)]

    def child_rows(session: Any) -> tuple[int, int]:
        materials = session.scalar(
            select(func.count()).select_from(ItemMaterial).where(ItemMaterial.item_code == KNOWN))
        fields = session.scalar(
            select(func.count()).select_from(ItemFormField).where(ItemFormField.item_code == KNOWN))
        return materials, fields

    assert station.db.read(child_rows) == (2, 2)


def test_filed_application_survives_reimport_and_deactivation(station: Station) -> None:
    person = make_person()
    filed = submit_application(
        station.db, station.catalog, station.filing_context(), item_code=KNOWN, identity=person,
        form_values={"reason": "遗失补领"}, files=[MaterialFile("M03", PNG, "image/png")], today=date(2026, 3, 2))

    # Changed in place: the application keeps its snapshot of name and version.
    doc = sample_doc()
    doc["catalog_version"] = "2026.12.1"
    for item in doc["items"]:
        if item["code"] == KNOWN:
            item["name"] = "社会保障卡补换"
    station.catalog.import_document(encode(doc))
    detail = application_detail(station.db, filed.tracking_no)
    assert (detail["item_code"], detail["item_name"], detail["catalog_version"]) == (
        KNOWN, "社会保障卡补领换领", SAMPLE_VERSION)

    # Removed from the catalogue: the item row stays (inactive), the application still resolves.
    doc["catalog_version"] = "2027.01.1"
    doc["items"] = [item for item in doc["items"] if item["code"] != KNOWN]
    report = station.catalog.import_document(encode(doc))
    assert report.deactivated == 1
    detail = application_detail(station.db, filed.id)
    assert detail["state"] == "submitted" and detail["item_code"] == KNOWN
    assert [m["code"] for m in detail["materials"]] == ["M03", "M01"]
    assert station.catalog.get(KNOWN).active is False

    # And a deactivated item cannot be filed again.
    with pytest.raises(InvalidInput, match="已从服务事项目录中停用"):
        submit_application(
            station.db, station.catalog, station.filing_context(), item_code=KNOWN, identity=person,
            form_values={"reason": "遗失补领"}, files=[MaterialFile("M03", PNG, "image/png")])


# --- hypothesis: random damage to a valid item ---------------------------------------------------------------------

ODD_STRINGS = [
    "",
    " ",
    "\u3000",  # ideographic space only
    "\x00",
    "\ud800",  # lone surrogate (json.dumps escapes it; json.loads gives it back)
    "\u202e\u200b",  # bidi override, zero-width space
    "𠀀𪚥" * 50,  # astral CJK
    "字" * 201,  # one over ShortText
    "字" * 4001,  # one over LongText
    "a" * (1 << 20),
    "M01",
    "即办件",
    "Ⅳ",
    "village",
]
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats()
    | st.text(max_size=20) | st.sampled_from(ODD_STRINGS)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(item: dict[str, Any]) -> list[tuple[str | int, ...]]:
    paths: list[tuple[str | int, ...]] = [(key,) for key in item]
    paths += [("materials", 0, key) for key in item["materials"][0]]
    paths += [("form_fields", 3, key) for key in item["form_fields"][3]]
    paths += [("fee", key) for key in item["fee"]]
    paths += [("process_steps", 1, "days"), ("result", "type"), ("aliases", 0), ("levels", 0), ("delivery", 0)]
    paths += [("unexpected",), ("materials", 0, "unexpected"), ("form_fields", 3, "pattern")]
    return paths


BASE_ITEM = sample_item(KNOWN)
PATHS = _paths(BASE_ITEM)
mutation = st.tuples(st.sampled_from(["delete", "set", "odd"]), st.sampled_from(PATHS), json_values,
                     st.sampled_from(ODD_STRINGS))


def _apply(item: dict[str, Any], op: str, path: tuple[str | int, ...], value: Any, odd: str) -> None:
    """Apply one mutation; a path that an earlier mutation already broke is skipped."""
    target: Any = item
    try:
        for part in path[:-1]:
            if not isinstance(target, dict | list):
                return
            target = target[part]
        last = path[-1]
        if isinstance(target, list):
            if not isinstance(last, int) or last >= len(target):
                return
        elif not isinstance(target, dict):
            return
        if op == "delete":
            target.pop(last) if isinstance(target, list) else target.pop(last, None)
        else:
            target[last] = value if op == "set" else odd
    except (KeyError, IndexError, TypeError):
        return


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_random_damage_is_imported_or_refused_cleanly(
    station: Station, mutations: list[tuple[str, tuple[str | int, ...], Any, str]]
) -> None:
    item = copy.deepcopy(BASE_ITEM)
    for op, path, value, odd in mutations:
        _apply(item, op, path, value, odd)
    doc = small_doc((LICENSING,), version="2027.05.1")
    doc["items"].append(item)
    raw = json.dumps(doc).encode("ascii")  # ASCII escapes keep lone surrogates writable

    before = snapshot(station)
    try:
        report = station.catalog.import_document(raw)
    except CatalogInvalid as exc:
        assert isinstance(exc, InvalidInput)
        assert exc.problems and str(exc).startswith("服务事项目录有")
        assert snapshot(station) == before
        event("refused")
        return
    event("imported")
    info = station.catalog.info()
    assert info is not None and info.version == "2027.05.1" and report.items == 2
    stored = station.catalog.get(str(item["code"]).strip())
    assert stored.active and stored.name and stored.name in str(item["name"])


def test_search_sees_a_corrected_catalogue_with_the_same_version(tmp_path: Path) -> None:
    """A re-issued file under the same version string must not leave a stale search index behind."""
    sample = json.loads(SAMPLE_PATH.read_bytes())
    with Station(tmp_path / "same-version", key_storage="file") as station:
        assert station.catalog.search("火星") == []
        sample["items"][0]["name"] = "火星签证办理"
        station.catalog.import_document(json.dumps(sample, ensure_ascii=False).encode())
        hits = station.catalog.search("火星")
        assert [h.code for h in hits] == [sample["items"][0]["code"]]
