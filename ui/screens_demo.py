"""The screens part of `kiosk demo`: the villager tour on simulated devices, written out as screenshots in
both orientations and in elderly mode, or (not headless) the villager window to touch yourself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from PySide6.QtCore import QCoreApplication, QEvent

from kiosk_app.station import Station
from ui.app import application, make_context, role_window, villager_window
from ui.shell import KioskWindow
from ui.theme import Theme
from ui.tour import villager_tour, wait_until

VARIANTS: Final = (
    ("landscape", Theme("landscape")),
    ("portrait", Theme("portrait")),
    ("landscape-elderly", Theme("landscape", elderly=True)),
    ("portrait-elderly", Theme("portrait", elderly=True)),
)
ROLES: Final = ("villager", "agent", "technician")
SIMULATED_DEVICES: Final = {"devices.id_reader": "sim://she", "devices.ssc_reader": "sim://elderly",
                            "devices.camera": "sim://a4?seed=5", "devices.receipt_printer": "sim://",
                            "devices.a4_printer": "sim://"}


def use_simulators(station: Station) -> None:
    for key, value in SIMULATED_DEVICES.items():
        if not station.settings.get(key):
            station.settings.set(key, value)


def write_screenshots(template: Path, out: Path) -> list[Path]:
    """Each role's tour once per variant, each on a fresh copy of `template` (a demo station folder)."""
    application()
    shots: list[Path] = []
    for name, theme in VARIANTS:
        for role in ROLES:
            home = out / "stations" / f"{role}-{name}"
            if home.exists():
                shutil.rmtree(home)
            shutil.copytree(template, home)
            shots += tour_role(home, role, theme, out / "screens", f"{role}-{name}")
    shutil.rmtree(out / "stations", ignore_errors=True)
    return shots


def tour_role(home: Path, role: str, theme: Theme, out: Path, prefix: str) -> list[Path]:
    """One role's tour on the station in `home` (simulated devices), its screenshots written to `out`."""
    with Station(home) as station:
        use_simulators(station)
        ctx = make_context(station, theme, voice=False)
        window = role_window(ctx, role)
        window.resize(*theme.size)
        window.show()
        window.preload()  # as `kiosk run` does once the station is open
        try:
            wait_until(lambda: window.preloaded)  # a kiosk is touched seconds after it boots, not at once
            return _tour(role, station, window, out, prefix)
        finally:
            window.close()
            ctx.devices.close()
            ctx.bridge.shutdown()
            dispose(window)


def dispose(window: KioskWindow) -> None:
    """Delete a closed window now rather than at interpreter exit, where PySide6 may tear objects down in an
    order that crashes the process after all the work is done."""
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def _tour(role: str, station: Station, window: KioskWindow, out: Path, prefix: str) -> list[Path]:
    if role == "villager":
        return villager_tour(window, out, prefix)
    if role == "agent":
        from ui.agent.tour import agent_tour, ensure_tour_agent

        ensure_tour_agent(station)
        return agent_tour(window, out, prefix)
    from ui.technician.tour import ensure_tour_technician, technician_tour

    ensure_tour_technician(station)
    return technician_tour(window, out, prefix)


def open_window(home: Path, platform_dir: Path, theme: Theme | None = None) -> int:
    """The villager window on the demo station, with its embedded platform serving again so sync runs live."""
    from kiosk_app.syncing.service import StationSync
    from sync.server.embedded import RunningPlatform

    app = application()
    with RunningPlatform(f"sqlite:///{platform_dir / 'platform.db'}", platform_dir / "blobs") as platform, \
            Station(home) as station:
        use_simulators(station)
        station.settings.set("sync.platform_url", platform.url)  # the platform came back on another port
        ctx = make_context(station, theme or Theme())
        window = villager_window(ctx)
        window.show()
        sync = ctx.sync or StationSync(station)
        sync.start(lambda _report: None)
        try:
            return app.exec()
        finally:
            sync.stop()
            ctx.devices.close()
            ctx.bridge.shutdown()
