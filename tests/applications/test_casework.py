"""The staff-facing case services check the role themselves, whatever a screen shows or hides."""

from __future__ import annotations

import pytest

from kiosk_app.accounts import NotPermitted, Operator, deactivate
from kiosk_app.applications.casework import case_detail, reprint_receipt, resubmit_for_applicant
from kiosk_app.applications.lifecycle import State
from kiosk_app.station import Station
from tests.accounts import make_staff
from tests.applications.test_handover import advance, file_card, state_of
from tests.conftest import make_person

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@pytest.fixture
def staff(station: Station) -> tuple[Operator, Operator]:
    return make_staff(station.db)


def test_agent_reads_a_case_masked(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    person = make_person()
    filed = file_card(station, agent, person)
    detail = case_detail(station, agent, filed.id)
    assert detail["tracking_no"] == filed.tracking_no
    assert person.id_number not in repr(detail)


@pytest.mark.parametrize("who", ["nobody", "technician"])
def test_case_services_refuse_who_may_not(station: Station, staff: tuple[Operator, Operator], who: str) -> None:
    technician, agent = staff
    filed = file_card(station, agent, make_person())
    advance(station, filed.id, (State.UPLOADED, State.CORRECTION_REQUESTED))
    operator = None if who == "nobody" else technician
    with pytest.raises(NotPermitted):
        case_detail(station, operator, filed.id)
    with pytest.raises(NotPermitted):
        resubmit_for_applicant(station, operator, filed.id, {"M03": JPEG})
    assert state_of(station, filed.id) == State.CORRECTION_REQUESTED.value  # nothing changed


def test_deactivated_agent_stops_at_once(station: Station, staff: tuple[Operator, Operator]) -> None:
    technician, agent = staff
    filed = file_card(station, agent, make_person())
    deactivate(station.db, agent.username, actor=technician)
    for call in (lambda: case_detail(station, agent, filed.id), lambda: reprint_receipt(station, agent, filed.id)):
        with pytest.raises(NotPermitted, match="停用"):
            call()


def test_agent_resubmits_a_correction(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    filed = file_card(station, agent, make_person())
    advance(station, filed.id, (State.UPLOADED, State.CORRECTION_REQUESTED))
    done = resubmit_for_applicant(station, agent, filed.id, {"M03": JPEG})
    assert done.id == filed.id and done.version == 2
    assert state_of(station, filed.id) == State.SUBMITTED.value
