"""Start-up and memory benchmark for the screens.

Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.startup [--rounds 5] [--sessions 300]

1. Cold start: `kiosk run --report-startup` (the command a kiosk boots with) from spawn until the villager home
   screen is shown and has been painted once (it prints `shown` after its first processed paint), on an
   existing station data folder (catalogue loaded, migrations done, as on a kiosk after its first boot). The
   station's store opens behind the home screen; the time until it is open (`ready`) is reported too.
   Baseline in the same run, interleaved round by round: a fresh process that shows a bare PySide6 QMainWindow
   the same way. Targets: under 1.5 s, and within 4x the bare window.
2. Memory: one process runs scripted villager sessions on the simulated devices (card swipe, pinyin search,
   guide, pre-filled form, every fifth session a camera preview and capture, then 返回首页 which wipes it);
   resident set size (VmRSS) after 10 sessions and after `--sessions`. Target: at most 10% growth.

A benchmark, not a test: it prints its report and exits 0.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1920, 1080); w.show()
app.processEvents()
print("SHOWN", flush=True)
"""

BARE = ["-c", BARE_WINDOW]


def ours(home: Path) -> list[str]:
    return ["-m", "kiosk_app", "--home", str(home), "run", "--report-startup"]


def _timed(args: list[str], marks: tuple[str, ...] = ("SHOWN",)) -> list[float]:
    """Seconds from spawn until each of `marks` starts a line of the process's output."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")})
    assert proc.stdout is not None
    seen: list[float] = []
    for line in proc.stdout:
        if line.startswith(marks[len(seen)]):
            seen.append(time.perf_counter() - started)
            if len(seen) == len(marks):
                break
    proc.kill()
    proc.wait()
    if len(seen) < len(marks):
        raise RuntimeError(f"the process never printed {marks[len(seen)]!r}")
    return seen


def startup(rounds: int, home: Path) -> dict[str, float]:
    _timed(ours(home), ("shown", "ready"))  # first run: bytecode compiled, page cache warm (a kiosk's 2nd boot)
    bare, shown, ready = [], [], []
    for _ in range(rounds):
        bare.append(_timed(BARE)[0])
        first, opened = _timed(ours(home), ("shown", "ready"))
        shown.append(first)
        ready.append(opened)
    b, o = statistics.median(bare), statistics.median(shown)
    return {"bare_s": round(b, 3), "ours_s": round(o, 3), "ratio": round(o / b, 2),
            "ours_worst_s": round(max(shown), 3), "ready_s": round(statistics.median(ready), 3)}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sessions(count: int, home: Path) -> dict[str, float]:
    from kiosk_app.station import Station
    from ui.app import application, make_context, villager_window
    from ui.theme import Theme
    from ui.tour import click, file_by_initials, fill_form, on_page, settle, wait_until

    application()
    with Station(home, key_storage="file") as station:
        station.settings.set("devices.id_reader", "sim://she")
        station.settings.set("devices.camera", "sim://a4?seed=5")
        ctx = make_context(station, Theme(), voice=False)
        window = villager_window(ctx)
        window.show()
        marks: dict[int, float] = {}
        for n in range(1, count + 1):
            file_by_initials(window, "tk", "特困人员救助供养")
            click(window, "startFiling")
            on_page(window, "form")
            fill_form(window)
            click(window, "formNext")
            on_page(window, "scan")
            if n % 5 == 0:
                wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
                before = len(ctx.session.captured)
                click(window, "capture")
                wait_until(lambda b=before: len(ctx.session.captured) > b)  # type: ignore[misc]
            window.go_home()
            # A running event loop deletes widgets scheduled with deleteLater(); this script drives the screens
            # without one, so it lets those deletions happen here, as app.exec() would between touches.
            settle()
            if n in (10, count):
                gc.collect()
                marks[n] = rss_mib()
        window.close()
        ctx.devices.close()
        ctx.bridge.shutdown()
    return {"rss_after_10_mib": round(marks[10], 1), f"rss_after_{count}_mib": round(marks[count], 1),
            "growth": round(marks[count] / marks[10] - 1, 4)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk_app.station import Station

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        home = Path(tmp) / "station"
        with Station(home, key_storage="file"):
            pass
        start = startup(args.rounds, home)
        print(f"cold start to the villager home screen: {start['ours_s']} s (worst {start['ours_worst_s']} s); "
              f"bare PySide6 window {start['bare_s']} s -> {start['ratio']}x (targets: < 1.5 s: "
              f"{'met' if start['ours_s'] < 1.5 else 'NOT met'}; <= 4x: "
              f"{'met' if start['ratio'] <= 4 else 'NOT met'}); station open behind it after {start['ready_s']} s",
              flush=True)
        memory = sessions(args.sessions, home)
        growth = memory["growth"]
        print(f"memory: {memory} -> growth {growth:.1%} (target <= 10%: {'met' if growth <= 0.10 else 'NOT met'})")
    sys.stdout.flush()
    os._exit(0)  # PySide6 6.12 may crash in its own exit-time teardown; the report is out


if __name__ == "__main__":
    sys.exit(main())
