"""The quality gate a scan must pass before it is kept: sharp, no glare, bright enough, whole, big enough.

Each check carries its measured value and threshold so a technician can see how close a rejected scan came,
and one plain sentence telling the person what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

BLUR_WIDTH = 1000  # Laplacian variance depends on scale; measure every page at the same width
BLUR_MIN = 600.0  # on the sharpest tiles at BLUR_WIDTH; a sharp 8 MP A4 scan measures ~50000, sigma 4 blur ~560
# Near clipping. The usual rule of thumb is 250, but well-exposed white paper reaches 248-250 on these
# cameras and would read as glare; an LED reflection clips to 255 over its whole core.
GLARE_LEVEL = 253
GLARE_MAX = 0.015
DARK_MIN = 90.0  # mean luminance of the page, 0-255
EDGE_MARGIN = 0.01  # of the frame's shorter side
SMALL_MIN = 0.20  # page area / frame area
BLANK_STD = 6.0  # a tile this flat holds no print and says nothing about focus


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    threshold: float
    ok: bool
    message: str


@dataclass(frozen=True)
class QualityReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def messages(self) -> list[str]:
        return [check.message for check in self.checks if not check.ok]

    def to_json(self) -> dict[str, dict[str, float | bool]]:
        return {c.name: {"value": round(c.value, 4), "threshold": c.threshold, "ok": c.ok} for c in self.checks}


def assess(page: np.ndarray, quad: np.ndarray, frame_shape: tuple[int, ...]) -> QualityReport:
    """Judge a warped `page`, with `quad` its corners in the frame of `frame_shape` it was cut from."""
    h, w = page.shape[:2]
    if w > BLUR_WIDTH:
        # Every check works at BLUR_WIDTH: fractions and means do not depend on size, and it is 4x less work.
        # Linear, not area: this is a < 2x step, and INTER_AREA at a fractional ratio costs ~10 ms on 4 MP.
        page = cv2.resize(page, (BLUR_WIDTH, max(1, round(h * BLUR_WIDTH / w))), interpolation=cv2.INTER_LINEAR)
    gray = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    checks = [
        _too_small(quad, frame_shape),
        _cut_off(quad, frame_shape),
        _dark(gray),
        _glare(gray),
        _blur(gray),
    ]
    return QualityReport(checks)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian at BLUR_WIDTH, taken over the tiles that hold print (90th percentile).

    A whole-page variance rates a sharp page with a few lines of text as blurry; tiles fix that.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    if w != BLUR_WIDTH:
        size = (BLUR_WIDTH, max(1, round(h * BLUR_WIDTH / w)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if w > BLUR_WIDTH else cv2.INTER_LINEAR)
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    tile = 100
    th, tw = gray.shape[0] // tile, gray.shape[1] // tile
    if th == 0 or tw == 0:
        return float(lap.var())
    lap_tiles = lap[: th * tile, : tw * tile].reshape(th, tile, tw, tile).var(axis=(1, 3))
    std_tiles = gray[: th * tile, : tw * tile].astype(np.float32).reshape(th, tile, tw, tile).std(axis=(1, 3))
    textured = lap_tiles[std_tiles > BLANK_STD]
    if textured.size == 0:
        return float("inf")  # a blank sheet: nothing to judge focus by, and nothing a retake would improve
    return float(np.percentile(textured, 90))


def _blur(gray: np.ndarray) -> Check:
    value = sharpness(gray)
    shown = value if np.isfinite(value) else 1e6
    return Check("blur", shown, BLUR_MIN, value >= BLUR_MIN, "照片模糊，请保持不动再拍一次")


def _glare(gray: np.ndarray) -> Check:
    fraction = float(np.count_nonzero(gray >= GLARE_LEVEL)) / gray.size
    return Check("glare", fraction, GLARE_MAX, fraction <= GLARE_MAX, "有反光，请调整灯光或纸张角度")


def _dark(gray: np.ndarray) -> Check:
    mean = float(gray.mean())
    return Check("dark", mean, DARK_MIN, mean >= DARK_MIN, "光线太暗，请打开补光灯")


def _cut_off(quad: np.ndarray, frame_shape: tuple[int, ...]) -> Check:
    h, w = frame_shape[0], frame_shape[1]
    pts = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    # Distance of the nearest corner to any frame edge, as a fraction of the shorter side.
    gaps = np.concatenate([pts[:, 0], (w - 1) - pts[:, 0], pts[:, 1], (h - 1) - pts[:, 1]])
    nearest = float(gaps.min()) / min(h, w)
    return Check("cut_off", nearest, EDGE_MARGIN, nearest >= EDGE_MARGIN, "材料超出拍摄范围，请把材料完整放在框内")


def _too_small(quad: np.ndarray, frame_shape: tuple[int, ...]) -> Check:
    area = float(cv2.contourArea(np.asarray(quad, dtype=np.float32).reshape(4, 2)))
    fraction = area / float(frame_shape[0] * frame_shape[1])
    return Check("too_small", fraction, SMALL_MIN, fraction >= SMALL_MIN, "材料太小，请把材料放在中间并靠近镜头")
