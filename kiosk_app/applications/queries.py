"""What the queue, the progress query and `kiosk apps` show about applications. Names and numbers are masked
unless the caller asks for the clear values (a logged-in agent looking at one case)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from kiosk_app.applications.lifecycle import STATE_LABELS, State
from kiosk_app.errors import NotFound
from kiosk_app.identity import Identity
from local_db.database import Database
from local_db.models import Applicant, Application, StatusEvent


@dataclass(frozen=True)
class ApplicationSummary:
    id: str
    tracking_no: str
    item_code: str
    item_name: str
    state: str
    applicant: str  # masked name
    submitted_at: datetime | None
    promised_date: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tracking_no": self.tracking_no,
            "item_code": self.item_code,
            "item_name": self.item_name,
            "state": self.state,
            "state_label": STATE_LABELS[State(self.state)],
            "applicant": self.applicant,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "promised_date": self.promised_date.isoformat() if self.promised_date else None,
        }


def _identity(applicant: Applicant) -> Identity:
    return Identity.from_json_dict(applicant.identity)


def list_applications(
    db: Database, *, state: str | None = None, id_number: str | None = None, limit: int = 200
) -> list[ApplicationSummary]:
    lookup = db.cipher.lookup_hash(id_number, "id_number") if id_number else None

    def job(session: Session) -> list[ApplicationSummary]:
        query = (
            select(Application, Applicant)
            .join(Applicant, Application.applicant_id == Applicant.id)
            .order_by(Application.created_at.desc())
            .limit(limit)
        )
        if state:
            query = query.where(Application.state == State(state).value)
        if lookup:
            query = query.where(Applicant.id_lookup == lookup)
        return [
            ApplicationSummary(app.id, app.tracking_no, app.item_code, app.item_name, app.state,
                               _identity(applicant).to_json_dict(masked=True)["name"] or "",
                               app.submitted_at, app.promised_date)
            for app, applicant in session.execute(query)
        ]

    return db.read(job)


def application_detail(db: Database, id_or_tracking_no: str, *, unmask: bool = False) -> dict[str, Any]:
    key = id_or_tracking_no.strip()

    def job(session: Session) -> dict[str, Any] | None:
        app = session.scalar(
            select(Application)
            .where(or_(Application.id == key, Application.tracking_no == key))
            .options(selectinload(Application.materials))
        )
        if app is None:
            return None
        applicant = session.get(Applicant, app.applicant_id)
        assert applicant is not None
        events = session.scalars(
            select(StatusEvent).where(StatusEvent.application_id == app.id).order_by(StatusEvent.id)
        )
        identity = _identity(applicant)
        return {
            "id": app.id,
            "tracking_no": app.tracking_no,
            "state": app.state,
            "state_label": STATE_LABELS[State(app.state)],
            "item_code": app.item_code,
            "item_name": app.item_name,
            "catalog_version": app.catalog_version,
            "station_code": app.station_code,
            "channel": app.channel,
            "applicant": identity.to_json_dict(masked=not unmask),
            "form": app.form_data if unmask else {k: "***" for k in app.form_data},
            "deferred_materials": app.deferred_materials,
            "delivery_method": app.delivery_method,
            "promised_date": app.promised_date.isoformat() if app.promised_date else None,
            "case_no": app.case_no,
            "version": app.version,
            "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
            "materials": [
                {"code": m.material_code, "name": m.material_name, "source": m.source,
                 "sha256": m.blob_sha256, "elicence": m.elicence_ref}
                for m in app.materials
            ],
            "events": [
                {"from": e.from_state, "to": e.to_state, "at": e.occurred_at.isoformat(), "actor": e.actor,
                 "reason": e.reason, "department": e.department, "source": e.source}
                for e in events
            ],
        }

    detail = db.read(job)
    if detail is None:
        raise NotFound(f"没有找到编号为 {key[:64]} 的申请，请核对受理编号。")
    return detail
