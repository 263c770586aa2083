"""预约 at the kiosk: swipe the card, see and cancel one's own appointments, or book a new one by tapping an item,
a day and a time; the slip prints at the end.

The booking being put together (item, day, slot, result) is held by the page it starts from, the booking's host:
here the "my appointments" page, the first page after the card; in the agent's window the 代约 page, which books
for the villager with the agent as the actor. The steps after it (item, day, slot, confirm, booked) are the same
pages in both windows. The draft is wiped with its host: going home or the idle timeout forgets the person and
their choices alike.
All database and printer work runs on workers through the bridge; answers that come back after the person left
a page are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from kiosk_app.appointment_hours import WEEKDAY_LABELS
from kiosk_app.appointments import (
    AppointmentRules,
    AppointmentView,
    ItemChoice,
    OpenDay,
    Slot,
    book,
    bookable_items,
    cancel_own,
    free_slots,
    open_days,
    own_upcoming,
)
from kiosk_app.identity import Identity
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.receipts.appointment_slip import ARRIVE_EARLY_MINUTES, print_appointment_slip
from kiosk_app.receipts.queue import JobOutcome
from ui.shell import Page, UiContext
from ui.villager.identify import CardPage
from ui.widgets import button, card, clear_layout, grid_of, label, number_card, row, tile

MINE = "appointment_mine"
NOON_HOUR = 12


@dataclass
class BookingDraft:
    item: ItemChoice | None = None
    day: OpenDay | None = None
    slot: Slot | None = None
    booked: AppointmentView | None = None

    def clear(self) -> None:
        self.item, self.day, self.slot, self.booked = None, None, None, None


class BookingHost:
    """What the page a booking starts from offers the steps after it: the draft, how to book (on a worker), who
    prints the slip, and where 完成 leads. One page of each window is the host; it defines `booking_work` (the
    booking, built on the GUI thread and run on a worker) and `finish`."""

    booking: BookingDraft
    finish_label = "完成，返回首页"
    booking_work: Callable[[Identity, ItemChoice, Slot], Callable[[], AppointmentView]]
    finish: Callable[[], None]

    def slip_actor(self) -> str:
        return "kiosk"


def host_of(ctx: UiContext) -> BookingHost:
    """The window's booking host; it is built, since every booking passes through it."""
    window = ctx.window
    assert window is not None
    host = next((page for page in window.pages.values() if isinstance(page, BookingHost)), None)
    assert host is not None, "a booking step was shown before the page the booking starts from"
    return host


def draft_of(ctx: UiContext) -> BookingDraft:
    return host_of(ctx).booking


def failure(exc: BaseException, fallback: str) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else fallback


def balanced_lines(text: str, width: int) -> str:
    """Break a long name into lines of about equal length, at most `width` characters each, so a two-line button
    never ends with one lonely character."""
    if len(text) <= width:
        return text
    lines = -(-len(text) // width)
    per = -(-len(text) // lines)
    return "\n".join(text[i:i + per] for i in range(0, len(text), per))


def when_text(day_label: str, slot_label: str, year: int | None = None) -> str:
    return f"{year}年{day_label} {slot_label}" if year else f"{day_label} {slot_label}"


class _Step(Page):
    """A page of the booking: it shows something only while a card holder is there."""

    personal = True

    def on_screen(self) -> bool:
        window = self.ctx.window
        return window is not None and window.current is self and self.ctx.session.identity is not None

    @property
    def draft(self) -> BookingDraft:
        return draft_of(self.ctx)


class AppointmentCardPage(CardPage):
    """The home tile's page: the card is read at once, as for 办事, and leads to the person's appointments."""

    name = "appointment"
    title = "预约到窗口办事"
    prompt = "预约办事，请把身份证放在读卡区。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.outer.insertWidget(1, label("先预约好时间，到了直接去窗口办理，不用排队。刷身份证后，也可以查看或取消"
                                         "您已有的预约。", "subtitle"))

    def enter(self) -> None:
        self.ctx.intent = "appointment"
        super().enter()


class MyAppointmentsPage(_Step, BookingHost):
    name = MINE
    title = "我的预约"
    prompt = "这是您在本站的预约。要预约新的时间，请点新的预约。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.booking = BookingDraft()
        self.cancelling: AppointmentView | None = None
        self.status = label("", "hint")
        self.list_holder = QWidget()
        self.list_box = QVBoxLayout(self.list_holder)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(16)
        self.confirm_text = label("", "warnText")
        self.confirm_card = card(self.confirm_text, row(
            button("确定取消", self._cancel_confirmed, primary=True, name="confirmCancel"),
            button("不取消", self._keep, name="keepAppointment")))
        self.confirm_card.hide()
        self.message = label("", "okText")
        self.new_button = button("新的预约", self._new, primary=True, name="newAppointment")
        # 新的预约 at the top: the cancel question below the list must never push it off the screen.
        self.outer.addWidget(row(self.status, self.new_button, stretch_first=True))
        self.outer.addWidget(self.list_holder)
        self.outer.addWidget(self.confirm_card)
        self.outer.addWidget(self.message)
        self.outer.addStretch(1)

    def enter(self) -> None:
        self.booking.clear()
        self._keep()
        self.message.setText("")
        self._load()

    def _load(self) -> None:
        identity = self.ctx.session.identity
        clear_layout(self.list_box)
        if identity is None:
            return
        self.status.setText("正在查询您的预约……")
        self.new_button.setEnabled(False)
        station = self.ctx.station

        def work() -> tuple[list[AppointmentView], AppointmentRules]:
            return own_upcoming(station.db, identity), AppointmentRules.from_settings(station.settings)

        self.ctx.bridge.run(work, self._show, self._failed)

    def _show(self, loaded: tuple[list[AppointmentView], AppointmentRules]) -> None:
        if not self.on_screen():
            return
        mine, rules = loaded
        clear_layout(self.list_box)
        for i, appointment in enumerate(mine):
            text = label(f"<b>{when_text(appointment.day_label, appointment.slot_label)}</b><br>"
                         f"{escape(appointment.item_name)}<br>"
                         f"预约号 {appointment.booking_no} · {appointment.state_label}")
            text.setTextFormat(Qt.TextFormat.RichText)
            cancel = button("取消预约", partial(self._ask_cancel, appointment), name=f"cancel_{i}")
            cancel.setVisible(appointment.state == "booked")
            self.list_box.addWidget(card(row(text, cancel, stretch_first=True)))
        full = len(mine) >= rules.max_open_per_person
        if not mine:
            self.status.setText("您在本站还没有预约。")
        elif full:
            self.status.setText(f"您有 {len(mine)} 个预约。每人最多同时预约 {rules.max_open_per_person} 个，"
                                "要再预约，请先取消一个。")
        else:
            self.status.setText(f"您有 {len(mine)} 个预约：")
        self.new_button.setEnabled(not full and bool(rules.hours.ranges))
        if not rules.hours.ranges:
            self.status.setText("本站暂不开放预约，请直接到窗口办理。")

    def _failed(self, exc: BaseException) -> None:
        if self.on_screen():
            self.status.setText(failure(exc, "查询没有成功，请再试一次或联系工作人员。"))

    def _ask_cancel(self, appointment: AppointmentView) -> None:
        self.cancelling = appointment
        self.confirm_text.setText(f"确定要取消 {when_text(appointment.day_label, appointment.slot_label)} "
                                  f"“{appointment.item_name}”的预约吗？")
        self.confirm_card.show()
        self.message.setText("")
        self.ctx.voice.say("确定要取消这个预约吗？")

    def _keep(self) -> None:
        self.cancelling = None
        self.confirm_card.hide()

    def _cancel_confirmed(self) -> None:
        identity, appointment = self.ctx.session.identity, self.cancelling
        if identity is None or appointment is None:
            return
        self._keep()
        db = self.ctx.station.db
        self.ctx.bridge.run(lambda: cancel_own(db, appointment.id, identity), self._cancelled, self._failed)

    def _cancelled(self, appointment: AppointmentView) -> None:
        if not self.on_screen():
            return
        self._load()
        self.message.setText(f"已取消 {when_text(appointment.day_label, appointment.slot_label)} 的预约。")
        self.ctx.voice.say("预约已取消。")

    def _new(self) -> None:
        self.booking.clear()
        self.ctx.go("appointment_item")

    def booking_work(self, identity: Identity, item: ItemChoice, slot: Slot) -> Callable[[], AppointmentView]:
        station = self.ctx.station

        def work() -> AppointmentView:
            return book(station.db, AppointmentRules.from_settings(station.settings), identity=identity, item=item,
                        day=slot.day, start=slot.start)

        return work

    def finish(self) -> None:
        self.ctx.home()

    def clear_personal_data(self) -> None:
        self.booking.clear()
        self._keep()
        self.confirm_text.setText("")
        self.status.setText("")
        self.message.setText("")
        clear_layout(self.list_box)


class ChooseItemPage(_Step):
    name = "appointment_item"
    title = "预约办理什么事？"
    prompt = "请点您要到窗口办理的事情。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.outer.addWidget(label("下面是需要到窗口办理的事项；其他事情请点“其他事项”。", "hint"))
        self.items_holder = QWidget()
        self.items_box = QVBoxLayout(self.items_holder)
        self.items_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(self.items_holder)
        self.outer.addStretch(1)

    def enter(self) -> None:
        clear_layout(self.items_box)
        station = self.ctx.station
        self.ctx.bridge.run(lambda: bookable_items(station.db, str(station.settings.get("station.level"))),
                            self._show, self._failed)

    def _show(self, items: list[ItemChoice]) -> None:
        if not self.on_screen():
            return
        clear_layout(self.items_box)
        theme = self.ctx.theme
        landscape = theme.orientation == "landscape"
        width = (12 if landscape else 10) if theme.elderly else (14 if landscape else 12)  # characters a line
        buttons = [button(balanced_lines(item.name, width), partial(self._choose, item), name=f"item_{i}")
                   for i, item in enumerate(items)]
        for b in buttons:  # one height for all, whether the name takes one line or two
            # Through the style sheet: the theme's own min-height would override setMinimumHeight.
            # Two lines of text need about 1.4 taps at the normal size; elderly taps are big enough already.
            b.setStyleSheet(f"min-height: {int(theme.tap_px * (1.15 if theme.elderly else 1.4))}px;")
        self.items_box.addWidget(grid_of(buttons, 3 if landscape else 2))

    def _failed(self, exc: BaseException) -> None:
        if self.on_screen():
            self.items_box.addWidget(label(failure(exc, "事项没有读出来，请联系工作人员。"), "error"))

    def _choose(self, item: ItemChoice) -> None:
        self.draft.item = item
        self.ctx.go("appointment_day")


class ChooseDayPage(_Step):
    name = "appointment_day"
    title = "哪一天来？"
    prompt = "请点您方便来的日子。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.item = label("", "subtitle")
        self.status = label("", "hint")
        self.days_holder = QWidget()
        self.days_box = QVBoxLayout(self.days_holder)
        self.days_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(self.item)
        self.outer.addWidget(self.status)
        self.outer.addWidget(self.days_holder)
        self.outer.addStretch(1)

    def enter(self) -> None:
        clear_layout(self.days_box)
        item = self.draft.item
        self.item.setText(f"预约事项：{item.name}" if item else "")
        self.status.setText("正在查看可以预约的日子……")
        station = self.ctx.station

        def work() -> tuple[list[OpenDay], AppointmentRules]:
            rules = AppointmentRules.from_settings(station.settings)
            return open_days(station.db, rules), rules

        self.ctx.bridge.run(work, self._show, self._failed)

    def _show(self, loaded: tuple[list[OpenDay], AppointmentRules]) -> None:
        if not self.on_screen():
            return
        days, rules = loaded
        clear_layout(self.days_box)
        if not days:
            hotline = self.ctx.station.settings.get("receipt.hotline")
            self.status.setText(f"近 {rules.days_ahead} 天没有可以预约的时间，请直接到窗口办理，"
                                f"或拨打 {hotline} 咨询。")
            return
        self.status.setText(f"本站办公时间：{rules.hours.describe()}")
        tiles = []
        today = date.today()
        for i, open_day in enumerate(days):
            free = f"还可约 {open_day.free} 人" if open_day.free else "已约满"
            near = {0: "今天 ", 1: "明天 "}.get((open_day.day - today).days, "")
            tile_button = tile(f"{open_day.day.month}月{open_day.day.day}日\n"
                               f"{near}{WEEKDAY_LABELS[open_day.day.weekday()]}\n{free}",
                               partial(self._choose, open_day), name=f"day_{i}")
            # As tall as a tile, no taller: the days sit at the top, not stretched over the page.
            tile_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            tile_button.setEnabled(open_day.free > 0)
            tiles.append(tile_button)
        self.days_box.addWidget(grid_of(tiles, 3 if self.ctx.theme.orientation == "landscape" else 2))

    def _failed(self, exc: BaseException) -> None:
        if self.on_screen():
            self.status.setText(failure(exc, "没有查到可以预约的日子，请联系工作人员。"))

    def _choose(self, open_day: OpenDay) -> None:
        self.draft.day = open_day
        self.ctx.go("appointment_slot")

    def clear_personal_data(self) -> None:
        self.item.setText("")
        clear_layout(self.days_box)


class ChooseSlotPage(_Step):
    name = "appointment_slot"
    title = "几点来？"
    prompt = "请点您方便的时间。已满的时间不能选。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.status = label("", "subtitle")
        self.slots_holder = QWidget()
        self.slots_box = QVBoxLayout(self.slots_holder)
        self.slots_box.setContentsMargins(0, 0, 0, 0)
        self.slots_box.setSpacing(20)
        self.outer.addWidget(self.status)
        self.outer.addWidget(self.slots_holder)
        self.outer.addStretch(1)

    def enter(self) -> None:
        clear_layout(self.slots_box)
        open_day = self.draft.day
        if open_day is None:
            return
        self.status.setText(f"{open_day.label}：正在查看还有空位的时间……")
        station, day = self.ctx.station, open_day.day

        def work() -> list[Slot]:  # counted again: places may have gone since the day was shown
            return free_slots(station.db, AppointmentRules.from_settings(station.settings), day, day)

        self.ctx.bridge.run(work, self._show, self._failed)

    def _show(self, slots: list[Slot]) -> None:
        if not self.on_screen():
            return
        clear_layout(self.slots_box)
        day = self.draft.day.label if self.draft.day else ""
        if not slots:
            self.status.setText(f"{day}已经没有可以预约的时间了，请返回选其他日子。")
            return
        self.status.setText(f"{day}：每格写着还剩几个名额，灰色的已约满。")
        columns = 4 if self.ctx.theme.orientation == "landscape" else 3
        for title, part in (("上午", [s for s in slots if s.start.hour < NOON_HOUR]),
                            ("下午", [s for s in slots if s.start.hour >= NOON_HOUR])):
            if not part:
                continue
            tiles: list[QPushButton] = []
            for slot in part:
                i = slots.index(slot)
                tile_button = button(f"{slot.label}\n{'已满' if slot.full else f'还剩 {slot.free} 个'}",
                                     partial(self._choose, slot), name=f"slot_{i}")
                tile_button.setEnabled(not slot.full)
                tiles.append(tile_button)
            half = QWidget()  # 上午 / 下午 beside its slots rather than above: the page must fit one screen
            half_row = QHBoxLayout(half)
            half_row.setContentsMargins(0, 0, 0, 0)
            half_row.setSpacing(20)
            half_row.addWidget(label(title, "subtitle", wrap=False), 0, Qt.AlignmentFlag.AlignTop)
            half_row.addWidget(grid_of(tiles, columns), 1)
            self.slots_box.addWidget(half)

    def _failed(self, exc: BaseException) -> None:
        if self.on_screen():
            self.status.setText(failure(exc, "没有查到可以预约的时间，请联系工作人员。"))

    def _choose(self, slot: Slot) -> None:
        self.draft.slot = slot
        self.ctx.go("appointment_confirm")

    def clear_personal_data(self) -> None:
        self.status.setText("")
        clear_layout(self.slots_box)


class ConfirmPage(_Step):
    name = "appointment_confirm"
    title = "请核对预约"
    prompt = "请核对预约的事情和时间，没问题请点确认预约。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.summary = label("")
        self.problem = label("", "error")
        self.confirm_button = button("确认预约", self._confirm, primary=True, name="confirmAppointment")
        self.outer.addWidget(card(self.summary))
        # Read to the villager by an agent booking for them as well: no "本机" (the agent's desk is not a kiosk).
        self.outer.addWidget(label(f"请在预约时间前 {ARRIVE_EARLY_MINUTES} 分钟到窗口，带上身份证和办事材料。"
                                   "来不了可以在自助终端刷身份证取消，或打电话告诉工作人员。", "hint"))
        self.outer.addWidget(self.problem)
        self.outer.addStretch(1)
        self.footer_action(self.confirm_button)

    def enter(self) -> None:
        identity, draft = self.ctx.session.identity, self.draft
        self.problem.setText("")
        self.confirm_button.setEnabled(True)
        if identity is None or draft.item is None or draft.day is None or draft.slot is None:
            self.summary.setText("")
            return
        station = self.ctx.station.settings.get("station.name")
        self.summary.setText(f"预约人：{mask_name(identity.name)}（{mask_id_number(identity.id_number)}）\n"
                             f"办理事项：{draft.item.name}\n"
                             f"日期：{draft.day.day.year}年{draft.day.label}\n时间：{draft.slot.label}\n"
                             f"地点：{station}")

    def _confirm(self) -> None:
        identity, draft = self.ctx.session.identity, self.draft
        if identity is None or draft.item is None or draft.slot is None:
            return
        self.confirm_button.setEnabled(False)
        self.problem.setText("正在预约……")
        self.ctx.bridge.run(host_of(self.ctx).booking_work(identity, draft.item, draft.slot), self._booked,
                            self._failed)

    def _booked(self, appointment: AppointmentView) -> None:
        if not self.on_screen():
            return
        self.draft.booked = appointment
        self.ctx.go("appointment_booked")

    def _failed(self, exc: BaseException) -> None:
        if not self.on_screen():
            return
        self.confirm_button.setEnabled(True)
        message = failure(exc, "预约没有成功，请再试一次或联系工作人员。")
        self.problem.setText(f"{message} 可点“返回上一步”重新选择。")
        self.ctx.voice.say(message)

    def clear_personal_data(self) -> None:
        self.summary.setText("")
        self.problem.setText("")


class BookedPage(_Step):
    name = "appointment_booked"
    title = "预约成功"
    prompt = "预约成功，请取走预约凭条。"
    final = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        numbers, self.number, self.details, self.printing = number_card("预约号")
        self.outer.addWidget(numbers)
        self.outer.addWidget(label(f"请在预约时间前 {ARRIVE_EARLY_MINUTES} 分钟到窗口，出示身份证和预约凭条。",
                                   "hint", center=True))
        self.outer.addStretch(1)
        finish = QWidget()
        finish_row = QHBoxLayout(finish)
        finish_row.setContentsMargins(0, 0, 0, 0)
        finish_row.addStretch(1)
        self.finish_button = button(BookingHost.finish_label, lambda: host_of(self.ctx).finish(), primary=True,
                                    name="appointmentFinish")
        finish_row.addWidget(self.finish_button)
        self.outer.addWidget(finish)

    def enter(self) -> None:
        host = host_of(self.ctx)
        self.finish_button.setText(host.finish_label)
        appointment = host.booking.booked
        if appointment is None:
            return
        self.number.setText(appointment.booking_no)
        self.details.setText(f"{when_text(appointment.day_label, appointment.slot_label, appointment.day.year)}\n"
                             f"{appointment.item_name}")
        if self.ctx.devices.printer_url:
            self.printing.setText("正在打印预约凭条……")
            station, actor = self.ctx.station, host.slip_actor()
            self.ctx.bridge.run(lambda: print_appointment_slip(station, appointment.id, actor=actor),
                                self._printed, self._print_failed)
        else:
            self.printing.setText("本机未接打印机，请记下预约号。")

    def _printed(self, outcome: JobOutcome) -> None:
        if not self.on_screen():
            return
        if outcome.printed:
            self.printing.setText("预约凭条已打印，请从出纸口取走。")
        else:
            self.printing.setText(f"{outcome.error or '凭条没有打印出来。'} 预约已经成功，请记下预约号。")

    def _print_failed(self, exc: BaseException) -> None:
        if self.on_screen():
            self.printing.setText(f"{failure(exc, '打印机出了问题。')} 预约已经成功，请记下预约号。")

    def clear_personal_data(self) -> None:
        for widget in (self.number, self.details, self.printing):
            widget.setText("")
