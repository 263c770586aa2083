"""The stall watch charges a blocked GUI thread to the code that blocked it, and says so in the log."""

from __future__ import annotations

import logging
import os
import time

import pytest
from PySide6.QtCore import QEventLoop, QTimer

from ui import stall_watch
from ui.app import application
from ui.stall_watch import Stall, StallWatch, log_stall


def hold_the_screen(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # busy, as a slow query or a big decode on the GUI thread would be
        sum(range(1000))


def run_loop_with(work: object, ms: int = 600) -> None:
    loop = QEventLoop()
    QTimer.singleShot(50, work)  # type: ignore[call-overload]
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def test_a_blocked_gui_thread_is_charged_to_the_blocking_code(caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stall_watch, "OURS", (*stall_watch.OURS, str(stall_watch.ROOT / "tests") + os.sep))
    application()
    reported: list[Stall] = []
    with StallWatch(report=reported.append) as watch:
        run_loop_with(lambda: hold_the_screen(0.3))
    [stall] = [s for s in reported if "hold_the_screen" in s.where]
    assert stall.seconds > 0.1 and "tests/ui/test_stall_watch.py" in stall.where  # pinged mid-hold: part of 0.3 s
    assert watch.answers > 10
    with caplog.at_level(logging.WARNING, logger="ui.stall_watch"):
        log_stall(stall)
    assert "hold_the_screen" in caplog.text and "screen blocked" in caplog.text
