"""The technician console's screenshot tour: log in, then every screen with something on it (device self-tests on
the simulators, the sync state, the logs, a diagnostics bundle, the accounts), then the idle log-out."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtWidgets import QLineEdit

from kiosk_app.accounts import ensure_bootstrap_technician
from kiosk_app.station import Station
from ui.shell import KioskWindow
from ui.technician.devices import DevicesPage
from ui.technician.diagnostics import DiagnosticsPage
from ui.technician.logs import LogsPage
from ui.technician.pages import ConsolePage
from ui.technician.sync_page import SyncPage
from ui.technician.users import UsersPage
from ui.tour import click, on_page, shoot, wait_until

TOUR_USERNAME: Final = "admin"
# The demo station's bootstrap technician. The same PIN as ui.agent.tour's TOUR_TECHNICIAN_PIN, so both tours
# can run on one demo station whichever bootstraps `admin` first.
TOUR_PIN: Final = "369147"


def ensure_tour_technician(station: Station, pin: str = TOUR_PIN) -> None:
    """Demo stations only: create the `admin` technician with the tour's PIN unless a technician exists."""
    ensure_bootstrap_technician(station.db, pin)


def log_in(window: KioskWindow, username: str = TOUR_USERNAME, pin: str = TOUR_PIN) -> None:
    """Type the user name and press the PIN on the keypad, as a technician would."""
    on_page(window, "login")
    edit = window.current.findChild(QLineEdit, "username")
    assert edit is not None
    edit.setText(username)
    for digit in pin:
        click(window, f"pin_{digit}")


def _open(window: KioskWindow, page: str) -> None:
    window.ctx.go("console")
    on_page(window, "console")
    click(window, f"nav_{page}")
    on_page(window, page)


def _shoot_page(window: KioskWindow, out: Path, name: str) -> list[Path]:
    """The screen as it opens and, when it scrolls, its lower part too."""
    bar = window.frames[window.current.name].verticalScrollBar()
    bar.setValue(0)  # a screen scrolled earlier (to the camera preview) starts from its top again
    shots = [shoot(window, out, name)]
    if bar.maximum() > 0:
        bar.setValue(bar.maximum())
        shots.append(shoot(window, out, f"{name}-bottom"))
        bar.setValue(0)
    return shots


def _test(window: KioskWindow, page: DevicesPage, key: str) -> None:
    device = page.cards[key]
    if not device.url:
        return
    click(window, f"test_{device.short}")
    wait_until(lambda: not device.busy, 60_000)


def technician_tour(window: KioskWindow, out: Path, prefix: str, *, username: str = TOUR_USERNAME,
                    pin: str = TOUR_PIN) -> list[Path]:
    """Every technician screen in the order a maintenance visit meets them. The station needs a technician
    `username`/`pin` and, for the self-tests to show results, simulated devices (sim://...)."""
    out.mkdir(parents=True, exist_ok=True)
    window.go_home()
    log_in(window, username, pin)
    shots = [shoot(window, out, f"{prefix}-01-login")]
    click(window, "login")
    on_page(window, "console")
    console = window.current
    assert isinstance(console, ConsolePage)
    wait_until(lambda: console.summary is not None)
    shots += _shoot_page(window, out, f"{prefix}-02-console")

    _open(window, "provision")
    wait_until(lambda: bool(window.current.station_name.text()))  # type: ignore[attr-defined]
    shots += _shoot_page(window, out, f"{prefix}-03-provision")

    _open(window, "devices")
    devices = window.current
    assert isinstance(devices, DevicesPage)
    wait_until(lambda: bool(devices.cards["devices.id_reader"].url))
    camera = devices.cards["devices.camera"]
    if camera.url:
        click(window, "test_camera")
        wait_until(lambda: (devices.preview.pixmap() is not None and not devices.preview.pixmap().isNull())
                   or not camera.busy, 30_000)
        window.frames["devices"].ensureWidgetVisible(devices.preview)
        shots.append(shoot(window, out, f"{prefix}-04-devices-camera-preview"))
        wait_until(lambda: not camera.busy, 60_000)
    for key in ("devices.id_reader", "devices.ssc_reader", "devices.receipt_printer", "devices.a4_printer"):
        _test(window, devices, key)
    click(window, "detectReaders")
    wait_until(lambda: not devices.detecting)
    shots += _shoot_page(window, out, f"{prefix}-05-devices")

    _open(window, "sync")
    sync = window.current
    assert isinstance(sync, SyncPage)
    wait_until(lambda: sync.status is not None)
    shots += _shoot_page(window, out, f"{prefix}-06-sync")
    before = sync.status
    click(window, "syncNow")
    wait_until(lambda: not sync.running and sync.status is not before, 60_000)
    shots.append(shoot(window, out, f"{prefix}-06-sync-done"))

    _open(window, "logs")
    logs = window.current
    assert isinstance(logs, LogsPage)
    wait_until(lambda: "正在" not in logs.message.text())
    shots += _shoot_page(window, out, f"{prefix}-07-logs")
    click(window, "logLevel_warning")
    wait_until(lambda: "正在" not in logs.message.text())
    shots.append(shoot(window, out, f"{prefix}-08-logs-warnings"))

    _open(window, "diagnostics")
    diagnostics = window.current
    assert isinstance(diagnostics, DiagnosticsPage)
    click(window, "exportDiagnostics")
    wait_until(lambda: diagnostics.exported is not None or "没有导出" in diagnostics.message.text(), 30_000)
    shots += _shoot_page(window, out, f"{prefix}-09-diagnostics")

    _open(window, "users")
    users = window.current
    assert isinstance(users, UsersPage)
    wait_until(lambda: bool(users.users))
    click(window, f"user_{users.users[0].username}")
    shots += _shoot_page(window, out, f"{prefix}-10-users")

    window.pretend_idle(window.ctx.theme.idle_seconds - 3)
    shots.append(shoot(window, out, f"{prefix}-11-idle-countdown"))
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "login")
    shots.append(shoot(window, out, f"{prefix}-12-logged-out"))
    return shots
