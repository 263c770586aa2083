"""Small building blocks every screen uses: labels with a role, big buttons, tiles, keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import Property, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QMouseEvent, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from ui import icons
from ui.theme import BRAND


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


_NO_LINE_START = frozenset("）)】」』，。、；：！？”’")


def wrapped(text: str, width: int) -> str:
    """Break a long Chinese name into lines of about `width` characters (buttons do not wrap by themselves).
    Closing brackets and punctuation stay at the end of a line rather than starting one alone."""
    lines: list[str] = []
    for i in range(0, len(text), width):
        chunk = text[i:i + width]
        while lines and chunk and chunk[0] in _NO_LINE_START:
            lines[-1] += chunk[0]
            chunk = chunk[1:]
        if chunk:
            lines.append(chunk)
    return "\n".join(lines)


def grid_of(widgets: Sequence[QWidget], columns: int, spacing: int = 16) -> QWidget:
    holder = QWidget()
    grid = QGridLayout(holder)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setSpacing(spacing)
    for i, widget in enumerate(widgets):
        grid.addWidget(widget, i // columns, i % columns)
    return holder


class TileButton(QPushButton):
    """A big tile: a large icon centred above its text (a plain QPushButton can only put the icon beside the
    text). Still a QPushButton, so tests and ui/tour.py find and press it by objectName like any button.

    The icon's size and colour come from the stylesheet (`qproperty-iconSize`, `qproperty-iconColor` on
    `QPushButton[tile="true"]`): switching to elderly mode re-polishes every tile with the bigger, darker icon.
    """

    def __init__(self, text: str, icon_name: str = "") -> None:
        super().__init__(text)
        self.icon_name = icon_name
        self._icon_color = QColor(BRAND)  # until the stylesheet says otherwise
        if icon_name:
            self.setIcon(icons.icon(icon_name, self._icon_color.name()))  # an unknown name fails here, at once

    def _get_icon_color(self) -> QColor:
        return self._icon_color

    def _set_icon_color(self, color: QColor) -> None:
        self._icon_color = QColor(color)
        if self.icon_name:
            self.setIcon(icons.icon(self.icon_name, self._icon_color.name()))

    iconColor = Property(QColor, _get_icon_color, _set_icon_color)

    def _gap(self) -> int:
        return max(8, self.iconSize().height() // 8)

    def sizeHint(self) -> QSize:
        if not self.icon_name:  # plain, or an icon beside the text (ui.icons.decorate): QPushButton's layout
            return super().sizeHint()
        self.ensurePolished()
        text = self.fontMetrics().size(0, self.text())
        icon = self.iconSize()
        contents = QSize(max(text.width(), icon.width()), icon.height() + self._gap() + text.height())
        option = QStyleOptionButton()
        self.initStyleOption(option)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, option, contents, self)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.icon_name:
            super().paintEvent(event)
            return
        option = QStyleOptionButton()
        self.initStyleOption(option)
        painter = QStylePainter(self)
        # The frame and background as the stylesheet draws them, then picture and words stacked in the middle.
        frame = QStyleOptionButton(option)
        frame.text = ""
        frame.icon = QIcon()
        painter.drawControl(QStyle.ControlElement.CE_PushButton, frame)
        area = self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self)
        icon_size = self.iconSize()
        text_height = self.fontMetrics().size(0, self.text()).height()
        top = area.top() + max(0, (area.height() - icon_size.height() - self._gap() - text_height) // 2)
        mode = QIcon.Mode.Normal if self.isEnabled() else QIcon.Mode.Disabled
        icon_rect = QRect(area.left() + (area.width() - icon_size.width()) // 2, top,
                          icon_size.width(), icon_size.height())
        self.icon().paint(painter, icon_rect, Qt.AlignmentFlag.AlignCenter, mode)
        words = QStyleOptionButton(option)
        words.icon = QIcon()
        words.rect = QRect(area.left(), icon_rect.bottom() + 1 + self._gap(), area.width(), text_height)
        painter.drawControl(QStyle.ControlElement.CE_PushButtonLabel, words)


def tile(text: str, on_click: Callable[[], None], name: str = "", *, icon_name: str = "") -> QPushButton:
    """A big tile for a main choice; with `icon_name` (see ui.icons.names()) a large picture above the text."""
    widget = TileButton(text, icon_name)
    # Set up as button() sets up every button: no focus rectangle, found by name, click ignores `checked`.
    widget.setProperty("primary", False)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if name:
        widget.setObjectName(name)
    widget.clicked.connect(lambda _checked=False: on_click())
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


class _TogglingLabel(QLabel):
    def __init__(self, text: str, box: QCheckBox) -> None:
        super().__init__(text)
        self.box = box
        self.setWordWrap(True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.box.isEnabled():
            self.box.toggle()
        super().mouseReleaseEvent(event)


def check_row(box: QCheckBox) -> QWidget:
    """`box` with its text moved into a wrapping label beside it: a QCheckBox never wraps its own text, so a long
    consent in large print widened the page past a portrait screen. Tapping the words ticks the box too.
    Show or hide the returned row, not the box."""
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(12)
    words = _TogglingLabel(box.text(), box)
    box.setText("")
    layout.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
    layout.addWidget(words, 1)
    return holder


def card(*children: QWidget, spacing: int = 16) -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(28, 24, 28, 24)
    layout.setSpacing(spacing)
    for child in children:
        layout.addWidget(child)
    return frame


def number_card(caption: str) -> tuple[QFrame, QLabel, QLabel, QLabel]:
    """The card that ends a filing or a booking: `caption`, then the big number, its details and what the printer
    did. Returns the card and those three labels, for the page to fill and to clear."""
    number = label("", "bigNumber", center=True)
    details = label("", "subtitle", center=True)
    printing = label("", "hint", center=True)
    return card(label(caption, "subtitle", center=True), number, details, printing), number, details, printing


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
