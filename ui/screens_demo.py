"""The screens part of `kiosk demo`: the villager tour on simulated devices, written out as screenshots in
both orientations and in elderly mode, or (not headless) the villager window to touch yourself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from kiosk_app.station import Station
from ui.app import application, make_context, villager_window
from ui.theme import Theme
from ui.tour import villager_tour

VARIANTS: Final = (
    ("landscape", Theme("landscape")),
    ("portrait", Theme("portrait")),
    ("landscape-elderly", Theme("landscape", elderly=True)),
    ("portrait-elderly", Theme("portrait", elderly=True)),
)
SIMULATED_DEVICES: Final = {"devices.id_reader": "sim://she", "devices.camera": "sim://a4?seed=5",
                            "devices.receipt_printer": "sim://"}


def use_simulators(station: Station) -> None:
    for key, value in SIMULATED_DEVICES.items():
        if not station.settings.get(key):
            station.settings.set(key, value)


def write_screenshots(template: Path, out: Path) -> list[Path]:
    """Run the villager tour once per variant, each on a fresh copy of `template` (a demo station folder)."""
    application()
    shots: list[Path] = []
    for name, theme in VARIANTS:
        home = out / "stations" / name
        if home.exists():
            shutil.rmtree(home)
        shutil.copytree(template, home)
        with Station(home) as station:
            use_simulators(station)
            ctx = make_context(station, theme, voice=False)
            window = villager_window(ctx)
            window.resize(*theme.size)
            window.show()
            try:
                shots += villager_tour(window, out / "screens", f"villager-{name}")
            finally:
                window.close()
                ctx.devices.close()
                ctx.bridge.shutdown()
    shutil.rmtree(out / "stations", ignore_errors=True)
    return shots


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
