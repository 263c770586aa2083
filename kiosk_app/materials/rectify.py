"""Cutting the page out of a still at its real proportions, cleaning it up, and encoding it small.

Output resolution is ~200 dpi: legible for every form and ID copy, and an A4 page stays under 300 KB as JPEG,
which matters for the upload queue on township links.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from kiosk_app.errors import KioskError

Aspect = Literal["a4", "idcard", "free"]
EnhanceMode = Literal["color", "gray", "bw"]

A4_PX = (1654, 2339)  # 210 x 297 mm at 200 dpi (portrait width, height)
ID1_PX = (674, 425)  # 85.6 x 54 mm at 200 dpi (landscape width, height)
FREE_MAX_SIDE = 2339
MAX_JPEG_BYTES = 300 * 1024
_QUALITY_STEPS = (80, 72, 64, 56, 48, 40)


class EncodeFailed(KioskError):
    def __init__(self) -> None:
        super().__init__("图片保存失败，请重新拍摄。")


def output_size(quad: np.ndarray, aspect: Aspect) -> tuple[int, int]:
    """(width, height) of the rectified page: real proportions, orientation taken from the quad."""
    pts = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    top, right = float(np.linalg.norm(pts[1] - pts[0])), float(np.linalg.norm(pts[2] - pts[1]))
    bottom, left = float(np.linalg.norm(pts[3] - pts[2])), float(np.linalg.norm(pts[0] - pts[3]))
    across, down = (top + bottom) / 2, (left + right) / 2
    landscape = across > down
    if aspect == "a4":
        w, h = A4_PX
        return (h, w) if landscape else (w, h)
    if aspect == "idcard":
        w, h = ID1_PX
        return (w, h) if landscape else (h, w)
    # Free: the quad's own proportions, never upscaled beyond what the camera saw, capped at A4 size.
    factor = min(1.0, FREE_MAX_SIDE / max(across, down, 1.0))
    return max(1, round(across * factor)), max(1, round(down * factor))


def warp(still: np.ndarray, quad: np.ndarray, aspect: Aspect = "free") -> np.ndarray:
    """The page inside `quad` (corners in `still`, clockwise from top-left), flattened to its real aspect."""
    w, h = output_size(quad, aspect)
    src = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    # Corners are pixel centres of the page's outermost pixels, so they map to the output's outermost centres.
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(still, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def background(image: np.ndarray) -> np.ndarray:
    """Estimate of the bare paper's brightness under uneven light (any channel count): print closed away,
    then smoothed. Done on a 1/8 copy because the kernel must be wider than a line of text.
    """
    h, w = image.shape[:2]
    sw, sh = max(1, w // 8), max(1, h // 8)
    # Cropping to a multiple of 8 lets INTER_AREA take its integer-ratio path (~5x faster); the few pixels
    # dropped at the edge are covered by the upscale's border replication.
    small = cv2.resize(image[: sh * 8, : sw * 8], (sw, sh), interpolation=cv2.INTER_AREA)
    k = max(3, (min(small.shape[:2]) // 12) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    smooth = cv2.GaussianBlur(closed, (0, 0), k / 2)
    return cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR)


def enhance(page: np.ndarray, mode: EnhanceMode = "color", *, flatten: bool = True) -> np.ndarray:
    """Even out shadows and colour cast; `gray` and `bw` give smaller files for text-only pages.

    `flatten=False` keeps large dark areas (an ID card's photo) intact and only corrects the colour cast.
    """
    if page.ndim == 2:
        page = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    # Dividing each channel by its own paper estimate removes shadow and white-balances in one step. The
    # uint8 divide saturates at 255 by itself (0 for a 0 divisor); float math costs three times as long on 4 MP.
    result = cv2.divide(page, background(page), scale=245.0) if flatten else _white_balance(page)
    if mode == "color":
        return result
    gray = cv2.cvtColor(result, cv2.COLOR_BGR2GRAY)
    if mode == "gray":
        return gray
    block = max(15, (min(gray.shape) // 40) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15)


def _white_balance(page: np.ndarray) -> np.ndarray:
    """Scale channels so the brightest 5% (paper, card background) come out neutral."""
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    bright = gray >= np.percentile(gray, 95)
    if not bright.any():
        return page
    means = page[bright].reshape(-1, 3).mean(axis=0)
    target = float(means.max())
    gains = target / np.maximum(means, 1.0)
    balanced = page.astype(np.float32) * gains.reshape(1, 1, 3)
    out: np.ndarray = np.clip(balanced, 0, 255).astype(np.uint8)
    return out


def encode_jpeg(page: np.ndarray, quality: int = 80, *, max_bytes: int = MAX_JPEG_BYTES) -> bytes:
    """JPEG of `page`; steps the quality down until it fits `max_bytes` (never below 40)."""
    steps = [quality, *(q for q in _QUALITY_STEPS if q < quality)]
    data = b""
    for q in steps:
        ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise EncodeFailed()
        data = buf.tobytes()
        if len(data) <= max_bytes:
            break
    return data


def thumbnail(page: np.ndarray, width: int = 240) -> bytes:
    h, w = page.shape[:2]
    size = (width, max(1, round(h * width / w)))
    small = cv2.resize(page, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not ok:
        raise EncodeFailed()
    return bytes(buf.tobytes())
