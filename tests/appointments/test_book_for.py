"""代约: an agent books for a villager at the counter (card) or on the phone (name and ID number typed); the same
checks as the kiosk's booking, the agent as the actor, and nobody else may do it."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from kiosk_app.accounts import NotPermitted, Operator, deactivate
from kiosk_app.appointments import (
    AppointmentRules,
    ItemChoice,
    SlotFull,
    TypedPerson,
    book,
    book_for,
    day_appointments,
    own_upcoming,
)
from kiosk_app.errors import InvalidInput
from kiosk_app.identity import CardType, make_id_number
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.station import Station
from local_db.models import Appointment, AuditEvent
from tests.accounts import make_staff
from tests.conftest import make_person

MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 10)
TEN = time(10)
ID_CARD = ItemChoice("331123-GA-0005", "居民身份证换领")
PHONED = TypedPerson("  雷金土 ", make_id_number("331123", date(1962, 9, 3), 311))


@pytest.fixture
def rules(copied_station: Station) -> AppointmentRules:
    return AppointmentRules.from_settings(copied_station.settings)


@pytest.fixture
def staff(copied_station: Station) -> tuple[Operator, Operator]:
    return make_staff(copied_station.db)  # (technician, agent)


def test_an_agent_books_for_a_typed_person_and_is_the_actor(copied_station: Station, rules: AppointmentRules,
                                                            staff: tuple[Operator, Operator]) -> None:
    db, agent = copied_station.db, staff[1]
    booked = book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=MONDAY, start=TEN, now=NOW)
    assert booked.person == mask_name("雷金土") and booked.id_number == mask_id_number(PHONED.id_number)
    assert booked.channel == "agent" and booked.booking_no == "YY261130-001"
    row = db.read(lambda s: s.get(Appointment, booked.id))
    assert row is not None and (row.person_name, row.id_number) == ("雷金土", PHONED.id_number)
    assert row.created_by == row.updated_by == "agent:wangli"
    [event] = db.read(lambda s: list(s.scalars(select(AuditEvent).where(AuditEvent.subject_id == booked.id))))
    assert event.actor == "agent:wangli" and event.action == "appointment.book"
    assert event.detail["channel"] == "agent" and PHONED.id_number not in str(event.detail)
    # The villager finds it with their own card later, and it is on the agent's day list.
    assert [a.id for a in own_upcoming(db, PHONED.identity(), now=NOW)] == [booked.id]
    assert [a.booking_no for a in day_appointments(db, MONDAY, agent)] == [booked.booking_no]


def test_an_agent_books_for_a_card_at_the_counter(copied_station: Station, rules: AppointmentRules,
                                                  staff: tuple[Operator, Operator]) -> None:
    person = make_person()
    booked = book_for(copied_station.db, rules, staff[1], identity=person, item=ID_CARD, day=MONDAY, start=TEN,
                      now=NOW)
    assert booked.person == mask_name(person.name) and booked.state == "booked"


@pytest.mark.parametrize("who", ["villager", "technician", "deactivated"])
def test_only_an_active_agent_may_book_for_someone(copied_station: Station, rules: AppointmentRules,
                                                   staff: tuple[Operator, Operator], who: str) -> None:
    db, (technician, agent) = copied_station.db, staff
    operator: Operator | None = {"villager": None, "technician": technician, "deactivated": agent}[who]
    if who == "deactivated":
        deactivate(db, agent.username, actor=technician)
    message = {"villager": "需要工作人员登录", "technician": "技术人员账号不能“管理预约”",
               "deactivated": "已停用"}[who]
    with pytest.raises(NotPermitted, match=message):
        book_for(db, rules, operator, identity=PHONED, item=ID_CARD, day=MONDAY, start=TEN, now=NOW)
    assert db.read(lambda s: s.scalar(select(Appointment))) is None


@pytest.mark.parametrize(("name", "number", "message"), [
    ("雷金土", PHONED.id_number[:-1] + ("0" if PHONED.id_number[-1] != "0" else "1"), "校验码不对"),
    ("雷金土", "33112319620903", "应为18位"),
    ("雷金土", "", "请输入身份证号码"),
    ("   ", PHONED.id_number, "请填写预约人的姓名"),
])
def test_a_mistyped_person_is_refused_plainly(copied_station: Station, rules: AppointmentRules,
                                              staff: tuple[Operator, Operator], name: str, number: str,
                                              message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        book_for(copied_station.db, rules, staff[1], identity=TypedPerson(name, number), item=ID_CARD, day=MONDAY,
                 start=TEN, now=NOW)
    assert copied_station.db.read(lambda s: s.scalar(select(Appointment))) is None


def test_a_typed_person_is_a_manual_identity() -> None:
    identity = PHONED.identity()
    assert identity.card_type is CardType.MANUAL and identity.name == "雷金土" and identity.sex == "男"


def test_capacity_and_the_per_person_limit_still_hold(copied_station: Station, rules: AppointmentRules,
                                                      staff: tuple[Operator, Operator]) -> None:
    db, agent = copied_station.db, staff[1]
    book(db, rules, identity=make_person(name="张一", seq=301), item=ID_CARD, day=MONDAY, start=TEN, now=NOW)
    book_for(db, rules, agent, identity=make_person(name="张二", seq=302), item=ID_CARD, day=MONDAY, start=TEN,
             now=NOW)
    with pytest.raises(SlotFull, match="约满"):
        book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=MONDAY, start=TEN, now=NOW)
    first = book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=MONDAY, start=time(14), now=NOW)
    with pytest.raises(InvalidInput, match=f"预约人已预约了这个时间段（预约号 {first.booking_no}）"):
        book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=MONDAY, start=time(14), now=NOW)
    book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=date(2026, 12, 1), start=TEN, now=NOW)
    with pytest.raises(InvalidInput, match="预约人已有 2 个未到期的预约"):
        book_for(db, rules, agent, identity=PHONED, item=ID_CARD, day=date(2026, 12, 2), start=TEN, now=NOW)
    with pytest.raises(InvalidInput, match="您已有 2 个"):  # the kiosk's own booking counts the same places
        book(db, rules, identity=PHONED.identity(), item=ID_CARD, day=date(2026, 12, 2), start=TEN, now=NOW)
