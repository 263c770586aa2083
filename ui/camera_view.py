"""The live document-camera picture with the detected page outline, shared by every screen that scans.

Frames are fetched and analysed on workers through the bridge, one in flight at a time; the GUI thread only
paints the finished picture. `seen` is the page the last frame found (for the capture that follows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

from kiosk_app.errors import KioskError
from kiosk_app.materials.detection import Quad, detect_page
from ui.shell import UiContext

PREVIEW_MS = 120
PREVIEW_WIDTH = 960

Seen = tuple[Quad, tuple[int, ...]]


@dataclass(frozen=True)
class PreviewFrame:
    rgb: bytes
    width: int
    height: int
    seen: Seen | None


def analyse_preview(frame: np.ndarray) -> PreviewFrame:
    """Detect the page and draw its outline (worker thread); the picture is scaled for the screen."""
    quad = detect_page(frame)
    scale = PREVIEW_WIDTH / frame.shape[1]
    small = cv2.resize(frame, (PREVIEW_WIDTH, round(frame.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    if quad is not None:
        cv2.polylines(small, [np.round(quad * scale).astype(np.int32)], True, (40, 200, 60), 6)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    return PreviewFrame(rgb.tobytes(), rgb.shape[1], rgb.shape[0], None if quad is None else (quad, frame.shape))


class LivePreview(QLabel):
    """`on_frame(found)` after each painted frame; `on_error(message)` when the camera cannot be used.
    `paused` holds frames back while a still is being taken."""

    def __init__(self, ctx: UiContext, on_frame: Callable[[bool], None], on_error: Callable[[str], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("preview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(640, 480)
        self.setStyleSheet("background: #20252b; border-radius: 12px;")
        self.seen: Seen | None = None
        self.paused = False
        self._in_flight = False
        self._on_frame = on_frame
        self._on_error = on_error
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._request)

    def start(self) -> None:
        self._timer.start(PREVIEW_MS)

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        """Stop and forget the last picture: it may show someone's papers."""
        self.stop()
        self.clear()
        self.seen = None
        self.paused = False

    def _request(self) -> None:
        if self._in_flight or self.paused or not self.isVisible():
            return
        try:
            camera = self.ctx.devices.camera()
        except KioskError as exc:
            self.stop()
            self._on_error(exc.message)
            return
        self._in_flight = True
        self.ctx.bridge.run(lambda: analyse_preview(camera.preview_frame().result()), self._show, self._failed)

    def _show(self, frame: PreviewFrame) -> None:
        self._in_flight = False
        if not self._timer.isActive():
            return  # stopped (page left, session wiped) while the frame was on its way
        self.seen = frame.seen
        image = QImage(frame.rgb, frame.width, frame.height, frame.width * 3, QImage.Format.Format_RGB888)
        self.setPixmap(QPixmap.fromImage(image.copy()).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self._on_frame(frame.seen is not None)

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self._on_error(getattr(exc, "message", None) or "高拍仪没有画面，请联系工作人员。")
