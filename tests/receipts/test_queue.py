"""The print queue against a real station database: jobs survive restarts, failures keep their reason, a crash
mid-print is reported (not re-sent), the application is never touched, and every change is audited without
personal data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.printing.printer import CoverOpen, PaperOut, PrinterFault
from kiosk_app.receipts.queue import (
    CANCELLED_REASON,
    INTERRUPTED_REASON,
    PROGRAM_FAULT_REASON,
    JobNotRunnable,
    JobState,
    ReceiptAlreadyQueued,
    enqueue_receipt,
    get_job,
    list_jobs,
    recover_interrupted_jobs,
    run_job,
)
from kiosk_app.receipts.service import build_receipt
from kiosk_app.station import Station
from local_db.models import Application, AuditEvent, OutboxEntry, StatusEvent
from tests.receipts.conftest import FiledCases, ScriptedPrinter

URL = "tcp://192.0.2.1:9100"


def application_snapshot(station: Station, app_id: str) -> dict[str, Any]:
    def job(session: Session) -> dict[str, Any]:
        app = session.get(Application, app_id)
        assert app is not None
        row = {c.name: getattr(app, c.name) for c in Application.__table__.columns}
        row["status_events"] = session.scalar(
            select(func.count()).select_from(StatusEvent).where(StatusEvent.application_id == app_id))
        row["outbox"] = sorted((o.kind, o.ref_id, o.state, o.attempts) for o in session.scalars(select(OutboxEntry)))
        return row

    return station.db.read(job)


def print_once(station: Station, app_id: str, printer: ScriptedPrinter, *, reprint: bool = False) -> Any:
    job_id = enqueue_receipt(station.db, app_id, URL, reprint=reprint)
    _, document = build_receipt(station, app_id)
    return run_job(station.db, job_id, printer, document)


def test_printed_job_is_recorded_and_the_application_untouched(station: Station, cases: FiledCases) -> None:
    before = application_snapshot(station, cases.kiosk_id)
    printer = ScriptedPrinter()
    outcome = print_once(station, cases.kiosk_id, printer)
    assert outcome.printed and outcome.attempts == 1 and outcome.bytes_sent == 1234 and outcome.error is None
    assert printer.opened == 1 and printer.closed == 1 and len(printer.documents) == 1
    [job] = list_jobs(station.db)
    assert (job.state, job.kind, job.reprint, job.attempts) == ("printed", "receipt", False, 1)
    assert job.printed_at is not None and job.tracking_no == before["tracking_no"]
    failing = ScriptedPrinter(fail=PaperOut("打印机缺纸，请联系工作人员"))
    print_once(station, cases.kiosk_id, failing, reprint=True)
    print_once(station, cases.kiosk_id, ScriptedPrinter(), reprint=True)
    assert application_snapshot(station, cases.kiosk_id) == before


@pytest.mark.parametrize("error", [
    PaperOut("打印机缺纸，请联系工作人员"),
    CoverOpen("打印机盖未关好，请联系工作人员"),
    PrinterFault("打印中断，请检查小票是否完整，必要时重新打印", detail="连接被重置"),
], ids=["paper", "cover", "cut-off"])
def test_failure_keeps_the_plain_reason_and_counts_the_attempt(station: Station, cases: FiledCases,
                                                               error: Exception) -> None:
    outcome = print_once(station, cases.kiosk_id, ScriptedPrinter(fail=error))
    assert not outcome.printed and outcome.state == "failed" and outcome.attempts == 1
    assert outcome.error == error.message  # type: ignore[attr-defined]
    job = get_job(station.db, outcome.job_id)
    assert job.last_error == outcome.error and job.printed_at is None and job.state == "failed"
    assert "（" not in (job.last_error or "")  # the technical detail goes to the log, not the villager


def test_failed_job_is_never_retried_behind_anyones_back(station: Station, cases: FiledCases) -> None:
    outcome = print_once(station, cases.kiosk_id, ScriptedPrinter(fail=PaperOut("打印机缺纸，请联系工作人员")))
    recover_interrupted_jobs(station.db)
    assert get_job(station.db, outcome.job_id).state == "failed"
    _, document = build_receipt(station, cases.kiosk_id)
    again = run_job(station.db, outcome.job_id, ScriptedPrinter(), document)  # a person chose to retry
    assert again.printed and again.attempts == 2
    with pytest.raises(JobNotRunnable, match="已经打印完成"):
        run_job(station.db, outcome.job_id, ScriptedPrinter(), document)


def test_second_first_print_is_refused_but_reprint_and_retry_after_failure_are_not(
    station: Station, cases: FiledCases
) -> None:
    failed = print_once(station, cases.kiosk_id, ScriptedPrinter(fail=CoverOpen("打印机盖未关好，请联系工作人员")))
    assert not failed.printed
    assert print_once(station, cases.kiosk_id, ScriptedPrinter()).printed  # nothing came out before
    with pytest.raises(ReceiptAlreadyQueued, match="--reprint") as refused:
        enqueue_receipt(station.db, cases.kiosk_id, URL)
    assert refused.value.job.state == "printed"
    assert print_once(station, cases.kiosk_id, ScriptedPrinter(), reprint=True).printed
    assert [j.reprint for j in list_jobs(station.db, "printed")].count(True) == 1


def test_queued_job_survives_a_restart(receipts_template: tuple[Path, FiledCases], tmp_path: Path,
                                       cases: FiledCases) -> None:
    import shutil

    home = tmp_path / "station"
    shutil.copytree(receipts_template[0], home)
    with Station(home, key_storage="file") as station:
        job_id = enqueue_receipt(station.db, cases.agent_id, URL)
    with Station(home, key_storage="file") as station:
        assert recover_interrupted_jobs(station.db) == []  # queued is not interrupted
        [job] = list_jobs(station.db, JobState.QUEUED)
        assert job.id == job_id and job.attempts == 0
        _, document = build_receipt(station, cases.agent_id)
        assert run_job(station.db, job_id, ScriptedPrinter(), document).printed
    with Station(home, key_storage="file") as station:
        assert get_job(station.db, job_id[:8]).state == "printed"


CRASHING_PRINT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from devices.printing.document import PrinterProfile
    from devices.printing.printer import PrinterStatus
    from kiosk_app.receipts.queue import enqueue_receipt, run_job
    from kiosk_app.receipts.service import build_receipt
    from kiosk_app.station import Station

    class PowerCutPrinter:
        url, profile = "tcp://192.0.2.1:9100", PrinterProfile()
        def open(self): pass
        def close(self): pass
        def status(self): return PrinterStatus(online=True)
        def print_document(self, document):
            os.kill(os.getpid(), signal.SIGKILL)  # the kiosk loses power half-way through the receipt

    station = Station(Path(sys.argv[1]), key_storage="file")
    job_id = enqueue_receipt(station.db, sys.argv[2], "tcp://192.0.2.1:9100")
    print(job_id, flush=True)
    run_job(station.db, job_id, PowerCutPrinter(), build_receipt(station, sys.argv[2])[1])
""")


def test_crash_mid_print_is_reported_as_failed_on_next_start_and_not_resent(
    receipts_template: tuple[Path, FiledCases], tmp_path: Path, cases: FiledCases
) -> None:
    import shutil

    home = tmp_path / "station"
    shutil.copytree(receipts_template[0], home)
    result = subprocess.run([sys.executable, "-c", CRASHING_PRINT, str(home), cases.kiosk_id],
                            capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert result.returncode == -9, result.stderr
    job_id = result.stdout.strip()
    with Station(home, key_storage="file") as station:
        assert get_job(station.db, job_id).state == "printing"  # what the crash left behind
        assert recover_interrupted_jobs(station.db) == [job_id]
        job = get_job(station.db, job_id)
        assert (job.state, job.last_error, job.attempts, job.printed_at) == ("failed", INTERRUPTED_REASON, 1, None)
        assert recover_interrupted_jobs(station.db) == []
        actions = station.db.read(lambda s: list(s.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == job_id).order_by(AuditEvent.id))))
        assert actions == ["print_job.queued", "print_job.printing", "print_job.interrupted"]
        # Not re-sent: a new first print is allowed only because the crashed one is failed, and only when asked.
        assert list_jobs(station.db, JobState.QUEUED) == []


def test_a_bug_or_ctrl_c_marks_the_job_failed_and_propagates(station: Station, cases: FiledCases) -> None:
    with pytest.raises(ZeroDivisionError):
        print_once(station, cases.kiosk_id, ScriptedPrinter(fail=ZeroDivisionError()))
    with pytest.raises(KeyboardInterrupt):
        print_once(station, cases.agent_id, ScriptedPrinter(fail=KeyboardInterrupt()))
    reasons = sorted(j.last_error or "" for j in list_jobs(station.db, JobState.FAILED))
    assert reasons == sorted([PROGRAM_FAULT_REASON, CANCELLED_REASON])


def test_audit_trail_has_every_change_and_no_personal_data(station: Station, cases: FiledCases) -> None:
    print_once(station, cases.kiosk_id, ScriptedPrinter(fail=PaperOut("打印机缺纸，请联系工作人员")))
    print_once(station, cases.kiosk_id, ScriptedPrinter(), reprint=True)

    def job(session: Session) -> list[tuple[str, dict[str, Any]]]:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "print_job")
                               .order_by(AuditEvent.id))
        return [(row.action, row.detail) for row in rows]

    events = station.db.read(job)
    assert [action for action, _ in events] == ["print_job.queued", "print_job.printing", "print_job.failed",
                                                "print_job.queued", "print_job.printing", "print_job.printed"]
    dumped = json.dumps([detail for _, detail in events], ensure_ascii=False)
    for secret in (*cases.names, *cases.id_numbers, "192.0.2.1"):
        assert secret not in dumped
    assert events[2][1]["error"] == "打印机缺纸，请联系工作人员"
