"""Finding a page or card in a camera frame: four corners, clockwise from top-left, sub-pixel accurate.

The coarse search runs on a ~640 px copy (fast enough for the preview loop); several binarisations are tried
because no single one survives every desk: Canny misses low-contrast edges on a white desk, Otsu on brightness
fails on a light desk, Otsu on saturation fails on a grey one. The best convex quad wins by area and by how
well the contour fills it. The corners are then refined on the full-resolution gray image by fitting a line to
the strongest edge along each side, which is what gets the error well under 1% of the diagonal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Quad = NDArray[np.float32]  # (4, 2) corners, clockwise from top-left, in the frame's pixel coordinates

WORK_WIDTH = 640
MIN_AREA_FRACTION = 0.08  # smaller quads are reported as "too small" by the quality gate, not hidden here
MAX_AREA_FRACTION = 0.9  # larger "pages" are desk texture or a frame-filling sheet we cannot place anyway
MAX_RAGGEDNESS = 1.5
MIN_FILL = 0.82  # contour area / quad area; below this the shape is not a sheet
EDGE_SAMPLES = 48
BORDER_SHARE_MAX = 0.3  # a page slid partly out of view still has most of its outline inside
MIN_RECTANGULARITY = 0.78  # a keystoned page stays near 0.86+; a quad stretched round a finger drops below


@dataclass(frozen=True)
class _Candidate:
    quad: NDArray[np.float32]
    score: float


def detect_page(frame: np.ndarray) -> Quad | None:
    """Corners of the largest sheet-like quad in `frame` (BGR or gray), or None when there is none."""
    if frame.ndim not in (2, 3) or frame.shape[0] < 16 or frame.shape[1] < 16:
        return None
    gray_full = _to_gray(frame)
    h, w = gray_full.shape
    scale = min(1.0, WORK_WIDTH / max(w, h))
    if scale < 1.0:
        size = (round(w * scale), round(h * scale))
        if scale < 0.4:
            # INTER_AREA straight from 10 MP costs ~20 ms; a linear step to twice the size first is ~10x
            # cheaper and the final area step still removes the aliasing.
            frame_half = cv2.resize(frame, (size[0] * 2, size[1] * 2), interpolation=cv2.INTER_LINEAR)
            small_bgr = cv2.resize(frame_half, size, interpolation=cv2.INTER_AREA)
        else:
            small_bgr = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    else:
        small_bgr = frame
    best = _best_quad(small_bgr)
    if best is None:
        return None
    quad = best / scale
    refined = _refine(gray_full, quad, scale)
    return order_corners(refined if refined is not None else quad)


def scale_quad(quad: Quad, from_shape: tuple[int, ...], to_shape: tuple[int, ...]) -> Quad:
    """Map corners found on a preview frame of `from_shape` to a still of `to_shape` (same field of view)."""
    sy = to_shape[0] / from_shape[0]
    sx = to_shape[1] / from_shape[1]
    # Pixel centres: coordinate c covers [c-0.5, c+0.5], so scale about the -0.5 origin.
    out: Quad = ((quad.astype(np.float64) + 0.5) * np.array([sx, sy]) - 0.5).astype(np.float32)
    return out


def order_corners(points: np.ndarray) -> Quad:
    """Clockwise on screen (y grows downwards), starting at the corner nearest the image's top-left."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    ordered: Quad = np.roll(pts, -start, axis=0).astype(np.float32)
    return ordered


def _to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else np.clip(frame, 0, 255).astype(np.uint8)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.shape[2] == 1:
        return np.ascontiguousarray(frame[:, :, 0])
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _binarisations(small: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """(binary image, whether to look at nested contours) for each strategy."""
    gray = _to_gray(small)
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    out: list[tuple[np.ndarray, bool]] = []
    # Fixed, low Canny thresholds: a white page on a light desk differs by only ~30 grey levels.
    edges = cv2.Canny(blurred, 20, 60)
    if small.ndim == 3 and small.shape[2] >= 3:
        # A pale-blue ID card on a grey desk differs in hue more than in brightness: add per-channel edges.
        for channel in cv2.split(cv2.GaussianBlur(small[:, :, :3], (5, 5), 0)):
            edges = cv2.bitwise_or(edges, cv2.Canny(channel, 20, 60))
    out.append((cv2.dilate(edges, kernel), True))
    # Closing first wipes out dark print, so Otsu splits page from desk rather than ink from paper.
    closed = cv2.morphologyEx(blurred, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    _, otsu = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # A wide opening cuts off a finger holding the page (thin next to the page); the rounded corners it
    # leaves do not matter because sides are fitted on their middle part (_snap_to_contour).
    size = max(5, (min(gray.shape) // 16) | 1)
    wide = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    for binary in (otsu, 255 - otsu):
        out.append((cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel), False))
        out.append((cv2.morphologyEx(binary, cv2.MORPH_OPEN, wide), False))
    if small.ndim == 3 and small.shape[2] >= 3:
        hsv = cv2.cvtColor(small[:, :, :3], cv2.COLOR_BGR2HSV)
        sat = cv2.GaussianBlur(hsv[:, :, 1], (5, 5), 0)
        if float(sat.std()) > 8.0:  # a grey desk has no saturation contrast; Otsu would split noise
            _, s_bin = cv2.threshold(sat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
            out.append((cv2.morphologyEx(s_bin, cv2.MORPH_OPEN, kernel), False))
            out.append((cv2.morphologyEx(s_bin, cv2.MORPH_OPEN, wide), False))
    return out


def _faint_edges(small: np.ndarray) -> np.ndarray:
    """Low-threshold Canny for a blurred pale card on a pale desk; only tried when nothing else was found,
    because on a textured desk it also outlines the grain."""
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    channels = cv2.split(blurred) if blurred.ndim == 3 else [blurred]
    edges: np.ndarray = np.zeros(small.shape[:2], np.uint8)
    for channel in channels[:3]:
        edges = cv2.bitwise_or(edges, cv2.Canny(channel, 6, 18))
    return cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))


def _adaptive(small: np.ndarray) -> np.ndarray:
    """Last resort for faint edges. Its dark halo outside a bright page makes quads a few pixels too large,
    which is why it only runs when the other strategies found nothing."""
    blurred = cv2.GaussianBlur(_to_gray(small), (5, 5), 0)
    block = max(3, (min(blurred.shape) // 8) | 1)
    adaptive = cv2.adaptiveThreshold(blurred, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 4)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    return cv2.morphologyEx(adaptive, cv2.MORPH_CLOSE, kernel)


def _best_quad(small: np.ndarray) -> NDArray[np.float32] | None:
    h, w = small.shape[:2]
    frame_area = float(h * w)
    best: _Candidate | None = None
    for binary, nested in _binarisations(small):
        best = _best_in(binary, nested, frame_area, best)
    faint = _best_in(_faint_edges(small), True, frame_area, None)
    if best is None:
        best = faint
    elif faint is not None and faint.score > best.score and _extends(faint.quad, best.quad, math.hypot(h, w)):
        # A curled edge is shaded towards its rim; on a light desk the strong binarisations stop at the start of
        # the shading, while the faint edges follow the real rim. Take the larger quad only when it grows the
        # smaller one on one side, keeping the other two corners: grain or a finger would move more corners.
        best = faint
    if best is None:
        best = _best_in(_adaptive(small), True, frame_area, None)
    return None if best is None else best.quad


def _extends(outer: np.ndarray, inner: np.ndarray, diag: float) -> bool:
    """Whether `outer` is `inner` with one side pushed outwards: two corners shared, the rest inside `outer`."""
    tol = 0.015 * diag
    a, b = order_corners(outer).astype(np.float64), order_corners(inner).astype(np.float64)
    dists = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    shared = int((dists.min(axis=0) < tol).sum())
    contour = a.reshape(-1, 1, 2).astype(np.float32)
    inside = all(cv2.pointPolygonTest(contour, (float(x), float(y)), True) > -tol for x, y in b)
    return shared >= 2 and inside


def _best_in(binary: np.ndarray, nested: bool, frame_area: float, best: _Candidate | None) -> _Candidate | None:
    mode = cv2.RETR_LIST if nested else cv2.RETR_EXTERNAL
    contours, _ = cv2.findContours(binary, mode, cv2.CHAIN_APPROX_NONE)
    h, w = binary.shape
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < MIN_AREA_FRACTION * frame_area * 0.8:
            continue
        pts = contour.reshape(-1, 2)
        on_border = (pts[:, 0] <= 3) | (pts[:, 1] <= 3) | (pts[:, 0] >= w - 4) | (pts[:, 1] >= h - 4)  # dilated edges
        if float(on_border.mean()) > BORDER_SHARE_MAX:
            continue  # a patch of desk cut out by shading, bounded by the frame itself
        candidate = _quad_from_contour(contour, area, frame_area)
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    return best


def _quad_from_contour(contour: np.ndarray, area: float, frame_area: float) -> _Candidate | None:
    hull = cv2.convexHull(contour)
    arc = cv2.arcLength(hull, True)
    poly = cv2.approxPolyDP(hull, 0.02 * arc, True).reshape(-1, 2).astype(np.float64)
    if len(poly) < 4:
        return None
    if len(poly) == 4:
        quad = poly.astype(np.float32)
    else:
        # A finger or a curled corner adds short hull edges; the page's sides are the four longest edges,
        # and their lines meet at the true corners even where a corner itself is hidden.
        found = _quad_from_longest_edges(poly)
        if found is None:
            return None
        quad = found
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return None
    snapped = _snap_to_contour(order_corners(quad), contour.reshape(-1, 2).astype(np.float32))
    if snapped is not None and cv2.isContourConvex(snapped.reshape(-1, 1, 2)):
        quad = snapped
    quad_area = float(cv2.contourArea(quad))
    if quad_area < MIN_AREA_FRACTION * frame_area or quad_area > MAX_AREA_FRACTION * frame_area:
        return None
    fill = min(area, quad_area) / quad_area
    if fill < MIN_FILL:
        return None
    # A page's outline is about as long as its quad; a shading or grain region has a ragged, much longer one.
    if cv2.arcLength(contour, True) > MAX_RAGGEDNESS * cv2.arcLength(quad.reshape(-1, 1, 2), True):
        return None
    rect = _rectangularity(quad)
    if rect < MIN_RECTANGULARITY:
        return None
    # Fill weighs heavily: a quad stretched to take in a finger is larger but partly empty, and must lose
    # to the tighter quad of the page alone.
    return _Candidate(quad, quad_area / frame_area * fill**8 * rect)


def _snap_to_contour(quad: np.ndarray, points: np.ndarray) -> NDArray[np.float32] | None:
    """Fit each side's line to the contour points along its middle part.

    Polygon vertices sit on a card's rounded corners and jump with fingers; a line through hundreds of edge
    points on the straight middle of each side does not, and meets its neighbour at the true corner.
    """
    lines = []
    for i in range(4):
        p, q = quad[i].astype(np.float64), quad[(i + 1) % 4].astype(np.float64)
        length = float(np.linalg.norm(q - p))
        if length < 10:
            return None
        d = (q - p) / length
        rel = points.astype(np.float64) - p
        along = rel @ d
        across = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0])
        near = (along > 0.1 * length) & (along < 0.9 * length) & (across < max(2.0, 0.03 * length))
        if int(near.sum()) < 8:
            return None
        lines.append(_fit_line(points[near]))
    found = _corners(lines)
    if found is None:
        return None
    result = found.astype(np.float32)
    if float(np.max(np.linalg.norm(result - quad, axis=1))) > 0.15 * float(np.linalg.norm(quad[2] - quad[0])):
        return None
    return result


def _quad_from_longest_edges(poly: np.ndarray) -> NDArray[np.float32] | None:
    n = len(poly)
    if n > 10:
        return None
    ends = np.roll(poly, -1, axis=0)
    lengths = np.linalg.norm(ends - poly, axis=1)
    keep = np.sort(np.argsort(lengths)[-4:])
    if float(lengths[keep].sum()) < 0.8 * float(lengths.sum()):
        return None  # the shape is not dominated by four straight sides
    lines = [(poly[i], (ends[i] - poly[i]) / lengths[i]) for i in keep]
    corners = []
    for i in range(4):
        point = _intersect(lines[i - 1], lines[i])
        if point is None:
            return None
        corners.append(point)
    return np.array(corners, dtype=np.float32)


def _rectangularity(quad: np.ndarray) -> float:
    """1.0 for right angles, falling towards 0 as an interior angle leaves 90 degrees (perspective allowed)."""
    worst = 0.0
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = a - b, c - b
        cos = abs(float(np.dot(v1, v2)) / (float(np.linalg.norm(v1) * np.linalg.norm(v2)) + 1e-9))
        worst = max(worst, cos)
    return 1.0 - worst


def _refine(gray: np.ndarray, quad: np.ndarray, scale: float) -> NDArray[np.float32] | None:
    """Fit a line to the strongest edge along each side, then intersect neighbouring lines."""
    quad = order_corners(quad).astype(np.float64)
    reach = max(4.0, 4.0 / scale)  # the coarse corners are good to ~2-3 small-image pixels
    offsets = np.arange(-reach, reach + 0.5, 1.0)
    sigma = max(0.8, 0.5 / scale)
    # Smoothing only the sampled profiles (along the normal) instead of the whole 10 MP image saves ~15 ms;
    # noise along the edge is averaged out by the line fit anyway.
    kernel = cv2.getGaussianKernel(2 * math.ceil(2.5 * sigma) + 1, sigma).astype(np.float32)
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(4):
        p, q = quad[i], quad[(i + 1) % 4]
        length = float(np.linalg.norm(q - p))
        if length < 8:
            return None
        direction = (q - p) / length
        normal = np.array([-direction[1], direction[0]])
        t = np.linspace(0.08, 0.92, EDGE_SAMPLES)
        base = p[None, :] + t[:, None] * (q - p)[None, :]
        pts = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
        map_x = pts[:, :, 0].astype(np.float32)
        map_y = pts[:, :, 1].astype(np.float32)
        profile = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        profile = cv2.sepFilter2D(profile.astype(np.float32), cv2.CV_32F, kernel, np.ones((1, 1), np.float32),
                                  borderType=cv2.BORDER_REPLICATE)
        grad = np.abs(np.diff(profile, axis=1))
        idx = np.argmax(grad, axis=1)
        strength = grad[np.arange(len(idx)), idx]
        inner = (idx > 0) & (idx < grad.shape[1] - 1)
        sub = idx.astype(np.float64)
        j = np.clip(idx, 1, grad.shape[1] - 2)
        g0, g1, g2 = (grad[np.arange(len(j)), j + k] for k in (-1, 0, 1))
        denom = g0 - 2 * g1 + g2
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.where(inner & (np.abs(denom) > 1e-6), 0.5 * (g0 - g2) / denom, 0.0)
        sub = sub + np.clip(delta, -0.5, 0.5) + 0.5  # diff between samples k and k+1 sits at k+0.5
        keep = strength > max(4.0, 0.35 * float(np.median(strength)))
        if int(keep.sum()) < EDGE_SAMPLES // 3:
            return None
        offs = offsets[0] + sub
        # A curled edge bows outwards between corners that stay put: fit offset = a + b*t + c*4t(1-t) (the
        # simplest bow that vanishes at both corners) and, for a clear outward bow, keep only the chord a + b*t,
        # which passes through the true corners.
        bow_shape = 4.0 * t * (1.0 - t)
        design = np.stack([np.ones_like(t), t, bow_shape], axis=1)[keep]
        coef = np.linalg.lstsq(design, offs[keep], rcond=None)[0]
        outward = float(coef[2]) * _outward_sign(quad, i)
        if outward > max(1.5, 0.5 / scale):
            offs = offs - coef[2] * bow_shape
        edge_pts = base[keep] + (offs[keep][:, None]) * normal[None, :]
        lines.append(_fit_line(edge_pts))
    refined = _corners(lines)
    if refined is None:
        return None
    diag = math.hypot(*(gray.shape[:2]))
    if float(np.max(np.linalg.norm(refined - quad, axis=1))) > max(0.03 * diag, 3 * reach):
        return None  # the edge search latched onto something else; the coarse quad is safer
    return refined.astype(np.float32)


def _outward_sign(quad: np.ndarray, i: int) -> float:
    """-1 when side i's normal (-dy, dx) points into the quad, +1 when it points out."""
    p, q = quad[i], quad[(i + 1) % 4]
    d = q - p
    to_centre = quad.mean(axis=0) - (p + q) / 2
    return -1.0 if float(-d[1] * to_centre[0] + d[0] * to_centre[1]) > 0 else 1.0


def _fit_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, unit direction) of a robust line fit; Huber keeps stray points (text, a finger) from pulling it."""
    fitted = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4)
    return fitted[2:4].astype(np.float64), fitted[0:2].astype(np.float64)


def _corners(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Corner i joins side i-1 (ending at i) and side i (starting at i); None if two neighbours are parallel."""
    corners = []
    for i in range(4):
        point = _intersect(lines[i - 1], lines[i])
        if point is None:
            return None
        corners.append(point)
    return np.array(corners)


def _intersect(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    (p1, d1), (p2, d2) = a, b
    matrix = np.array([[d1[0], -d2[0]], [d1[1], -d2[1]]])
    if abs(float(np.linalg.det(matrix))) < 1e-6:
        return None
    t = np.linalg.solve(matrix, p2 - p1)
    result: np.ndarray = p1 + t[0] * d1
    return result
