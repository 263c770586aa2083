"""The print queue: jobs that survive a restart and say truthfully what came out of the printer.

A job is `queued`, then `printing` (written before a single byte goes out), then `printed` only when the
printer accepted the bytes and reported a good status afterwards, or `failed` with the plain reason a person
can act on ("打印机缺纸，请联系工作人员"). Nothing is retried or expired behind anyone's back: a failed job stays
failed until someone prints again, and a job a crash left in `printing` is reported as failed on the next start
rather than re-sent, because half a receipt may already be in the villager's hand.

Printing reads the application and never writes to it; each state change writes one audit event whose detail
holds ids, kinds and reasons only, never personal data.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.document import PrintDocument
from devices.printing.printer import PrinterError, ReceiptPrinter
from kiosk_app import audit
from kiosk_app.errors import KioskError, NotFound
from local_db.database import Database
from local_db.models import Application, PrintJob, utcnow

log = logging.getLogger(__name__)


class JobKind(StrEnum):
    RECEIPT = "receipt"
    TEST_PAGE = "test_page"
    A4_FORM = "a4_form"
    AUTHORISATION = "authorisation"
    CHECKLIST = "checklist"
    APPOINTMENT_SLIP = "appointment_slip"


class JobState(StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"


JOB_STATE_LABELS: Final = {
    JobState.QUEUED: "排队中",
    JobState.PRINTING: "打印中",
    JobState.PRINTED: "已打印",
    JobState.FAILED: "打印失败",
}
JOB_KIND_LABELS: Final = {
    JobKind.RECEIPT: "受理回执",
    JobKind.TEST_PAGE: "测试页",
    JobKind.A4_FORM: "申请表",
    JobKind.AUTHORISATION: "委托书",
    JobKind.CHECKLIST: "材料清单",
    JobKind.APPOINTMENT_SLIP: "预约凭条",
}
INTERRUPTED_REASON: Final = "打印过程中程序中断"
CANCELLED_REASON: Final = "打印被取消"
PROGRAM_FAULT_REASON: Final = "打印程序出错，请联系技术人员"


class JobNotRunnable(KioskError):
    """The job is already printing or already printed; running it again would print a second paper."""


class ReceiptAlreadyQueued(KioskError):
    """A first (non-reprint) receipt for this application is printed or on its way; `job` says which."""

    def __init__(self, message: str, job: PrintJobView) -> None:
        super().__init__(message)
        self.job = job


@dataclass(frozen=True)
class PrintJobView:
    id: str
    kind: str
    application_id: str | None
    tracking_no: str | None
    printer_url: str
    state: str
    attempts: int
    last_error: str | None
    reprint: bool
    created_at: datetime
    updated_at: datetime
    printed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "kind_label": JOB_KIND_LABELS[JobKind(self.kind)],
            "application_id": self.application_id,
            "tracking_no": self.tracking_no,
            "printer_url": self.printer_url,
            "state": self.state,
            "state_label": JOB_STATE_LABELS[JobState(self.state)],
            "attempts": self.attempts,
            "last_error": self.last_error,
            "reprint": self.reprint,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "printed_at": self.printed_at.isoformat() if self.printed_at else None,
        }


@dataclass(frozen=True)
class JobOutcome:
    """What one run of a job ended as. `error` is the plain sentence to show when it failed."""

    job_id: str
    kind: str
    state: str
    attempts: int
    error: str | None = None
    bytes_sent: int = 0
    application_id: str | None = None
    reprint: bool = False
    title: str = ""  # the document's title: never personal data

    @property
    def printed(self) -> bool:
        return self.state == JobState.PRINTED

    def to_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "kind": self.kind, "state": self.state,
                "state_label": JOB_STATE_LABELS[JobState(self.state)], "printed": self.printed,
                "error": self.error, "attempts": self.attempts, "bytes_sent": self.bytes_sent,
                "application_id": self.application_id, "reprint": self.reprint, "title": self.title}


def enqueue_job(
    db: Database,
    kind: JobKind | str,
    printer_url: str,
    *,
    application_id: str | None = None,
    reprint: bool = False,
    actor: str = "kiosk",
) -> str:
    job_kind = JobKind(kind)

    def job(session: Session) -> str:
        return _insert(session, job_kind, printer_url, application_id, reprint, actor)

    return db.write(job)


def enqueue_receipt(
    db: Database, application_id: str, printer_url: str, *, reprint: bool = False, actor: str = "kiosk"
) -> str:
    """Queue a receipt. A first print is refused (ReceiptAlreadyQueued) when one is already printed, printing or
    queued for the application: checked and inserted in one write, so two terminals cannot both print it."""

    def job(session: Session) -> str:
        if session.get(Application, application_id) is None:
            raise NotFound("没有找到这件申请，不能打印回执。")
        if not reprint:
            earlier = session.scalar(
                select(PrintJob)
                .where(PrintJob.application_id == application_id, PrintJob.kind == JobKind.RECEIPT.value,
                       PrintJob.state != JobState.FAILED.value)
                .order_by(PrintJob.created_at)
                .limit(1)
            )
            if earlier is not None:
                view = _view(earlier, _tracking_no(session, application_id))
                raise ReceiptAlreadyQueued(_already_message(view), view)
        return _insert(session, JobKind.RECEIPT, printer_url, application_id, reprint, actor)

    return db.write(job)


def run_job(
    db: Database, job_id: str, printer: ReceiptPrinter, document: PrintDocument, *, actor: str = "kiosk"
) -> JobOutcome:
    """Print `document` for a queued (or earlier failed) job on `printer`, which this call opens and closes.

    Returns the outcome; printer failures are recorded on the job, not raised. Anything else (a bug, Ctrl-C)
    marks the job failed with a plain reason and is re-raised.
    """
    started = db.write(lambda s: _mark_printing(s, job_id, actor))
    try:
        printer.open()
        try:
            # The printer checks its status before and after sending (the ReceiptPrinter contract), so a
            # printer without paper gets no bytes that would come out later, after the job was called failed.
            result = printer.print_document(document)
        finally:
            _close_quietly(printer)
    except PrinterError as exc:
        log.warning("print job %s (%s) failed: %s", job_id, started.kind, exc)
        reason = exc.message
        return db.write(lambda s: _mark_failed(s, job_id, reason, actor, document.title))
    except BaseException as exc:
        stopped = CANCELLED_REASON if isinstance(exc, KeyboardInterrupt) else PROGRAM_FAULT_REASON
        log.exception("print job %s (%s) stopped: %s", job_id, started.kind, stopped)
        db.write(lambda s: _mark_failed(s, job_id, stopped, actor, document.title))
        raise
    log.info("print job %s (%s) printed: %d bytes", job_id, started.kind, result.bytes_sent)
    return db.write(lambda s: _mark_printed(s, job_id, result.bytes_sent, actor, document.title))


def fail_job(db: Database, job_id: str, reason: str, *, actor: str = "kiosk", title: str = "") -> JobOutcome:
    """Record that a queued job could not even start (no such printer, the document could not be built), so
    it does not sit in the queue looking as if it were still coming."""
    return db.write(lambda s: _mark_failed(s, job_id, reason, actor, title))


def recover_interrupted_jobs(db: Database, *, actor: str = "system") -> list[str]:
    """At start-up: jobs a crash left in `printing` become failed with a plain reason, never re-sent; the agent
    looks at the villager's paper and decides whether to reprint."""

    def job(session: Session) -> list[str]:
        stuck = list(session.scalars(select(PrintJob).where(PrintJob.state == JobState.PRINTING.value)))
        now = utcnow()
        for row in stuck:
            row.state = JobState.FAILED.value
            row.last_error = INTERRUPTED_REASON
            row.attempts += 1
            row.updated_at = now
            _audit(session, row, "print_job.interrupted", actor, error=INTERRUPTED_REASON)
        return [row.id for row in stuck]

    recovered = db.write(job)
    if recovered:
        log.warning("marked %d interrupted print job(s) as failed: %s", len(recovered), ", ".join(recovered))
    return recovered


def list_jobs(
    db: Database, state: JobState | str | None = None, *, application_id: str | None = None, limit: int = 200
) -> list[PrintJobView]:
    def job(session: Session) -> list[PrintJobView]:
        query = (
            select(PrintJob, Application.tracking_no)
            .outerjoin(Application, PrintJob.application_id == Application.id)
            .order_by(PrintJob.created_at.desc(), PrintJob.id)
            .limit(limit)
        )
        if state:
            query = query.where(PrintJob.state == JobState(state).value)
        if application_id:
            query = query.where(PrintJob.application_id == application_id)
        return [_view(row, tracking_no) for row, tracking_no in session.execute(query)]

    return db.read(job)


def get_job(db: Database, job_id: str) -> PrintJobView:
    """By full id, or by a unique prefix of at least 8 characters (what `kiosk receipts jobs` shows)."""
    key = job_id.strip()

    def job(session: Session) -> PrintJobView | None:
        row = session.get(PrintJob, key)
        if row is None and len(key) >= 8:
            found = list(session.scalars(select(PrintJob).where(PrintJob.id.startswith(key, autoescape=True))
                                         .limit(2)))
            row = found[0] if len(found) == 1 else None
        return None if row is None else _view(row, _tracking_no(session, row.application_id))

    found = db.read(job)
    if found is None:
        raise NotFound(f"没有编号为 {job_id[:40]} 的打印任务。")
    return found


def _insert(
    session: Session, kind: JobKind, printer_url: str, application_id: str | None, reprint: bool, actor: str
) -> str:
    now = utcnow()
    row = PrintJob(id=str(uuid.uuid4()), kind=kind.value, application_id=application_id, printer_url=printer_url,
                   state=JobState.QUEUED.value, attempts=0, reprint=reprint, created_at=now, updated_at=now)
    session.add(row)
    _audit(session, row, "print_job.queued", actor)
    return row.id


def _mark_printing(session: Session, job_id: str, actor: str) -> PrintJobView:
    row = session.get(PrintJob, job_id)
    if row is None:
        raise NotFound(f"没有编号为 {job_id[:40]} 的打印任务。")
    if row.state == JobState.PRINTING.value:
        raise JobNotRunnable("这个打印任务正在打印，请等它结束。")
    if row.state == JobState.PRINTED.value:
        raise JobNotRunnable("这个打印任务已经打印完成；如需再打一份，请选择补打。")
    row.state = JobState.PRINTING.value
    row.updated_at = utcnow()
    _audit(session, row, "print_job.printing", actor)
    return _view(row, None)


def _mark_failed(session: Session, job_id: str, reason: str, actor: str, title: str) -> JobOutcome:
    row = _must_get(session, job_id)
    row.state = JobState.FAILED.value
    row.last_error = reason
    row.attempts += 1
    row.updated_at = utcnow()
    _audit(session, row, "print_job.failed", actor, error=reason)
    return JobOutcome(row.id, row.kind, row.state, row.attempts, error=reason, application_id=row.application_id,
                      reprint=row.reprint, title=title)


def _mark_printed(session: Session, job_id: str, bytes_sent: int, actor: str, title: str) -> JobOutcome:
    # Whatever the row says now (a concurrent start-up may have called it interrupted), the paper came out.
    row = _must_get(session, job_id)
    now = utcnow()
    row.state = JobState.PRINTED.value
    row.last_error = None
    row.attempts += 1
    row.updated_at = now
    row.printed_at = now
    _audit(session, row, "print_job.printed", actor, bytes_sent=bytes_sent)
    return JobOutcome(row.id, row.kind, row.state, row.attempts, bytes_sent=bytes_sent,
                      application_id=row.application_id, reprint=row.reprint, title=title)


def _must_get(session: Session, job_id: str) -> PrintJob:
    row = session.get(PrintJob, job_id)
    if row is None:  # only if someone deleted the row mid-print; a bug, not a person's mistake
        raise LookupError(f"print job {job_id} vanished while printing")
    return row


def _close_quietly(printer: ReceiptPrinter) -> None:
    # A failing close must not turn a printed receipt into a failed job, nor hide the print's own error.
    try:
        printer.close()
    except (PrinterError, OSError) as exc:
        log.warning("closing printer %s failed: %s", printer.url, exc)


def _audit(session: Session, row: PrintJob, action: str, actor: str, **extra: Any) -> None:
    audit.record(session, actor=actor, action=action, subject_type="print_job", subject_id=row.id,
                 kind=row.kind, application_id=row.application_id, reprint=row.reprint, state=row.state,
                 attempts=row.attempts, printer=_printer_scheme(row.printer_url), **extra)


def _printer_scheme(url: str) -> str:
    # Only the kind of connection: file paths and CUPS queue names can carry a person's or a room's name.
    return url.split("://", 1)[0] if "://" in url else "unknown"


def _tracking_no(session: Session, application_id: str | None) -> str | None:
    if application_id is None:
        return None
    return session.scalar(select(Application.tracking_no).where(Application.id == application_id))


def _view(row: PrintJob, tracking_no: str | None) -> PrintJobView:
    return PrintJobView(row.id, row.kind, row.application_id, tracking_no, row.printer_url, row.state, row.attempts,
                        row.last_error, row.reprint, row.created_at, row.updated_at, row.printed_at)


def _already_message(job: PrintJobView) -> str:
    number = job.tracking_no or "这件申请"
    if job.state == JobState.PRINTED.value and job.printed_at is not None:
        when = job.printed_at.astimezone().strftime("%Y-%m-%d %H:%M")
        return f"受理编号 {number} 的回执已于 {when} 打印过。如需再打一份，请选择补打（命令行加 --reprint）。"
    return (f"受理编号 {number} 的回执已在打印队列中（任务 {job.id}，{JOB_STATE_LABELS[JobState(job.state)]}）。"
            "如需另打一份，请选择补打（命令行加 --reprint）。")
