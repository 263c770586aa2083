"""Deciding when to take the picture by itself: the page is found, sharp, and has stopped moving.

Pure logic fed with timestamps, so the screens, the CLI and the tests drive it the same way. Manual capture
never goes through here: the caller simply takes a still.
"""

from __future__ import annotations

import math

import numpy as np


class AutoCapture:
    def __init__(self, stable_seconds: float = 0.5, max_motion: float = 0.01, min_sharpness: float = 0.0) -> None:
        """`max_motion` is a fraction of the frame diagonal each corner may wander from where it settled."""
        self.stable_seconds = stable_seconds
        self.max_motion = max_motion
        self.min_sharpness = min_sharpness
        self._anchor: np.ndarray | None = None
        self._since: float | None = None

    def reset(self) -> None:
        self._anchor = None
        self._since = None

    def update(self, timestamp: float, quad: np.ndarray | None, sharpness: float,
               frame_shape: tuple[int, ...] | None = None) -> bool:
        """True once the page has stayed put and sharp for `stable_seconds`; any disturbance restarts the wait.

        `frame_shape` gives the diagonal motion is measured against; without it the quad's own diagonal is used.
        """
        if quad is None or sharpness < self.min_sharpness:
            self.reset()
            return False
        pts = np.asarray(quad, dtype=np.float64).reshape(4, 2)
        if frame_shape is not None:
            diagonal = math.hypot(frame_shape[0], frame_shape[1])
        else:
            diagonal = float(np.linalg.norm(pts[2] - pts[0]))
        if self._anchor is None or self._since is None:
            self._anchor, self._since = pts, timestamp
            return False
        # Compared with where the page settled, not the previous frame: a slow drift must also restart the wait.
        motion = float(np.max(np.linalg.norm(pts - self._anchor, axis=1)))
        if motion > self.max_motion * diagonal:
            self._anchor, self._since = pts, timestamp
            return False
        return timestamp - self._since >= self.stable_seconds
