"""Receipts end to end: the service prints through a `sim://` URL (the TCP emulator behind the real network
backend), the bytes are read back with the ESC/POS decoder, and the PNG preview is held against them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from devices.printing.document import PrinterProfile
from devices.printing.escpos_encoder import encode
from devices.simulators.escpos_decoder import DecodedReceipt, decode, read_qr_codes
from kiosk_app.receipts.layout import PUNCTUATION_LINE, ReceiptSettings, receipt_document
from kiosk_app.receipts.preview import preview_width, text_rows
from kiosk_app.receipts.queue import JobState, list_jobs
from kiosk_app.receipts.service import build_receipt, preview_receipt, print_receipt, print_test_page
from kiosk_app.station import Station
from tests.receipts.conftest import AGENT_NAME, FiledCases

PROFILES = [PrinterProfile.for_paper(80), PrinterProfile.for_paper(58)]


def received(printer: Any) -> DecodedReceipt:
    [job] = printer.emulator.jobs
    return decode(job)


@pytest.mark.parametrize("paper", [80, 58])
def test_printed_receipt_reads_back_with_tracking_number_and_qr(
    station: Station, cases: FiledCases, printers: list[Any], paper: int
) -> None:
    detail, _ = build_receipt(station, cases.kiosk_id)
    tracking = detail["tracking_no"]
    outcome = print_receipt(station, tracking, f"sim://?paper={paper}")
    assert outcome.printed and outcome.title == f"受理回执 {tracking}", outcome
    paper_read = received(printers[0])
    assert paper_read.qr_payloads == [tracking]
    assert paper_read.cuts == 1 and paper_read.chinese_mode_used and not paper_read.unknown
    assert tracking in "".join(paper_read.lines)  # on 58 mm the number is split at a hyphen
    assert any(line.scale == 2 for line in paper_read.styled if tracking.split("-")[-1] in line.text)
    text = paper_read.text
    assert "【待同步】" in text and "【容缺待补】" in text and "【电子证照】" in text
    for secret in (*cases.names, *cases.id_numbers):
        assert secret not in text
    _, document = build_receipt(station, cases.kiosk_id, profile=PrinterProfile.for_paper(paper))
    assert text_rows(document, PrinterProfile.for_paper(paper)) == paper_read.lines  # preview = paper


def test_query_url_goes_into_the_qr_and_agent_onto_the_paper(
    station: Station, cases: FiledCases, printers: list[Any]
) -> None:
    station.settings.set("receipt.query_url", "https://zwfw.zj.gov.cn/jd")
    detail, _ = build_receipt(station, cases.agent_id)
    assert print_receipt(station, cases.agent_id, "sim://").printed
    paper_read = received(printers[0])
    assert paper_read.qr_payloads == [f"https://zwfw.zj.gov.cn/jd?no={detail['tracking_no']}"]
    assert f"代办员：{AGENT_NAME}" in paper_read.lines


def test_reprint_is_marked_on_paper_and_first_print_only_once(
    station: Station, cases: FiledCases, printers: list[Any]
) -> None:
    assert print_receipt(station, cases.kiosk_id, "sim://").printed
    with pytest.raises(Exception, match="--reprint"):
        print_receipt(station, cases.kiosk_id, "sim://")
    again = print_receipt(station, cases.kiosk_id, "sim://", reprint=True)
    assert again.printed and again.reprint
    text = received(printers[-1]).text
    assert "受理回执（补打）" in text and "补打时间：" in text


def test_paper_out_fails_the_job_with_the_reason_and_prints_nothing(
    station: Station, cases: FiledCases, printers: list[Any]
) -> None:
    outcome = print_receipt(station, cases.kiosk_id, "sim://paper_out")
    assert not outcome.printed and outcome.state == "failed"
    assert outcome.error is not None and "缺纸" in outcome.error
    assert printers[0].emulator.jobs == []  # refused before a byte went out
    assert list_jobs(station.db, JobState.PRINTED) == []
    [failed] = list_jobs(station.db, JobState.FAILED)
    assert failed.last_error == outcome.error and failed.attempts == 1
    assert print_receipt(station, cases.kiosk_id, "sim://").printed  # the first print can still happen


def test_unknown_printer_address_fails_the_job_not_the_program(station: Station, cases: FiledCases) -> None:
    outcome = print_receipt(station, cases.kiosk_id, "tcp://127.0.0.1:9?paper=57")
    assert not outcome.printed and "纸宽" in (outcome.error or "")
    assert [j.state for j in list_jobs(station.db)] == ["failed"]


def test_test_page_prints_chinese_punctuation_ascii_qr_and_cut(station: Station, printers: list[Any]) -> None:
    outcome = print_test_page(station, "sim://")
    assert outcome.printed and outcome.kind == "test_page"
    paper_read = received(printers[0])
    assert PUNCTUATION_LINE in paper_read.lines  # not "???????" as python-escpos would print it
    assert "ASCII: 0123456789 ABC xyz" in paper_read.lines
    assert paper_read.qr_payloads and paper_read.cuts == 1


LONG_STATION = "丽水市遂昌县妙高街道上江村“最多跑一次”便民服务代办点（上江村文化礼堂一楼东侧）"
LONG_ITEM = "孤儿和事实无人抚养儿童基本生活保障金给付——含ABC-123混排…（“特殊”情形）及其他说明"


@pytest.mark.parametrize("profile", PROFILES, ids=["80mm", "58mm"])
def test_long_names_wrap_the_same_in_preview_and_encoder(cases: FiledCases, profile: PrinterProfile) -> None:
    detail = {**cases.details[cases.kiosk_id], "item_name": LONG_ITEM,
              "delivery_method": "快递送达：浙江省丽水市遂昌县妙高街道上江村下江自然村18号（门口小卖部代收）"}
    settings = ReceiptSettings(LONG_STATION, "331123001201", "https://zwfw.zj.gov.cn/jd", "0578-12345")
    document = receipt_document(detail, settings, agent_name=AGENT_NAME, promised_limit_days=20, profile=profile)
    paper = decode(encode(document, profile))
    rows = text_rows(document, profile)
    assert rows == paper.lines
    assert any(LONG_STATION[:8] in row for row in rows) and max(len(r) for r in rows) <= profile.columns


@pytest.mark.parametrize("profile", PROFILES, ids=["80mm", "58mm"])
def test_preview_is_a_png_as_wide_as_the_paper(station: Station, cases: FiledCases, tmp_path: Path,
                                               profile: PrinterProfile) -> None:
    out = tmp_path / f"receipt-{profile.paper_mm}.png"
    preview = preview_receipt(station, cases.kiosk_id, out, profile)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(out) as image:
        assert image.width == preview.width == preview_width(profile) > profile.dots_per_line
        assert image.height == preview.height > 900
        dark = sum(image.convert("L").histogram()[:128])
        assert 0.03 < dark / (image.width * image.height) < 0.5  # ink, but mostly paper
        ink = np.asarray(image.convert("L")) < 128
    assert read_qr_codes(ink) == [cases.details[cases.kiosk_id]["tracking_no"]]  # the picture's QR scans
    assert list_jobs(station.db) == []  # a preview queues nothing
