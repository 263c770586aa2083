"""The 预约凭条 end to end: printed through the queue on the `sim://` printer (the TCP emulator behind the real
network backend), read back with the ESC/POS decoder; masked, and the same in the preview as on paper."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from devices.printing.document import PrinterProfile
from devices.simulators.escpos_decoder import decode
from kiosk_app.appointments import AppointmentRules, ItemChoice, book
from kiosk_app.errors import NotFound
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.receipts.appointment_slip import build_appointment_slip, print_appointment_slip
from kiosk_app.receipts.preview import text_rows
from kiosk_app.receipts.queue import JobState, list_jobs
from kiosk_app.station import Station
from tests.conftest import make_person

NOW = datetime(2026, 11, 30, 9, 10)
LONG_ITEM = ItemChoice("331123-WJ-0006", "居民死亡医学证明（推断）书开具")


@pytest.mark.parametrize("paper", [80, 58])
def test_the_slip_says_when_where_and_what_but_not_who(copied_station: Station, printers: list[Any],
                                                       paper: int) -> None:
    person = make_person()
    rules = AppointmentRules.from_settings(copied_station.settings)
    booked = book(copied_station.db, rules, identity=person, item=LONG_ITEM, day=date(2026, 12, 1),
                  start=time(14), now=NOW)
    outcome = print_appointment_slip(copied_station, booked.id, f"sim://?paper={paper}")
    assert outcome.printed and outcome.kind == "appointment_slip" and outcome.title == f"预约凭条 {booked.booking_no}"
    [job] = printers[0].emulator.jobs
    paper_read = decode(job)
    text = paper_read.text
    assert booked.booking_no in text and paper_read.qr_payloads == [booked.booking_no]
    for expected in ("2026年12月1日（周二）", "14:00-14:30", "遂昌县妙高街道便民服务中心", "咨询电话：12345",
                     mask_name(person.name)):
        assert expected in text
    assert person.name not in text and person.id_number not in text and mask_id_number(person.id_number) not in text
    assert paper_read.cuts == 1
    profile = PrinterProfile.for_paper(paper)
    assert text_rows(build_appointment_slip(copied_station, booked.id, profile=profile), profile) == paper_read.lines
    [listed] = list_jobs(copied_station.db, JobState.PRINTED)
    assert listed.kind == "appointment_slip" and listed.application_id is None


def test_reprint_and_paper_out(copied_station: Station, printers: list[Any]) -> None:
    rules = AppointmentRules.from_settings(copied_station.settings)
    booked = book(copied_station.db, rules, identity=make_person(), item=LONG_ITEM, day=date(2026, 12, 1),
                  start=time(14), now=NOW)
    failed = print_appointment_slip(copied_station, booked.id, "sim://paper_out")
    assert not failed.printed and "缺纸" in (failed.error or "")
    again = print_appointment_slip(copied_station, booked.id, "sim://", reprint=True)
    assert again.printed and "预约凭条（补打）" in decode(printers[-1].emulator.jobs[0]).text
    with pytest.raises(NotFound):
        print_appointment_slip(copied_station, "no-such-appointment", "sim://")
