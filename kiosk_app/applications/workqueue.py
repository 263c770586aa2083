"""The agent's work queue (代办工作台): applications grouped by what the agent has to do next.

Buckets: drafts to finish, filings still waiting to reach the platform, cases returned for correction (补正)
with the platform's latest reason, results to hand over (出件), and what has been handed over. The queue covers
the whole station, kiosk filings included: whoever is on duty hands over a result, not only the one who filed.
Names and ID numbers are always masked here; a screen shows the clear values only in one case's detail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.lifecycle import STATE_LABELS, State
from kiosk_app.errors import InvalidInput
from kiosk_app.identity.masking import mask_id_number, mask_name
from local_db.database import Database
from local_db.models import Applicant, Application, ApplicationMaterial, OutboxEntry, StatusEvent

BUCKETS: Final = ("drafts", "pending_sync", "correction", "result_ready", "delivered", "all")
BUCKET_LABELS: Final = {"drafts": "草稿", "pending_sync": "待同步", "correction": "待补正",
                        "result_ready": "待出件", "delivered": "已出件", "all": "全部"}
# Outbox states that mean "not yet at the platform"; quarantined work has not arrived either, and an agent
# must see it is stuck rather than believe it went.
_UNSENT: Final = ("pending", "in_flight", "quarantined")
# The promised date stops mattering once the platform has decided (or the applicant withdrew); a draft has not
# started the clock.
_CLOCK_STOPPED: Final = frozenset({State.DRAFT, State.APPROVED, State.REJECTED, State.RESULT_READY,
                                   State.DELIVERED, State.WITHDRAWN})


@dataclass(frozen=True)
class QueueRow:
    id: str
    tracking_no: str
    item_name: str
    state: str
    state_label: str
    applicant_masked: str  # "叶** 3311**********1220"
    submitted_at: datetime | None
    promised_date: date | None
    reason: str | None  # the platform's latest reason for the current state (补正 what, why refused)
    overdue: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "tracking_no": self.tracking_no, "item_name": self.item_name, "state": self.state,
                "state_label": self.state_label, "applicant": self.applicant_masked,
                "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
                "promised_date": self.promised_date.isoformat() if self.promised_date else None,
                "reason": self.reason, "overdue": self.overdue}


def _unsent() -> ColumnElement[bool]:
    application_entry = exists().where(OutboxEntry.kind == "application", OutboxEntry.ref_id == Application.id,
                                       OutboxEntry.state.in_(_UNSENT))
    blob_entry = exists().where(
        ApplicationMaterial.application_id == Application.id,
        OutboxEntry.kind == "blob", OutboxEntry.ref_id == ApplicationMaterial.blob_sha256,
        OutboxEntry.state.in_(_UNSENT))
    return or_(application_entry, blob_entry)


_FILTERS: Final[dict[str, Callable[[], ColumnElement[bool] | None]]] = {
    "drafts": lambda: Application.state == State.DRAFT.value,
    "pending_sync": lambda: or_(Application.state == State.SUBMITTED.value, _unsent()),
    "correction": lambda: Application.state == State.CORRECTION_REQUESTED.value,
    "result_ready": lambda: Application.state == State.RESULT_READY.value,
    "delivered": lambda: Application.state == State.DELIVERED.value,
    "all": lambda: None,
}


def _bucket_filter(bucket: str) -> ColumnElement[bool] | None:
    try:
        return _FILTERS[bucket]()
    except KeyError:
        names = "、".join(f"{b}（{BUCKET_LABELS[b]}）" for b in BUCKETS)
        raise InvalidInput(f"没有名为“{bucket}”的分组，可选：{names}。", field="bucket") from None


def _ordered(query: Select[Any], bucket: str) -> Select[Any]:
    # Work to do: the nearest promise first. History: the latest first.
    if bucket in ("delivered", "all"):
        return query.order_by(Application.updated_at.desc(), Application.id)
    return query.order_by(Application.promised_date.is_(None), Application.promised_date,
                          Application.created_at, Application.id)


def _applicant_masked(identity: dict[str, Any]) -> str:
    name = str(identity.get("name") or "")
    number = str(identity.get("id_number") or "")
    return " ".join(part for part in (mask_name(name), mask_id_number(number)) if part)


def _latest_reasons(session: Session, apps: list[Application]) -> dict[str, str | None]:
    """The reason on each application's latest event into its current state, in one query."""
    if not apps:
        return {}
    latest = (
        select(StatusEvent.application_id, func.max(StatusEvent.id).label("event_id"))
        .join(Application, and_(Application.id == StatusEvent.application_id,
                                Application.state == StatusEvent.to_state))
        .where(StatusEvent.application_id.in_([a.id for a in apps]))
        .group_by(StatusEvent.application_id)
        .subquery()
    )
    rows = session.execute(select(StatusEvent.application_id, StatusEvent.reason)
                           .join(latest, StatusEvent.id == latest.c.event_id))
    return {app_id: reason for app_id, reason in rows}


def work_queue(db: Database, operator: Operator | None, *, bucket: str, limit: int = 200,
               today: date | None = None) -> list[QueueRow]:
    agent = require(operator, Permission.VIEW_QUEUE)
    condition = _bucket_filter(bucket)
    day = today or date.today()
    limit = max(1, min(limit, 1000))

    def job(session: Session) -> list[QueueRow]:
        ensure_active(session, agent)
        query = select(Application, Applicant.identity).join(Applicant, Application.applicant_id == Applicant.id)
        if condition is not None:
            query = query.where(condition)
        found = [(app, identity) for app, identity in session.execute(_ordered(query, bucket).limit(limit))]
        reasons = _latest_reasons(session, [app for app, _ in found])
        rows = []
        for app, identity in found:
            state = State(app.state)
            overdue = (state not in _CLOCK_STOPPED and app.promised_date is not None and app.promised_date < day)
            rows.append(QueueRow(app.id, app.tracking_no, app.item_name, app.state, STATE_LABELS[state],
                                 _applicant_masked(identity), app.submitted_at, app.promised_date,
                                 reasons.get(app.id), overdue))
        return rows

    return db.read(job)


def bucket_counts(db: Database, operator: Operator | None) -> dict[str, int]:
    """How many applications each bucket holds, for the badges on the queue's tabs."""
    agent = require(operator, Permission.VIEW_QUEUE)

    def job(session: Session) -> dict[str, int]:
        ensure_active(session, agent)
        counts = {}
        for bucket in BUCKETS:
            query = select(func.count()).select_from(Application)
            condition = _bucket_filter(bucket)
            if condition is not None:
                query = query.where(condition)
            counts[bucket] = int(session.scalar(query) or 0)
        return counts

    return db.read(job)
