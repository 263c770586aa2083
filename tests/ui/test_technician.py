"""The technician console on simulated devices and a reference platform on loopback: log-in, enrolment, device
self-tests, sync, logs, diagnostics, accounts and the idle log-out."""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit

from kiosk_app.accounts import Operator, Role, create_user, ensure_bootstrap_technician, log_in
from kiosk_app.station import Station
from kiosk_app.syncing.enrolment import is_provisioned
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from tests.sync.station_fixtures import enrol, file_applications
from ui.app import make_context
from ui.shell import KioskWindow
from ui.technician.devices import DevicesPage
from ui.technician.diagnostics import DiagnosticsPage
from ui.technician.logs import LogsPage
from ui.technician.pages import ConsolePage
from ui.technician.provisioning import ProvisionPage
from ui.technician.sync_page import SyncPage
from ui.technician.tour import log_in as type_credentials
from ui.technician.users import UsersPage
from ui.technician.window import technician_window
from ui.theme import Theme
from ui.tour import click, on_page, visible_texts, wait_until

PIN = "372915"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


@pytest.fixture
def window(copied_station: Station, qtbot: object) -> Iterator[KioskWindow]:
    settings = copied_station.settings
    settings.set("devices.id_reader", "sim://she")
    settings.set("devices.camera", "sim://a4?seed=5")
    settings.set("devices.receipt_printer", "sim://")
    ensure_bootstrap_technician(copied_station.db, PIN)
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    win = technician_window(ctx)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()
    win.deleteLater()
    ctx.devices.close()
    ctx.bridge.shutdown()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    with RunningPlatform(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs") as running:
        yield running


def logged_in(window: KioskWindow) -> None:
    type_credentials(window, "admin", PIN)
    click(window, "login")
    on_page(window, "console")


def go(window: KioskWindow, page: str) -> None:
    window.ctx.go("console")
    click(window, f"nav_{page}")
    on_page(window, page)


def agent(station: Station) -> Operator:
    technician = log_in(station.db, "admin", PIN)
    create_user(station.db, "zhangli", "张丽", Role.AGENT, "580264", actor=technician)
    return log_in(station.db, "zhangli", "580264")


def test_a_technician_logs_in_and_an_agent_is_refused(window: KioskWindow, copied_station: Station) -> None:
    agent(copied_station)
    type_credentials(window, "zhangli", "580264")
    click(window, "login")
    message = window.current.message  # type: ignore[attr-defined]
    wait_until(lambda: "代办员" in message.text())
    assert window.current.name == "login" and window.ctx.operator is None

    logged_in(window)
    assert window.ctx.operator is not None and window.ctx.operator.role is Role.TECHNICIAN
    assert not window.back_button.isVisible()  # no 返回 from the console to the log-in page
    console = window.current
    assert isinstance(console, ConsolePage)
    wait_until(lambda: console.summary is not None)
    assert any("sim://she" in t for t in visible_texts(console))


def test_enrolment_against_the_platform_and_a_wrong_token(window: KioskWindow, copied_station: Station,
                                                          platform: RunningPlatform) -> None:
    logged_in(window)
    go(window, "provision")
    page = window.current
    assert isinstance(page, ProvisionPage)
    page.url.set_text("http://127.0.0.1:9")  # nothing listens there
    page.token.set_text("not-a-real-token")
    click(window, "provisionRun")
    wait_until(lambda: page.result.objectName() == "error", 20_000)
    assert "开通失败" in page.result.text() and "程序错误" not in page.result.text()

    page.url.set_text(platform.url)
    click(window, "provisionRun")
    wait_until(lambda: page.result.objectName() == "error")
    assert "开通失败" in page.result.text() and "程序错误" not in page.result.text()
    assert not is_provisioned(copied_station)

    code = copied_station.settings.get("station.code")
    page.token.set_text(back_office.create_token(platform.store, code)["token"])
    click(window, "provisionRun")
    wait_until(lambda: page.result.objectName() == "okText", 20_000)
    assert code in page.assigned.text() and page.token.text() == ""
    assert is_provisioned(copied_station) and window.ctx.sync is not None

    page.station_code.set_text("12")
    click(window, "saveStation")
    wait_until(lambda: page.station_code.message.isVisible())
    assert "6、9 或 12 位" in page.station_code.message.text()
    assert copied_station.settings.get("station.code") == code  # nothing half-saved


def test_every_device_self_test_passes_on_the_simulators(window: KioskWindow) -> None:
    logged_in(window)
    go(window, "devices")
    page = window.current
    assert isinstance(page, DevicesPage)
    wait_until(lambda: page.cards["devices.id_reader"].url == "sim://she")
    page.cards["devices.ssc_reader"].field.set_text("sim://elderly")
    for key in ("devices.id_reader", "devices.ssc_reader", "devices.camera", "devices.receipt_printer"):
        device = page.cards[key]
        click(window, f"test_{device.short}")
        wait_until(lambda d=device: not d.busy, 30_000)  # type: ignore[misc]
        assert device.result.objectName() == "okText", device.result.text()
    assert [r.ok for r in page.results] == [True] * 4
    shown = " ".join(visible_texts(page))
    assert "读卡成功" in shown and "*" in shown and not FULL_ID.search(shown)
    assert "画质合格" in page.cards["devices.camera"].result.text()
    assert not FULL_ID.search(" ".join(r.message for r in page.results))


def test_a_bad_reader_address_gives_a_plain_error_without_freezing(window: KioskWindow) -> None:
    logged_in(window)
    go(window, "devices")
    page = window.current
    assert isinstance(page, DevicesPage)
    device = page.cards["devices.id_reader"]
    wait_until(lambda: device.url == "sim://she")
    device.field.set_text("samv:///dev/ttyNOSUCHREADER")
    started = time.monotonic()
    click(window, "test_id_reader")
    assert time.monotonic() - started < 0.5  # the click returns at once: the opening happens on a worker
    wait_until(lambda: not device.busy, 20_000)
    assert device.result.objectName() == "error" and device.result.text()
    assert "程序错误" not in device.result.text() and not page.results[-1].ok

    device.field.set_text("ftp://reader")
    click(window, "save_id_reader")
    wait_until(lambda: device.field.message.isVisible())
    assert "samv://" in device.field.message.text()
    assert window.ctx.station.settings.get("devices.id_reader") == "sim://she"


def test_sync_now_drains_the_queue_and_requeue_needs_the_permission(
        window: KioskWindow, copied_station: Station, platform: RunningPlatform) -> None:
    enrol(copied_station, platform)
    file_applications(copied_station, 1)
    logged_in(window)
    go(window, "sync")
    page = window.current
    assert isinstance(page, SyncPage)
    wait_until(lambda: page.status is not None)
    assert page.status is not None and page.status.queue.pending > 0
    click(window, "syncNow")
    wait_until(lambda: not page.running and page.status is not None and page.status.queue.pending == 0, 30_000)
    assert page.message.objectName() == "okText", page.message.text()
    assert any(t.startswith("0 项") for t in visible_texts(page))
    assert len(back_office.list_apps(platform.store)) == 1

    window.ctx.operator = agent(copied_station)  # what the screen must not be trusted to stop
    page.requeue()
    wait_until(lambda: page.message.objectName() == "error")
    assert "代办员账号不能“重新排队同步”" in page.message.text()


def test_the_log_page_never_shows_a_full_id_number(window: KioskWindow, copied_station: Station) -> None:
    logs = copied_station.home / "logs"
    # An old file written before masking existed (or by another tool) still holds full numbers.
    (logs / "kiosk.log.1").write_text(
        "2024-01-02 03:04:05,678 ERROR old.tool [MainThread] card 330102199001011234 refused\n"
        "Traceback (most recent call last):\n  ValueError: 33010219900101123X\n"
        "2024-01-02 03:04:06,000 INFO old.tool [MainThread] phone 13857800123\n", encoding="utf-8")
    logged_in(window)
    go(window, "logs")
    page = window.current
    assert isinstance(page, LogsPage)
    wait_until(lambda: bool(page.view.toPlainText()))
    text = page.view.toPlainText()
    assert "old.tool" in text and not FULL_ID.search(text) and "13857800123" not in text
    click(window, "logLevel_error")
    wait_until(lambda: "错误记录" in page.message.text())
    errors = page.view.toPlainText()
    assert "ValueError" in errors and "phone" not in errors  # a traceback stays with its record


def test_diagnostics_export_writes_a_zip_with_the_device_results(window: KioskWindow,
                                                                  copied_station: Station) -> None:
    logged_in(window)
    go(window, "devices")
    devices = window.current
    assert isinstance(devices, DevicesPage)
    wait_until(lambda: devices.cards["devices.receipt_printer"].url == "sim://")
    click(window, "test_receipt_printer")
    wait_until(lambda: bool(devices.results), 20_000)
    go(window, "diagnostics")
    page = window.current
    assert isinstance(page, DiagnosticsPage)
    click(window, "exportDiagnostics")
    wait_until(lambda: page.exported is not None, 20_000)
    assert page.exported is not None and page.exported.parent == copied_station.home / "diagnostics"
    with zipfile.ZipFile(page.exported) as bundle:
        assert "devices.json" in bundle.namelist() and "回执打印机" in bundle.read("devices.json").decode()


def test_a_technician_adds_an_agent(window: KioskWindow, copied_station: Station) -> None:
    logged_in(window)
    go(window, "users")
    page = window.current
    assert isinstance(page, UsersPage)
    wait_until(lambda: bool(page.users))
    page.new_username.set_text("wangfang")
    page.new_display.set_text("王芳")
    page.new_pin.set_text("123456")
    click(window, "addUser")
    wait_until(lambda: page.new_pin.message.isVisible())
    assert "连续数字" in page.new_pin.message.text()

    page.new_pin.set_text("590371")
    click(window, "addUser")
    wait_until(lambda: any(u.username == "wangfang" for u in page.users))
    assert log_in(copied_station.db, "wangfang", "590371").role is Role.AGENT
    assert page.new_pin.text() == ""


def test_walking_away_logs_the_technician_out(window: KioskWindow) -> None:
    logged_in(window)
    go(window, "devices")
    page = window.current
    assert isinstance(page, DevicesPage)
    wait_until(lambda: page.cards["devices.id_reader"].url == "sim://she")
    click(window, "test_id_reader")
    wait_until(lambda: not page.cards["devices.id_reader"].busy, 20_000)
    masked = page.cards["devices.id_reader"].result.text().split("：", 1)[-1]
    assert "*" in masked
    window.pretend_idle(window.ctx.theme.idle_seconds - 5)
    assert window.overlay.isVisible()
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "login")
    assert window.ctx.operator is None
    assert masked not in " ".join(visible_texts(window))
    assert all(not e.text() for e in window.findChildren(QLineEdit) if e.echoMode() == QLineEdit.EchoMode.Password)
