"""Document camera backends: a real UVC 高拍仪, and stand-ins that feed the same pipeline from files.

    UvcCamera          a USB document camera through OpenCV (V4L2 on Linux, DirectShow on Windows)
    ImageFileCamera    one picture, every frame (a scanned sample, a photo from a phone)
    VideoFileCamera    a recorded clip, frame by frame, looping (reproducing a field problem)
    FolderCamera       the image files in a folder in name order, looping
    SimulatedCamera    synthetic scenes with known page corners (devices.simulators.synthetic_pages)

Every image file goes through `load_image`, which reads the header first and refuses bombs and broken files
before OpenCV decodes anything: images arrive from USB sticks and phones, and a 30 000 x 30 000 PNG must not
take the kiosk down.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from PIL import BmpImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from devices.camera.camera import (
    MAX_IMAGE_PIXELS,
    BadImage,
    CameraError,
    CameraLost,
    CameraUnavailable,
    ImageTooLarge,
    preview_size,
)

IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")

# Still resolutions common on 高拍仪 sensors (16, 13, 8, 5 MP ... 2 MP), probed largest first.
STILL_PROBE: Final = ((4608, 3456), (4208, 3120), (4160, 3120), (3264, 2448), (2592, 1944), (2048, 1536),
                      (1920, 1080))
PREVIEW_MODE: Final = (1280, 720)

# Pillow header parsers by magic number. Constructing the plugin class reads only the header: unlike
# Image.open it does not apply Pillow's own decompression-bomb check, so we can report the size ourselves.
_HEADER_PARSERS: Final[tuple[tuple[bytes, str, type[ImageFile.ImageFile]], ...]] = (
    (b"\xff\xd8\xff", "JPEG", JpegImagePlugin.JpegImageFile),
    (b"\x89PNG\r\n\x1a\n", "PNG", PngImagePlugin.PngImageFile),
    (b"BM", "BMP", BmpImagePlugin.BmpImageFile),
    (b"II*\x00", "TIFF", TiffImagePlugin.TiffImageFile),
    (b"MM\x00*", "TIFF", TiffImagePlugin.TiffImageFile),
)


def image_header(data: bytes | Path | str) -> tuple[int, int, str]:
    """(width, height, format) from the header only. Raises BadImage or ImageTooLarge; decodes no pixels."""
    head = _read_head(data, 64)
    if not head:
        raise BadImage(detail="0 字节")
    match = next(((fmt, parser) for magic, fmt, parser in _HEADER_PARSERS if head.startswith(magic)), None)
    if match is None:
        raise BadImage(detail=f"未知格式，开头 {head[:8].hex()}")
    fmt, parser = match
    try:
        if isinstance(data, bytes):
            with parser(io.BytesIO(data)) as im:
                width, height = im.size
        else:
            with open(data, "rb") as fh, parser(fh) as im:
                width, height = im.size
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise BadImage(detail=f"{fmt} 文件头无法解析：{exc}") from exc
    if width <= 0 or height <= 0:
        raise BadImage(detail=f"{fmt} 尺寸 {width}x{height}")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(width * height / 1e6, detail=f"{fmt} {width}x{height}")
    return width, height, fmt


def load_image(data: bytes | Path | str) -> np.ndarray:
    """Decode an image file (path) or its bytes to BGR uint8, checking size and integrity first.

    Raises BadImage (missing, empty, truncated, corrupt, unsupported) or ImageTooLarge (> 100 MP by header).
    EXIF orientation is applied, so a phone photo comes out upright.
    """
    width, height, fmt = image_header(data)
    if isinstance(data, bytes):
        raw = data
    else:
        try:
            raw = Path(data).read_bytes()
        except OSError as exc:
            raise BadImage(detail=f"无法读取：{exc.strerror}") from exc
    _check_complete(raw, fmt)
    try:
        image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV asserts on some malformed headers instead of returning None
        raise BadImage(detail=f"{fmt} 解码失败：{str(exc).splitlines()[-1][:120]}") from exc
    if image is None or image.size == 0:
        raise BadImage(detail=f"{fmt} 解码失败")
    if sorted(image.shape[:2]) != sorted((width, height)):  # EXIF rotation may swap the two
        raise BadImage(detail=f"{fmt} 尺寸不符：文件头 {width}x{height}，解码 {image.shape[1]}x{image.shape[0]}")
    decoded: np.ndarray = image
    return decoded


def _read_head(data: bytes | Path | str, n: int) -> bytes:
    if isinstance(data, bytes):
        return data[:n]
    try:
        with open(data, "rb") as fh:
            return fh.read(n)
    except FileNotFoundError as exc:
        raise BadImage("找不到图片文件，请重新选择", detail=str(data)) from exc
    except OSError as exc:
        raise BadImage(detail=f"无法读取：{exc.strerror}") from exc


def _check_complete(raw: bytes, fmt: str) -> None:
    """Catch truncation that decoders paper over (libjpeg fills a cut JPEG with grey and returns success)."""
    if fmt == "JPEG":
        # The last end-of-image marker must follow the last start-of-scan; an EXIF thumbnail has its own
        # EOI early in the file, so merely finding FF D9 somewhere proves nothing.
        if raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda"):
            raise BadImage(detail="JPEG 文件不完整")
    elif fmt == "PNG" and b"IEND" not in raw[-64:]:
        raise BadImage(detail="PNG 文件不完整")


def _preview(frame: np.ndarray) -> np.ndarray:
    w, h = preview_size(frame.shape[1], frame.shape[0])
    if w == frame.shape[1]:
        return frame.copy()  # callers may draw on previews; the source keeps its frame for the still
    small: np.ndarray = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    return small


def _natural_key(name: str) -> list[int | str]:
    """frame2 before frame10: recorders number files without zero padding."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class _OpenGuard:
    url: str
    _open: bool = False

    def _require_open(self) -> None:
        if not self._open:
            raise CameraUnavailable("高拍仪尚未打开，请稍后再试", detail=f"{self.url}: open() not called")


class ImageFileCamera(_OpenGuard):
    """file:///photo.jpg — every preview and still is that picture (the still at full size)."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self._image: np.ndarray | None = None
        self._fmt = ""

    def open(self) -> None:
        if not self.path.is_file():
            raise CameraUnavailable("找不到图片文件，请重新选择", detail=str(self.path))
        self._fmt = image_header(self.path)[2]
        self._image = load_image(self.path)
        self._open = True

    def close(self) -> None:
        self._open = False
        self._image = None

    def _frame(self) -> np.ndarray:
        self._require_open()
        assert self._image is not None
        return self._image

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        return _preview(self._frame()).copy()

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        return self._frame().copy()

    def modes(self) -> list[tuple[int, int, str]]:
        if self._image is None:
            return []
        h, w = self._image.shape[:2]
        pw, ph = preview_size(w, h)
        return [(w, h, self._fmt)] + ([(pw, ph, self._fmt)] if pw != w else [])


class FolderCamera(_OpenGuard):
    """dir:///frames/ — the folder's image files in natural name order, one per preview, looping.

    The still is the file the last preview showed, at full size. The folder is listed again on every lap, so
    files can be added while it runs; if the folder (or every file in it) disappears, that is CameraLost.
    """

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self._files: list[Path] = []
        self._next = 0
        self._current: np.ndarray | None = None

    def _list(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return []
        files = [Path(e.path) for e in entries if e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES)]
        return sorted(files, key=lambda p: _natural_key(p.name))

    def open(self) -> None:
        if not self.folder.is_dir():
            raise CameraUnavailable("找不到图片文件夹，请检查路径", detail=str(self.folder))
        self._files = self._list()
        if not self._files:
            raise CameraUnavailable("图片文件夹里没有图片（支持 JPG、PNG、BMP、TIFF）", detail=str(self.folder))
        self._next = 0
        self._open = True

    def close(self) -> None:
        self._open = False
        self._current = None

    def _advance(self) -> np.ndarray:
        self._require_open()
        for _attempt in range(2):
            if self._next >= len(self._files):
                self._files, self._next = self._list(), 0
            if not self.folder.is_dir() or not self._files:
                raise CameraLost(detail=f"{self.folder} 已不存在或已清空")
            path = self._files[self._next]
            self._next += 1
            if path.is_file():
                self._current = load_image(path)
                return self._current
            self._next = len(self._files)  # a file vanished: re-list once and try again
        raise CameraLost(detail=f"{self.folder} 中的图片已被移走")

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        return _preview(self._advance())

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        self._require_open()
        return (self._current if self._current is not None else self._advance()).copy()

    def modes(self) -> list[tuple[int, int, str]]:
        if not self._files:
            return []
        try:
            w, h, fmt = image_header(self._files[0])
        except CameraError:
            return []
        pw, ph = preview_size(w, h)
        return [(w, h, fmt)] + ([(pw, ph, fmt)] if pw != w else [])


class VideoFileCamera(_OpenGuard):
    """video:///clip.mp4 — the clip's frames in order, looping; the still is the current frame at full size."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self._cap: cv2.VideoCapture | None = None
        self._current: np.ndarray | None = None
        self._codec = ""

    def _open_capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise BadImage("视频文件已损坏或格式不支持", detail=str(self.path))
        code = int(cap.get(cv2.CAP_PROP_FOURCC))
        self._codec = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00") or "video"
        return cap

    def open(self) -> None:
        if not self.path.is_file():
            raise CameraUnavailable("找不到视频文件，请重新选择", detail=str(self.path))
        self._cap = self._open_capture()
        self._current = None
        self._open = True
        self._read()  # fail at open(), not at the first preview, when the clip has no decodable frame

    def close(self) -> None:
        self._open = False
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._current = None

    def _read(self) -> np.ndarray:
        self._require_open()
        assert self._cap is not None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            # End of clip: start over. Reopening is more reliable than seeking for MJPG/AVI and variable-rate MP4.
            self._cap.release()
            if not self.path.is_file():
                raise CameraLost(detail=f"{self.path} 已不存在")
            self._cap = self._open_capture()
            ok, frame = self._cap.read()
            if not ok or frame is None:
                had_frames = self._current is not None
                raise (CameraLost(detail=str(self.path)) if had_frames else BadImage(
                    "视频文件已损坏或格式不支持", detail=f"{self.path}: 没有可解码的画面"))
        self._current = frame
        return frame

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        return _preview(self._read())

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        self._require_open()
        return (self._current if self._current is not None else self._read()).copy()

    def modes(self) -> list[tuple[int, int, str]]:
        if self._current is None:
            return []
        h, w = self._current.shape[:2]
        pw, ph = preview_size(w, h)
        return [(w, h, self._codec)] + ([(pw, ph, self._codec)] if pw != w else [])


def _fourcc(name: str) -> int:
    code: int = cv2.VideoWriter.fourcc(*name)
    return code


class UvcCamera(_OpenGuard):
    """uvc://0 (device index) or uvc:///dev/video2 — a USB Video Class 高拍仪 through OpenCV.

    MJPG is requested before the resolution: in YUYV the USB 2.0 bandwidth caps a 13 MP sensor at a few
    frames per second (or the driver silently falls back to 640x480). The highest still resolution the
    driver accepts is found by probing; previews run at 1280x720 and stills switch mode for one capture.
    """

    def __init__(self, url: str, device: int | str) -> None:
        self.url = url
        self.device = device
        self._cap: cv2.VideoCapture | None = None
        self._modes: list[tuple[int, int, str]] = []
        self._still = PREVIEW_MODE
        self._flowing = False  # a frame has been read: a later read failure means the camera was pulled

    def open(self) -> None:
        api = cv2.CAP_DSHOW if sys.platform == "win32" else cv2.CAP_V4L2 if sys.platform.startswith("linux") \
            else cv2.CAP_ANY
        if isinstance(self.device, str) and not Path(self.device).exists():
            raise CameraUnavailable(detail=f"{self.device} 不存在")
        cap = cv2.VideoCapture(self.device, api)
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(detail=f"{self.url}: 无法打开")
        self._cap = cap
        self._open = True
        self._modes = []
        for w, h in (*STILL_PROBE, PREVIEW_MODE):
            if self._set_mode(w, h) and (w, h, "MJPG") not in self._modes:
                self._modes.append((w, h, "MJPG"))
        stills = [m for m in self._modes if m[:2] != PREVIEW_MODE]
        self._still = stills[0][:2] if stills else PREVIEW_MODE
        self._set_mode(*PREVIEW_MODE)
        self._flowing = False

    def _set_mode(self, width: int, height: int) -> bool:
        """Ask for MJPG at width x height; True when the driver reports exactly that size back."""
        assert self._cap is not None
        self._cap.set(cv2.CAP_PROP_FOURCC, _fourcc("MJPG"))  # must precede the size (see class docstring)
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        got = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        return got == (width, height)

    def close(self) -> None:
        self._open = False
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read(self, timeout: float) -> np.ndarray:
        self._require_open()
        assert self._cap is not None
        deadline = time.monotonic() + timeout
        while True:
            ok, frame = self._cap.read()
            if ok and frame is not None and frame.size:
                self._flowing = True
                return frame
            if self._flowing:
                raise CameraLost(detail=f"{self.url}: read() 失败")
            if time.monotonic() >= deadline:
                raise CameraUnavailable("高拍仪没有画面，请重新插好USB线后再试", detail=f"{self.url}: 超时")
            time.sleep(0.05)

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        return _preview(self._read(timeout))

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        self._require_open()
        deadline = time.monotonic() + timeout
        if self._still != PREVIEW_MODE:
            self._set_mode(*self._still)
        try:
            # Drop frames queued at the old size and let auto-exposure settle after the mode switch.
            for _ in range(3):
                self._read(max(0.1, deadline - time.monotonic()))
            return self._read(max(0.1, deadline - time.monotonic()))
        finally:
            if self._still != PREVIEW_MODE and self._cap is not None:
                self._set_mode(*PREVIEW_MODE)

    def modes(self) -> list[tuple[int, int, str]]:
        return list(self._modes)


class SimulatedCamera(_OpenGuard):
    """sim://a4?seed=3 — a synthetic scene pushed through the same path as a real camera's frames.

    The scene is rendered once at open(); each frame then moves the page corners by a small random amount
    (at most `jitter` of the diagonal, default 0.25 %) the way detection wobbles on a live feed, so an
    auto-capture stability check has something real to settle on, and is JPEG-encoded and decoded again with
    `load_image` (a UVC camera in MJPG mode delivers JPEG too). `last_corners` holds the ground truth for the
    frame last returned, in that frame's coordinates (all NaN for an empty desk).
    """

    def __init__(self, url: str, kind: str, scene_args: dict[str, object], *, jitter: float = 0.0025,
                 jpeg_quality: int = 85, lose_after: int | None = None, empty_frames: int = 0) -> None:
        from devices.simulators.synthetic_pages import KINDS

        if kind not in KINDS:
            raise CameraUnavailable(f"模拟高拍仪没有名为 {kind} 的场景", detail=f"可用：{'、'.join(KINDS)}")
        self.url = url
        self.kind = kind
        self.scene_args = scene_args
        self.jitter = jitter
        self.jpeg_quality = jpeg_quality
        self.lose_after = lose_after
        self.empty_frames = empty_frames  # previews of the bare desk before the page is "laid down"
        self.frames_served = 0
        self.last_corners = np.full((4, 2), np.nan, np.float32)
        self._still: np.ndarray | None = None
        self._small: np.ndarray | None = None
        self._empty_small: np.ndarray | None = None
        self._corners = self.last_corners
        self._seed = int(str(scene_args.get("seed", 0)))
        self._rng = np.random.default_rng(self._seed)

    def open(self) -> None:
        from devices.simulators.synthetic_pages import render_scene

        scene = render_scene(self.kind, **self.scene_args)  # type: ignore[arg-type]
        self._still = scene.image
        self._small = _preview(scene.image)  # downscaled once: resizing 8 MP per preview frame costs ~30 ms
        self._corners = scene.corners
        if self.empty_frames > 0:
            self._empty_small = _preview(render_scene("none", **self.scene_args).image)  # type: ignore[arg-type]
        self._rng = np.random.default_rng(self._seed)
        self.frames_served = 0
        self._open = True

    def close(self) -> None:
        self._open = False
        self._still = None

    def _frame(self, full: bool) -> np.ndarray:
        self._require_open()
        assert self._still is not None and self._small is not None
        if self.lose_after is not None and self.frames_served >= self.lose_after:
            raise CameraLost(detail=f"模拟断开：已送出 {self.frames_served} 帧")
        self.frames_served += 1
        if not full and self._empty_small is not None and self.frames_served <= self.empty_frames:
            self.last_corners = np.full((4, 2), np.nan, np.float32)
            return self._empty_small.copy()
        image = self._still if full else self._small
        factor = image.shape[1] / self._still.shape[1]
        corners = self._corners * factor
        if self.kind != "none" and self.jitter > 0:
            diag = float(np.hypot(*image.shape[:2]))
            angle = self._rng.uniform(0, 2 * np.pi, 4)
            radius = self._rng.uniform(0, self.jitter * diag, 4)
            moved = (corners + np.stack([np.cos(angle), np.sin(angle)], 1) * radius[:, None]).astype(np.float32)
            hom = cv2.getPerspectiveTransform(corners.astype(np.float32), moved)
            image = cv2.warpPerspective(image, hom, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)
            corners = moved
        self.last_corners = corners.astype(np.float32)
        if self.jpeg_quality > 0:
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if ok:
                return load_image(encoded.tobytes())
        return image.copy()

    def preview_frame(self, timeout: float = 2.0) -> np.ndarray:
        return self._frame(full=False)

    def capture_still(self, timeout: float = 5.0) -> np.ndarray:
        return self._frame(full=True)

    def modes(self) -> list[tuple[int, int, str]]:
        if self._still is None:
            return []
        h, w = self._still.shape[:2]
        pw, ph = preview_size(w, h)
        return [(w, h, "SIM"), (pw, ph, "SIM")]
