"""The screens' icons: one bold line drawing per name (48x48 SVG files in this folder, stroked in
`currentColor`), painted in whatever colour the theme asks for.

One file serves every theme: the placeholder is replaced by the colour before the SVG is parsed, so a tile's
icon is the light theme's blue, the elderly theme's darker blue, or white on a primary button. The icons are
drawn at the size they are painted (a QIconEngine renders the SVG on demand), so a 96 px elderly tile is as
crisp as a 36 px button.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton

from ui.theme import Theme

PLACEHOLDER = "currentColor"
DISABLED_COLOR = "#8a8f98"  # the stylesheet's colour of disabled button text
ON_PRIMARY_COLOR = "#ffffff"  # primary buttons are white on blue


class UnknownIcon(KeyError):
    """No icon has this name. A KeyError (it is a failed look-up) whose message reads as a sentence, not as
    the quoted key KeyError prints by default."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown icon"


@cache
def names() -> tuple[str, ...]:
    """Every icon there is, by name (the SVG files shipped with this package)."""
    folder = resources.files(__package__)
    return tuple(sorted(entry.name.removesuffix(".svg") for entry in folder.iterdir()
                        if entry.name.endswith(".svg")))


@cache
def _drawing(name: str) -> str:
    # Only listed names are read: a name is never turned into a path unchecked.
    if name not in names():
        raise UnknownIcon(f"no icon named {name!r}; known icons: {', '.join(names())}")
    return resources.files(__package__).joinpath(f"{name}.svg").read_text(encoding="utf-8")


class _SvgIconEngine(QIconEngine):
    """Renders one recoloured drawing at whatever size is asked, and in grey when its button is disabled."""

    def __init__(self, drawing: str, color: str) -> None:
        super().__init__()
        self._drawing = drawing
        self._color = color
        self._renderers: dict[str, QSvgRenderer] = {}
        # Rendering an SVG is slow next to a paint (tens of ms for a page of tiles): each size and mode is drawn
        # once and kept, as QIcon's own engines keep their pixmaps.
        self._pixmaps: dict[tuple[int, int, QIcon.Mode], QPixmap] = {}

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        color = DISABLED_COLOR if mode == QIcon.Mode.Disabled else self._color
        if color not in self._renderers:
            svg = self._drawing.replace(PLACEHOLDER, color)
            self._renderers[color] = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        return self._renderers[color]

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._renderer(mode).render(painter, QRectF(rect))
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        key = (size.width(), size.height(), mode)
        if key not in self._pixmaps:
            image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
            painter.end()
            self._pixmaps[key] = QPixmap.fromImage(image)
        return self._pixmaps[key]

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        # High-DPI screens: draw at device pixels rather than enlarging a small picture.
        pixmap = self.pixmap(size * scale, mode, state)
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._drawing, self._color)


def icon(name: str, color: str) -> QIcon:
    """The icon `name` drawn in `color` (any colour Qt understands: "#1456b8", "white").

    Raises UnknownIcon (a KeyError) for a name that is not in `names()`, ValueError for a colour that is not one.
    """
    parsed = QColor(color)
    if not parsed.isValid():
        raise ValueError(f"not a colour: {color!r}")
    return _icon(name, parsed.name())  # "#1456B8", "#1456b8" and "#14b" share one cache entry


@cache
def _icon(name: str, color: str) -> QIcon:
    return QIcon(_SvgIconEngine(_drawing(name), color))


def decorate(widget: QAbstractButton, name: str, theme: Theme) -> None:
    """Put icon `name` beside a button's text, in the colour of that text under `theme` (white on a primary
    button) and at the theme's button-icon size. For navigation buttons only: an icon on every button is
    noise, and the villagers read the big ones."""
    color = ON_PRIMARY_COLOR if widget.property("primary") else theme.icon_color
    widget.setIcon(icon(name, color))
    widget.setIconSize(QSize(theme.button_icon_px, theme.button_icon_px))
