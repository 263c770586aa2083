"""Ground truth of the synthetic scenes: the corners must be exactly where the page is."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from devices.simulators.synthetic_pages import KINDS, Scene, flat_page, render_scene, synthetic_set

SMALL = (1280, 960)  # most checks do not need 8 MP; the timing test uses the full size


def _page_mask(scene: Scene, shrink: float = 0.0) -> np.ndarray:
    """Mask of the page quad, optionally shrunk toward its centre by `shrink` (fraction)."""
    c = scene.corners.astype(np.float64)
    centre = c.mean(axis=0)
    quad = centre + (c - centre) * (1 - shrink)
    mask = np.zeros(scene.image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad + 0.5).astype(np.int32), 255)
    return mask


@pytest.mark.parametrize("kind", ["a4", "idcard_front", "idcard_back"])
@pytest.mark.parametrize("background", ["dark", "light", "wood"])
def test_corners_inside_and_page_differs_from_desk(kind: str, background: str) -> None:
    scene = render_scene(kind, seed=5, size=SMALL, background=background, perspective=0.4, rotation_deg=8)
    h, w = scene.image.shape[:2]
    assert scene.image.dtype == np.uint8 and scene.image.shape == (h, w, 3) == (960, 1280, 3)
    assert scene.corners.shape == (4, 2) and scene.corners.dtype == np.float32
    assert (scene.corners[:, 0] >= -0.5).all() and (scene.corners[:, 0] <= w - 0.5).all()
    assert (scene.corners[:, 1] >= -0.5).all() and (scene.corners[:, 1] <= h - 0.5).all()
    # Clockwise in image coordinates (y down): positive shoelace area.
    x, y = scene.corners[:, 0], scene.corners[:, 1]
    assert float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) > 0
    inside = _page_mask(scene, shrink=0.05) > 0
    outside = cv2.dilate(_page_mask(scene), np.ones((15, 15), np.uint8)) == 0
    # Per channel: a pale blue card on a light desk differs mostly in tint, as it does in life.
    diff = np.abs(scene.image[inside].mean(axis=0) - scene.image[outside].mean(axis=0))
    assert diff.max() > 5, diff
    assert scene.has_page


def test_corners_mark_the_edge_precisely() -> None:
    """Just inside each edge is paper, just outside is desk: the truth is subpixel, not a few pixels off."""
    scene = render_scene("a4", seed=1, size=SMALL, background="dark", perspective=0.3, rotation_deg=-5)
    gray = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    c = scene.corners.astype(np.float64)
    for i in range(4):
        a, b = c[i], c[(i + 1) % 4]
        along = (b - a) / np.linalg.norm(b - a)
        normal = np.array([-along[1], along[0]])  # points into the page for a clockwise quad (y down)
        for t in np.linspace(0.2, 0.8, 7):
            p = a + (b - a) * t
            inner = gray[round((p + 2.5 * normal)[1]), round((p + 2.5 * normal)[0])]
            outer = gray[round((p - 2.5 * normal)[1]), round((p - 2.5 * normal)[0])]
            assert inner > 150 and outer < 110, (i, t, inner, outer)


def test_deterministic_per_seed() -> None:
    args = dict(size=SMALL, background="random", perspective=0.5, finger=True, shadow=0.4, noise=0.2, curl=0.5)
    a = render_scene("a4", seed=7, **args)  # type: ignore[arg-type]
    b = render_scene("a4", seed=7, **args)  # type: ignore[arg-type]
    c = render_scene("a4", seed=8, **args)  # type: ignore[arg-type]
    assert np.array_equal(a.image, b.image) and np.array_equal(a.corners, b.corners)
    assert not np.array_equal(a.corners, c.corners)
    assert a.params == b.params


def test_cut_off_puts_part_of_the_page_outside() -> None:
    for seed in range(6):
        scene = render_scene("a4", seed=seed, size=SMALL, cut_off=True, scale=0.4)
        h, w = scene.image.shape[:2]
        xs, ys = scene.corners[:, 0], scene.corners[:, 1]
        assert xs.min() < -0.5 or ys.min() < -0.5 or xs.max() > w - 0.5 or ys.max() > h - 0.5


def test_empty_desk() -> None:
    scene = render_scene("none", seed=2, size=SMALL)
    assert np.isnan(scene.corners).all() and scene.corners.shape == (4, 2)
    assert not scene.has_page
    gray = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)
    assert gray.max() < 150  # dark desk, nothing page-like on it


def test_degradations_change_what_they_should() -> None:
    base = render_scene("a4", seed=4, size=SMALL, background="dark")
    inside = _page_mask(base, shrink=0.1) > 0
    gray = cv2.cvtColor(base.image, cv2.COLOR_BGR2GRAY)

    glare = render_scene("a4", seed=4, size=SMALL, background="dark", glare=0.05)
    bright = cv2.cvtColor(glare.image, cv2.COLOR_BGR2GRAY) >= 250
    assert bright.sum() > 2 * (gray >= 250).sum() + 0.005 * inside.sum()

    dark = render_scene("a4", seed=4, size=SMALL, background="dark", darkness=0.6)
    assert cv2.cvtColor(dark.image, cv2.COLOR_BGR2GRAY)[inside].mean() < 0.7 * gray[inside].mean()

    blurred = render_scene("a4", seed=4, size=SMALL, background="dark", blur_sigma=3)
    sharp_var = cv2.Laplacian(gray, cv2.CV_64F).var()
    assert cv2.Laplacian(cv2.cvtColor(blurred.image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var() < 0.3 * sharp_var

    noisy = render_scene("a4", seed=4, size=SMALL, background="dark", noise=0.5)
    assert float(np.abs(noisy.image.astype(int) - base.image.astype(int)).mean()) > 3

    fingers = render_scene("a4", seed=4, size=SMALL, background="dark", finger=True)
    hsv = cv2.cvtColor(fingers.image, cv2.COLOR_BGR2HSV)
    skin = (hsv[..., 0] < 25) & (hsv[..., 1] > 40) & (hsv[..., 2] > 150)
    assert skin.sum() > 500

    for curl in (0.5, 1.0):
        curled = render_scene("a4", seed=4, size=SMALL, background="dark", curl=curl)
        assert np.array_equal(curled.corners, base.corners)  # curl bends the edge, not the corners
        assert not np.array_equal(curled.image, base.image)

    shadowed = render_scene("a4", seed=4, size=SMALL, background="dark", shadow=0.8)
    assert cv2.cvtColor(shadowed.image, cv2.COLOR_BGR2GRAY)[inside].min() < gray[inside].min() + 1


def test_id_card_has_id1_aspect_and_rounded_corners() -> None:
    flat = flat_page("idcard_front", 0)
    assert abs(flat.shape[1] / flat.shape[0] - 85.6 / 54.0) < 0.01
    assert abs(flat_page("a4", 0).shape[0] / flat_page("a4", 0).shape[1] - 297 / 210) < 0.01
    scene = render_scene("idcard_back", seed=0, size=SMALL, background="dark", scale=0.5)
    x, y = scene.corners[0]
    corner_px = scene.image[round(y + 1), round(x + 1)]
    assert corner_px.mean() < 100  # the square corner of the card rectangle is desk: the card is rounded


def test_unknown_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        render_scene("passport")
    with pytest.raises(ValueError):
        render_scene("a4", background="marble")


def test_synthetic_set_mix() -> None:
    scenes = list(synthetic_set(12, seed=1, size=SMALL))
    assert len(scenes) == 12
    assert {s.kind for s in scenes} == {"a4", "idcard_front", "idcard_back"}
    assert {s.params["background"] for s in scenes} == {"dark", "light", "wood"}
    assert any(s.params["finger"] for s in scenes) or any(s.params["shadow"] for s in scenes)
    again = list(synthetic_set(3, seed=1, size=SMALL))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(scenes, again, strict=False))
    assert all(set(KINDS) >= {s.kind} for s in scenes)


def test_full_size_render_is_fast() -> None:
    render_scene("a4", seed=0)  # warm the flat-page and noise caches
    render_scene("a4", seed=0, noise=0.2)
    start = time.perf_counter()
    for seed in range(3):
        render_scene("a4", seed=seed * 8, perspective=0.3, shadow=0.3, finger=True)
    per_scene = (time.perf_counter() - start) / 3
    assert per_scene < 0.5  # ~60 ms on a 2-core CI box; generous bound, this is not a benchmark
