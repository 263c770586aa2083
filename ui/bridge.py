"""The one sanctioned way back to the GUI thread.

Work (device I/O, database, image processing, sync) runs on worker threads; its result or error is handed
to a callback on the GUI thread through a queued Qt signal. Screens never block on a future: they submit and
carry on drawing. `pending` lets tests and the headless demo wait until the screen has caught up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Bridge(QObject):
    _finished = Signal(object, object, object, object)  # on_done, on_error, result, error

    def __init__(self, workers: int = 2) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ui-work")
        self._lock = threading.Lock()
        self.pending = 0
        self._closed = False
        self._finished.connect(self._deliver)  # emitted on workers; queued to the thread this object lives in

    def run(self, work: Callable[[], T], on_done: Callable[[T], None], on_error: Failed | None = None) -> None:
        """Run `work` on a worker; `on_done(result)` or `on_error(exc)` later on the GUI thread."""
        if self._closed:  # a timer firing while the window closes: nobody is left to show the result
            return
        self.watch(self._pool.submit(work), on_done, on_error)

    def watch(self, future: Future[T], on_done: Callable[[T], None], on_error: Failed | None = None) -> None:
        """Deliver a future someone else started (a device owner's) to the GUI thread."""
        with self._lock:
            self.pending += 1

        def finished(f: Future[T]) -> None:
            try:
                result, error = f.result(), None
            except BaseException as exc:  # handed to the screen, which shows it
                result, error = None, exc
            self._finished.emit(on_done, on_error, result, error)

        future.add_done_callback(finished)

    def _deliver(self, on_done: Done, on_error: Failed | None, result: Any, error: BaseException | None) -> None:
        with self._lock:
            self.pending -= 1
        if self._closed:  # the window that asked is gone; its widgets may be deleted already
            return
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            log.error("background work failed with nobody to tell", exc_info=error)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
