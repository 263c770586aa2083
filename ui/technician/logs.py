"""The latest records of the station logs, filtered by level (全部/警告/错误), masked again on the way to the
screen: logs are masked when written, but an old file or another tool's must not show an ID number here."""

from __future__ import annotations

from functools import partial

from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

from kiosk_app.accounts import Permission, require
from kiosk_app.diagnostics import LOGS_DIR
from kiosk_app.log_reading import LogTail, read_log_tail
from ui.shell import UiContext
from ui.technician.staff_page import StaffPage, StatusLine, actions
from ui.widgets import button

LEVEL_CHOICES = (("all", "全部"), ("warning", "警告"), ("error", "错误"))


class LogsPage(StaffPage):
    name = "logs"
    title = "运行日志"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.level = "all"
        self.level_buttons: dict[str, QPushButton] = {}
        for value, text in LEVEL_CHOICES:
            choice = button(text, partial(self.pick, value), name=f"logLevel_{value}")
            choice.setCheckable(True)
            choice.setProperty("choice", True)
            self.level_buttons[value] = choice
        self.refresh_button = button("刷新", self.refresh, name="logRefresh")
        self.outer.addWidget(actions(*self.level_buttons.values(), self.refresh_button))
        self.message = StatusLine()
        self.outer.addWidget(self.message)
        self.view = QPlainTextEdit()
        self.view.setObjectName("logView")
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFont("Noto Sans Mono CJK SC")
        font.setStyleHint(QFont.StyleHint.Monospace)
        size = ctx.theme.body_pt - 6  # denser than the rest: a log line is long, but 大字模式 still scales it
        font.setPointSize(size)
        self.view.setFont(font)
        self.view.setStyleSheet(f"font-size: {size}pt; background: white; border: 1px solid #d5dbe5;"
                                " border-radius: 12px; padding: 8px;")
        # Tall enough to read a traceback whole; it scrolls by itself inside the page.
        self.view.setMinimumHeight(520 if ctx.theme.orientation == "landscape" else 1180)
        self.outer.addWidget(self.view, 1)
        self._pick_button("all")

    def enter(self) -> None:
        self.refresh()

    def pick(self, level: str) -> None:
        self._pick_button(level)
        self.refresh()

    def _pick_button(self, level: str) -> None:
        self.level = level
        for key, choice in self.level_buttons.items():
            choice.setChecked(key == level)

    def refresh(self) -> None:
        operator, folder, level = self.operator, self.ctx.station.home / LOGS_DIR, self.level

        def work() -> LogTail:
            require(operator, Permission.VIEW_LOGS)
            return read_log_tail(folder, level)

        self.message.hint("正在读取日志……")
        self.run(work, self._show, self._failed)

    def _show(self, tail: LogTail) -> None:
        self.view.setPlainText("\n".join(tail.records))
        self.view.moveCursor(QTextCursor.MoveOperation.End)  # newest at the bottom, as in any log viewer
        self.view.ensureCursorVisible()
        which = dict(LEVEL_CHOICES)[self.level]
        if not tail.records:
            self.message.hint(f"没有{'' if self.level == 'all' else which}日志记录。")
            return
        files = "、".join(tail.files)
        self.message.hint(f"显示最近 {len(tail.records)} 条{'' if self.level == 'all' else which}记录"
                          f"（来自 {files}，最新的在最下面）。")

    def _failed(self, exc: BaseException) -> None:
        self.view.clear()
        self.message.failed(exc, "读取日志失败。")

    def wipe(self) -> None:
        self.view.clear()
        self.message.clear()
