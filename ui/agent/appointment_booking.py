"""代约: the agent books an appointment for a villager. First who: the villager's card on the counter's reader, or,
for someone who phoned, the name and ID number typed in; then the villager's own booking steps (item, day,
slot, confirm, booked with the slip), which book through this page with the agent as the actor (`book_for`).
完成 leads back to the day list with the new booking on it.

The reader waits for a card as soon as the page opens; typing stops it, so a card left on the reader cannot
replace the person being typed in. The person is forgotten when the agent leaves for the day list or the queue,
logs out or walks away.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLineEdit

from devices.identity.card import CardRecord
from kiosk_app.appointments import (
    MAX_TYPED_NAME,
    AppointmentRules,
    AppointmentView,
    ItemChoice,
    Slot,
    TypedPerson,
    book_for,
)
from kiosk_app.errors import KioskError
from kiosk_app.identity import Identity
from kiosk_app.identity.from_card import identity_from_card
from ui.agent.appointments import AppointmentsPage
from ui.agent.navigation import APPOINTMENTS, BOOK_FOR, back_to_appointments, show_text, still_here
from ui.icons import icon
from ui.shell import Page, UiContext
from ui.villager.appointment import BookingDraft, BookingHost
from ui.villager.identify import READ_TIMEOUT_S
from ui.widgets import button, card, label

FIRST_STEP = "appointment_item"
ID_NUMBER_CHARACTERS = 22  # 18, and room for the spaces people type between groups


class BookForPage(Page, BookingHost):
    name = BOOK_FOR
    title = "代约：为谁预约？"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.booking = BookingDraft()
        self._reading = False
        self.typing = False
        where = "右边" if ctx.theme.orientation == "landscape" else "下面"
        self.outer.addWidget(label("预约人在窗口：请他把身份证放在读卡区，读到后自动进入选择事项。"
                                   f"电话预约：在{where}输入预约人的姓名和身份证号码。", "hint"))
        self.picture = label("", "cardPicture", center=True)
        self.status = label("", "subtitle")
        self.retry = button("重新读卡", self._read_card, name="retryCard")
        swipe = card(label("刷身份证", "subtitle"), self.picture, self.status, self.retry)
        self.name_edit = self._edit("typedName", "姓名", MAX_TYPED_NAME)
        self.number_edit = self._edit("typedIdNumber", "18位身份证号码", ID_NUMBER_CHARACTERS)
        # Readable while the agent types it, dots once they move on: people queue behind the counter.
        self.number_edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.problem = label("", "error")
        self.problem.hide()
        self.next_button = button("下一步", self._typed, primary=True, name="typedNext")
        typed = card(label("输入姓名和身份证号", "subtitle"), label("姓名", "hint"), self.name_edit,
                     label("身份证号码", "hint"), self.number_edit, self.problem, self.next_button)
        self.side_by_side(swipe, typed)
        self.outer.addStretch(1)

    def _edit(self, name: str, placeholder: str, length: int) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setMaxLength(length)
        edit.textEdited.connect(lambda _text: self._stop_reading())
        edit.returnPressed.connect(self._typed)
        return edit

    def enter(self) -> None:
        self.ctx.session.wipe()  # back here from the steps: a new person, or the same one again
        self.booking.clear()
        self.name_edit.clear()
        self.number_edit.clear()
        show_text(self.problem, "")
        px = self.ctx.theme.tile_icon_px
        self.picture.setPixmap(icon("id_card", self.ctx.theme.icon_color).pixmap(QSize(px, px),
                                                                                 self.devicePixelRatioF()))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._read_card()

    # ---- the card on the counter's reader -------------------------------------------------------------------

    def _read_card(self) -> None:
        self.typing = False
        self.status.setText("正在等待身份证……")
        self.retry.hide()
        try:
            reader = self.ctx.devices.reader()
        except KioskError as exc:
            self._read_failed(exc)
            return
        self._reading = True
        self.ctx.bridge.watch(reader.read_card(READ_TIMEOUT_S), self._read, self._read_failed)

    def _read(self, record: CardRecord) -> None:
        self._reading = False
        if not still_here(self) or self.typing:
            return  # the agent left, or chose to type the person in meanwhile
        try:
            identity = identity_from_card(record)
        except KioskError as exc:
            self._read_failed(exc)
            return
        self._start(identity)

    def _read_failed(self, exc: BaseException) -> None:
        self._reading = False
        if self.typing or not still_here(self):
            return  # reading was stopped on purpose
        self.status.setText(getattr(exc, "message", None) or "读卡没有成功，请重新放一下身份证。")
        self.retry.show()

    def _stop_reading(self) -> None:
        if self.typing:
            return
        self.typing = True
        self._cancel_reader()
        self.status.setText("正在输入姓名和身份证号码，读卡已暂停。")
        self.retry.show()

    def _cancel_reader(self) -> None:
        if self._reading:
            self._reading = False
            with contextlib.suppress(KioskError):
                self.ctx.devices.reader().cancel()

    # ---- typed in -------------------------------------------------------------------------------------------

    def _typed(self) -> None:
        try:
            identity = TypedPerson(self.name_edit.text(), self.number_edit.text()).identity()
        except KioskError as exc:
            show_text(self.problem, exc.message)
            return
        self.typing = True
        self._cancel_reader()
        self._start(identity)

    def _start(self, identity: Identity) -> None:
        self.ctx.session.start(identity)
        self.booking.clear()
        self.ctx.go(FIRST_STEP)

    # ---- what the booking steps ask of their host --------------------------------------------------------------

    finish_label = "完成，返回预约列表"

    def booking_work(self, identity: Identity, item: ItemChoice, slot: Slot) -> Callable[[], AppointmentView]:
        station, operator = self.ctx.station, self.ctx.operator

        def work() -> AppointmentView:
            return book_for(station.db, AppointmentRules.from_settings(station.settings), operator,
                            identity=identity, item=item, day=slot.day, start=slot.start)

        return work

    def slip_actor(self) -> str:
        operator = self.ctx.operator
        return operator.actor if operator else "agent"

    def finish(self) -> None:
        booked = self.booking.booked
        window = self.ctx.window
        if booked is not None and window is not None:
            day_list = window.page(APPOINTMENTS)
            assert isinstance(day_list, AppointmentsPage)
            day_list.show_booking(booked)
        back_to_appointments(self.ctx)  # which forgets the person and this draft

    def clear_personal_data(self) -> None:
        self._cancel_reader()
        self.typing = False
        self.booking.clear()
        self.name_edit.clear()
        self.number_edit.clear()
        self.status.setText("")
        show_text(self.problem, "")
