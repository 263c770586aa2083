"""Watching the GUI thread for stalls: a watcher thread asks it to answer at a steady pace (a queued signal, the
way workers hand results back) and, while an answer is late, samples the GUI thread's stack, so every stall is
charged to the code of ours that held the thread.

The running kiosk logs each stall over the 100 ms budget with that place (a technician reading the log sees
which screen froze, and where); `benchmarks/gui_stalls.py` drives every role's tour under it.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger(__name__)
BUDGET_S = 0.100
ROOT = Path(__file__).resolve().parents[1]
OURS = tuple(str(ROOT / part) + os.sep for part in ("ui", "kiosk_app", "devices", "local_db", "sync"))
# Driving code, not the product: the tours, the demo's screens, the watcher's own benchmark. Their functions that
# press buttons or wait for the screen are how a person drives it; what they call is the product's doing.
HARNESS = ("tour.py", "screens_demo.py", "gui_stalls.py")
DRIVERS = frozenset({"wait_until", "settle", "click", "on_page", "press", "tick", "sign", "enter_credentials",
                     "press_first", "type_text"})
HARNESS_MARK = "[harness]"


@dataclass
class Stall:
    seconds: float
    samples: list[str] = field(default_factory=list)  # where the GUI thread was, once per sample (see `place`)

    @property
    def where(self) -> str:
        return collections.Counter(self.samples).most_common(1)[0][0] if self.samples else "(between samples)"

    @property
    def harness(self) -> bool:
        return self.where.startswith(HARNESS_MARK)


class Echo(QObject):
    """Lives on the GUI thread; answers pings queued from the watcher."""

    ping = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.ping.connect(self.answer, Qt.ConnectionType.QueuedConnection)

    @Slot(int)
    def answer(self, _number: int) -> None:
        self.arrived.set()


def place(frame: FrameType | None) -> str:
    """Where a sampled GUI thread was: our innermost frame, and the entry into our code (a click handler, a
    queued callback). When a tour or test called in to set something up (not through a click or an event), the
    place is marked as the harness's."""
    ours: list[FrameType] = []
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith(HARNESS):
            if frame.f_code.co_name not in DRIVERS:
                return f"{HARNESS_MARK} {_where(ours[0] if ours else frame)}"
            break
        if name.startswith(OURS):
            ours.append(frame)
        frame = frame.f_back
    if not ours:
        return "(Qt or a library, outside our code)"
    inner, entry = ours[0], ours[-1]
    pages = [type(f.f_locals["self"]).__name__ for f in ours if type(f.f_locals.get("self")).__name__.endswith("Page")]
    on = f" [{pages[0]}]" if pages else ""
    return (_where(inner) if inner is entry else f"{_where(inner)} <- {_where(entry)}") + on


def _where(frame: FrameType) -> str:
    return f"{os.path.relpath(frame.f_code.co_filename, ROOT)}:{frame.f_lineno} {frame.f_code.co_name}"


class StallWatch:
    """Create on the GUI thread. Pings every `pace_s`; a late answer is sampled every `sample_s` until it comes.
    Every stall longer than `sample_s` is kept in `stalls`; `report` hears those over `report_over_s`."""

    def __init__(self, *, pace_s: float = 0.010, sample_s: float = 0.020, report_over_s: float = BUDGET_S,
                 report: Callable[[Stall], None] | None = None, keep: bool = True) -> None:
        self.echo = Echo()
        self.gui = threading.get_ident()
        self.stalls: list[Stall] = []
        self.answers = 0
        self._pace, self._sample, self._over = pace_s, sample_s, report_over_s
        self._report, self._keep = report, keep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)

    def __enter__(self) -> StallWatch:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            self.echo.arrived.clear()
            sent = time.perf_counter()
            self.echo.ping.emit(number)
            stall: Stall | None = None
            while not self.echo.arrived.wait(self._sample) and not self._stop.is_set():
                stall = stall or Stall(0.0)
                stall.samples.append(place(sys._current_frames().get(self.gui)))
            self.answers += 1
            if stall is not None:
                stall.seconds = time.perf_counter() - sent
                if self._keep:
                    self.stalls.append(stall)
                if self._report is not None and stall.seconds > self._over:
                    self._report(stall)
            self._stop.wait(self._pace)


def idle_worst(seconds: float) -> float:
    """The worst answer of an event loop with nothing to do: the watcher's own floor on this machine."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    with StallWatch(sample_s=0.005) as watch:
        loop.exec()
    return max((s.seconds for s in watch.stalls), default=0.005)


def log_stall(stall: Stall) -> None:
    log.warning("screen blocked %.0f ms at %s", stall.seconds * 1000, stall.where)
