"""What the 受理回执 says, from real filed applications: masked applicant, the big tracking number, materials
with their e-licence and 容缺 marks, 待同步 and 补打, the agent, the QR payload; and that pre-wrapped lines never
need a second break."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printing.document import (
    Align,
    Cut,
    PrintDocument,
    PrinterProfile,
    QRCode,
    TextLine,
    display_width,
)
from devices.printing.printable import layout_lines
from kiosk_app.identity.masking import mask_name
from kiosk_app.receipts.layout import (
    PUNCTUATION_LINE,
    ReceiptSettings,
    _hang,
    qr_payload,
    receipt_document,
)
from kiosk_app.receipts.layout import (
    test_page_document as build_test_page,
)
from tests.receipts.conftest import AGENT_NAME, FiledCases

SETTINGS = ReceiptSettings("遂昌县妙高街道便民服务中心", "331123001", "", "12345")
CST = timezone(timedelta(hours=8))
PROFILES = [PrinterProfile.for_paper(80), PrinterProfile.for_paper(58)]


def texts(document: PrintDocument) -> list[TextLine]:
    return [op for op in document.ops if isinstance(op, TextLine)]


def all_text(document: PrintDocument) -> str:
    return "\n".join(op.text for op in texts(document))


def qr_codes(document: PrintDocument) -> list[str]:
    return [op.data for op in document.ops if isinstance(op, QRCode)]


@pytest.fixture
def kiosk_detail(cases: FiledCases) -> dict[str, Any]:
    return dict(cases.details[cases.kiosk_id])


@pytest.fixture
def agent_detail(cases: FiledCases) -> dict[str, Any]:
    return dict(cases.details[cases.agent_id])


@pytest.mark.parametrize("profile", PROFILES, ids=["80mm", "58mm"])
def test_receipt_carries_what_was_filed(kiosk_detail: dict[str, Any], profile: PrinterProfile) -> None:
    doc = receipt_document(kiosk_detail, SETTINGS, promised_limit_days=20, profile=profile, tz=CST)
    text = all_text(doc)
    for expected in ("遂昌县妙高街道便民服务中心", "站点代码：331123001", "受理回执", "事项：", "最低生活保障申请",
                     "受理编号：", "承诺时限：20个工作日", f"预计办结：{kiosk_detail['promised_date']}",
                     f"送达方式：{kiosk_detail['delivery_method']}", "咨询电话：12345", "办理方式：自助终端"):
        assert expected in text, expected
    submitted = datetime.fromisoformat(kiosk_detail["submitted_at"]).astimezone(CST)
    assert f"受理时间：{submitted:%Y-%m-%d %H:%M}" in text
    assert isinstance(doc.ops[-1], Cut)
    assert kiosk_detail["tracking_no"] in doc.title and "叶" not in doc.title and "雷" not in doc.title


@pytest.mark.parametrize("profile", PROFILES, ids=["80mm", "58mm"])
def test_tracking_number_is_large_centred_and_whole(kiosk_detail: dict[str, Any], profile: PrinterProfile) -> None:
    doc = receipt_document(kiosk_detail, SETTINGS, profile=profile)
    big = [op for op in texts(doc) if op.scale == 2 and op.text[:1].isdigit()]
    assert "".join(op.text for op in big) == kiosk_detail["tracking_no"]
    assert all(op.align is Align.CENTER and display_width(op.text) * 2 <= profile.columns for op in big)


def test_applicant_is_masked_even_from_an_unmasked_detail(kiosk_detail: dict[str, Any], cases: FiledCases) -> None:
    clear = {**kiosk_detail, "applicant": {"name": "雷金土", "id_number": cases.id_numbers[1]}}
    for detail in (kiosk_detail, clear):
        doc = receipt_document(detail, SETTINGS)
        text = all_text(doc) + "".join(qr_codes(doc))
        assert f"申请人：{mask_name('雷金土')}" in text
        for name in cases.names:
            assert name not in text
        for number in cases.id_numbers:
            assert number not in text
        assert not re.search(r"\d{17}[\dX]", text)


def test_materials_marked_as_elicence_received_and_deferred(kiosk_detail: dict[str, Any]) -> None:
    text = all_text(receipt_document(kiosk_detail, SETTINGS)).replace("\n", "").replace(" ", "")
    assert "申请人居民身份证【电子证照】" in text
    assert "申请人居民户口簿【电子证照】" in text
    assert "最低生活保障申请书【已收】" in text
    deferred_names = ("家庭经济状况核对授权书", "家庭收入情况声明（承诺书）",
                      "本人银行账户信息（社会保障卡或银行存折）")
    for deferred in deferred_names:
        assert f"{deferred}【容缺待补】" in text
    assert "容缺受理：以上标有【容缺待补】的3项材料" in text


def test_pending_sync_mark_only_before_upload(kiosk_detail: dict[str, Any]) -> None:
    assert kiosk_detail["state"] == "submitted"
    assert "【待同步】" in all_text(receipt_document(kiosk_detail, SETTINGS))
    uploaded = {**kiosk_detail, "state": "uploaded"}
    assert "待同步" not in all_text(receipt_document(uploaded, SETTINGS))


def test_reprint_says_so_with_its_time(kiosk_detail: dict[str, Any]) -> None:
    first = receipt_document(kiosk_detail, SETTINGS)
    assert "补打" not in all_text(first) and "补打" not in first.title
    at = datetime(2026, 3, 5, 2, 7, tzinfo=UTC)
    again = receipt_document(kiosk_detail, SETTINGS, reprint_at=at, tz=CST)
    text = all_text(again)
    assert "受理回执（补打）" in text and "补打时间：2026-03-05 10:07" in text
    assert "补打" in again.title


def test_agent_named_only_for_agent_filings(kiosk_detail: dict[str, Any], agent_detail: dict[str, Any]) -> None:
    agent_text = all_text(receipt_document(agent_detail, SETTINGS, agent_name=AGENT_NAME, promised_limit_days=0))
    assert f"代办员：{AGENT_NAME}" in agent_text and "办理方式：代办员代办" in agent_text
    assert "承诺时限：当场办结" in agent_text
    kiosk_text = all_text(receipt_document(kiosk_detail, SETTINGS, agent_name=AGENT_NAME))
    assert AGENT_NAME not in kiosk_text and "代办员：" not in kiosk_text


def test_qr_carries_tracking_number_or_query_url(kiosk_detail: dict[str, Any]) -> None:
    tracking = kiosk_detail["tracking_no"]
    assert qr_codes(receipt_document(kiosk_detail, SETTINGS)) == [tracking]
    with_url = ReceiptSettings(SETTINGS.station_name, SETTINGS.station_code, "https://zwfw.zj.gov.cn/jd", "12345")
    assert qr_codes(receipt_document(kiosk_detail, with_url)) == [f"https://zwfw.zj.gov.cn/jd?no={tracking}"]
    assert qr_payload(tracking, "https://x.example/q?src=kiosk") == f"https://x.example/q?src=kiosk&no={tracking}"


def test_settings_read_from_values() -> None:
    values = {"station.name": "某村代办点", "station.code": "331123001201", "receipt.query_url": "",
              "receipt.hotline": "0578-8123456"}
    assert ReceiptSettings.from_values(values) == ReceiptSettings("某村代办点", "331123001201", "", "0578-8123456")


@pytest.mark.parametrize("profile", PROFILES, ids=["80mm", "58mm"])
def test_every_line_already_fits_the_paper(kiosk_detail: dict[str, Any], profile: PrinterProfile) -> None:
    long_item = {**kiosk_detail, "item_name": "孤儿和事实无人抚养儿童基本生活保障金给付（含ABC-123混排）" * 2}
    doc = receipt_document(long_item, SETTINGS, profile=profile, agent_name="欧阳王小明")
    for op in texts(doc):
        if op.align is Align.LEFT and op.scale == 1:
            assert layout_lines(op.text, profile.columns) == op.text.split("\n")
    lines = [line for op in texts(doc) for line in op.text.split("\n")]
    assert all("【容缺待补】" in line for line in lines if "【容" in line)  # a mark is never split


@settings(max_examples=200, deadline=None)
@given(label=st.sampled_from(["", "事项：", "受理时间：", "【待同步】", " 1. ", "很长很长很长很长很长很长的标签："]),
       value=st.text(st.sampled_from("受理回执容缺待补abcXYZ0123 -（）【】，。“”…"), max_size=120),
       columns=st.sampled_from([32, 48, 20]))
def test_hanging_indent_never_needs_a_second_break(label: str, value: str, columns: int) -> None:
    text = _hang(label, value, columns)
    lines = text.split("\n")
    assert layout_lines(text, columns) == lines
    assert "".join(lines).replace(" ", "") == (label + value).replace(" ", "")  # nothing lost or added


@pytest.mark.parametrize(("value", "expected"), [
    ("一二三四五六七八九，十", ["事项：一二三四五六七", "      八九，十"]),  # no comma at a line start
    ("一二三四五六七（八）", ["事项：一二三四五六七", "      （八）"]),  # no opening bracket at a line end
    ("一二三四五六（七））", ["事项：一二三四五六", "      （七））"]),
])
def test_chinese_line_breaking_rules(value: str, expected: list[str]) -> None:
    assert _hang("事项：", value, 20).split("\n") == expected


def test_test_page_has_chinese_punctuation_ascii_qr_and_cut() -> None:
    doc = build_test_page("遂昌县妙高街道便民服务中心", now=datetime(2026, 3, 2, 9, 30, tzinfo=CST))
    lines = [op.text for op in texts(doc)]
    assert PUNCTUATION_LINE in lines and PUNCTUATION_LINE == "，。、；：？！"
    assert any(line.isascii() and any(c.isalpha() for c in line) for line in lines)
    assert any(op.bold for op in texts(doc)) and any(op.scale == 2 for op in texts(doc))
    assert qr_codes(doc) and isinstance(doc.ops[-1], Cut)
    assert "遂昌县妙高街道便民服务中心" in lines
