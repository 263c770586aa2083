"""A signing area for the applicant's finger (or a stylus, or the agent's mouse): strokes kept as painter paths,
painted live, and turned into a PNG for the filing."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPointF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QImageWriter,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

INK = QColor("#101828")
PEN_PX = 5.0
PNG_SCALE = 2  # the PNG is drawn at twice the screen size, so the archived signature is not blocky
HINT = "请在此处签名"


class SignaturePad(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signaturePad")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(260)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._strokes: list[QPainterPath] = []
        self._current: QPainterPath | None = None

    def sizeHint(self) -> QSize:
        return QSize(900, 300)

    # ---- public ------------------------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        """True when nothing that could be a mark was drawn (a tap without moving leaves no signature)."""
        return not any(path.elementCount() > 1 for path in self._strokes)

    def clear(self) -> None:
        self._strokes.clear()
        self._current = None
        self.update()

    def to_image(self) -> QImage:
        """The signature in black on white at twice the pad's size (empty pad: a blank page)."""
        size = self.size() * PNG_SCALE
        image = QImage(size, QImage.Format.Format_RGB32)
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(PNG_SCALE, PNG_SCALE)
        self._draw_strokes(painter)
        painter.end()
        return image

    def to_png(self) -> bytes:
        return png_bytes(self.to_image())

    # ---- input ---------------------------------------------------------------------------------------------

    def _begin(self, at: QPointF) -> None:
        self._current = QPainterPath(at)
        self._strokes.append(self._current)
        self.update()

    def _extend(self, at: QPointF) -> None:
        if self._current is not None:
            self._current.lineTo(at)
            self.update()

    def _end(self) -> None:
        self._current = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())
        self._end()
        event.accept()

    def event(self, event: QEvent) -> bool:
        # Touch is handled here rather than left to Qt's synthesised mouse events so a second finger (a palm
        # resting on the screen) cannot start another stroke: only the first touch point draws.
        if isinstance(event, QTouchEvent):
            points = event.points()
            if points:
                at = points[0].position()
                if event.type() == QEvent.Type.TouchBegin:
                    self._begin(at)
                elif event.type() == QEvent.Type.TouchUpdate:
                    self._extend(at)
                else:
                    self._extend(at)
                    self._end()
            event.accept()
            return True
        return super().event(event)

    # ---- drawing -----------------------------------------------------------------------------------------------

    def _draw_strokes(self, painter: QPainter) -> None:
        pen = QPen(INK, PEN_PX, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path in self._strokes:
            painter.drawPath(path)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(1, 1, -1, -1)
        painter.fillRect(rect, Qt.GlobalColor.white)
        painter.setPen(QPen(QColor("#9aa4b2"), 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect, 12, 12)
        baseline = int(rect.bottom() - rect.height() * 0.25)
        painter.drawLine(rect.left() + 40, baseline, rect.right() - 40, baseline)
        if not self._strokes:
            painter.setPen(QColor("#8a8f98"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, HINT)
        self._draw_strokes(painter)
        painter.end()


def png_bytes(image: QImage) -> bytes:
    """Encode `image` as PNG. QImage needs no GUI thread, so a worker does this (about 0.1 s for a pad)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # QImageWriter rather than QImage.save: PySide6's save() wants the format as str where its stubs say bytes.
    if not QImageWriter(buffer, QByteArray(b"PNG")).write(image):
        raise RuntimeError("PNG encoding of the signature failed")
    buffer.close()
    return bytes(data.data())
