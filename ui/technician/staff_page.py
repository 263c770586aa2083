"""What every technician screen shares: a page that drops results arriving after its person left, a status line
that shows a plain sentence in the right colour, and a labelled input with its validation message underneath."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk_app.accounts import Operator
from ui.shell import Page, UiContext
from ui.widgets import label

log = logging.getLogger(__name__)
T = TypeVar("T")


def plain_error(exc: BaseException, fallback: str = "操作没有成功，请重试。") -> str:
    """The sentence to show for a failure: every expected error (kiosk_app, devices, sync) carries `message`;
    anything else is a bug, logged with its traceback and shown as a sentence that says where to look."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    log.error("unexpected failure on the technician console", exc_info=exc)
    return f"{fallback}（程序错误 {type(exc).__name__}，详情已记入日志，可导出诊断包。）"


def actions(*buttons: QPushButton) -> QWidget:
    """A row of buttons at their natural width, left-aligned: a lone 保存 stretched across a 1920 px screen
    reads as a banner, not a button."""
    holder = QWidget()
    box = QHBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(20)
    for b in buttons:
        box.addWidget(b)
    box.addStretch(1)
    return holder


def columns(ctx: UiContext, *groups: list[QWidget]) -> QWidget:
    """Groups of cards side by side on a landscape screen, one under another on a portrait one."""
    holder = QWidget()
    landscape = ctx.theme.orientation == "landscape"
    box: QBoxLayout = QHBoxLayout(holder) if landscape else QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(24)
    for group in groups:
        column = QWidget()
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(24)
        for widget in group:
            inner.addWidget(widget)
        inner.addStretch(1)  # cards keep their height and sit at the top, not spread over the column
        box.addWidget(column, 1)
    return holder


class StatusLine(QLabel):
    """One line of feedback under an action: a hint while working, green when done, red with what to do.
    Hidden while empty, so a screen with nothing to report has no gaps."""

    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self._role("hint")
        self.hide()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def _role(self, role: str) -> None:
        self.setObjectName(role)
        self.style().unpolish(self)
        self.style().polish(self)

    def hint(self, text: str) -> None:
        self._role("hint")
        self.setText(text)

    def ok(self, text: str) -> None:
        self._role("okText")
        self.setText(text)

    def error(self, text: str) -> None:
        self._role("error")
        self.setText(text)

    def failed(self, exc: BaseException, fallback: str = "操作没有成功，请重试。") -> None:
        self.error(plain_error(exc, fallback))

    def clear(self) -> None:
        self._role("hint")
        self.setText("")


class Field(QWidget):
    """A caption, a one-line input and, under it, the message when the value is refused."""

    def __init__(self, caption: str, name: str, *, placeholder: str = "", secret: bool = False) -> None:
        super().__init__()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(label(caption, "hint"))
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        self.edit.setPlaceholderText(placeholder)
        if secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        box.addWidget(self.edit)
        self.message = StatusLine()
        box.addWidget(self.message)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def refuse(self, message: str) -> None:
        self.message.error(message)
        self.message.show()

    def accept(self) -> None:
        self.message.clear()


class StaffPage(Page):
    """A technician screen. `personal`: the idle timeout applies, so a console left alone logs out.

    `run`/`watch` wrap the bridge: a result that arrives after the technician logged out (or after the page was
    wiped) is dropped, so nothing shows up on the log-in screen of the next person."""

    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self._generation = 0

    @property
    def operator(self) -> Operator | None:
        return self.ctx.operator

    def run(self, work: Callable[[], T], on_done: Callable[[T], None],
            on_error: Callable[[BaseException], None]) -> None:
        generation = self._generation
        self.ctx.bridge.run(work, self._guard(generation, on_done), self._guard(generation, on_error))

    def watch(self, future: Future[T], on_done: Callable[[T], None],
              on_error: Callable[[BaseException], None]) -> None:
        generation = self._generation
        self.ctx.bridge.watch(future, self._guard(generation, on_done), self._guard(generation, on_error))

    def _guard(self, generation: int, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        def deliver(value: Any) -> None:
            if generation == self._generation:
                callback(value)

        return deliver

    def clear_personal_data(self) -> None:
        self._generation += 1
        self.wipe()

    def wipe(self) -> None:
        """Empty this page's widgets (subclasses); work still in flight is already disowned."""
