"""The agent's work queue against a real station database: buckets, reasons, masking, overdue, counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.handover import record_handover
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.applications.workqueue import BUCKETS, bucket_counts, work_queue
from kiosk_app.errors import InvalidInput
from kiosk_app.identity import Identity
from kiosk_app.station import Station
from local_db.models import Application, OutboxEntry
from tests.accounts import make_staff
from tests.conftest import make_person

CARD = "331123-RS-0005"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
MONDAY = date(2026, 3, 2)  # the card's promise: 10 working days -> 2026-03-16


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@pytest.fixture
def agent(station: Station) -> Operator:
    return make_staff(station.db)[1]


def file_card(station: Station, person: Identity, *, today: date = MONDAY) -> Filed:
    return submit_application(station.db, station.catalog, station.filing_context(), item_code=CARD,
                              identity=person, form_values={"reason": "遗失补领"},
                              files=[MaterialFile("M03", PNG + person.id_number.encode(), "image/png")],
                              today=today)


def advance(station: Station, application_id: str, states: Sequence[State], reason: str | None = None) -> None:
    def job(session: Session) -> None:
        app = session.get(Application, application_id)
        assert app is not None
        for state in states:
            move(session, app, state, actor="platform", source="platform", reason=reason)

    station.db.write(job)


def mark_synced(station: Station) -> None:
    """What the sync engine leaves behind once the platform has everything."""
    station.db.write(lambda s: s.execute(update(OutboxEntry).values(state="done")))


@pytest.fixture
def cases(station: Station) -> dict[str, Filed]:
    people = {key: make_person(name, seq=seq) for key, name, seq in [
        ("waiting", "叶春兰", 122), ("correction", "林国栋", 131), ("ready", "王秀英", 142),
        ("delivered", "陈建华", 153), ("rejected", "吴桂芳", 164)]}
    filed = {key: file_card(station, person) for key, person in people.items()}
    mark_synced(station)  # everything except the one filed last below has reached the platform
    advance(station, filed["correction"].id, [State.UPLOADED, State.ACCEPTED])
    # Two rounds of 补正: the queue shows the second reason, not the first.
    advance(station, filed["correction"].id, [State.CORRECTION_REQUESTED], reason="缺少户口簿首页")
    advance(station, filed["correction"].id, [State.SUBMITTED, State.UPLOADED])
    advance(station, filed["correction"].id, [State.CORRECTION_REQUESTED], reason="照片不清晰，请重新拍摄")
    for key in ("ready", "delivered"):
        advance(station, filed[key].id, [State.UPLOADED, State.ACCEPTED, State.APPROVED, State.RESULT_READY])
    advance(station, filed["rejected"].id, [State.UPLOADED, State.ACCEPTED])
    advance(station, filed["rejected"].id, [State.REJECTED], reason="不符合补领条件")
    advance(station, filed["waiting"].id, [State.UPLOADED])
    filed["new"] = file_card(station, make_person("赵明", seq=175))  # SUBMITTED, outbox pending
    return filed


def test_buckets(station: Station, agent: Operator, cases: dict[str, Filed]) -> None:
    record_handover(station.db, agent, cases["delivered"].id, received_by="陈建华", relation="本人",
                    id_checked=True, method="窗口领取", tracking_no_of_post=None)

    def ids(bucket: str) -> set[str]:
        return {row.id for row in work_queue(station.db, agent, bucket=bucket, today=MONDAY)}

    assert ids("drafts") == set()
    assert ids("pending_sync") == {cases["new"].id}
    assert ids("correction") == {cases["correction"].id}
    assert ids("result_ready") == {cases["ready"].id}
    assert ids("delivered") == {cases["delivered"].id}
    assert ids("all") == {f.id for f in cases.values()}
    assert bucket_counts(station.db, agent) == {"drafts": 0, "pending_sync": 1, "correction": 1,
                                                "result_ready": 1, "delivered": 1, "all": 6}
    assert set(bucket_counts(station.db, agent)) == set(BUCKETS)


def test_pending_sync_includes_unsent_outbox_work(station: Station, agent: Operator,
                                                  cases: dict[str, Filed]) -> None:
    # Uploaded, but one of its scans is still queued (or stuck in quarantine): not at the platform yet.
    waiting = cases["waiting"]
    station.db.write(lambda s: s.execute(update(OutboxEntry).where(OutboxEntry.kind == "blob")
                                         .values(state="quarantined")))
    ids = {row.id for row in work_queue(station.db, agent, bucket="pending_sync")}
    assert waiting.id in ids and cases["new"].id in ids


def test_correction_rows_carry_the_latest_reason(station: Station, agent: Operator,
                                                 cases: dict[str, Filed]) -> None:
    [row] = work_queue(station.db, agent, bucket="correction", today=MONDAY)
    assert (row.tracking_no, row.state, row.state_label) == (
        cases["correction"].tracking_no, "correction_requested", "需补正材料")
    assert row.reason == "照片不清晰，请重新拍摄"
    assert row.item_name == "社会保障卡补领换领" and row.promised_date == date(2026, 3, 16)
    rejected = next(r for r in work_queue(station.db, agent, bucket="all") if r.id == cases["rejected"].id)
    assert rejected.reason == "不符合补领条件"
    assert next(r for r in work_queue(station.db, agent, bucket="all") if r.id == cases["ready"].id).reason is None


def test_applicants_are_masked(station: Station, agent: Operator, cases: dict[str, Filed]) -> None:
    rows = work_queue(station.db, agent, bucket="all")
    person = make_person("林国栋", seq=131)
    row = next(r for r in rows if r.id == cases["correction"].id)
    assert row.applicant_masked == f"林** {person.id_number[:4]}{'*' * 10}{person.id_number[-4:]}"
    text = repr([r.to_json() for r in rows])
    for name in ("叶春兰", "林国栋", "王秀英", "陈建华", "吴桂芳", "赵明"):
        assert name not in text
    assert person.id_number not in text


def test_overdue_only_while_the_clock_runs(station: Station, agent: Operator, cases: dict[str, Filed]) -> None:
    late = date(2026, 3, 16) + timedelta(days=1)
    overdue = {r.id for r in work_queue(station.db, agent, bucket="all", today=late) if r.overdue}
    # Waiting, in correction and just filed are late; decided ones (ready, rejected) are not.
    assert overdue == {cases["waiting"].id, cases["correction"].id, cases["new"].id}
    assert not any(r.overdue for r in work_queue(station.db, agent, bucket="all", today=date(2026, 3, 16)))


def test_limit_and_order(station: Station, agent: Operator, cases: dict[str, Filed]) -> None:
    rows = work_queue(station.db, agent, bucket="all", limit=2)
    assert len(rows) == 2
    early = file_card(station, make_person("钱多多", seq=186), today=MONDAY - timedelta(days=7))
    first = work_queue(station.db, agent, bucket="pending_sync")[0]
    assert first.id == early.id  # the nearest promise first


def test_queue_needs_the_permission_and_a_known_bucket(station: Station, agent: Operator) -> None:
    technician = make_staff(station.db, agent="zhaomin")[0]  # second call: admin exists, adds another agent
    for who in (technician, None):
        with pytest.raises(NotPermitted):
            work_queue(station.db, who, bucket="all")
        with pytest.raises(NotPermitted):
            bucket_counts(station.db, who)
    with pytest.raises(InvalidInput, match="没有名为“later”的分组"):
        work_queue(station.db, agent, bucket="later")
