"""The day's figures on the agent's dashboard: what was filed, how, how much needed no trip, how people rated it.

"That day" is the station's local calendar day (timestamps are stored in UTC). Applications still in draft were
never filed and are not counted. 零跑腿 share: of the day's filings, those whose catalogue item needs no visit.
Figures carry counts only, never a person, so they need no masking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.lifecycle import STATE_LABELS, State
from kiosk_app.evaluations import LEVELS
from local_db.database import Database
from local_db.models import Application, Evaluation, OutboxEntry, ServiceItem

CHANNELS: Final = ("kiosk", "agent")
SATISFIED_LEVELS: Final = (4, 5)  # 满意 and 非常满意


@dataclass(frozen=True)
class ItemCount:
    item_code: str
    item_name: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"item_code": self.item_code, "item_name": self.item_name, "count": self.count}


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "label": self.label, "count": self.count}


@dataclass(frozen=True)
class DayFigures:
    day: date
    filed: int
    by_item: tuple[ItemCount, ...]  # most filed first
    by_state: tuple[StateCount, ...]  # in lifecycle order
    by_channel: dict[str, int]  # kiosk and agent always present
    zero_visit: int
    zero_visit_share: float | None  # None when nothing was filed
    evaluations_by_level: dict[int, int]  # 1..5 always present
    evaluations: int
    satisfaction_rate: float | None  # share of levels 4-5; None when nobody rated
    pending_sync: int  # outbox work not yet at the platform, now (not only that day's)
    quarantined_sync: int

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "filed": self.filed,
            "by_item": [c.to_json() for c in self.by_item],
            "by_state": [c.to_json() for c in self.by_state],
            "by_channel": dict(self.by_channel),
            "zero_visit": self.zero_visit,
            "zero_visit_share": self.zero_visit_share,
            "evaluations_by_level": {str(level): n for level, n in self.evaluations_by_level.items()},
            "evaluations": self.evaluations,
            "satisfaction_rate": self.satisfaction_rate,
            "pending_sync": self.pending_sync,
            "quarantined_sync": self.quarantined_sync,
        }


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The local day `day` as a UTC [start, end) range; `tz` defaults to the machine's zone."""
    start = datetime.combine(day, time.min)
    end = datetime.combine(day + timedelta(days=1), time.min)
    if tz is None:
        return start.astimezone().astimezone(UTC), end.astimezone().astimezone(UTC)
    return start.replace(tzinfo=tz).astimezone(UTC), end.replace(tzinfo=tz).astimezone(UTC)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts(session: Session, key: QueryableAttribute[Any], *where: ColumnElement[bool]) -> dict[Any, int]:
    """{value of `key`: number of rows} over the rows matching `where`."""
    return {value: int(n) for value, n in session.execute(select(key, func.count()).where(*where).group_by(key))}


def day_figures(db: Database, operator: Operator | None, day: date, *, tz: tzinfo | None = None) -> DayFigures:
    agent = require(operator, Permission.VIEW_FIGURES)
    start, end = day_bounds(day, tz)
    filed_that_day: tuple[ColumnElement[bool], ...] = (
        Application.created_at >= start, Application.created_at < end, Application.state != State.DRAFT.value)

    def job(session: Session) -> DayFigures:
        ensure_active(session, agent)
        by_item = tuple(
            ItemCount(code, name, int(n))
            for code, name, n in session.execute(
                select(Application.item_code, func.max(Application.item_name), func.count())
                .where(*filed_that_day).group_by(Application.item_code)
                .order_by(func.count().desc(), Application.item_code))
        )
        states = _counts(session, Application.state, *filed_that_day)
        by_state = tuple(StateCount(s.value, STATE_LABELS[s], states[s.value]) for s in State if s.value in states)
        channels = {c: 0 for c in CHANNELS}
        channels.update(_counts(session, Application.channel, *filed_that_day))
        zero_visit = session.scalar(
            select(func.count()).select_from(Application)
            .join(ServiceItem, ServiceItem.code == Application.item_code)
            .where(*filed_that_day, ServiceItem.visits == 0)) or 0
        levels = {level: 0 for level in sorted(LEVELS)}
        levels.update(_counts(session, Evaluation.level, Evaluation.created_at >= start,
                              Evaluation.created_at < end))
        pending = session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.state.in_(("pending", "in_flight")))) or 0
        quarantined = session.scalar(select(func.count()).select_from(OutboxEntry)
                                     .where(OutboxEntry.state == "quarantined")) or 0
        filed = sum(c.count for c in by_item)
        rated = sum(levels.values())
        return DayFigures(
            day=day, filed=filed, by_item=by_item, by_state=by_state, by_channel=channels,
            zero_visit=int(zero_visit), zero_visit_share=_share(int(zero_visit), filed),
            evaluations_by_level=levels, evaluations=rated,
            satisfaction_rate=_share(sum(levels[level] for level in SATISFIED_LEVELS), rated),
            pending_sync=int(pending), quarantined_sync=int(quarantined),
        )

    return db.read(job)
