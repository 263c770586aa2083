"""`LocalSyncStore`: the engine's `SyncStore` over the station database and blob store.

Every method is one transaction on the station's writer thread (or one read). Acknowledgements are recorded in
batches: if the process dies before a batch is written, the same requests go out again and the platform, which
keys everything by the station's own identifiers, answers them as before.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kiosk_app import __version__, audit
from kiosk_app.applications.filing import PRIORITY_BLOB
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.catalog.delta import CatalogPageData, apply_catalog_pages
from kiosk_app.catalog.importer import CatalogInvalid
from kiosk_app.syncing.platform_events import apply_event
from local_db.database import Database
from local_db.errors import BlobMissing
from local_db.models import (
    Applicant,
    Application,
    ApplicationMaterial,
    Blob,
    CatalogMeta,
    DeviceEnrolment,
    Evaluation,
    OutboxEntry,
    SyncMeta,
    utcnow,
)
from sync.client import DeviceCredentials
from sync.engine.store import CatalogRefused, ItemProblem, ItemUnavailable, Job, Outcome, QueueSummary, RunRecord
from sync.protocol.models import (
    ApplicationCommit,
    BlobState,
    CatalogPage,
    CommitReceipt,
    EvaluationUpload,
    Heartbeat,
    MaterialRef,
    StatusFeed,
)
from sync.protocol.signing import private_key_from_bytes

log = logging.getLogger(__name__)

STATUS_CURSOR: Final = "status_cursor"
CATALOG_CURSOR: Final = "catalog_cursor"
LAST_RUN: Final = "last_run"
LAST_SUCCESS: Final = "last_success"
PROBLEMS_SHOWN: Final = 50


class LocalSyncStore:
    def __init__(self, db: Database, *, retention_days: int = 180, devices: dict[str, str] | None = None) -> None:
        self.db = db
        self.retention = timedelta(days=retention_days)
        self.devices = devices or {}

    # ---- identity -------------------------------------------------------------------------------------------

    def credentials(self) -> DeviceCredentials | None:
        row = self.db.read(lambda s: s.get(DeviceEnrolment, 1))
        if row is None:
            return None
        key = private_key_from_bytes(base64.b64decode(row.private_key))
        return DeviceCredentials(row.device_id, row.station_code, key)

    # ---- outbox ---------------------------------------------------------------------------------------------

    def due_jobs(self, limit: int) -> list[Job]:
        now = utcnow()

        def job(session: Session) -> list[Job]:
            rows = session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.state == "pending",
                       (OutboxEntry.next_attempt_at.is_(None)) | (OutboxEntry.next_attempt_at <= now))
                .order_by(OutboxEntry.priority, OutboxEntry.id)
                .limit(limit))
            return [Job(r.id, r.kind, r.ref_id, r.attempts) for r in rows]  # type: ignore[arg-type]

        return self.db.read(job)

    def application_commit(self, application_id: str) -> ApplicationCommit:
        def job(session: Session) -> ApplicationCommit:
            app = session.scalar(select(Application).where(Application.id == application_id)
                                 .options(selectinload(Application.materials)))
            if app is None:
                raise ItemUnavailable("这件申请在本机已不存在。")
            applicant = session.get(Applicant, app.applicant_id)
            assert applicant is not None
            blobs = {b.sha256: b for b in session.scalars(
                select(Blob).where(Blob.sha256.in_([m.blob_sha256 for m in app.materials if m.blob_sha256])))}
            return ApplicationCommit(
                client_id=app.id, version=app.version,
                supersedes_version=app.version - 1 if app.version > 1 else None,
                station_code=app.station_code, tracking_no=app.tracking_no, item_code=app.item_code,
                item_name=app.item_name, catalog_version=app.catalog_version, channel=app.channel,
                applicant=applicant.identity, form=app.form_data, deferred_materials=app.deferred_materials,
                delivery_method=app.delivery_method, promised_date=app.promised_date,
                submitted_at=app.submitted_at or app.created_at,
                materials=[_material_ref(m, blobs.get(m.blob_sha256 or "")) for m in app.materials])

        return self.db.read(job)

    def blob_bytes(self, sha256: str) -> bytes:
        try:
            return self.db.blobs.get(sha256)
        except BlobMissing as exc:
            raise ItemUnavailable(exc.message) from None

    def evaluation_upload(self, evaluation_id: str) -> EvaluationUpload:
        row = self.db.read(lambda s: s.get(Evaluation, evaluation_id))
        if row is None:
            raise ItemUnavailable("这条评价在本机已不存在。")
        return EvaluationUpload(id=row.id, client_id=row.application_id, level=row.level, labels=row.labels,
                                comment=row.comment, channel=row.channel, created_at=row.created_at)

    def jobs_succeeded(self, results: Sequence[tuple[Job, Outcome]]) -> None:
        def job(session: Session) -> None:
            now = utcnow()
            for done, outcome in results:
                entry = session.get(OutboxEntry, done.id)
                if entry is None or entry.state == "done":
                    continue
                if isinstance(outcome, CommitReceipt):
                    if not self._record_commit(session, outcome, now):
                        continue  # acknowledged an older version; the newer one still has to go
                elif isinstance(outcome, BlobState):
                    blob = session.get(Blob, outcome.sha256)
                    if blob is not None:
                        blob.acknowledged_at = now
                        blob.retain_until = now + self.retention
                else:
                    evaluation = session.get(Evaluation, outcome.id)
                    if evaluation is not None:
                        evaluation.synced_at = now
                entry.state = "done"
                entry.last_error = None
                entry.updated_at = now

        self.db.write(job)

    def _record_commit(self, session: Session, receipt: CommitReceipt, now: datetime) -> bool:
        app = session.get(Application, receipt.client_id)
        if app is None or receipt.version != app.version:
            return False
        app.case_no = receipt.case_no
        if app.state == State.SUBMITTED.value:
            move(session, app, State.UPLOADED, actor="sync", source="platform")
            audit.record(session, actor="sync", action="application.uploaded", subject_type="application",
                         subject_id=app.id, case_no=receipt.case_no, version=receipt.version)
        for sha256 in receipt.missing_blobs:  # the platform lacks a file we thought it had: send it again
            pending = session.scalar(select(func.count()).select_from(OutboxEntry).where(
                OutboxEntry.kind == "blob", OutboxEntry.ref_id == sha256,
                OutboxEntry.state.in_(("pending", "in_flight", "quarantined"))))
            if not pending and session.get(Blob, sha256) is not None:
                session.add(OutboxEntry(kind="blob", ref_id=sha256, priority=PRIORITY_BLOB, state="pending", attempts=0,
                                        created_at=now, updated_at=now))
        return True

    def job_failed(self, job: Job, message: str, *, retry_at: datetime, quarantine: bool) -> None:
        def write(session: Session) -> None:
            entry = session.get(OutboxEntry, job.id)
            if entry is None:
                return
            entry.attempts = job.attempts + 1
            entry.last_error = message
            entry.next_attempt_at = retry_at
            entry.state = "quarantined" if quarantine else "pending"
            entry.updated_at = utcnow()
            if quarantine:
                audit.record(session, actor="sync", action="sync.quarantine", subject_type=job.kind,
                             subject_id=job.ref_id, attempts=entry.attempts, error=message)

        self.db.write(write)

    def requeue_quarantined(self, actor: str) -> int:
        """A technician fixed the cause: quarantined items go back to the queue with a fresh count."""
        def write(session: Session) -> int:
            rows = list(session.scalars(select(OutboxEntry).where(OutboxEntry.state == "quarantined")))
            for row in rows:
                row.state, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, None, utcnow()
                audit.record(session, actor=actor, action="sync.requeue", subject_type=row.kind,
                             subject_id=row.ref_id)
            return len(rows)

        return self.db.write(write)

    # ---- status and catalogue -------------------------------------------------------------------------------

    def status_cursor(self) -> int:
        return int(self._meta(STATUS_CURSOR) or 0)

    def apply_status(self, feed: StatusFeed) -> int:
        def job(session: Session) -> int:
            applied = 0
            for event in feed.events:
                app = session.get(Application, event.client_id)
                if app is None:
                    log.warning("status event %d names an application this station does not hold", event.seq)
                    continue
                applied += apply_event(session, app, state=event.state.value, version=event.version,
                                       case_no=event.case_no, reason=event.reason, department=event.department,
                                       department_state=event.department_state)
            _set_meta(session, STATUS_CURSOR, feed.cursor)
            return applied

        return self.db.write(job)

    def catalog_cursor(self) -> int:
        return int(self._meta(CATALOG_CURSOR) or 0)

    def apply_catalog(self, pages: Sequence[CatalogPage]) -> int:
        data = [CatalogPageData(p.full, p.version, p.region, p.items, p.removed) for p in pages]
        cursor = pages[-1].cursor
        try:
            return apply_catalog_pages(self.db, data, also=lambda s: _set_meta(s, CATALOG_CURSOR, cursor))
        except CatalogInvalid as exc:
            raise CatalogRefused(exc.message) from None

    # ---- reporting ------------------------------------------------------------------------------------------

    def heartbeat(self, clock_skew_s: float | None) -> Heartbeat:
        summary = self.queue_summary()
        version = self.db.read(lambda s: s.scalar(select(CatalogMeta.version))) or ""
        return Heartbeat(queue_depth=summary.pending, pending_bytes=summary.pending_bytes,
                         quarantined=summary.quarantined, app_version=__version__, catalog_version=version,
                         clock_skew_s=clock_skew_s, devices=self.devices, client_time=datetime.now(UTC))

    def record_run(self, run: RunRecord) -> None:
        def job(session: Session) -> None:
            _set_meta(session, LAST_RUN, {"at": run.at.isoformat(), "online": run.online,
                                          "succeeded": run.succeeded, "error": run.error,
                                          "clock_skew_s": run.clock_skew_s})
            if run.succeeded:
                _set_meta(session, LAST_SUCCESS, run.at.isoformat())

        self.db.write(job)

    def last_run(self) -> dict[str, Any] | None:
        value = self._meta(LAST_RUN)
        return value if isinstance(value, dict) else None

    def last_success(self) -> datetime | None:
        value = self._meta(LAST_SUCCESS)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    def queue_summary(self) -> QueueSummary:
        return self.db.read(_summary)

    def _meta(self, key: str) -> Any:
        row = self.db.read(lambda s: s.get(SyncMeta, key))
        return None if row is None else row.value


def _set_meta(session: Session, key: str, value: Any) -> None:
    row = session.get(SyncMeta, key)
    if row is None:
        session.add(SyncMeta(key=key, value=value, updated_at=utcnow()))
    else:
        row.value, row.updated_at = value, utcnow()


def _material_ref(m: ApplicationMaterial, blob: Blob | None) -> MaterialRef:
    return MaterialRef(code=m.material_code, name=m.material_name, source=m.source,
                       sha256=m.blob_sha256, media_type=blob.media_type if blob else None,
                       size=blob.size if blob else None, pages=m.pages, elicence_ref=m.elicence_ref)


def _summary(session: Session) -> QueueSummary:
    open_states = ("pending", "in_flight")
    pending = session.scalar(select(func.count()).select_from(OutboxEntry)
                             .where(OutboxEntry.state.in_(open_states))) or 0
    pending_bytes = session.scalar(
        select(func.coalesce(func.sum(Blob.size), 0))
        .join(OutboxEntry, (OutboxEntry.ref_id == Blob.sha256) & (OutboxEntry.kind == "blob"))
        .where(OutboxEntry.state.in_(open_states))) or 0
    quarantined = session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.state == "quarantined")) or 0
    rows = session.scalars(select(OutboxEntry).where(OutboxEntry.last_error.is_not(None),
                                                     OutboxEntry.state.in_(("pending", "quarantined")))
                           .order_by(OutboxEntry.state.desc(), OutboxEntry.id).limit(PROBLEMS_SHOWN))
    problems = tuple(ItemProblem(r.kind, r.ref_id, _label(session, r), r.attempts, r.last_error or "",
                                 r.state == "quarantined") for r in rows)
    return QueueSummary(int(pending), int(pending_bytes), int(quarantined), problems)


def _label(session: Session, entry: OutboxEntry) -> str:
    if entry.kind == "application":
        tracking = session.scalar(select(Application.tracking_no).where(Application.id == entry.ref_id))
        return f"申请 {tracking}" if tracking else "申请"
    if entry.kind == "blob":
        row = session.execute(select(ApplicationMaterial.material_name, Application.tracking_no)
                              .join(Application, Application.id == ApplicationMaterial.application_id)
                              .where(ApplicationMaterial.blob_sha256 == entry.ref_id).limit(1)).first()
        return f"材料 {row[0]}（{row[1]}）" if row else f"材料 {entry.ref_id[:12]}…"
    return "评价"



