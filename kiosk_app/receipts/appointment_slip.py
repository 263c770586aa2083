"""The 预约凭条: the slip a villager takes home after booking, laid out with the receipt's building blocks and
printed through the same print queue.

Like the receipt, it is rebuilt from the stored (masked) appointment whenever it prints, and it never carries the
full name or the ID number: a slip left on the counter or in a coat pocket must not identify anyone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from devices.printing.document import Align, Cut, Feed, PrintDocument, PrinterProfile, PrintOp, QRCode, Rule, TextLine
from kiosk_app.appointments import AppointmentView, slip_view
from kiosk_app.receipts.layout import QR_MODULE_DOTS, ReceiptSettings, _field, _hang, _header, local_time_text
from kiosk_app.receipts.queue import JobKind, JobOutcome, enqueue_job
from kiosk_app.receipts.service import _start, configured_printer, receipt_settings
from kiosk_app.station import Station

TITLE = "预约凭条"
ARRIVE_EARLY_MINUTES = 10


def appointment_slip_document(
    appointment: AppointmentView,
    settings: ReceiptSettings,
    *,
    profile: PrinterProfile | None = None,
    reprint_at: datetime | None = None,
    tz: tzinfo | None = None,
) -> PrintDocument:
    columns = (profile or PrinterProfile()).columns
    ops: list[PrintOp] = [*_header(settings)]
    ops.append(TextLine(TITLE if reprint_at is None else f"{TITLE}（补打）", Align.CENTER, bold=True, scale=2))
    if reprint_at is not None:
        ops.append(TextLine(f"补打时间：{local_time_text(reprint_at, tz)}", Align.CENTER))
    ops.append(Rule("="))
    ops.append(TextLine("预约号："))
    ops.append(TextLine(appointment.booking_no, Align.CENTER, bold=True, scale=2))
    ops.append(Rule())
    ops.append(_field("日期：", f"{appointment.day.year}年{appointment.day_label}", columns, bold=True))
    ops.append(_field("时间：", appointment.slot_label, columns, bold=True))
    ops.append(_field("事项：", appointment.item_name, columns))
    ops.append(_field("预约人：", appointment.person, columns))  # masked by slip_view
    ops.append(Rule())
    ops.append(TextLine(_hang("", f"请在预约时间前 {ARRIVE_EARLY_MINUTES} 分钟到本中心窗口，出示身份证和本凭条，"
                                  "不用排队取号。请带齐办事材料。", columns)))
    ops.append(TextLine(_hang("", "不能按时来，请在本机刷身份证取消预约，或打电话告诉我们。", columns)))
    ops.append(Feed(1))
    ops.append(QRCode(appointment.booking_no, module_size=QR_MODULE_DOTS))
    if settings.hotline:
        ops.append(TextLine(f"咨询电话：{settings.hotline}", Align.CENTER, bold=True))
    ops.append(Feed(3))
    ops.append(Cut())
    return PrintDocument(title=f"{TITLE} {appointment.booking_no}" + ("（补打）" if reprint_at else ""),
                         ops=tuple(ops))


def build_appointment_slip(station: Station, appointment_id: str, *, profile: PrinterProfile | None = None,
                           reprint_at: datetime | None = None) -> PrintDocument:
    return appointment_slip_document(slip_view(station.db, appointment_id), receipt_settings(station),
                                     profile=profile, reprint_at=reprint_at)


def print_appointment_slip(
    station: Station,
    appointment_id: str,
    printer_url: str | None = None,
    *,
    reprint: bool = False,
    profile: PrinterProfile | None = None,
    actor: str = "kiosk",
) -> JobOutcome:
    """Queue and print the slip; a failed print is a failed job with its plain reason (the booking stands)."""
    url = configured_printer(station, printer_url)
    slip_view(station.db, appointment_id)  # NotFound before anything is queued
    job_id = enqueue_job(station.db, JobKind.APPOINTMENT_SLIP, url, reprint=reprint, actor=actor)
    reprint_at = datetime.now().astimezone() if reprint else None
    return _start(station, job_id, url, profile, actor,
                  lambda chosen: build_appointment_slip(station, appointment_id, profile=chosen,
                                                        reprint_at=reprint_at))
