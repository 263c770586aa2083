"""A reader on its own thread (devices.owning_thread); `cancel()` interrupts a wait from any thread."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from devices.identity.card import CardRecord
from devices.identity.reader import Health, IdentityReader
from devices.owning_thread import OwningThread


class ReaderOwner:
    def __init__(self, reader: IdentityReader, name: str = "id-reader") -> None:
        self.reader = reader
        self._thread = OwningThread(name)
        self._run = self._thread.run
        self._cancel = threading.Event()

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
        self._thread.shutdown()
