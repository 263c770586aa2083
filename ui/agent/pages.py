"""The agent's log-in and work queue (代办员工作台): cases grouped by what to do next, counted on the filter
buttons; a tap on a case opens it. From here the agent starts a proxy filing or looks at the day's figures."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk_app.accounts import Operator, Role
from kiosk_app.applications.lifecycle import State
from kiosk_app.applications.workqueue import BUCKET_LABELS, BUCKETS, QueueRow, bucket_counts, work_queue
from kiosk_app.station import Station
from ui.agent.detail import DetailPage
from ui.agent.navigation import APPOINTMENTS, end_filing, failure_text, forget_history, still_here
from ui.icons import decorate
from ui.login import LoginPage
from ui.shell import Page, UiContext
from ui.widgets import button, clear_layout, label, row

ROWS_SHOWN = 50


class AgentLoginPage(LoginPage):
    title = "代办员登录"
    role = Role.AGENT
    next_page = "queue"


def load_queue(station: Station, operator: Operator | None, bucket: str) -> tuple[dict[str, int], list[QueueRow]]:
    """Worker: the counts for the filter buttons and the rows of one bucket (roles checked by kiosk_app)."""
    return bucket_counts(station.db, operator), work_queue(station.db, operator, bucket=bucket, limit=ROWS_SHOWN)


class QueueRowCard(QFrame):
    """One case as a card: tapping anywhere on it (or its button) opens the case."""

    def __init__(self, entry: QueueRow, index: int, on_open: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("card")
        self.on_open = on_open
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        text = QWidget()
        lines = QVBoxLayout(text)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(4)
        head = label(f"{entry.item_name}")
        head.setStyleSheet("font-weight: bold;")
        lines.addWidget(head)
        promised = f"承诺 {entry.promised_date:%Y-%m-%d}" if entry.promised_date else "未起算"
        lines.addWidget(label(f"{entry.tracking_no}　{entry.applicant_masked}", "hint"))
        lines.addWidget(label(f"{entry.state_label} · {promised}"))
        if entry.overdue:
            lines.addWidget(label("已超过承诺期限，请尽快跟进", "error"))
        if entry.reason:
            prefix = "补正原因" if entry.state == State.CORRECTION_REQUESTED.value else "说明"
            lines.addWidget(label(f"{prefix}：{entry.reason}", "warnText"))
        layout.addWidget(text, 1)
        layout.addWidget(button("查看 ›", on_open, name=f"open_{index}"), 0, Qt.AlignmentFlag.AlignVCenter)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.on_open()
        super().mouseReleaseEvent(event)


class QueuePage(Page):
    name = "queue"
    title = "代办员工作台"
    personal = True  # masked cases, and a logged-in agent: the idle timeout logs out from here too

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.bucket = "all"
        self.rows: list[QueueRow] = []
        self.who = label("", "subtitle")
        figures = button("当日统计", lambda: self.ctx.go("figures"), name="openFigures")
        proxy = button("代办申请", self._start_proxy, primary=True, name="startProxy")
        appointments = button("预约", lambda: self.ctx.go(APPOINTMENTS), name="openAppointments")
        if ctx.theme.orientation == "landscape":
            # Icons on the ways on from the workbench (刷新 stays plain); a portrait row has no width to spare.
            for nav, drawing in ((figures, "figures"), (appointments, "appointment"), (proxy, "filing")):
                decorate(nav, drawing, ctx.theme)
        self.outer.addWidget(row(self.who, button("刷新", self.enter, name="refreshQueue"), figures, appointments,
                                 proxy, stretch_first=True))
        filters = QWidget()
        grid = QGridLayout(filters)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(12)
        columns = len(BUCKETS) if ctx.theme.orientation == "landscape" else 3
        self.bucket_buttons: dict[str, QPushButton] = {}
        for i, bucket in enumerate(BUCKETS):
            b = button(BUCKET_LABELS[bucket], partial(self._choose, bucket), name=f"bucket_{bucket}")
            b.setCheckable(True)
            b.setProperty("choice", True)
            self.bucket_buttons[bucket] = b
            grid.addWidget(b, i // columns, i % columns)
        self.outer.addWidget(filters)
        self.status = label("", "hint")
        self.outer.addWidget(self.status)
        self.list_holder = QWidget()
        self.list_box = QVBoxLayout(self.list_holder)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(12)
        self.outer.addWidget(self.list_holder)
        self.outer.addStretch(1)

    def enter(self) -> None:
        forget_history(self.ctx)
        end_filing(self.ctx)  # back here, by any way, means no filing is in progress
        operator = self.ctx.operator
        self.who.setText(f"代办员：{operator.display_name}" if operator else "")
        self._mark_bucket()
        self.status.setText("正在读取……")
        station, bucket = self.ctx.station, self.bucket
        self.ctx.bridge.run(lambda: load_queue(station, operator, bucket), partial(self._show, bucket),
                            self._failed)

    def _choose(self, bucket: str) -> None:
        self.bucket = bucket
        self.enter()

    def _mark_bucket(self) -> None:
        for bucket, b in self.bucket_buttons.items():
            b.setChecked(bucket == self.bucket)

    def _show(self, bucket: str, loaded: tuple[dict[str, int], list[QueueRow]]) -> None:
        if not still_here(self) or bucket != self.bucket:
            return  # logged out, moved on, or another filter was chosen while this one loaded
        counts, rows = loaded
        for name, b in self.bucket_buttons.items():
            b.setText(f"{BUCKET_LABELS[name]} {counts.get(name, 0)}")
        clear_layout(self.list_box)
        self.rows = rows
        more = f"，仅显示前 {ROWS_SHOWN} 件" if counts.get(bucket, 0) > ROWS_SHOWN else ""
        self.status.setText(f"“{BUCKET_LABELS[bucket]}”共 {counts.get(bucket, 0)} 件{more}" if rows
                            else f"“{BUCKET_LABELS[bucket]}”里没有办件。")
        for i, entry in enumerate(rows):
            self.list_box.addWidget(QueueRowCard(entry, i, partial(self._open, entry.id)))

    def _failed(self, exc: BaseException) -> None:
        if still_here(self):
            self.status.setText(failure_text(exc, "工作台没有读取成功，请点刷新重试。"))

    def _open(self, application_id: str) -> None:
        window = self.ctx.window
        page = window.page(DetailPage.name) if window is not None else None  # built on first use
        if isinstance(page, DetailPage):
            page.open(application_id)

    def _start_proxy(self) -> None:
        self.ctx.intent = "file"
        self.ctx.go("card")

    def clear_personal_data(self) -> None:
        self.rows = []
        self.bucket = "all"
        self.who.setText("")
        self.status.setText("")
        clear_layout(self.list_box)
        for name, b in self.bucket_buttons.items():
            b.setText(BUCKET_LABELS[name])
