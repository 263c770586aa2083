"""Driving the screens like a person would (clicks on named widgets): the headless demo's tour, which writes a
screenshot of every screen, and the tests' steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton, QWidget

from kiosk_app.demo import sample_form_values
from ui.shell import KioskWindow


def wait_until(condition: Callable[[], bool], timeout_ms: int = 20_000) -> None:
    deadline = QDeadlineTimer(timeout_ms)
    while not condition():
        if deadline.hasExpired():
            raise AssertionError("the screen did not get there in time")
        QCoreApplication.processEvents()
        time.sleep(0.02)  # unlike QTest.qWait, this lets worker threads have the interpreter meanwhile


def settle() -> None:
    """Delete what deleteLater() scheduled, as a running event loop would: scripts and tests that drive the
    screens without app.exec() would otherwise keep every replaced widget alive."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def click(window: KioskWindow, name: str) -> None:
    widget = window.findChild(QPushButton, name)
    assert widget is not None, f"no button {name} on {window.current.name}"
    try:  # a button added a moment ago is shown by a queued event: give it that moment
        wait_until(lambda: widget.isVisible() and widget.isEnabled(), 5000)
    except AssertionError:
        raise AssertionError(f"button {name} cannot be pressed") from None
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def on_page(window: KioskWindow, name: str, timeout_ms: int = 20_000) -> None:
    try:
        wait_until(lambda: window.current.name == name, timeout_ms)
    except AssertionError:
        problems = [w.text() for w in window.current.findChildren(QLabel) if w.objectName() == "error" and w.text()]
        raise AssertionError(f"still on {window.current.name}, not {name}: {problems}") from None


def file_by_initials(window: KioskWindow, initials: str, item_name: str) -> None:
    """From home: swipe the (simulated) card, find the item by pinyin initials, open its guide."""
    click(window, "tileFile")
    on_page(window, "services")
    for letter in initials.upper():
        click(window, f"key_{letter}")
    page = window.current

    def result() -> QPushButton | None:
        return next((b for b in page.findChildren(QPushButton)
                     if b.objectName().startswith("result_") and b.isVisible() and b.text() == item_name), None)

    wait_until(lambda: result() is not None)
    target = result()
    assert target is not None
    QTest.mouseClick(target, Qt.MouseButton.LeftButton)
    on_page(window, "guide")


def fill_form(window: KioskWindow) -> None:
    item = window.ctx.session.item
    assert item is not None
    values: dict[str, Any] = sample_form_values(item)
    # A card carries no phone number: the person types one on the keypad.
    values.update({f.key: "13857800123" for f in item.form_fields if f.type == "phone" and f.required})
    page = window.current
    for key, value in values.items():
        edit = page.findChild(QLineEdit, f"field_{key}")
        if edit is not None:
            if not edit.text():
                edit.setText(str(value))
            continue
        wanted = {True: "是", False: "否"}.get(value, str(value)) if isinstance(value, bool) else str(value)
        for b in page.findChildren(QPushButton):
            if b.objectName().startswith(f"field_{key}_") and b.text() == wanted:
                b.setChecked(True)


def scan_everything(window: KioskWindow) -> None:
    session = window.ctx.session
    while session.missing_scans():
        before = len(session.captured)
        wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
        click(window, "capture")
        wait_until(lambda b=before: len(session.captured) > b or "重拍" in _message(window))  # type: ignore[misc]


def _message(window: KioskWindow) -> str:
    label = getattr(window.current, "message", None)
    return label.text() if isinstance(label, QLabel) else ""


def visible_texts(root: QWidget) -> list[str]:
    """Every text a widget under `root` holds (labels, inputs, buttons), shown or not."""
    texts = [w.text() for w in root.findChildren(QLabel)]
    texts += [w.text() for w in root.findChildren(QLineEdit)]
    texts += [w.text() for w in root.findChildren(QPushButton)]
    return texts


def shoot(window: KioskWindow, out: Path, name: str) -> Path:
    QCoreApplication.processEvents()
    QTest.qWait(60)  # queued shows and repaints
    path = out / f"{name}.png"
    window.grab().save(str(path))
    return path


def press_first(window: KioskWindow, prefix: str) -> str:
    """Click the first enabled button whose name starts with `prefix` (a day, a slot) once the page shows one;
    return its text."""

    def first() -> QPushButton | None:
        return next((b for b in window.current.findChildren(QPushButton)
                     if b.objectName().startswith(prefix) and b.isVisible() and b.isEnabled()), None)

    wait_until(lambda: first() is not None)
    found = first()
    assert found is not None
    text = found.text()
    QTest.mouseClick(found, Qt.MouseButton.LeftButton)
    return text


def appointment_tour(window: KioskWindow, out: Path, prefix: str) -> list[Path]:
    """预约 from home: the card, the person's (empty) list, item, day, slot, confirm, the booked page with its slip;
    then the list again with the new appointment and the cancel question (answered 不取消). Ends at home."""
    shots = []
    click(window, "tileAppointment")
    on_page(window, "appointment")
    shots.append(shoot(window, out, f"{prefix}-02a-appointment-card"))
    on_page(window, "appointment_mine")
    wait_until(lambda: window.findChild(QPushButton, "newAppointment").isEnabled())  # type: ignore[union-attr]
    shots.append(shoot(window, out, f"{prefix}-02b-appointment-mine"))
    click(window, "newAppointment")
    shots += book_a_slot(window, out, [f"{prefix}-02{letter}-appointment-{step}"
                                       for letter, step in zip("cdefg", BOOKING_STEPS, strict=True)])
    click(window, "appointmentFinish")
    on_page(window, "home")
    click(window, "tileAppointment")
    on_page(window, "appointment_mine")
    wait_until(lambda: window.current.findChild(QPushButton, "cancel_0") is not None)
    click(window, "cancel_0")
    shots.append(shoot(window, out, f"{prefix}-02h-appointment-cancel-question"))
    click(window, "keepAppointment")
    window.go_home()
    return shots


BOOKING_STEPS = ("item", "day", "slot", "confirm", "booked")


def book_a_slot(window: KioskWindow, out: Path, names: list[str]) -> list[Path]:
    """An appointment from its item page to the booked page (the villager's and the agent's 代约 steps are the
    same pages): the first item, day and slot on offer; one screenshot per step, named in BOOKING_STEPS order."""
    shots: list[Path] = []
    for step in ("item", "day", "slot"):
        on_page(window, f"appointment_{step}")
        first = f"{step}_0"
        wait_until(lambda: window.current.findChild(QPushButton, first) is not None)  # noqa: B023 (used at once)
        shots.append(shoot(window, out, names[len(shots)]))
        press_first(window, f"{step}_")
    on_page(window, "appointment_confirm")
    shots.append(shoot(window, out, names[3]))
    click(window, "confirmAppointment")
    on_page(window, "appointment_booked")
    wait_until(lambda: bool(_text(window, "printing")) and "正在" not in _text(window, "printing"))
    shots.append(shoot(window, out, names[4]))
    return shots


def _text(window: KioskWindow, attribute: str) -> str:
    widget = getattr(window.current, attribute, None)
    return widget.text() if isinstance(widget, QLabel) else ""


def villager_tour(window: KioskWindow, out: Path, prefix: str) -> list[Path]:
    """Every villager screen in the order a person meets them, filing one application on the simulators."""
    out.mkdir(parents=True, exist_ok=True)
    shots = [shoot(window, out, f"{prefix}-01-home")]
    click(window, "tileConsult")
    on_page(window, "consult")
    shots.append(shoot(window, out, f"{prefix}-02-consult"))
    window.go_home()
    shots += appointment_tour(window, out, prefix)
    click(window, "tileFile")
    on_page(window, "card")
    shots.append(shoot(window, out, f"{prefix}-03-card"))
    on_page(window, "services")
    for letter in "TK":
        click(window, f"key_{letter}")
    wait_until(lambda: any(b.objectName().startswith("result_") and b.isVisible()
                           for b in window.current.findChildren(QPushButton)))
    shots.append(shoot(window, out, f"{prefix}-04-services"))
    window.go_home()
    file_by_initials(window, "tk", "特困人员救助供养")
    shots.append(shoot(window, out, f"{prefix}-05-guide"))
    click(window, "startFiling")
    on_page(window, "form")
    fill_form(window)
    shots.append(shoot(window, out, f"{prefix}-06-form"))
    click(window, "formNext")
    on_page(window, "scan")
    wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
    shots.append(shoot(window, out, f"{prefix}-07-scan"))
    scan_everything(window)
    click(window, "scanNext")
    on_page(window, "review")
    for box in window.current.findChildren(QCheckBox):
        if box.isVisible():
            box.setChecked(True)
    shots.append(shoot(window, out, f"{prefix}-08-review"))
    click(window, "submit")
    on_page(window, "done")
    wait_until(lambda: "回执" in window.current.printing.text() and "正在" not in window.current.printing.text())  # type: ignore[attr-defined]
    shots.append(shoot(window, out, f"{prefix}-09-done"))
    click(window, "toEvaluate")
    on_page(window, "evaluate")
    click(window, "level_4")
    shots.append(shoot(window, out, f"{prefix}-10-evaluate"))
    click(window, "sendEvaluation")
    on_page(window, "home", timeout_ms=10_000)
    click(window, "tileProgress")
    on_page(window, "progress")
    wait_until(lambda: "共" in window.current.status.text() or "没有" in window.current.status.text())  # type: ignore[attr-defined]
    shots.append(shoot(window, out, f"{prefix}-11-progress"))
    window.go_home()
    click(window, "tileFile")
    on_page(window, "services")
    window.pretend_idle(window.ctx.theme.idle_seconds - 3)
    shots.append(shoot(window, out, f"{prefix}-12-idle-countdown"))
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "home")
    return shots
