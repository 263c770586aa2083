"""One thread that owns one device: every call into the device runs there, in the order it was asked.

Serial ports, PC/SC contexts and cv2.VideoCapture are not safe to share between threads, and the GUI thread must
never wait on hardware. Callers get futures. The assertion makes a call that somehow reaches the device from
another thread fail loudly in tests instead of corrupting a half-read frame or APDU.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class OwningThread:
    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._thread: threading.Thread | None = None

    def run(self, fn: Callable[[], T]) -> Future[T]:
        def on_owner() -> T:
            current = threading.current_thread()
            if self._thread is None:
                self._thread = current
            assert current is self._thread, "device used outside its owning thread"
            return fn()

        return self._executor.submit(on_owner)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
