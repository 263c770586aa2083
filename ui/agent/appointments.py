"""预约管理 for the agent: one day's appointments (today, or one of the next bookable days) with what to do next,
到达 / 办结 / 未到 / 取消 and a reprinted slip. Names and ID numbers are masked, since the counter's screen faces
the hall; "显示全名" shows them in clear while the agent needs them. "代约" books for a villager at the counter or
on the phone (ui.agent.appointment_booking) and comes back here to the booking's day. The rules are
kiosk_app's: a technician or a logged-out window gets the plain refusal from `kiosk_app.appointments`, not a
hidden button."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk_app.accounts import Operator
from kiosk_app.appointment_hours import WEEKDAY_LABELS
from kiosk_app.appointments import (
    STATE_LABELS,
    AppointmentRules,
    AppointmentState,
    AppointmentView,
    day_appointments,
    mark,
)
from kiosk_app.receipts.appointment_slip import print_appointment_slip
from kiosk_app.receipts.queue import JobOutcome
from kiosk_app.station import Station
from ui.agent.navigation import BOOK_FOR, end_booking, failure_text, show_text, still_here
from ui.shell import Page, UiContext
from ui.theme import BAD, OK, WARN
from ui.widgets import button, clear_layout, grid_of, label, row

MUTED = "#5c6370"  # done and cancelled: history, no longer calling for attention
# The actions offered per state, as (button label, target state or None for the slip, object-name prefix).
ACTIONS: dict[AppointmentState, tuple[tuple[str, AppointmentState | None, str], ...]] = {
    AppointmentState.BOOKED: (("已到达", AppointmentState.ARRIVED, "arrived"),
                              ("未到", AppointmentState.NO_SHOW, "noshow"),
                              ("取消预约", AppointmentState.CANCELLED, "cancel"),
                              ("补打凭条", None, "slip")),
    AppointmentState.ARRIVED: (("办结", AppointmentState.DONE, "done"),),
    AppointmentState.NO_SHOW: (("已到达", AppointmentState.ARRIVED, "arrived"),),
    AppointmentState.DONE: (),
    AppointmentState.CANCELLED: (),
}
STATE_COLOURS = {AppointmentState.BOOKED: WARN, AppointmentState.ARRIVED: OK, AppointmentState.DONE: MUTED,
                 AppointmentState.NO_SHOW: BAD, AppointmentState.CANCELLED: MUTED}


def load_day(station: Station, operator: Operator | None, day: date,
             unmask: bool) -> tuple[AppointmentRules, list[AppointmentView]]:
    """Worker: the rules (how many days the picker offers) and the day's appointments (roles checked there)."""
    return AppointmentRules.from_settings(station.settings), day_appointments(station.db, day, operator,
                                                                              unmask=unmask)


def day_button_text(day: date, today: date) -> str:
    near = {0: "今天", 1: "明天"}.get((day - today).days, WEEKDAY_LABELS[day.weekday()])
    return f"{near}\n{day.month}月{day.day}日"


class AppointmentCard(QFrame):
    """One appointment: when, who (masked unless asked), what for, its state, and the actions it allows."""

    def __init__(self, entry: AppointmentView, index: int, columns: int,
                 act: Callable[[AppointmentView, AppointmentState | None, QPushButton], None]) -> None:
        super().__init__()
        self.setObjectName("card")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 12, 24, 12)
        layout.setSpacing(16)
        text = QWidget()
        lines = QVBoxLayout(text)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(4)
        state = AppointmentState(entry.state)
        head = label(f"<b>{entry.slot_label} · {entry.booking_no}</b> · "
                     f"<span style='color: {STATE_COLOURS[state]}; font-weight: bold;'>{STATE_LABELS[state]}</span>")
        head.setTextFormat(Qt.TextFormat.RichText)
        lines.addWidget(head)
        lines.addWidget(label(f"{entry.person}　{entry.id_number}　{entry.item_name}", "hint"))
        layout.addWidget(text, 1, Qt.AlignmentFlag.AlignVCenter)
        actions = [self._action(entry, index, spec, act) for spec in ACTIONS[state]]
        if actions:
            layout.addWidget(grid_of(actions, columns, spacing=10), 0, Qt.AlignmentFlag.AlignVCenter)

    @staticmethod
    def _action(entry: AppointmentView, index: int, spec: tuple[str, AppointmentState | None, str],
                act: Callable[[AppointmentView, AppointmentState | None, QPushButton], None]) -> QPushButton:
        text, target, prefix = spec
        widget = button(text, name=f"{prefix}_{index}", primary=target is AppointmentState.ARRIVED)
        widget.clicked.connect(lambda _checked=False: act(entry, target, widget))
        return widget


class AppointmentsPage(Page):
    name = "appointments"
    title = "预约管理"
    personal = True  # names on the list, and a logged-in agent: the idle timeout logs out from here too

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.day = date.today()
        self.unmask = False
        self.entries: list[AppointmentView] = []
        self.confirming: str | None = None  # the appointment whose 取消 waits for a second press
        self.notice = ""  # said once on the next visit: the booking a 代约 has just made
        self.status = label("", "subtitle")
        self.counts = label("", "hint")
        self.counts.hide()
        self.unmask_button = button("显示全名", self._toggle_names, name="unmaskNames")
        self.unmask_button.setCheckable(True)
        self.unmask_button.setProperty("choice", True)
        self.outer.addWidget(row(self.status, self.unmask_button,
                                 button("刷新", self.enter, name="refreshAppointments"),
                                 button("代约", lambda: self.ctx.go(BOOK_FOR), primary=True, name="bookFor"),
                                 stretch_first=True))
        self.days_holder = QWidget()
        self.days_box = QVBoxLayout(self.days_holder)
        self.days_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(self.days_holder)
        self.outer.addWidget(self.counts)
        self.message = label("", "okText")
        self.problem = label("", "error")
        for widget in (self.message, self.problem):
            widget.hide()
            self.outer.addWidget(widget)
        self.list_holder = QWidget()
        self.list_box = QVBoxLayout(self.list_holder)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(12)
        self.outer.addWidget(self.list_holder)
        self.outer.addStretch(1)
        self.day_buttons: dict[date, QPushButton] = {}

    def enter(self) -> None:
        end_booking(self.ctx)  # back from a 代约, finished or not: its villager is forgotten
        self.confirming = None
        self._say(self.notice)
        self.notice = ""
        self._load()

    def show_booking(self, booked: AppointmentView) -> None:
        """On the next visit, show the day of a booking just made for a villager, and say so."""
        self.day = booked.day
        self.notice = (f"已为 {booked.person} 代约 {booked.day_label} {booked.slot_label}，"
                       f"预约号 {booked.booking_no}。")

    def _load(self) -> None:
        self.status.setText("正在读取……")
        station, operator, day, unmask = self.ctx.station, self.ctx.operator, self.day, self.unmask
        self.ctx.bridge.run(lambda: load_day(station, operator, day, unmask), partial(self._show, day),
                            self._failed)

    def _show(self, day: date, loaded: tuple[AppointmentRules, list[AppointmentView]]) -> None:
        if not still_here(self) or day != self.day:
            return  # logged out, moved on, or another day was chosen while this one loaded
        rules, entries = loaded
        self._day_picker(rules)
        clear_layout(self.list_box)
        self.entries = entries
        counts = {state: sum(1 for e in entries if e.state == state.value) for state in AppointmentState}
        name = f"{self.day.month}月{self.day.day}日（{WEEKDAY_LABELS[self.day.weekday()]}）"
        self.status.setText(f"{name}共 {len(entries)} 个预约" if entries else f"{name}没有预约")
        show_text(self.counts, " · ".join(f"{STATE_LABELS[s]} {n}" for s, n in counts.items() if n))
        columns = 4 if self.ctx.theme.orientation == "landscape" else 2  # the actions beside the text, or 2 x 2
        for i, entry in enumerate(entries):
            self.list_box.addWidget(AppointmentCard(entry, i, columns, self._act))

    def _day_picker(self, rules: AppointmentRules) -> None:
        today = date.today()
        days = [today + timedelta(days=n) for n in range(rules.days_ahead + 1)]
        if list(self.day_buttons) != days:
            clear_layout(self.days_box)
            self.day_buttons = {}
            for i, day in enumerate(days):
                b = button(day_button_text(day, today), partial(self._choose_day, day), name=f"pickDay_{i}")
                b.setCheckable(True)
                b.setProperty("choice", True)
                b.setEnabled(rules.hours.is_open(day))
                self.day_buttons[day] = b
            columns = 8 if self.ctx.theme.orientation == "landscape" else 4
            self.days_box.addWidget(grid_of(list(self.day_buttons.values()), columns, spacing=10))
        for day, b in self.day_buttons.items():
            b.setChecked(day == self.day)

    def _choose_day(self, day: date) -> None:
        self.day = day
        self.confirming = None
        self._say("")
        self._load()

    def _toggle_names(self) -> None:
        self.unmask = self.unmask_button.isChecked()
        self.unmask_button.setText("隐藏全名" if self.unmask else "显示全名")
        self._load()

    def _act(self, entry: AppointmentView, target: AppointmentState | None, widget: QPushButton) -> None:
        station, operator = self.ctx.station, self.ctx.operator
        if target is None:
            self._say(f"正在补打 {entry.booking_no} 的预约凭条……")
            actor = operator.actor if operator else "agent"
            self.ctx.bridge.run(lambda: print_appointment_slip(station, entry.id, reprint=True, actor=actor),
                                self._slip_printed, self._refused)
            return
        if target is AppointmentState.CANCELLED and self.confirming != entry.id:
            # A second press confirms: the villager loses the place, and the slot may be taken at once.
            self.confirming = entry.id
            widget.setText("确认取消？")
            self._say(f"再点一次“确认取消？”即取消 {entry.booking_no}；请告知预约人。")
            return
        self.confirming = None
        self.ctx.bridge.run(lambda: mark(station.db, entry.id, target, operator), self._marked, self._refused)

    def _marked(self, entry: AppointmentView) -> None:
        if still_here(self):
            self._say(f"{entry.booking_no} 已改为“{entry.state_label}”。")
            self._load()

    def _slip_printed(self, outcome: JobOutcome) -> None:
        if still_here(self):
            self._say("凭条已补打。" if outcome.printed else f"凭条没有打印出来：{outcome.error or '打印机出了问题'}")

    def _failed(self, exc: BaseException) -> None:
        if still_here(self):
            self.status.setText(failure_text(exc, "预约没有读取成功，请点刷新重试。"))

    def _refused(self, exc: BaseException) -> None:
        if still_here(self):
            self._say("")
            show_text(self.problem, failure_text(exc, "没有办成，请点刷新后重试。"))
            self._load()

    def _say(self, text: str) -> None:
        show_text(self.message, text)
        show_text(self.problem, "")

    def clear_personal_data(self) -> None:
        self.entries = []
        self.confirming = None
        self.notice = ""
        self.unmask = False
        self.unmask_button.setChecked(False)
        self.unmask_button.setText("显示全名")
        self.day = date.today()
        self.status.setText("")
        show_text(self.counts, "")
        self._say("")
        clear_layout(self.list_box)
