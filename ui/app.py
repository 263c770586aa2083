"""Starting the screens: one QApplication, the theme, the context every page shares, and the window of a role.

`kiosk run [--role villager|agent|technician] [--fullscreen]` comes here through the CLI; so does the demo.
A kiosk's first screen goes up before its station opens (see ui.station_link): nothing on the way to the first
paint imports the store, the ORM or the accounts.
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from ui.bridge import Bridge
from ui.shell import KioskWindow, UiContext
from ui.speech import Voice
from ui.stall_watch import StallWatch, log_stall
from ui.station_link import StationLink, StationServices, services_for
from ui.theme import Orientation, Theme

if TYPE_CHECKING:
    from kiosk_app.station import Station

log = logging.getLogger(__name__)

# Page name -> "module:Class": each page's module is imported when the page is first shown.
VILLAGER_PAGES: dict[str, str] = {
    "home": "ui.villager.home:HomePage",
    "appointment": "ui.villager.appointment:AppointmentCardPage",
    "appointment_mine": "ui.villager.appointment:MyAppointmentsPage",
    "appointment_item": "ui.villager.appointment:ChooseItemPage",
    "appointment_day": "ui.villager.appointment:ChooseDayPage",
    "appointment_slot": "ui.villager.appointment:ChooseSlotPage",
    "appointment_confirm": "ui.villager.appointment:ConfirmPage",
    "appointment_booked": "ui.villager.appointment:BookedPage",
    "consult": "ui.villager.home:ConsultPage",
    "card": "ui.villager.identify:CardPage",
    "services": "ui.villager.choose:ServicePage",
    "guide": "ui.villager.choose:GuidePage",
    "form": "ui.villager.form:FormPage",
    "scan": "ui.villager.scan:ScanPage",
    "review": "ui.villager.finish:ReviewPage",
    "done": "ui.villager.finish:DonePage",
    "evaluate": "ui.villager.finish:EvaluatePage",
    "progress": "ui.villager.progress:ProgressPage",
}
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    for path in CJK_FONTS:  # Debian's Noto CJK; Windows installs bundle their own copy
        if Path(path).exists():
            QFontDatabase.addApplicationFont(path)
    app.setFont(QFont("Noto Sans CJK SC"))
    return app


def make_context(station: Station, theme: Theme, *, voice: bool = True) -> UiContext:
    """A context over a station that is already open (tests, the demo)."""
    return UiContext(link=StationLink.of(station), bridge=Bridge(), theme=theme, voice=Voice(enabled=voice))


def opening_context(home: Path, theme: Theme, *, voice: bool = True, key_storage: str = "auto") -> UiContext:
    """A context whose station opens later, on the first `ctx.link.open()`; its name is peeked at now."""
    from kiosk_app.config import early_setting

    def open_station() -> StationServices:
        from kiosk_app.station import Station

        return services_for(Station(home, key_storage=key_storage))

    return UiContext(link=StationLink(early_setting(home, "station.name"), opener=open_station), bridge=Bridge(),
                     theme=theme, voice=Voice(enabled=voice))


def villager_window(ctx: UiContext) -> KioskWindow:
    return role_window(ctx, "villager")


def role_window(ctx: UiContext, role: str) -> KioskWindow:
    application().setStyleSheet(ctx.theme.stylesheet())
    if role == "villager":
        return KioskWindow(ctx, VILLAGER_PAGES, "home")
    # Staff windows are imported on demand: a villager kiosk never loads the workbench or the console.
    module, factory = {"agent": ("ui.agent.window", "agent_window"),
                       "technician": ("ui.technician.window", "technician_window")}[role]
    window: KioskWindow = getattr(importlib.import_module(module), factory)(ctx)
    return window


def _station_opened(ctx: UiContext, window: KioskWindow, services: StationServices) -> None:
    if services.sync is not None:
        services.sync.start(lambda _report: None)  # the header polls the status; no widget from this thread
    window.refresh_sync_badge()
    window.preload()
    # Print jobs a crash interrupted become failed with their reason (never re-sent on their own).
    from kiosk_app.receipts.queue import recover_interrupted_jobs

    ctx.bridge.run(lambda: recover_interrupted_jobs(services.station.db, actor="startup"),
                   lambda stuck: log.info("recovered print jobs: %s", stuck))


def run(home: Path, *, role: str = "villager", fullscreen: bool = False, orientation: Orientation = "landscape",
        elderly: bool = False, key_storage: str = "auto", report_startup: bool = False) -> int:
    """Show the role's window, then open the station behind it. A station that cannot open (a damaged file, a
    lost key) ends the program with that error, as it would have before any window."""
    began = time.perf_counter()
    app = application()
    ctx = opening_context(home, Theme(orientation, elderly), key_storage=key_storage)
    window = role_window(ctx, role)
    if fullscreen:  # kiosk mode: no window chrome, nothing to close or move
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    else:
        window.show()
    app.processEvents()  # the first frame is painted before the station's opening competes for the interpreter
    if report_startup:
        print(f"shown {time.perf_counter() - began:.3f}", flush=True)
    failure: list[BaseException] = []

    def opened(services: StationServices) -> None:
        _station_opened(ctx, window, services)
        if report_startup:
            print(f"ready {time.perf_counter() - began:.3f}", flush=True)

    def failed(exc: BaseException) -> None:
        failure.append(exc)
        app.exit(1)

    ctx.bridge.run(ctx.link.open, opened, failed)
    # `systemctl stop` or a shutdown sends SIGTERM: leave through the same door as closing the window. Python
    # only sees a signal when it runs, so a slow timer gives it the chance while Qt waits for input.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: app.quit())
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(500)
    # Any stall of the screen over 100 ms goes to the log with the code that held it (a light watch: one ping
    # every 50 ms, a stack sample only while an answer is late).
    watch = StallWatch(pace_s=0.05, sample_s=0.05, keep=False, report=log_stall)
    watch.start()
    try:
        code = app.exec()
    finally:
        watch.stop()
        if ctx.link.ready:
            if ctx.sync is not None:
                ctx.sync.stop()
            ctx.devices.close()
        ctx.bridge.shutdown()
        if ctx.link.ready:
            ctx.station.close()  # flushed and closed before the caller skips Qt's teardown
    if failure:
        raise failure[0]
    return code

