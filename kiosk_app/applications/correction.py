"""Resubmission after the platform asked for corrections (补正): new or replaced materials, maybe a new form.

The application keeps its UUID and case number and gets the next version; sync sends it as superseding the
version the platform holds. Blobs are stored before the transaction, as at filing, so a receipt for the
resubmission is a promise too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk_app import audit
from kiosk_app.applications.filing import (
    PRIORITY_APPLICATION,
    PRIORITY_BLOB,
    MaterialFile,
    add_blob_row,
)
from kiosk_app.applications.forms import validate_form
from kiosk_app.applications.lifecycle import IllegalTransition, State, move
from kiosk_app.catalog.library import CatalogLibrary
from kiosk_app.errors import InvalidInput, NotFound
from kiosk_app.identity import Identity
from local_db.database import Database
from local_db.models import Applicant, Application, ApplicationMaterial, OutboxEntry, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resubmitted:
    id: str
    tracking_no: str
    version: int
    replaced: tuple[str, ...]  # names of materials now supplied

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "tracking_no": self.tracking_no, "version": self.version,
                "replaced_materials": list(self.replaced)}


def resubmit_correction(db: Database, catalog: CatalogLibrary, application_id: str, *, actor: str,
                        files: list[MaterialFile] | None = None,
                        form_values: dict[str, Any] | None = None) -> Resubmitted:
    files = files or []
    if not files and form_values is None:
        raise InvalidInput("补正需要提交新的材料或修改后的表单。")
    app = db.read(lambda s: s.get(Application, application_id))
    if app is None:
        raise NotFound(f"没有找到申请 {application_id}。")
    if app.state != State.CORRECTION_REQUESTED.value:
        raise IllegalTransition(State(app.state), State.SUBMITTED)
    item = catalog.get(app.item_code)
    chosen = {}
    for f in files:
        material = item.material(f.key)
        if material is None:
            raise InvalidInput(f"“{item.name}”没有名为“{f.key}”的材料。")
        chosen[material.code] = (material, f)
    form = None
    if form_values is not None:
        applicant = db.read(lambda s: s.get(Applicant, app.applicant_id))
        assert applicant is not None
        form = validate_form(item.form_fields, form_values, Identity.from_json_dict(applicant.identity))
    stored = {code: (db.blobs.put(f.data), f.media_type) for code, (_, f) in chosen.items()}

    def job(session: Session) -> Resubmitted:
        now = utcnow()
        row = session.scalar(select(Application).where(Application.id == application_id)
                             .options(selectinload(Application.materials)))
        assert row is not None
        existing = {m.material_code: m for m in row.materials}
        for code, (ref, media_type) in stored.items():
            if add_blob_row(session, ref, media_type, now):
                session.add(OutboxEntry(kind="blob", ref_id=ref.sha256, priority=PRIORITY_BLOB, state="pending",
                                        attempts=0, created_at=now, updated_at=now))
            material = existing.get(code)
            if material is None:
                material = ApplicationMaterial(material_code=code, material_name=chosen[code][0].name,
                                               created_at=now)
                row.materials.append(material)
            material.source, material.blob_sha256, material.pages, material.elicence_ref = "file", ref.sha256, 1, None
        if form is not None:
            row.form_data = form
        row.deferred_materials = any(m.source == "deferred" for m in row.materials)
        move(session, row, State.SUBMITTED, actor=actor, reason="补正后重新提交")
        session.add(OutboxEntry(kind="application", ref_id=row.id, priority=PRIORITY_APPLICATION, state="pending",
                                attempts=0, created_at=now, updated_at=now))
        audit.record(session, actor=actor, action="application.resubmit", subject_type="application",
                     subject_id=row.id, version=row.version, materials=sorted(stored))
        return Resubmitted(row.id, row.tracking_no, row.version, tuple(chosen[c][0].name for c in stored))

    done = db.write(job)
    log.info("resubmitted %s as version %d (%d materials)", done.tracking_no, done.version, len(stored))
    return done
