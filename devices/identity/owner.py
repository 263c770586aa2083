"""One owning thread per reader: every call into a backend runs there, in order.

Serial ports and PC/SC contexts are not safe to share between threads, and the GUI thread must never wait on a
card. `ReaderOwner` gives callers futures (or blocking helpers for the CLI); `cancel()` interrupts a wait from
any thread. The assertion in `_on_owner` is there so a backend called from elsewhere fails loudly in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from devices.identity.card import CardRecord
from devices.identity.reader import Health, IdentityReader

T = TypeVar("T")


class ReaderOwner:
    def __init__(self, reader: IdentityReader, name: str = "id-reader") -> None:
        self.reader = reader
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self, fn: Callable[[], T]) -> Future[T]:
        def on_owner() -> T:
            current = threading.current_thread()
            if self._thread is None:
                self._thread = current
            assert current is self._thread, "reader used outside its owning thread"
            return fn()

        return self._executor.submit(on_owner)

    def open(self) -> Future[None]:
        return self._run(self.reader.open)

    def read_card(self, timeout: float) -> Future[CardRecord]:
        self._cancel.clear()
        return self._run(lambda: self.reader.read_card(timeout, self._cancel))

    def wait_for_removal(self, timeout: float) -> Future[bool]:
        self._cancel.clear()
        return self._run(lambda: self.reader.wait_for_removal(timeout, self._cancel))

    def health(self) -> Future[Health]:
        return self._run(self.reader.health)

    def cancel(self) -> None:
        """Stop the current wait (read or removal) promptly; safe from any thread."""
        self._cancel.set()

    def close(self) -> None:
        self.cancel()
        self._run(self.reader.close).result()
        self._executor.shutdown(wait=True)
