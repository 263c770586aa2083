"""Small building blocks every screen uses: labels with a role, big buttons, tiles, keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


def label(text: str = "", role: str = "", *, wrap: bool = True, center: bool = False) -> QLabel:
    widget = QLabel(text)
    if role:
        widget.setObjectName(role)
    widget.setWordWrap(wrap)
    if center:
        widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return widget


def button(text: str, on_click: Callable[[], None] | None = None, *, primary: bool = False,
           name: str = "") -> QPushButton:
    widget = QPushButton(text)
    widget.setProperty("primary", primary)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # touch screens: no focus rectangles, no stray key presses
    if name:
        widget.setObjectName(name)
    if on_click is not None:
        widget.clicked.connect(lambda _checked=False: on_click())
    return widget


def wrapped(text: str, width: int) -> str:
    """Break a long Chinese name into lines of at most `width` characters (buttons do not wrap by themselves)."""
    return "\n".join(text[i:i + width] for i in range(0, len(text), width)) if len(text) > width else text


def grid_of(widgets: Sequence[QWidget], columns: int, spacing: int = 16) -> QWidget:
    holder = QWidget()
    grid = QGridLayout(holder)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setSpacing(spacing)
    for i, widget in enumerate(widgets):
        grid.addWidget(widget, i // columns, i % columns)
    return holder


def tile(text: str, on_click: Callable[[], None], name: str = "") -> QPushButton:
    widget = button(text, on_click, name=name)
    widget.setProperty("tile", True)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return widget


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every widget in `layout` (results, generated form fields)."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            # Detached at once: deletion waits for the event loop, and until then neither a stale button nor
            # the last person's text may remain part of the window.
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()


def card(*children: QWidget, spacing: int = 16) -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(28, 24, 28, 24)
    layout.setSpacing(spacing)
    for child in children:
        layout.addWidget(child)
    return frame


def row(*children: QWidget, stretch_first: bool = False) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(20)
    for i, child in enumerate(children):
        layout.addWidget(child, 1 if (stretch_first and i == 0) else 0)
    return holder


class LetterKeyboard(QWidget):
    """Pinyin-initial keyboard: villagers search services by the first letters (低保 → d b)."""

    typed = Signal(str)  # the whole current text after each key

    ROWS: Sequence[str] = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        grid = QGridLayout(self)
        grid.setSpacing(10)
        for r, letters in enumerate(self.ROWS):
            for c, letter in enumerate(letters):
                key = button(letter, partial(self._press, letter.lower()), name=f"key_{letter}")
                key.setProperty("key", True)
                grid.addWidget(key, r, c + r)
        grid.addWidget(button("删除", self._backspace, name="key_back"), 2, 9, 1, 2)
        grid.addWidget(button("清空", self.clear, name="key_clear"), 3, 0, 1, 3)

    def _press(self, ch: str) -> None:
        self.text += ch
        self.typed.emit(self.text)

    def _backspace(self) -> None:
        self.text = self.text[:-1]
        self.typed.emit(self.text)

    def clear(self) -> None:
        self.text = ""
        self.typed.emit(self.text)


class Overlay(QWidget):
    """A dimmed layer over the whole window with one message box (the idle countdown, a busy notice)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QVBoxLayout(self)
        self.box = QFrame()
        self.box.setObjectName("overlayBox")
        self.box.setMaximumWidth(900)
        self.body = QVBoxLayout(self.box)
        self.body.setContentsMargins(48, 40, 48, 40)
        self.body.setSpacing(24)
        outer.addStretch(1)
        outer.addWidget(self.box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.hide()

    def cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()
