"""Driving the agent workbench like an agent would: log in, file for a villager with their signature, follow the
case through 补正 and 出件, read the day's figures. The demo writes a screenshot of every screen with
`agent_tour`; the tests use the same steps."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Final

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton
from sqlalchemy.orm import Session

from kiosk_app.accounts import LoginFailed, create_user, ensure_bootstrap_technician, log_in
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.applications.queries import application_detail
from kiosk_app.appointments import AppointmentRules, book, bookable_items, open_days
from kiosk_app.demo import sample_people
from kiosk_app.errors import InvalidInput, KioskError
from kiosk_app.station import Station
from local_db.models import Application
from ui.agent.signature import SignaturePad
from ui.shell import KioskWindow
from ui.tour import BOOKING_STEPS, book_a_slot, click, fill_form, on_page, shoot, wait_until

TOUR_USERNAME: Final = "tour.agent"
TOUR_PIN: Final = "258036"
TOUR_TECHNICIAN_PIN: Final = "369147"
# 低保边缘家庭认定: an application form the signature stands in for, one paper to scan (M04), one to owe (容缺)
TOUR_INITIALS: Final = "dbby"
TOUR_ITEM: Final = "低保边缘家庭认定"
CORRECTION_REASON: Final = "家庭经济状况核对授权书缺少共同生活家庭成员签字，请补充后重新提交"
TO_CORRECTION: Final = (State.UPLOADED, State.ACCEPTED, State.CORRECTION_REQUESTED)
TO_RESULT_READY: Final = (State.UPLOADED, State.ACCEPTED, State.APPROVED, State.RESULT_READY)


def ensure_tour_agent(station: Station, username: str = TOUR_USERNAME, pin: str = TOUR_PIN) -> None:
    """Give a demo station the agent the tour logs in as. Demo stations only: it bootstraps the `admin`
    technician with a PIN printed in this file when the station has no technician yet."""
    try:
        log_in(station.db, username, pin)
        return  # already there (a second tour on the same station)
    except LoginFailed:
        pass
    ensure_bootstrap_technician(station.db, TOUR_TECHNICIAN_PIN)
    technician = log_in(station.db, "admin", TOUR_TECHNICIAN_PIN)
    try:
        create_user(station.db, username, "演示代办员", "agent", pin, actor=technician)
    except InvalidInput as exc:
        if exc.field != "username":  # the user name is taken: the tour agent is already there
            raise


def platform_moves(station: Station, application_id: str, states: Sequence[State], reason: str | None = None) -> None:
    """Stand in for the provincial platform's status pull (demo and tests): legal moves only, the last with
    `reason`, recorded as coming from the platform."""

    def job(session: Session) -> None:
        app = session.get(Application, application_id)
        assert app is not None
        for i, state in enumerate(states):
            move(session, app, state, actor="platform", source="platform",
                 reason=reason if i == len(states) - 1 else None)

    station.db.write(job)


def press(window: KioskWindow, name: str) -> None:
    """Click button `name` once it is on screen: buttons a page has just built are shown by a queued event."""

    def ready() -> bool:
        widget = window.findChild(QPushButton, name)
        return widget is not None and widget.isVisible() and widget.isEnabled()

    wait_until(ready)
    click(window, name)


def enter_credentials(window: KioskWindow, username: str, pin: str) -> None:
    """Type the user name and tap the PIN on the keypad, then 登录."""
    on_page(window, "login")
    box = window.current.findChild(QLineEdit, "username")
    assert box is not None
    box.setText(username)
    click(window, "pin_clear")
    for digit in pin:
        click(window, f"pin_{digit}")
    click(window, "login")


def sign(window: KioskWindow) -> None:
    """Draw a short signature on the review page's pad with the mouse."""
    pad = window.current.findChild(SignaturePad)
    assert pad is not None
    window.frames[window.current.name].ensureWidgetVisible(pad)
    h = pad.height()
    points = [QPoint(60 + 24 * i, h // 2 + (30 if i % 2 else -30)) for i in range(16)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for point in points[1:]:
        QTest.mouseMove(pad, point)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])


def tick(window: KioskWindow, *names: str) -> None:
    for name in names:
        box = window.current.findChild(QCheckBox, name)
        assert box is not None, f"no check box {name} on {window.current.name}"
        box.setChecked(True)


def choose_item(window: KioskWindow, initials: str, item_name: str) -> None:
    on_page(window, "services")
    for letter in initials.upper():
        click(window, f"key_{letter}")

    def result() -> QPushButton | None:
        return next((b for b in window.current.findChildren(QPushButton)
                     if b.objectName().startswith("result_") and b.isVisible() and b.text() == item_name), None)

    wait_until(lambda: result() is not None)
    found = result()
    assert found is not None
    QTest.mouseClick(found, Qt.MouseButton.LeftButton)
    on_page(window, "guide")


def text_of(window: KioskWindow, attribute: str) -> str:
    widget = getattr(window.current, attribute)
    return str(widget.text())


def _row_ids(window: KioskWindow) -> list[str]:
    rows = getattr(window.current, "rows", [])
    return [row.id for row in rows]


def seed_appointments(station: Station, count: int = 3) -> date | None:
    """Stand in for villagers who booked at the kiosk: `count` bookings on the first day with room (today, unless
    its counter hours are over). Returns that day, or None when nothing could be booked."""
    rules = AppointmentRules.from_settings(station.settings)
    days = [d for d in open_days(station.db, rules) if d.free]
    if not days:
        return None
    free = [slot for slot in days[0].slots if slot.free]
    items = bookable_items(station.db, str(station.settings.get("station.level")))
    for person, slot, item in list(zip(sample_people(), free, items, strict=False))[:count]:
        with contextlib.suppress(KioskError):  # a second tour on the same station: already booked
            book(station.db, rules, identity=person, item=item, day=slot.day, start=slot.start)
    return days[0].day


def appointments_tour(window: KioskWindow, out: Path, prefix: str) -> list[Path]:
    """From the figures page: back to the queue, open 预约管理 on the day the villagers booked, and record the
    first one's arrival (or, on a later day, cancel it: arrival is recorded on the day only); then book for a
    villager who phoned (代约)."""
    day = seed_appointments(window.ctx.station)
    press(window, "back")
    on_page(window, "queue")
    press(window, "openAppointments")
    on_page(window, "appointments")
    wait_until(lambda: "正在" not in text_of(window, "status"))
    if day is None:
        return [shoot(window, out, f"{prefix}-15a-appointments")]
    press(window, f"pickDay_{(day - date.today()).days}")
    wait_until(lambda: "共" in text_of(window, "status"))
    shots = [shoot(window, out, f"{prefix}-15a-appointments")]
    if day == date.today():
        press(window, "arrived_0")
    else:
        press(window, "cancel_0")
        press(window, "cancel_0")  # the second press confirms
    wait_until(lambda: "已改为" in text_of(window, "message"))
    shots.append(shoot(window, out, f"{prefix}-15b-appointments-marked"))
    return shots + book_for_tour(window, out, prefix)


def book_for_tour(window: KioskWindow, out: Path, prefix: str) -> list[Path]:
    """From 预约管理: 代约 for a villager who phoned (typed in: the reader's simulated card would otherwise be read
    at once), through the villager's booking steps in the agent's window, back to the list with the booking."""
    person = sample_people()[3]  # not one of the villagers `seed_appointments` booked for
    press(window, "bookFor")
    on_page(window, "appointment_for")
    number = window.current.findChild(QLineEdit, "typedIdNumber")
    name = window.current.findChild(QLineEdit, "typedName")
    assert number is not None and name is not None
    QTest.keyClicks(number, person.id_number)  # typing stops the reader
    name.setText(person.name)  # QTest types no Chinese
    shots = [shoot(window, out, f"{prefix}-15c-book-for-who")]
    press(window, "typedNext")
    shots += book_a_slot(window, out, [f"{prefix}-15{letter}-book-for-{step}"
                                       for letter, step in zip("defgh", BOOKING_STEPS, strict=True)])
    press(window, "appointmentFinish")
    on_page(window, "appointments")
    wait_until(lambda: "预约号" in text_of(window, "message") and "共" in text_of(window, "status"))
    shots.append(shoot(window, out, f"{prefix}-15i-book-for-listed"))
    return shots


def agent_tour(window: KioskWindow, out: Path, prefix: str, *, username: str = TOUR_USERNAME,
               pin: str = TOUR_PIN) -> list[Path]:
    """Every agent screen in the order an agent meets them. The station needs the agent `username` (see
    `ensure_tour_agent`) and simulated devices; the tour files one case and moves it as the platform would."""
    out.mkdir(parents=True, exist_ok=True)
    station = window.ctx.station
    shots = [shoot(window, out, f"{prefix}-01-login")]
    enter_credentials(window, username, pin)
    on_page(window, "queue")
    wait_until(lambda: "件" in text_of(window, "status"))
    shots.append(shoot(window, out, f"{prefix}-02-queue"))

    press(window, "startProxy")
    on_page(window, "card")
    shots.append(shoot(window, out, f"{prefix}-03-card"))
    choose_item(window, TOUR_INITIALS, TOUR_ITEM)
    shots.append(shoot(window, out, f"{prefix}-04-guide"))
    press(window, "startFiling")
    on_page(window, "form")
    fill_form(window)
    shots.append(shoot(window, out, f"{prefix}-05-form"))
    press(window, "formNext")
    on_page(window, "scan")
    session = window.ctx.session
    press(window, "material_M04")
    wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
    shots.append(shoot(window, out, f"{prefix}-06-scan"))
    press(window, "capture")
    wait_until(lambda: "M04" in session.captured or "重拍" in text_of(window, "message"))
    press(window, "scanSkip")
    on_page(window, "review")
    tick(window, "consentLetter", "consentPersonal", "consentSharing", "allowMissing")
    sign(window)
    shots.append(shoot(window, out, f"{prefix}-07-review-signature"))
    press(window, "submit")
    on_page(window, "done")
    wait_until(lambda: "正在" not in text_of(window, "printing"))
    press(window, "done_letter")
    wait_until(lambda: "PDF" in text_of(window, "result") or "没有" in text_of(window, "result"))
    shots.append(shoot(window, out, f"{prefix}-08-done"))
    filed = session.filed
    assert filed is not None

    press(window, "backToQueue")
    on_page(window, "queue")
    press(window, "bucket_pending_sync")
    wait_until(lambda: "待同步" in text_of(window, "status") and filed.id in _row_ids(window))
    shots.append(shoot(window, out, f"{prefix}-09-queue-pending"))
    press(window, f"open_{_row_ids(window).index(filed.id)}")  # a demo station's queue holds other cases too
    on_page(window, "detail")
    wait_until(lambda: filed.tracking_no in text_of(window, "summary"))
    shots.append(shoot(window, out, f"{prefix}-10-detail"))

    platform_moves(station, filed.id, TO_CORRECTION, CORRECTION_REASON)
    window.current.enter()
    press(window, "startCorrection")
    on_page(window, "correction")
    wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
    shots.append(shoot(window, out, f"{prefix}-11-correction"))
    press(window, "correctionCapture")
    wait_until(lambda: "已重拍" in text_of(window, "message") or "重拍" in text_of(window, "message"))
    press(window, "submitCorrection")
    on_page(window, "detail")
    wait_until(lambda: "补正已重新提交" in text_of(window, "notice") and "第 2 版" in text_of(window, "summary"))
    shots.append(shoot(window, out, f"{prefix}-12-detail-resubmitted"))

    platform_moves(station, filed.id, TO_RESULT_READY)
    window.current.enter()
    press(window, "startHandover")
    name = application_detail(station.db, filed.id, unmask=True)["applicant"]["name"]  # the card holder collects
    received = window.current.findChild(QLineEdit, "receivedBy")
    assert received is not None
    received.setText(str(name))
    tick(window, "idChecked")
    shots.append(shoot(window, out, f"{prefix}-13-handover"))
    press(window, "confirmHandover")
    wait_until(lambda: "已出件" in text_of(window, "notice") and "出件：" in text_of(window, "summary"))
    shots.append(shoot(window, out, f"{prefix}-14-delivered"))

    press(window, "back")
    on_page(window, "queue")
    press(window, "openFigures")
    on_page(window, "figures")
    wait_until(lambda: "今天" in text_of(window, "status"))
    shots.append(shoot(window, out, f"{prefix}-15-figures"))
    shots += appointments_tour(window, out, prefix)

    window.pretend_idle(window.ctx.theme.idle_seconds - 3)
    shots.append(shoot(window, out, f"{prefix}-16-idle-countdown"))
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "login")
    return shots
