"""Printing and previewing receipts: the operations screens and the CLI call.

The document is rebuilt from the stored application every time it is printed or previewed (the queue keeps no
copy of personal data), from the masked detail, so a full name or ID number cannot reach paper by mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.document import PrintDocument, PrinterProfile
from devices.printing.printer import PrinterError
from kiosk_app.applications.queries import application_detail
from kiosk_app.config import spec_for
from kiosk_app.errors import InvalidInput, KioskError, NotFound
from kiosk_app.receipts.layout import ReceiptSettings, receipt_document, test_page_document
from kiosk_app.receipts.preview import render_png
from kiosk_app.receipts.queue import (
    PROGRAM_FAULT_REASON,
    JobKind,
    JobOutcome,
    enqueue_job,
    enqueue_receipt,
    fail_job,
    get_job,
    run_job,
)
from kiosk_app.station import Station
from local_db.models import Application, UserAccount, utcnow

RECEIPT_SETTING_KEYS: Final = ("station.name", "station.code", "receipt.query_url", "receipt.hotline")


@dataclass(frozen=True)
class Preview:
    path: Path
    width: int
    height: int
    title: str

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "width": self.width, "height": self.height, "title": self.title}


def receipt_settings(station: Station) -> ReceiptSettings:
    return ReceiptSettings.from_values({key: station.settings.get(key) for key in RECEIPT_SETTING_KEYS})


def configured_printer(station: Station, printer_url: str | None) -> str:
    """The printer named on the command, else the configured one; checked like the setting itself."""
    url = (printer_url or station.settings.get("devices.receipt_printer") or "").strip()
    if not url:
        raise InvalidInput("没有指定打印机：请用 --printer 指定，或设置 devices.receipt_printer。")
    return str(spec_for("devices.receipt_printer").parse(url))


def build_receipt(
    station: Station, key: str, *, profile: PrinterProfile | None = None, reprint_at: datetime | None = None
) -> tuple[dict[str, Any], PrintDocument]:
    """The masked detail of the application `key` (id or tracking number) and its receipt document."""
    detail = application_detail(station.db, key)
    if detail["state"] == "draft":
        raise InvalidInput(f"受理编号 {detail['tracking_no']} 的申请尚未提交，不能打印回执。")
    document = receipt_document(detail, receipt_settings(station), reprint_at=reprint_at,
                                agent_name=_agent_name(station, detail["id"]),
                                promised_limit_days=_promised_limit_days(station, detail["item_code"]),
                                profile=profile)
    return detail, document


def print_receipt(
    station: Station,
    app_id_or_tracking: str,
    printer_url: str | None = None,
    *,
    reprint: bool = False,
    profile: PrinterProfile | None = None,
    actor: str = "kiosk",
) -> JobOutcome:
    """Print the receipt once; a second first-print is refused with a message that suggests 补打 (reprint)."""
    url = configured_printer(station, printer_url)
    detail = application_detail(station.db, app_id_or_tracking)  # NotFound before anything is queued
    job_id = enqueue_receipt(station.db, detail["id"], url, reprint=reprint, actor=actor)
    reprint_at = utcnow() if reprint else None
    return _start(station, job_id, url, profile, actor,
                  lambda chosen: build_receipt(station, detail["id"], profile=chosen, reprint_at=reprint_at)[1])


def retry_job(
    station: Station,
    job_id: str,
    printer_url: str | None = None,
    *,
    profile: PrinterProfile | None = None,
    actor: str = "kiosk",
) -> JobOutcome:
    """Run a queued or failed job again, on its own printer unless another is named; the document is rebuilt
    as it was asked for (a first print stays a first print)."""
    job = get_job(station.db, job_id)
    url = configured_printer(station, printer_url or job.printer_url)
    application_id = job.application_id
    if job.kind == JobKind.RECEIPT.value:
        if application_id is None:
            raise NotFound("这个打印任务对应的申请已不在本机，不能重打。")
        reprint_at = utcnow() if job.reprint else None
        return _start(station, job.id, url, profile, actor,
                      lambda chosen: build_receipt(station, application_id, profile=chosen,
                                                   reprint_at=reprint_at)[1])
    if job.kind == JobKind.TEST_PAGE.value:
        return _start(station, job.id, url, profile, actor, lambda chosen: _test_page(station, chosen))
    raise KioskError("这类打印任务（A4 表单、委托书、清单）请在对应的办件界面重新打印。")


def print_test_page(
    station: Station, printer_url: str | None = None, *, profile: PrinterProfile | None = None,
    actor: str = "technician",
) -> JobOutcome:
    url = configured_printer(station, printer_url)
    job_id = enqueue_job(station.db, JobKind.TEST_PAGE, url, actor=actor)
    return _start(station, job_id, url, profile, actor, lambda chosen: _test_page(station, chosen))


def preview_receipt(
    station: Station, key: str, out_path: Path, profile: PrinterProfile | None = None
) -> Preview:
    """Write the receipt as the paper would show it; no printer, no job, nothing stored."""
    chosen = profile or PrinterProfile()
    _, document = build_receipt(station, key, profile=chosen)
    png = render_png(document, chosen)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_bytes(png)
    except OSError as exc:
        raise InvalidInput(f"无法写入预览文件 {out_path}：{exc.strerror}") from None
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # the IHDR fields
    return Preview(out_path, width, height, document.title)


def _start(
    station: Station,
    job_id: str,
    url: str,
    profile: PrinterProfile | None,
    actor: str,
    build: Callable[[PrinterProfile], PrintDocument],
) -> JobOutcome:
    """Connect the printer, lay the document out for it, run the job. A job that cannot even start is marked
    failed with the reason, so nothing sits in the queue as if it were still coming."""
    # Imported here: the transports load pyserial, USB and socket code that listing or previewing never needs.
    from devices.printing.factory import create_printer

    try:
        printer = create_printer(url, profile)
        document = build(printer.profile)
    except PrinterError as exc:
        return fail_job(station.db, job_id, exc.message, actor=actor)
    except KioskError as exc:
        fail_job(station.db, job_id, exc.message, actor=actor)
        raise
    except BaseException:
        fail_job(station.db, job_id, PROGRAM_FAULT_REASON, actor=actor)
        raise
    return run_job(station.db, job_id, printer, document, actor=actor)


def _test_page(station: Station, profile: PrinterProfile) -> PrintDocument:
    return test_page_document(str(station.settings.get("station.name")), profile=profile)


def _agent_name(station: Station, application_id: str) -> str | None:
    # A staff member's name is printed in full: the villager needs to know whom to ask.
    def job(session: Session) -> str | None:
        return session.scalar(
            select(UserAccount.display_name)
            .join(Application, Application.agent_user_id == UserAccount.id)
            .where(Application.id == application_id)
        )

    return station.db.read(job)


def _promised_limit_days(station: Station, item_code: str) -> int | None:
    try:
        return station.catalog.get(item_code).promised_limit_days
    except NotFound:  # the item left the catalogue since filing; the promised date on the row still holds
        return None
