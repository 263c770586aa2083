"""Corner accuracy of the page detector against the synthetic scenes' exact ground truth."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.simulators.synthetic_pages import render_scene, synthetic_set
from kiosk_app.materials.detection import detect_page, order_corners, scale_quad

PREVIEW = (1280, 720)


def corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Worst corner distance, allowing for the truth starting at the page's own top-left (rotated pages)."""
    return min(float(np.linalg.norm(np.roll(found, k, axis=0) - truth, axis=1).max()) for k in range(4))


def test_corners_within_1_5_percent_of_diagonal_on_mixed_scenes() -> None:
    diagonal = math.hypot(*PREVIEW)
    errors = []
    for seed in (1, 5, 11):
        for scene in synthetic_set(40, seed=seed, size=PREVIEW):
            quad = detect_page(scene.image)
            errors.append(math.inf if quad is None else corner_error(quad, scene.corners) / diagonal)
    assert float(np.percentile(errors, 95)) <= 0.015, sorted(errors)[-5:]


def test_no_page_gives_none() -> None:
    for seed in range(6):
        for background in ("dark", "light", "wood"):
            scene = render_scene("none", seed=seed, size=PREVIEW, background=background, shadow=0.4)
            assert detect_page(scene.image) is None, (seed, background)


def test_corners_are_clockwise_from_top_left_in_frame_coordinates() -> None:
    scene = render_scene("a4", seed=2, size=PREVIEW, rotation_deg=5)
    quad = detect_page(scene.image)
    assert quad is not None and quad.dtype == np.float32 and quad.shape == (4, 2)
    assert np.allclose(quad, order_corners(quad))
    tl, tr, br, bl = quad
    assert tl[0] < tr[0] and tl[1] < bl[1] and br[0] > bl[0] and br[1] > tr[1]


def test_full_resolution_still_is_as_accurate() -> None:
    scene = render_scene("idcard_front", seed=4, size=(3264, 2448), perspective=0.3, rotation_deg=-7)
    quad = detect_page(scene.image)
    assert quad is not None
    assert corner_error(quad, scene.corners) < 0.005 * math.hypot(3264, 2448)


def test_scale_quad_maps_preview_to_still() -> None:
    quad = np.array([[10, 20], [300, 20], [300, 200], [10, 200]], np.float32)
    big = scale_quad(quad, (360, 640), (1440, 2560))
    assert np.allclose(big[0], [(10 + 0.5) * 4 - 0.5, (20 + 0.5) * 4 - 0.5])
    assert np.allclose(scale_quad(big, (1440, 2560), (360, 640)), quad, atol=1e-4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 80), w=st.integers(1, 80), channels=st.sampled_from([0, 1, 3, 4]),
    seed=st.integers(0, 2**16), pattern=st.sampled_from(["noise", "flat", "box"]),
)
def test_random_small_images_never_raise(h: int, w: int, channels: int, seed: int, pattern: str) -> None:
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 0 else (h, w, channels)
    if pattern == "noise":
        image = rng.integers(0, 256, shape, dtype=np.uint8)
    elif pattern == "flat":
        image = np.full(shape, int(rng.integers(0, 256)), np.uint8)
    else:
        image = np.zeros(shape, np.uint8)
        image[h // 4: 3 * h // 4 + 1, w // 4: 3 * w // 4 + 1] = 255
    quad = detect_page(image)
    assert quad is None or quad.shape == (4, 2)
