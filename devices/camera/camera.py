"""The document camera (高拍仪) contract: one small Protocol and its errors.

Backends are plain synchronous classes owned by one thread (like the identity readers): a UVC handle from
OpenCV is not safe to share, and the GUI thread must never wait on a frame. Every frame handed out is a BGR
uint8 array (what the OpenCV pipeline expects), whatever the source: a real camera, a file, a folder, a video
or the synthetic scene renderer.
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np

# Larger than any real document camera (the biggest 高拍仪 sensors are ~16 MP); anything above is a
# decompression bomb or a mistake, and decoding it would need gigabytes of memory on a kiosk PC.
MAX_IMAGE_PIXELS: Final = 100_000_000

# Preview frames are downscaled to at most this width: enough for quad detection, cheap to draw at 25 fps.
PREVIEW_WIDTH: Final = 1280


class CameraError(Exception):
    """A failure with one plain Chinese sentence that says what to do (`message`)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message if not detail else f"{message}（{detail}）")
        self.message = message
        self.detail = detail  # technical detail for logs (device index, path, sizes); never image content


class CameraUnavailable(CameraError):
    """The camera (or the file/folder standing in for it) is not there or cannot be opened."""

    def __init__(self, message: str = "未找到高拍仪，请检查USB连接", detail: str = "") -> None:
        super().__init__(message, detail)


class CameraLost(CameraError):
    """The camera disappeared while frames were flowing (cable pulled, hub reset, folder deleted)."""

    def __init__(self, message: str = "高拍仪连接中断，请重新插好后再试", detail: str = "") -> None:
        super().__init__(message, detail)


class BadImage(CameraError):
    """An image file is empty, truncated, corrupt or of a format we do not accept."""

    def __init__(self, message: str = "图片文件已损坏或格式不支持", detail: str = "") -> None:
        super().__init__(message, detail)


class ImageTooLarge(CameraError):
    """An image whose header declares more than MAX_IMAGE_PIXELS; refused before it is decoded."""

    def __init__(self, megapixels: float, detail: str = "") -> None:
        super().__init__(f"图片过大（{megapixels:.0f} 百万像素），请降低分辨率后重试", detail)
        self.megapixels = megapixels


class DocumentCamera(Protocol):
    url: str

    def open(self) -> None:
        """Acquire the device/source. Raises CameraUnavailable (or BadImage for an unreadable file source)."""

    def close(self) -> None:
        """Release the device; safe to call twice or after a failed open()."""

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        """The next live frame, BGR uint8, at most PREVIEW_WIDTH wide (the low-resolution stream).

        Raises CameraLost when the camera vanished mid-stream, CameraUnavailable when it never delivered.
        """

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        """One frame at the highest still resolution, BGR uint8, showing what the last preview showed."""

    def modes(self) -> list[tuple[int, int, str]]:
        """(width, height, pixel format / codec) the source offers, largest first; known after open()."""


def preview_size(width: int, height: int) -> tuple[int, int]:
    """The preview size for a full frame: same aspect, at most PREVIEW_WIDTH wide."""
    if width <= PREVIEW_WIDTH:
        return width, height
    return PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width))
