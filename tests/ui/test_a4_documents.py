"""A4 documents end to end: applications filed into a real station, documents built from the stored case,
rendered to PDF by Qt, then read back with Qt's own PDF engine (QtPdf/PDFium) to check what is on the paper."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import: no display on CI

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument

from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.applications.queries import application_detail
from kiosk_app.catalog.library import FieldView, ItemView, MaterialView
from kiosk_app.demo import demo_scan, sample_form_values, sample_people
from kiosk_app.documents import (
    A4Document,
    Section,
    StationInfo,
    Table,
    application_form,
    authorisation_letter,
    material_checklist,
)
from kiosk_app.documents.content import _date_words
from kiosk_app.station import Station
from ui.documents import A4PrintError, ensure_qt_app, print_document, render_pdf

AGENT_ID = "33112319850612201X"
TRICKY = "<b>x</b>&"
PRINTED_AT = datetime(2026, 3, 5, 9, 30)


@dataclasses.dataclass(frozen=True)
class FiledCase:
    detail: dict[str, Any]
    item: ItemView


@dataclasses.dataclass(frozen=True)
class Filed:
    info: StationInfo
    deferred: FiledCase  # 低保 by an agent, papers owed (容缺), a form value with HTML in it
    scanned: FiledCase  # 老年人优待证 at the kiosk, photo scanned, ID card as e-licence


def _item_named(station: Station, name: str) -> ItemView:
    hit = next(h for h in station.catalog.search(name, limit=5) if h.name == name)
    return station.catalog.get(hit.code)


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filed]:
    people = sample_people()
    with Station(tmp_path_factory.mktemp("a4") / "station", key_storage="file") as station:
        dibao = _item_named(station, "最低生活保障申请")
        values = sample_form_values(dibao) | {"apply_reason": f"家中老人常年患病{TRICKY}", "has_disabled_member": "否"}
        deferred = submit_application(station.db, station.catalog, station.filing_context(channel="agent"),
                                      item_code=dibao.code, identity=people[1], form_values=values,
                                      allow_missing=True)
        elder = _item_named(station, "老年人优待证")
        scans = [MaterialFile(m.code, demo_scan(n), "image/png")
                 for n, m in enumerate(elder.materials) if m.required and not m.elicence_type]
        scanned = submit_application(station.db, station.catalog, station.filing_context(), item_code=elder.code,
                                     identity=people[2], form_values=sample_form_values(elder), files=scans)
        yield Filed(
            StationInfo.of(station),
            FiledCase(application_detail(station.db, deferred.id, unmask=True), dibao),
            FiledCase(application_detail(station.db, scanned.id, unmask=True), elder),
        )


@pytest.fixture(scope="module", autouse=True)
def qt_app() -> None:
    ensure_qt_app()


def _flat(text: str) -> str:
    # Table cells wrap and PDFium puts line breaks where the layout did: compare without white space.
    return "".join(text.split())


class RenderedPdf:
    def __init__(self, path: Path) -> None:
        self.raw = path.read_bytes()
        self.pdf = QPdfDocument()
        assert self.pdf.load(str(path)) == QPdfDocument.Error.None_
        self.pages = self.pdf.pageCount()
        self.page_texts = [self.pdf.getAllText(n).text() for n in range(self.pages)]
        self.text = _flat("".join(self.page_texts))
        # Noto CJK shares glyphs between 生 and the radical ⽣; the text layer must still say 生 (searchable).
        radicals = sorted({c for c in self.text if 0x2E80 <= ord(c) <= 0x2FDF})
        assert not radicals, f"radicals in the PDF text layer: {radicals}"

    def has(self, *needles: str) -> bool:
        return all(_flat(n) in self.text for n in needles)

    def page_image(self, page: int = 0) -> QImage:
        return self.pdf.render(page, QSize(248, 351))  # A4 at 30 dpi is enough to see ink


def _render(doc: A4Document, tmp_path: Path, name: str) -> RenderedPdf:
    path = render_pdf(doc, tmp_path / f"{name}.pdf")
    assert path == tmp_path / f"{name}.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob("*.part")), "the partial file must be renamed into place"
    return RenderedPdf(path)


def _ink_ratio(image: QImage) -> float:
    """Share of the page covered by dark, opaque pixels (PDFium leaves paper transparent)."""
    argb = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(argb.constBits(), np.uint8).reshape(argb.height(), argb.bytesPerLine())
    pixels = rows[:, : argb.width() * 4].reshape(argb.height(), argb.width(), 4)  # B G R A in memory
    ink = (pixels[..., 3] > 128) & (pixels[..., :3].max(axis=2) < 128)
    return float(ink.mean())


def test_application_form_shows_every_field_in_clear_words(filed: Filed, tmp_path: Path) -> None:
    case = filed.deferred
    doc = application_form(filed.info, case.detail, case.item, printed_at=PRINTED_AT)
    pdf = _render(doc, tmp_path, "form")

    assert pdf.pages >= 1
    assert 0.005 < _ink_ratio(pdf.page_image()) < 0.5, "page 1 should carry text and ruled lines, not be blank"
    applicant = case.detail["applicant"]
    assert pdf.has("最低生活保障申请表", case.item.name, case.item.code, case.detail["tracking_no"])
    assert pdf.has(applicant["name"], applicant["id_number"], "申请人（签字或按手印）", "代办员（签字）")
    for field in case.item.form_fields:
        assert pdf.has(field.label), field.label
    assert pdf.has(f"家中老人常年患病{TRICKY}"), "a value from a person is printed literally, never as markup"
    assert pdf.has("家庭成员中是否有残疾人或重病患者否"), "booleans print in words"
    assert pdf.has("第1页共1页") or pdf.has(f"第1页共{pdf.pages}页")


def test_authorisation_letter_names_both_parties_and_the_scope(filed: Filed, tmp_path: Path) -> None:
    case = filed.deferred
    doc = authorisation_letter(filed.info, case.detail, "李晓明", AGENT_ID, agent_phone="13905781234",
                               printed_at=PRINTED_AT)
    pdf = _render(doc, tmp_path, "letter")

    assert pdf.has("授权委托书", "委托人", "受托人", case.item.name, case.detail["tracking_no"])
    assert pdf.has(case.detail["applicant"]["name"], case.detail["applicant"]["id_number"], "李晓明")
    assert pdf.has("代为填写", "代为提交申请材料", "代为领取办理结果", "至本事项办结")
    assert pdf.has("委托人（签字或按手印）", "受托人（签字或按手印）", "日期：")
    assert pdf.has("3311**********201X") and AGENT_ID not in pdf.text, "the agent's number prints masked"
    assert _ink_ratio(pdf.page_image()) > 0.005


def test_material_checklist_lists_how_each_material_arrived(filed: Filed, tmp_path: Path) -> None:
    owed = _render(material_checklist(filed.info, filed.deferred.detail, filed.deferred.item), tmp_path, "owed")
    for material in filed.deferred.item.materials:
        assert owed.has(material.name), material.name
    assert owed.has("申请材料接收清单", "电子证照免交", "容缺待补", "容缺受理告知")
    assert owed.has("请于收到补正通知之日起五个工作日内补齐", "收件人（签字）")
    assert owed.has("可信等级", "A类：由行政机关核发")

    complete = _render(material_checklist(filed.info, filed.scanned.detail, filed.scanned.item), tmp_path, "done")
    assert complete.has("已扫描提交", "电子证照免交", "近期免冠彩色证件照片（白底）")
    assert not complete.has("容缺受理告知"), "nothing owed, no notice"


def test_a_sixty_material_checklist_runs_onto_more_pages(filed: Filed, tmp_path: Path) -> None:
    case = filed.scanned
    materials = tuple(MaterialView(f"M{n:02d}", f"第{n}号证明材料", "复印件", 1, n % 2 == 0, "C", None, "")
                      for n in range(1, 61))
    detail = case.detail | {"materials": [{"code": m.code, "name": m.name, "source": "file"}
                                          for m in materials[:30]]}
    pdf = _render(material_checklist(filed.info, detail, dataclasses.replace(case.item, materials=materials)),
                  tmp_path, "long")

    assert pdf.pages > 1
    assert pdf.has("第1号证明材料", "第60号证明材料", f"第{pdf.pages}页共{pdf.pages}页")
    second = _flat(pdf.page_texts[1])
    assert "材料名称" in second and "提交情况" in second, "the table header repeats on every page"
    assert _flat(f"第 2 页 共 {pdf.pages} 页") in second


def test_values_print_in_words() -> None:
    item = _synthetic_item()
    detail = {"tracking_no": "331123001-20260305-0007", "item_code": item.code, "item_name": item.name,
              "channel": "kiosk", "applicant": {"name": "叶春兰", "id_number": "331123195804121226",
                                                "card_type": "resident"},
              "form": {"name": "叶春兰", "living_alone": True, "needs": ["助餐", "助医"], "start": "2026-03-05",
                       "account": "6228480329012345678", "retired_key": "旧目录字段的值"},
              "materials": []}
    doc = application_form(StationInfo("遂昌县妙高街道便民服务中心", "331123001"), detail, item)
    rows = {label: value for section in doc.sections for label, value in section.rows}

    assert doc.title == "居家养老服务补贴申请表"
    assert rows["是否独居"] == "是"
    assert rows["需要的服务"] == "助餐、助医"
    assert rows["开始日期"] == "2026年3月5日"
    assert rows["银行账号"] == "6228 4803 2901 2345 678"
    assert rows["备注"] == "（未填写）"
    assert rows["retired_key"] == "旧目录字段的值", "values the catalogue no longer defines still print"
    assert [s.heading for s in doc.sections][:2] == ["一、事项信息", "二、申请人信息"]
    with pytest.raises(ValueError, match="cells"):
        Table(headers=("a", "b"), rows=(("only one",),))


def test_papers_to_sign_refuse_masked_details(filed: Filed) -> None:
    masked = filed.deferred.detail | {"applicant": filed.deferred.detail["applicant"] | {"name": "雷**"},
                                      "form": {key: "***" for key in filed.deferred.detail["form"]}}
    with pytest.raises(ValueError, match="unmask=True"):
        application_form(filed.info, masked, filed.deferred.item)
    with pytest.raises(ValueError, match="unmask=True"):
        authorisation_letter(filed.info, masked, "李晓明")
    assert material_checklist(filed.info, masked, filed.deferred.item).title == "申请材料接收清单"


def test_printing_to_a_missing_printer_says_so(filed: Filed) -> None:
    doc = material_checklist(filed.info, filed.scanned.detail, filed.scanned.item)
    with pytest.raises(A4PrintError, match="找不到名为“不存在的打印机-4711”的打印机") as caught:
        print_document(doc, "不存在的打印机-4711")
    assert caught.value.message.endswith("请检查打印机设置。")


def test_unwritable_pdf_path_is_a_plain_error(tmp_path: Path) -> None:
    doc = A4Document("标题", "", (Section("一、内容", paragraphs=("正文",)),), (), "页脚")
    with pytest.raises(A4PrintError, match="无法"):
        render_pdf(doc, tmp_path / "no-such-folder" / "x.pdf")


def _synthetic_item() -> ItemView:
    def field(key: str, label: str, kind: str, prefill: str | None = None, **rules: Any) -> FieldView:
        return FieldView(key, label, kind, False, rules, prefill, "")

    return ItemView(
        code="331123-MZ-0099", name="居家养老服务补贴", aliases=(), item_type="行政给付", department="遂昌县民政局",
        service_object=("自然人",), conditions=(), materials=(),
        form_fields=(field("name", "申请人姓名", "text", "name"), field("living_alone", "是否独居", "boolean"),
                     field("needs", "需要的服务", "multi_choice", choices=["助餐", "助医", "助洁"]),
                     field("start", "开始日期", "date"), field("account", "银行账号", "bank_account"),
                     field("remark", "备注", "textarea")),
        statutory_limit_days=20, promised_limit_days=10, case_type="承诺件", review_type="前审后批", fee={},
        visits=0, visit_reason="", online_depth="Ⅲ", online=True, delivery=("村代办点领取",), result={},
        process_steps=(), life_events=(), levels=("township",), consult_phone=None, complaint_phone=None,
        address="", hours="", active=True, catalog_version="test",
    )


def test_dates_in_words_do_not_depend_on_the_type() -> None:
    # A real `date` and its ISO text print the same; a masked birth date passes through unchanged.
    assert _date_words(date(2026, 1, 9)) == _date_words("2026-01-09") == "2026年1月9日"
    assert _date_words("1958-**-**") == "1958-**-**"
