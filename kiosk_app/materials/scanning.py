"""Scanning a material: the operation the screens and the CLI call.

Preview frames are searched for the page until it sits still (or the first sighting when `auto` is off);
then one full-resolution still is taken, the page is cut out at its real proportions, judged, cleaned and
encoded. A scan that fails the quality gate raises `ScanFailed` with the report: nothing is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import img2pdf
import numpy as np

from devices.camera.camera import DocumentCamera
from kiosk_app.errors import KioskError
from kiosk_app.materials.capture import AutoCapture
from kiosk_app.materials.detection import Quad, detect_page, scale_quad
from kiosk_app.materials.quality import QualityReport, assess, sharpness
from kiosk_app.materials.rectify import Aspect, encode_jpeg, enhance, thumbnail, warp
from local_db.blobstore import BlobRef
from local_db.database import Database

ScanMode = Literal["document", "idcard"]

NO_PAGE = "没有找到材料，请把材料平放在拍摄区域内"
_A4_POINTS = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))


class ScanFailed(KioskError):
    """No page was found, or the scan did not pass the quality gate (`report` then says which check)."""

    def __init__(self, message: str, report: QualityReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ScanResult:
    corners: list[list[float]]  # in the still's pixel coordinates, clockwise from top-left
    quality: QualityReport
    jpeg: bytes
    width: int
    height: int
    thumbnail: bytes = field(repr=False)


def _aspect(mode: ScanMode) -> Aspect:
    return "idcard" if mode == "idcard" else "a4"


def process_still(still: np.ndarray, quad: Quad, mode: ScanMode) -> ScanResult:
    """Warp, judge, clean and encode one still whose page corners are already known."""
    page = warp(still, quad, _aspect(mode))
    report = assess(page, quad, still.shape)
    if not report.ok:
        raise ScanFailed(report.messages[0], report)
    # Flattening would wash out an ID card's photo and pattern; cards only get their colour cast corrected.
    clean = enhance(page, "color", flatten=mode != "idcard")
    return ScanResult(
        corners=[[round(float(x), 2), round(float(y), 2)] for x, y in quad],
        quality=report,
        jpeg=encode_jpeg(clean),
        width=int(clean.shape[1]),
        height=int(clean.shape[0]),
        thumbnail=thumbnail(clean),
    )


def scan_document(camera: DocumentCamera, *, mode: ScanMode = "document", timeout: float = 10,
                  auto: bool = True, max_frames: int = 200,
                  clock: Callable[[], float] = time.monotonic) -> ScanResult:
    """Scan with an opened camera. With `auto` it waits for the page to be still; otherwise takes the first sighting.

    Raises ScanFailed (no page before `timeout` / `max_frames`, or bad quality) and the camera's own errors.
    """
    trigger = AutoCapture()
    start = clock()
    last: tuple[Quad, tuple[int, ...]] | None = None
    for _ in range(max_frames):
        now = clock()
        if now - start > timeout:
            break
        frame = camera.preview_frame()
        quad = detect_page(frame)
        if quad is None:
            trigger.update(now, None, 0.0)
            continue
        last = (quad, frame.shape)
        if not auto:
            break
        if trigger.update(now, quad, _preview_sharpness(frame, quad), frame.shape):
            break
    # Out of time or frames with a page seen but never settled: it is still scanned; the quality gate decides.
    if last is None:
        raise ScanFailed(NO_PAGE)
    return process_capture(camera.capture_still(), last, mode)


def process_capture(still: np.ndarray, seen: tuple[Quad, tuple[int, ...]] | None, mode: ScanMode) -> ScanResult:
    """Process a still taken after the page was seen in a preview frame (`seen`: its corners and frame shape)."""
    # Find the page again on the still itself: the preview quad only says roughly where to look, and the
    # still may come from a different sensor mode. Fall back to the mapped preview corners if that fails.
    quad = detect_page(still)
    if quad is None:
        if seen is None:
            raise ScanFailed(NO_PAGE)
        quad = scale_quad(seen[0], seen[1], still.shape)
    return process_still(still, quad, mode)


def _preview_sharpness(frame: np.ndarray, quad: Quad) -> float:
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    crop = frame[max(0, y0): max(0, y1), max(0, x0): max(0, x1)]
    return sharpness(crop) if crop.size else 0.0


def scan_file(path: Path | str, mode: ScanMode = "document") -> ScanResult:
    """Scan a photo already on disk (or uploaded): find the page on it, then cut it out at full resolution."""
    from devices.camera.sources import load_image

    still = load_image(Path(path))
    quad = detect_page(still)
    if quad is None:
        raise ScanFailed(NO_PAGE)
    return process_still(still, quad, mode)


def pages_to_pdf(jpegs: list[bytes]) -> bytes:
    """One PDF, a page per JPEG, each fitted onto A4; the JPEG streams are embedded as they are (no re-encode)."""
    if not jpegs:
        raise ScanFailed("没有可以合成的页面，请先拍摄材料")
    layout = img2pdf.get_layout_fun(_A4_POINTS, fit=img2pdf.FitMode.into)
    pdf = img2pdf.convert(list(jpegs), layout_fun=layout)
    return bytes(pdf)


def store_scan(db: Database, result: ScanResult) -> BlobRef:
    """Keep the scan's JPEG in the encrypted blob store (written whole and fsynced, or not at all)."""
    return db.blobs.put(result.jpeg)
