"""Auto-capture fires only after the page has been present, sharp and still for the whole window."""

from __future__ import annotations

import numpy as np

from kiosk_app.materials.capture import AutoCapture

FRAME = (720, 1280, 3)
DIAG = float(np.hypot(720, 1280))
QUAD = np.array([[300, 100], [900, 110], [890, 650], [310, 640]], np.float32)


def feed(auto: AutoCapture, start: float, seconds: float, quad: np.ndarray | None = QUAD, sharp: float = 1000.0,
         fps: float = 20.0) -> list[bool]:
    return [auto.update(start + i / fps, quad, sharp, FRAME) for i in range(int(seconds * fps) + 1)]


def test_fires_after_half_a_second_of_stillness() -> None:
    auto = AutoCapture(stable_seconds=0.5, max_motion=0.01, min_sharpness=100)
    results = feed(auto, 0.0, 0.6)
    first = results.index(True)
    assert first == 10  # 10 frames at 20 fps = 0.5 s after the first sighting


def test_small_jitter_within_one_percent_still_counts_as_still() -> None:
    auto = AutoCapture()
    rng = np.random.default_rng(1)
    fired = False
    for i in range(15):
        jitter = rng.uniform(-0.004, 0.004, (4, 2)) * DIAG
        fired = auto.update(i * 0.05, QUAD + jitter.astype(np.float32), 500.0, FRAME)
    assert fired


def test_movement_restarts_the_wait() -> None:
    auto = AutoCapture()
    assert not any(feed(auto, 0.0, 0.4))
    moved = QUAD + np.float32(0.02 * DIAG)
    assert auto.update(0.45, moved, 500.0, FRAME) is False
    assert auto.update(0.9, moved, 500.0, FRAME) is False  # only 0.45 s since it settled again
    assert auto.update(0.96, moved, 500.0, FRAME) is True


def test_slow_drift_does_not_fire() -> None:
    auto = AutoCapture()
    step = np.float32(0.003 * DIAG)  # under 1% per frame, but it adds up
    fired = [auto.update(i * 0.05, QUAD + i * step, 500.0, FRAME) for i in range(30)]
    assert not any(fired)


def test_losing_the_page_or_sharpness_restarts() -> None:
    auto = AutoCapture(min_sharpness=100)
    feed(auto, 0.0, 0.4)
    assert auto.update(0.42, None, 500.0, FRAME) is False
    assert auto.update(0.5, QUAD, 500.0, FRAME) is False
    assert auto.update(0.8, QUAD, 50.0, FRAME) is False  # blurred frame (page moving fast)
    assert auto.update(0.85, QUAD, 500.0, FRAME) is False
    assert auto.update(1.36, QUAD, 500.0, FRAME) is True


def test_without_frame_shape_uses_the_quad_diagonal() -> None:
    auto = AutoCapture()
    assert auto.update(0.0, QUAD, 1.0) is False
    assert auto.update(0.6, QUAD + 2, 1.0) is True
