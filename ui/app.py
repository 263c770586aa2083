"""Starting the screens: one QApplication, the theme, the context every page shares, and the window of a role.

`kiosk run [--role villager|agent|technician] [--fullscreen]` comes here through the CLI; so does the demo.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from kiosk_app.station import Station
from kiosk_app.station_devices import StationDevices
from kiosk_app.syncing.enrolment import is_provisioned
from ui.bridge import Bridge
from ui.shell import KioskWindow, UiContext
from ui.speech import Voice
from ui.theme import Orientation, Theme

log = logging.getLogger(__name__)

# Page name -> "module:Class": each page's module is imported when the page is first shown.
VILLAGER_PAGES: dict[str, str] = {
    "home": "ui.villager.home:HomePage",
    "appointment": "ui.villager.home:AppointmentPage",
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
    sync = None
    if is_provisioned(station):
        from kiosk_app.syncing.service import StationSync  # HTTP and crypto: only for a provisioned station

        sync = StationSync(station)
    return UiContext(station=station, bridge=Bridge(), theme=theme, voice=Voice(enabled=voice),
                     devices=StationDevices(station.settings), sync=sync)


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


def _recover_print_jobs(station: Station) -> list[str]:
    from kiosk_app.receipts.queue import recover_interrupted_jobs

    return recover_interrupted_jobs(station.db, actor="startup")


def run(station: Station, *, role: str = "villager", fullscreen: bool = False,
        orientation: Orientation = "landscape", elderly: bool = False) -> int:
    app = application()
    ctx = make_context(station, Theme(orientation, elderly))
    window = role_window(ctx, role)
    if fullscreen:  # kiosk mode: no window chrome, nothing to close or move
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    else:
        window.show()
    if ctx.sync is not None:
        ctx.sync.start(lambda _report: None)  # the header polls the status; no widget from this thread
    # Print jobs a crash interrupted become failed with their reason (never re-sent on their own).
    ctx.bridge.run(lambda: _recover_print_jobs(station), lambda stuck: log.info("recovered print jobs: %s", stuck))
    try:
        return app.exec()
    finally:
        if ctx.sync is not None:
            ctx.sync.stop()
        ctx.devices.close()
        ctx.bridge.shutdown()
