"""Does anything block the screen for more than 100 ms? The GUI thread's answer latency while every role's tour
runs on the simulated devices.

Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.gui_stalls [--variant landscape]

A watcher thread asks the GUI thread to answer every 10 ms (a queued signal, exactly how workers hand results
back). When an answer is late, it samples the GUI thread's stack every 20 ms until the answer comes, so each
stall is charged to the code that held the thread. Stalls whose innermost code of ours is the tour itself (taking
and saving screenshots, seeding a tour account) are the harness's and listed apart; the rest are the product's.
Baseline in the same run: the same watcher on an idle event loop for 3 s. Target: no product stall over 100 ms.

A benchmark, not a test: it prints its report and exits 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ui.stall_watch import BUDGET_S, StallWatch, idle_worst


def run_tours(variant: str, out: Path) -> StallWatch:
    from ui.screens_demo import VARIANTS, tour_role

    theme = dict(VARIANTS)[variant]
    # The demo station is made in another process, so this one has not already run (and imported) the scanning,
    # filing and sync code that the screens reach on their own.
    subprocess.run([sys.executable, "-m", "kiosk_app", "demo", "--screens", "none", "--out", str(out / "demo")],
                   check=True, capture_output=True)
    template = out / "demo" / "station"
    with StallWatch() as watch:
        for role in ("villager", "agent", "technician"):
            home = out / role
            shutil.copytree(template, home)
            tour_role(home, role, theme, out / "screens", f"{role}-{variant}")
    return watch


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", default="landscape",
                        choices=["landscape", "portrait", "landscape-elderly", "portrait-elderly"])
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.app import application

    application()
    baseline = idle_worst(3.0)
    with tempfile.TemporaryDirectory(prefix="gui-stalls-") as tmp:
        watch = run_tours(args.variant, Path(tmp))
    product = sorted((s for s in watch.stalls if not s.harness), key=lambda s: -s.seconds)
    harness = [s for s in watch.stalls if s.harness]
    worst = product[0].seconds if product else 0.0
    print(f"idle event loop (baseline): worst answer {baseline * 1000:.0f} ms")
    print(f"tours of every role ({args.variant}): {watch.answers} answers; worst product stall "
          f"{worst * 1000:.0f} ms = {worst / baseline:.1f}x the idle loop, {worst / BUDGET_S:.2f} of the 100 ms "
          f"budget ({'met' if worst <= BUDGET_S else 'NOT met'}); {len(harness)} harness stalls "
          f"(screenshots, tour set-up) left out")
    for stall in product[:12]:
        print(f"  {stall.seconds * 1000:6.0f} ms  {stall.where}")
    sys.stdout.flush()
    os._exit(0)  # PySide6 6.12 may crash in its own exit-time teardown; the report is out


if __name__ == "__main__":
    sys.exit(main())
