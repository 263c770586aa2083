"""Tracking numbers people can read aloud on the phone, made offline and unique per station.

Format: station code, local date, four-digit daily sequence, e.g. 331123001-20261125-0007. The counter row is
updated in the filing transaction, and the single database writer serialises filings, so two applications
can never draw the same number; if the clock jumps back to a day already used, that day's counter continues.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from local_db.models import TrackingSequence

TRACKING_RE: Final = re.compile(r"^(\d{6,12})-(\d{8})-(\d{4,})$")


def next_tracking_no(session: Session, station_code: str, today: date) -> str:
    day = today.strftime("%Y%m%d")
    row = session.scalar(
        select(TrackingSequence).where(
            TrackingSequence.station_code == station_code, TrackingSequence.day == day
        )
    )
    if row is None:
        row = TrackingSequence(station_code=station_code, day=day, last_seq=0)
        session.add(row)
    row.last_seq += 1
    return f"{station_code}-{day}-{row.last_seq:04d}"


def looks_like_tracking_no(text: str) -> bool:
    return TRACKING_RE.match(text.strip()) is not None
