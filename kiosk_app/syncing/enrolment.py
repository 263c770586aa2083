"""Whether this station is enrolled with a platform: a cheap check that loads nothing of the sync machinery."""

from __future__ import annotations

from kiosk_app.station import Station
from local_db.models import DeviceEnrolment


def is_provisioned(station: Station) -> bool:
    return station.db.read(lambda s: s.get(DeviceEnrolment, 1)) is not None
