"""出件 against a real station database: the state move, the encrypted receiver, the masked audit, the refusals."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.handover import NotReadyForHandover, handover_record, record_handover
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.errors import InvalidInput, NotFound
from kiosk_app.identity import Identity
from kiosk_app.station import Station
from local_db.models import Application, AuditEvent, Handover, StatusEvent
from tests.accounts import make_staff
from tests.conftest import make_person

CARD = "331123-RS-0005"  # 社会保障卡补领换领: one paper photo (M03) and a reason
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
TO_RESULT_READY = (State.UPLOADED, State.ACCEPTED, State.APPROVED, State.RESULT_READY)


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@pytest.fixture
def staff(station: Station) -> tuple[Operator, Operator]:
    return make_staff(station.db)


def file_card(station: Station, agent: Operator, person: Identity) -> Filed:
    ctx = station.filing_context(channel="agent", actor=f"agent:{agent.username}", agent_user_id=agent.user_id)
    return submit_application(station.db, station.catalog, ctx, item_code=CARD, identity=person,
                              form_values={"reason": "遗失补领"}, files=[MaterialFile("M03", PNG, "image/png")])


def advance(station: Station, application_id: str, states: Sequence[State]) -> None:
    def job(session: Session) -> None:
        app = session.get(Application, application_id)
        assert app is not None
        for state in states:
            move(session, app, state, actor="platform", source="platform")

    station.db.write(job)


def state_of(station: Station, application_id: str) -> str:
    app = station.db.read(lambda s: s.get(Application, application_id))
    assert app is not None
    return app.state


def ready(station: Station, agent: Operator, person: Identity | None = None) -> Filed:
    filed = file_card(station, agent, person or make_person())
    advance(station, filed.id, TO_RESULT_READY)
    return filed


def test_window_handover_to_the_applicant(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    filed = ready(station, agent)
    done = record_handover(station.db, agent, filed.id, received_by="叶春兰", relation="本人", id_checked=True,
                           method="窗口领取", tracking_no_of_post=None)
    assert done.state == State.DELIVERED.value and done.received_by == "叶**"
    assert done.to_json()["tracking_no"] == filed.tracking_no

    def look(session: Session) -> tuple[str, Handover, StatusEvent, list[AuditEvent]]:
        app = session.get(Application, filed.id)
        row = session.scalar(select(Handover).where(Handover.application_id == filed.id))
        event = session.scalar(select(StatusEvent).where(StatusEvent.application_id == filed.id)
                               .order_by(StatusEvent.id.desc()))
        audits = list(session.scalars(select(AuditEvent).where(AuditEvent.subject_id == filed.id,
                                                               AuditEvent.action == "application.handover")))
        assert app is not None and row is not None and event is not None
        return app.state, row, event, audits

    state, row, event, audits = station.db.read(look)
    assert state == "delivered"
    assert (row.received_by, row.relation, row.id_checked, row.method, row.operator_user_id) == (
        "叶春兰", "本人", True, "窗口领取", agent.user_id)
    assert (event.from_state, event.to_state, event.actor) == ("result_ready", "delivered", "agent:wangli")
    assert len(audits) == 1 and audits[0].actor == "agent:wangli"
    assert audits[0].detail["received_by"] == "叶**" and "叶春兰" not in repr(audits[0].detail)

    record = handover_record(station.db, agent, filed.id)
    assert record is not None and record.received_by == "叶**"
    clear = handover_record(station.db, agent, filed.id, unmask=True)
    assert clear is not None and clear.received_by == "叶春兰"


def test_receiver_name_is_encrypted_on_disk(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    filed = ready(station, agent)
    record_handover(station.db, agent, filed.id, received_by="林国栋", relation="代领人", id_checked=True,
                    method="村代办员转交", tracking_no_of_post=None)
    with sqlite3.connect(station.db.path) as conn:
        raw = conn.execute("SELECT received_by FROM handover").fetchone()[0]
    assert isinstance(raw, bytes) and "林国栋".encode() not in raw
    for path in station.db.path.parent.glob("kiosk.db*"):
        assert "林国栋".encode() not in path.read_bytes()


def test_posted_result_needs_a_tracking_number(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    filed = ready(station, agent)
    with pytest.raises(InvalidInput, match="快递单号"):
        record_handover(station.db, agent, filed.id, received_by="叶春兰", relation="本人", id_checked=False,
                        method="邮寄", tracking_no_of_post=None)
    with pytest.raises(InvalidInput, match="只有邮寄"):
        record_handover(station.db, agent, filed.id, received_by="叶春兰", relation="本人", id_checked=True,
                        method="窗口领取", tracking_no_of_post="SF1234567890")
    done = record_handover(station.db, agent, filed.id, received_by="叶春兰", relation="本人", id_checked=False,
                           method="邮寄", tracking_no_of_post=" SF1234567890 ")
    record = handover_record(station.db, agent, done.application_id)
    assert record is not None and record.post_tracking_no == "SF1234567890" and record.method == "邮寄"


@pytest.mark.parametrize("relation", ["本人", "代领人"])
def test_window_refuses_unchecked_id(station: Station, staff: tuple[Operator, Operator], relation: str) -> None:
    _, agent = staff
    filed = ready(station, agent)
    with pytest.raises(InvalidInput, match=r"^请先核验领取人身份证件。$"):
        record_handover(station.db, agent, filed.id, received_by="叶春兰", relation=relation, id_checked=False,
                        method="窗口领取", tracking_no_of_post=None)
    assert state_of(station, filed.id) == "result_ready"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"received_by": "  "}, "领取人姓名"),
    ({"relation": "朋友"}, "本人"),
    ({"method": "无人机"}, "出件方式"),
    ({"received_by": "张三"}, "与申请人不一致"),  # 本人 must be the applicant
])
def test_bad_input_is_refused_and_nothing_changes(station: Station, staff: tuple[Operator, Operator],
                                                  kwargs: dict[str, str], message: str) -> None:
    _, agent = staff
    filed = ready(station, agent)
    args = {"received_by": "叶春兰", "relation": "本人", "method": "窗口领取"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        record_handover(station.db, agent, filed.id, id_checked=True, tracking_no_of_post=None, **args)
    assert state_of(station, filed.id) == "result_ready"
    assert handover_record(station.db, agent, filed.id) is None


def test_only_ready_results_are_handed_over_once(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    filed = file_card(station, agent, make_person())

    def hand(application_id: str) -> None:
        record_handover(station.db, agent, application_id, received_by="叶春兰", relation="本人", id_checked=True,
                        method="窗口领取", tracking_no_of_post=None)

    with pytest.raises(NotReadyForHandover, match="已提交"):
        hand(filed.id)
    advance(station, filed.id, TO_RESULT_READY)
    hand(filed.id)
    with pytest.raises(NotReadyForHandover, match="已出件"):
        hand(filed.id)
    with pytest.raises(NotFound):
        hand("no-such-id")
    assert station.db.read(lambda s: len(list(s.scalars(select(Handover))))) == 1


def test_handover_needs_the_permission(station: Station, staff: tuple[Operator, Operator]) -> None:
    technician, agent = staff
    filed = ready(station, agent)
    for who in (technician, None):
        with pytest.raises(NotPermitted):
            record_handover(station.db, who, filed.id, received_by="叶春兰", relation="本人", id_checked=True,
                            method="窗口领取", tracking_no_of_post=None)
    assert state_of(station, filed.id) == "result_ready"
