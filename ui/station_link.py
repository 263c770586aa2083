"""The screens' hold on the station: its store, devices and sync, opened on a worker once the home screen is up.

Opening the station (SQLAlchemy, the ORM models, the key, perhaps a migration, the catalogue) takes about twice as
long as putting the home screen on the glass, and the home screen needs none of it: only the station's name,
which is peeked at directly. So a kiosk shows its tiles first and opens the station behind them. A page that needs
the station before it is open (a tap in the first half second) waits for it; the wait is short and only at boot.
Tests and the demo hand over a station they already opened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk_app.station import Station
    from kiosk_app.station_devices import StationDevices
    from kiosk_app.syncing.service import StationSync


@dataclass
class StationServices:
    station: Station
    devices: StationDevices
    sync: StationSync | None  # None until the station is enrolled with a platform


def services_for(station: Station) -> StationServices:
    """Wire the devices and (for an enrolled station) sync to an open station."""
    from kiosk_app.station_devices import StationDevices
    from kiosk_app.syncing.enrolment import is_provisioned

    sync = None
    if is_provisioned(station):
        from kiosk_app.syncing.service import StationSync  # HTTP and crypto: only for a provisioned station

        sync = StationSync(station)
    return StationServices(station, StationDevices(station.settings), sync)


class StationLink:
    """Services that are open already, or an opener that runs once on a worker (or inline when needed first)."""

    def __init__(self, name: str, *, services: StationServices | None = None,
                 opener: Callable[[], StationServices] | None = None) -> None:
        if (services is None) == (opener is None):
            raise ValueError("give either open services or an opener")
        self.name = name  # the station's name, known before it opens
        self._opener = opener
        self._services = services
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        if services is not None:
            self._done.set()

    @classmethod
    def of(cls, station: Station) -> StationLink:
        return cls(station.settings.get("station.name"), services=services_for(station))

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._error is None

    def open(self) -> StationServices:
        """Open the station unless it is open or opening elsewhere; the services, or the opener's error."""
        with self._lock:
            opener, self._opener = self._opener, None
        if opener is not None:
            try:
                self._services = opener()
                self.name = self._services.station.settings.get("station.name")
            except BaseException as exc:  # kept for every later caller; the screen shows it
                self._error = exc
            finally:
                self._done.set()
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._services is not None
        return self._services
