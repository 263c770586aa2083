"""A4 papers out of a printer: `write_printout` for a case filed into a real station, sent to a raw-port printer on
127.0.0.1 (the emulator's listener thread), to a dead port and to a missing system queue; and the technician's
"打印测试页" through the same printer, read back with Qt's PDF engine."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import: no display on CI

import re
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtPdf import QPdfDocument

from devices.printing.a4_output import A4PrinterEmulator
from kiosk_app.accounts import Operator, ensure_bootstrap_technician
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.queries import application_detail
from kiosk_app.demo import sample_form_values
from kiosk_app.station import Station
from tests.accounts import TECH_PIN, make_staff
from tests.conftest import make_person
from ui.agent.printouts import Printout, write_printout
from ui.app import make_context
from ui.documents import A4PrintError, a4_output, ensure_qt_app
from ui.shell import KioskWindow
from ui.technician.device_checks import a4_test_page
from ui.technician.devices import DevicesPage
from ui.technician.tour import log_in as type_credentials
from ui.technician.window import technician_window
from ui.theme import Theme
from ui.tour import click, on_page, wait_until

ITEM = "331123-MZ-0006"
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


@pytest.fixture
def printer() -> Iterator[A4PrinterEmulator]:
    with A4PrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def case(copied_station: Station) -> tuple[Operator, Filed]:
    ensure_qt_app()
    agent = make_staff(copied_station.db)[1]
    item = copied_station.catalog.get(ITEM)
    context = copied_station.filing_context(channel="agent", actor=agent.actor, agent_user_id=agent.user_id)
    filed = submit_application(copied_station.db, copied_station.catalog, context, item_code=ITEM,
                               identity=make_person(), form_values=sample_form_values(item),
                               files=[MaterialFile("M03", JPEG, "image/jpeg"), MaterialFile("M04", JPEG, "image/jpeg")],
                               allow_missing=True)
    return agent, filed


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "received.pdf"
    path.write_bytes(data)
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    return re.sub(r"\s+", "", "".join(document.getAllText(n).text() for n in range(document.pageCount())))


def test_a_printout_goes_to_the_raw_port_printer_as_the_exact_pdf(copied_station: Station,
                                                                  case: tuple[Operator, Filed],
                                                                  printer: A4PrinterEmulator,
                                                                  tmp_path: Path) -> None:
    agent, filed = case
    copied_station.settings.set("devices.a4_printer", f"socket://{printer.host}:{printer.port}")
    printout = write_printout(copied_station, agent, filed.id, "form")
    assert isinstance(printout, Printout) and printout.sent
    assert printout.path == copied_station.home / "printouts" / f"{filed.tracking_no}-申请表.pdf"
    assert printout.message == (f"申请表已发送到网络打印机 {printer.host}:{printer.port}，请到打印机取件。"
                                f"PDF 副本：printouts/{filed.tracking_no}-申请表.pdf")
    assert printer.wait_for_jobs(1)
    (job,) = printer.jobs
    assert job.language == "PDF" and job.data == printout.path.read_bytes()  # the archived copy, byte for byte
    assert job.data.startswith(b"%PDF-") and job.data.rstrip().endswith(b"%%EOF")
    # The printer's panel and job list show the tracking number; the applicant's name never leaves the station.
    name = application_detail(copied_station.db, filed.id, unmask=True)["applicant"]["name"]
    assert job.name == filed.tracking_no
    assert name.encode("utf-8") not in printer.raw[0][: printer.raw[0].index(b"%PDF-")]
    assert name in pdf_text(job.data, tmp_path)  # …while the paper itself names the applicant who signs it


def test_a_dead_printer_leaves_the_pdf_and_says_where_it_is(copied_station: Station,
                                                            case: tuple[Operator, Filed]) -> None:
    agent, filed = case
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    copied_station.settings.set("devices.a4_printer", f"socket://127.0.0.1:{port}")
    printout = write_printout(copied_station, agent, filed.id, "letter")
    assert not printout.sent and printout.path.read_bytes().startswith(b"%PDF-")
    assert printout.message == (f"授权委托书没有打印出来：A4 打印机 127.0.0.1:{port} 拒绝连接：请检查打印机是否开机，"
                                "地址和端口是否正确。 PDF 已保存在本站数据文件夹："
                                f"printouts/{filed.tracking_no}-授权委托书.pdf，可稍后重新打印。")


def test_without_an_a4_printer_the_pdf_is_the_printout(copied_station: Station, case: tuple[Operator, Filed]) -> None:
    agent, filed = case
    printout = write_printout(copied_station, agent, filed.id, "checklist")
    assert not printout.sent and not printout.error
    assert printout.message == f"已生成 PDF，请在本站数据文件夹中打开打印：printouts/{filed.tracking_no}-材料清单.pdf"


def test_a_missing_system_queue_is_a_plain_a4_print_error(copied_station: Station,
                                                           case: tuple[Operator, Filed]) -> None:
    page = a4_test_page("测试站", "system://不存在的队列-4711", datetime(2026, 3, 5, 9, 30))
    with pytest.raises(A4PrintError) as err:
        a4_output("system://不存在的队列-4711", page, user="admin").send(b"%PDF-1.4\n%%EOF\n", "test")
    assert err.value.message.startswith("找不到名为“不存在的队列-4711”的打印机")
    agent, filed = case
    copied_station.settings.set("devices.a4_printer", "system://不存在的队列-4711")
    printout = write_printout(copied_station, agent, filed.id, "form")
    assert not printout.sent and "找不到名为“不存在的队列-4711”的打印机" in printout.message
    assert printout.path.exists()


# ---------------------------------------------------------------------------------------------- technician


@pytest.fixture
def window(copied_station: Station, qtbot: object) -> Iterator[KioskWindow]:
    ensure_bootstrap_technician(copied_station.db, TECH_PIN)
    copied_station.settings.set("devices.id_reader", "sim://she")
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    win = technician_window(ctx)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()
    ctx.devices.close()
    ctx.bridge.shutdown()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def devices_page(window: KioskWindow) -> DevicesPage:
    type_credentials(window, "admin", TECH_PIN)
    click(window, "login")
    on_page(window, "console")
    click(window, "nav_devices")
    on_page(window, "devices")
    page = window.current
    assert isinstance(page, DevicesPage)
    wait_until(lambda: page.cards["devices.id_reader"].url == "sim://she")  # the saved addresses are shown
    return page


def test_the_technician_prints_an_a4_test_page_through_the_raw_port(window: KioskWindow, copied_station: Station,
                                                                    printer: A4PrinterEmulator,
                                                                    tmp_path: Path) -> None:
    page = devices_page(window)
    device = page.cards["devices.a4_printer"]
    assert device.test_button.text() == "打印测试页"
    url = f"socket://{printer.host}:{printer.port}"
    device.field.set_text(url)
    click(window, "save_a4_printer")
    wait_until(lambda: copied_station.settings.get("devices.a4_printer") == url)
    click(window, "test_a4_printer")
    wait_until(lambda: not device.busy, 30_000)
    assert device.result.objectName() == "okText", device.result.text()
    assert device.result.text().startswith(f"测试页已发送到网络打印机 {printer.host}:{printer.port}")
    assert page.results[-1].device == "devices.a4_printer" and page.results[-1].ok
    assert printer.wait_for_jobs(1)
    text = pdf_text(printer.jobs[0].data, tmp_path)
    station_name = str(copied_station.settings.get("station.name"))
    for needle in (station_name, "A4打印机测试页", "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "最多跑一次",
                   f"{datetime.now().year}年"):
        assert needle in text, needle


def test_a_refused_test_page_is_a_plain_failure(window: KioskWindow) -> None:
    page = devices_page(window)
    device = page.cards["devices.a4_printer"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    device.field.set_text(f"socket://127.0.0.1:{port}")
    click(window, "test_a4_printer")
    wait_until(lambda: not device.busy, 30_000)
    assert device.result.objectName() == "error"
    assert "拒绝连接" in device.result.text() and "程序错误" not in device.result.text()
    assert "尚未保存" in device.result.text() and not page.results[-1].ok
