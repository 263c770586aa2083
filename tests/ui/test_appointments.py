"""预约 on the screens, end to end on the simulators: the villager swipes the card, books, takes the printed slip
(read back from the ESC/POS emulator), cancels; the idle timeout wipes them; the agent sees the booking masked,
shows names on request and records the arrival; the agent books for a villager (代约) by card or typed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton
from sqlalchemy import select

import kiosk_app.appointments as appointments
from devices.simulators.escpos_decoder import decode
from kiosk_app.identity import CardType, make_id_number
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.station import Station
from local_db.models import Appointment
from tests.accounts import AGENT_PIN, make_staff
from ui.agent.navigation import BOOKING_PAGES
from ui.agent.tour import enter_credentials, press
from ui.agent.window import agent_window
from ui.app import make_context, villager_window
from ui.shell import KioskWindow
from ui.theme import Theme
from ui.tour import click, on_page, press_first, visible_texts, wait_until


@pytest.fixture
def station(copied_station: Station, monkeypatch: pytest.MonkeyPatch) -> Station:
    settings = copied_station.settings
    settings.set("devices.id_reader", "sim://she")
    settings.set("devices.receipt_printer", "sim://")
    # The station's clock reads noon today, so today has slots ahead whenever the test runs (even just before
    # midnight), and an arrival can be recorded on the day.
    real_now = appointments.local_now
    monkeypatch.setattr(appointments, "local_now",
                        lambda now=None: real_now(now or datetime.combine(date.today(), time(12, 0))))
    # Open every day, short slots.
    settings.set("appointment.hours", "mon-sun 00:00-23:59")
    settings.set("appointment.slot_minutes", 10)
    return copied_station


def open_window(station: Station, role: str) -> KioskWindow:
    """A window the test closes and deletes itself (not handed to qtbot, which would close it a second time)."""
    ctx = make_context(station, Theme("landscape"), voice=False)
    win = villager_window(ctx) if role == "villager" else agent_window(ctx)
    win.show()
    return win


def close_window(win: KioskWindow) -> None:
    win.close()
    win.ctx.devices.close()
    win.ctx.bridge.shutdown()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def villager(station: Station, qtbot: Any) -> Iterator[KioskWindow]:
    win = open_window(station, "villager")
    yield win
    close_window(win)


def label_text(window: KioskWindow, attribute: str) -> str:
    return str(getattr(window.current, attribute).text())


def book_on_screen(window: KioskWindow) -> str:
    """Home -> card -> my appointments -> item -> first day -> first free slot -> confirm; the booking number."""
    click(window, "tileAppointment")
    on_page(window, "appointment_mine")
    wait_until(lambda: "没有预约" in label_text(window, "status"))
    click(window, "newAppointment")
    on_page(window, "appointment_item")
    press_first(window, "item_")
    on_page(window, "appointment_day")
    assert "今天" in press_first(window, "day_")
    on_page(window, "appointment_slot")
    press_first(window, "slot_")
    on_page(window, "appointment_confirm")
    identity = window.ctx.session.identity
    assert identity is not None
    summary = label_text(window, "summary")
    assert mask_name(identity.name) in summary and identity.name not in summary and identity.id_number not in summary
    click(window, "confirmAppointment")
    on_page(window, "appointment_booked")
    assert not window.back_button.isVisible()  # booked: no way back to the confirm button
    wait_until(lambda: "已打印" in label_text(window, "printing"))
    return label_text(window, "number")


def test_a_villager_books_gets_the_slip_cancels_and_is_wiped(villager: KioskWindow, station: Station,
                                                             printers: list[Any]) -> None:
    booking_no = book_on_screen(villager)
    identity = villager.ctx.session.identity
    assert identity is not None
    identity_name, identity_number = identity.name, identity.id_number
    [slip] = [decode(job) for printer in printers for job in printer.emulator.jobs]
    assert booking_no in slip.text and slip.qr_payloads == [booking_no]
    assert mask_name(identity_name) in slip.text
    assert identity_number not in slip.text and identity_name not in slip.text
    row = station.db.read(lambda s: s.scalar(select(Appointment)))
    assert row is not None and row.booking_no == booking_no and row.channel == "kiosk" and row.day == date.today()

    click(villager, "appointmentFinish")
    on_page(villager, "home")
    assert villager.ctx.session.empty
    click(villager, "tileAppointment")  # the card again: the booking is listed with its cancel button
    on_page(villager, "appointment_mine")
    wait_until(lambda: booking_no in " ".join(visible_texts(villager.current)))
    new_button = villager.findChild(QPushButton, "newAppointment")
    assert new_button is not None and new_button.isEnabled()  # one of two allowed appointments is used
    click(villager, "cancel_0")
    assert "确定要取消" in label_text(villager, "confirm_text")
    click(villager, "keepAppointment")  # changed their mind
    assert station.db.read(lambda s: s.scalar(select(Appointment.state))) == "booked"

    villager.pretend_idle(villager.ctx.theme.idle_seconds - 5)
    assert villager.overlay.isVisible()
    villager.pretend_idle(villager.ctx.theme.idle_seconds + 1)
    on_page(villager, "home")
    assert villager.ctx.session.empty
    leftovers = " ".join(visible_texts(villager))
    for secret in (identity_name, identity_number, mask_name(identity_name), mask_id_number(identity_number),
                   booking_no):
        assert secret not in leftovers

    click(villager, "tileAppointment")
    on_page(villager, "appointment_mine")
    wait_until(lambda: villager.findChild(QPushButton, "cancel_0") is not None)
    click(villager, "cancel_0")
    click(villager, "confirmCancel")
    wait_until(lambda: "已取消" in label_text(villager, "message"))
    assert station.db.read(lambda s: s.scalar(select(Appointment.state))) == "cancelled"


def test_the_agent_sees_the_booking_masked_and_records_the_arrival(villager: KioskWindow, station: Station,
                                                                   printers: list[Any]) -> None:
    booking_no = book_on_screen(villager)
    identity = villager.ctx.session.identity
    assert identity is not None
    name, number = identity.name, identity.id_number
    villager.go_home()
    make_staff(station.db)
    agent = open_window(station, "agent")
    try:
        enter_credentials(agent, "wangli", AGENT_PIN)
        on_page(agent, "queue")
        press(agent, "openAppointments")
        on_page(agent, "appointments")
        wait_until(lambda: "共 1 个预约" in label_text(agent, "status"))
        texts = " ".join(visible_texts(agent.current))
        assert booking_no in texts and mask_name(name) in texts and mask_id_number(number) in texts
        assert name not in texts and number not in texts  # the counter's screen faces the hall
        press(agent, "unmaskNames")
        wait_until(lambda: name in " ".join(visible_texts(agent.current)))
        press(agent, "arrived_0")
        wait_until(lambda: "已到达" in label_text(agent, "message"))
        assert station.db.read(lambda s: s.scalar(select(Appointment.state))) == "arrived"
        press(agent, "done_0")
        wait_until(lambda: "已办结" in label_text(agent, "message"))
        assert station.db.read(lambda s: s.scalar(select(Appointment.updated_by))) == "agent:wangli"

        agent.pretend_idle(agent.ctx.theme.idle_seconds + 1)  # walking away logs out and clears the list
        on_page(agent, "login")
        leftovers = " ".join(visible_texts(agent))
        assert name not in leftovers and mask_id_number(number) not in leftovers and booking_no not in leftovers
    finally:
        close_window(agent)


def open_book_for(station: Station) -> KioskWindow:
    """An agent logged in, on 预约管理, pressing 代约."""
    make_staff(station.db)
    agent = open_window(station, "agent")
    enter_credentials(agent, "wangli", AGENT_PIN)
    on_page(agent, "queue")
    press(agent, "openAppointments")
    on_page(agent, "appointments")
    wait_until(lambda: "没有预约" in label_text(agent, "status"))
    press(agent, "bookFor")
    on_page(agent, "appointment_for")
    return agent


def booking_pages_text(agent: KioskWindow) -> str:
    return " ".join(t for name in BOOKING_PAGES if name in agent.pages for t in visible_texts(agent.pages[name]))


def test_an_agent_books_for_a_villager_at_the_counter(station: Station, printers: list[Any], qtbot: Any) -> None:
    agent = open_book_for(station)
    try:
        on_page(agent, "appointment_item")  # the simulated card on the counter's reader
        identity = agent.ctx.session.identity
        assert identity is not None
        name, number = identity.name, identity.id_number
        press_first(agent, "item_")
        on_page(agent, "appointment_day")
        press_first(agent, "day_")
        on_page(agent, "appointment_slot")
        press_first(agent, "slot_")
        on_page(agent, "appointment_confirm")
        summary = label_text(agent, "summary")
        assert mask_name(name) in summary and name not in summary and number not in summary
        click(agent, "confirmAppointment")
        on_page(agent, "appointment_booked")
        assert not agent.back_button.isVisible()
        wait_until(lambda: "已打印" in label_text(agent, "printing"))
        booking_no = label_text(agent, "number")
        [slip] = [decode(job) for printer in printers for job in printer.emulator.jobs]
        assert booking_no in slip.text and mask_name(name) in slip.text
        assert number not in slip.text and name not in slip.text
        row = station.db.read(lambda s: s.scalar(select(Appointment)))
        assert row is not None and row.booking_no == booking_no
        assert (row.channel, row.created_by, row.person_name) == ("agent", "agent:wangli", name)

        finish = agent.findChild(QPushButton, "appointmentFinish")
        assert finish is not None and finish.text() == "完成，返回预约列表"
        click(agent, "appointmentFinish")
        on_page(agent, "appointments")  # on the booking's day, which need not be today
        wait_until(lambda: "共 1 个预约" in label_text(agent, "status"))
        texts = " ".join(visible_texts(agent.current))
        assert booking_no in texts and f"预约号 {booking_no}" in label_text(agent, "message")
        assert mask_name(name) in texts and mask_id_number(number) in texts
        assert name not in texts and number not in texts  # masked by default
        assert agent.ctx.session.empty  # the villager is forgotten, on every booking page too
        assert mask_name(name) not in booking_pages_text(agent) and booking_no not in booking_pages_text(agent)
        click(agent, "back")  # only the queue lies behind the list, not the booking's steps
        on_page(agent, "queue")
    finally:
        close_window(agent)


def test_an_agent_types_in_a_villager_who_phoned(station: Station, printers: list[Any], qtbot: Any) -> None:
    number = make_id_number("331123", date(1962, 9, 3), 311)
    agent = open_book_for(station)
    try:
        name_edit = agent.current.findChild(QLineEdit, "typedName")
        number_edit = agent.current.findChild(QLineEdit, "typedIdNumber")
        assert name_edit is not None and number_edit is not None
        # Typing (keys: QTest cannot type Chinese) stops the reader: a card cannot replace the person typed in.
        QTest.keyClicks(number_edit, number[:-1] + ("1" if number[-1] == "0" else "0"))
        assert "读卡已暂停" in label_text(agent, "status")
        name_edit.setText("雷金土")
        click(agent, "typedNext")
        assert "校验码不对" in label_text(agent, "problem") and agent.current.name == "appointment_for"
        number_edit.clear()
        QTest.keyClicks(number_edit, number)
        click(agent, "typedNext")
        on_page(agent, "appointment_item")
        QTest.qWait(300)  # a card read that was under way when typing began does not take over
        identity = agent.ctx.session.identity
        assert identity is not None and identity.card_type is CardType.MANUAL and identity.id_number == number
        agent.pretend_idle(agent.ctx.theme.idle_seconds + 1)  # walking away logs out and forgets the person
        on_page(agent, "login")
        assert agent.ctx.session.empty
        leftovers = " ".join(visible_texts(agent))
        assert "雷金土" not in leftovers and number not in leftovers and mask_name("雷金土") not in leftovers
        assert station.db.read(lambda s: s.scalar(select(Appointment))) is None
    finally:
        close_window(agent)
