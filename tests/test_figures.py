"""The day's figures against a real station database: counts by item, state and channel, 零跑腿 share,
evaluations and satisfaction, pending sync, and the local-day boundary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.evaluations import record_evaluation
from kiosk_app.figures import day_bounds, day_figures
from kiosk_app.station import Station
from local_db.models import Application, Evaluation
from tests.accounts import make_staff
from tests.conftest import make_person

CARD = "331123-RS-0005"  # 社会保障卡补领换领, visits 0
RESIDENCE = "331123-GA-0002"  # 居住证申领, visits 1
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
CST = timezone(timedelta(hours=8))
DAY = date(2026, 3, 2)
# 00:30 on DAY in China is still the day before in UTC: the local day must win.
EARLY = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
NEXT_DAY = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@pytest.fixture
def staff(station: Station) -> tuple[Operator, Operator]:
    return make_staff(station.db)


def file(station: Station, item: str, seq: int, *, agent: Operator | None = None) -> Filed:
    ctx = (station.filing_context(channel="agent", actor=f"agent:{agent.username}", agent_user_id=agent.user_id)
           if agent else station.filing_context())
    person = make_person(seq=seq)
    if item == CARD:
        values = {"reason": "遗失补领"}
        files = [MaterialFile("M03", PNG + bytes([seq]), "image/png")]
    else:
        values = {"current_address": "遂昌县妙高街道北街5号", "residence_type": "租赁房屋", "residence_reason": "务工"}
        files = [MaterialFile("M02", PNG + bytes([seq, 1]), "image/png")]
    return submit_application(station.db, station.catalog, ctx, item_code=item, identity=person,
                              form_values=values, files=files, today=DAY)


def set_created(station: Station, model: type[Application] | type[Evaluation], ref: str, at: datetime) -> None:
    station.db.write(lambda s: s.execute(update(model).where(model.id == ref).values(created_at=at)))


def test_day_figures(station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    card_kiosk = file(station, CARD, 101)
    card_agent = file(station, CARD, 112, agent=agent)
    residence = file(station, RESIDENCE, 123, agent=agent)
    another_day = file(station, CARD, 134)
    set_created(station, Application, card_kiosk.id, EARLY)
    set_created(station, Application, card_agent.id, NOON)
    set_created(station, Application, residence.id, NOON)
    set_created(station, Application, another_day.id, NEXT_DAY)

    def accept(session: Session) -> None:
        app = session.get(Application, card_agent.id)
        assert app is not None
        move(session, app, State.UPLOADED, actor="sync")

    station.db.write(accept)
    ratings = [(5, NOON), (4, NOON), (2, EARLY), (5, NEXT_DAY)]
    for level, at in ratings:
        set_created(station, Evaluation, record_evaluation(station.db, level=level, channel="kiosk"), at)

    figures = day_figures(station.db, agent, DAY, tz=CST)
    assert figures.filed == 3
    assert [(c.item_code, c.item_name, c.count) for c in figures.by_item] == [
        (CARD, "社会保障卡补领换领", 2), (RESIDENCE, "居住证申领", 1)]
    assert [(c.state, c.label, c.count) for c in figures.by_state] == [
        ("submitted", "已提交（待同步）", 2), ("uploaded", "已上报", 1)]
    assert figures.by_channel == {"kiosk": 1, "agent": 2}
    assert figures.zero_visit == 2 and figures.zero_visit_share == pytest.approx(2 / 3, abs=1e-4)
    assert figures.evaluations_by_level == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert figures.evaluations == 3 and figures.satisfaction_rate == pytest.approx(2 / 3, abs=1e-4)
    # Each filing queued its application and its scan; the evaluations are queued too.
    assert figures.pending_sync == 4 * 2 + len(ratings) and figures.quarantined_sync == 0

    data = figures.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["day"] == "2026-03-02" and data["evaluations_by_level"]["5"] == 1

    # The same rows seen from UTC: the 00:30 (China) kiosk filing moves to the day before, and the one made at
    # 00:30 (China) the next day joins this one.
    utc_day = day_figures(station.db, agent, DAY, tz=UTC)
    assert utc_day.filed == 3 and utc_day.by_channel == {"kiosk": 1, "agent": 2}
    assert utc_day.evaluations_by_level == {1: 0, 2: 0, 3: 0, 4: 1, 5: 2}


def test_empty_day_has_no_rates(station: Station, staff: tuple[Operator, Operator]) -> None:
    figures = day_figures(station.db, staff[1], date(2020, 1, 1))
    assert figures.filed == 0 and figures.by_item == () and figures.by_state == ()
    assert figures.zero_visit_share is None and figures.satisfaction_rate is None
    assert figures.by_channel == {"kiosk": 0, "agent": 0}
    assert figures.evaluations_by_level == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


def test_day_bounds_are_the_local_day() -> None:
    assert day_bounds(DAY, CST) == (datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 2, 16, tzinfo=UTC))
    start, end = day_bounds(DAY)
    assert start.tzinfo is UTC and end - start in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


def test_figures_need_the_permission(station: Station, staff: tuple[Operator, Operator]) -> None:
    technician, _ = staff
    for who in (technician, None):
        with pytest.raises(NotPermitted, match="查看当日统计"):
            day_figures(station.db, who, DAY)
