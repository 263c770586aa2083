from __future__ import annotations

import threading

from devices.camera.factory import create_camera
from devices.camera.owner import CameraOwner


def test_every_camera_call_runs_on_one_thread_that_is_not_the_callers() -> None:
    camera = create_camera("sim://a4?seed=1")
    seen: list[threading.Thread] = []
    original = camera.preview_frame

    def spy(timeout: float = 2.0):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread())
        return original(timeout)

    camera.preview_frame = spy  # type: ignore[method-assign]
    owner = CameraOwner(camera)
    owner.open().result()
    frames = [owner.preview_frame().result() for _ in range(3)]
    still = owner.capture_still().result()
    owner.close()
    assert all(f.shape[1] <= 1280 for f in frames) and still.shape[1] > frames[0].shape[1]
    assert len(set(seen)) == 1 and seen[0] is not threading.current_thread()
