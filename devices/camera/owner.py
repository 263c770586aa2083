"""A document camera on its own thread (devices.owning_thread): screens ask for frames without blocking."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from devices.camera.camera import DocumentCamera
from devices.owning_thread import OwningThread


class CameraOwner:
    def __init__(self, camera: DocumentCamera, name: str = "camera") -> None:
        self.camera = camera
        self._thread = OwningThread(name)

    def open(self) -> Future[None]:
        return self._thread.run(self.camera.open)

    def preview_frame(self, timeout: float = 2.0) -> Future[np.ndarray]:
        return self._thread.run(lambda: self.camera.preview_frame(timeout))

    def capture_still(self, timeout: float = 5.0) -> Future[np.ndarray]:
        return self._thread.run(lambda: self.camera.capture_still(timeout))

    def close(self) -> None:
        self._thread.run(self.camera.close).result()
        self._thread.shutdown()
