"""Booking against a real station database: the slots offered, capacity, the per-person limit, cancelling, a
person's own list, the agent's day list and marks, roles, and personal data encrypted at rest."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time

import pytest
from sqlalchemy import select, text

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.appointments import (
    OTHER_ITEM,
    AppointmentRules,
    AppointmentState,
    ItemChoice,
    SlotFull,
    book,
    bookable_items,
    cancel_by_staff,
    cancel_own,
    day_appointments,
    free_slots,
    mark,
    open_days,
    own_upcoming,
)
from kiosk_app.errors import InvalidInput, NotFound
from kiosk_app.identity import Identity
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.station import Station
from local_db.models import Appointment, AuditEvent
from tests.accounts import make_staff
from tests.conftest import make_person

MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 10)  # the 08:30 and 09:00 slots have started
ID_CARD = ItemChoice("331123-GA-0005", "居民身份证换领")


@pytest.fixture
def rules(copied_station: Station) -> AppointmentRules:
    return AppointmentRules.from_settings(copied_station.settings)


@pytest.fixture
def staff(copied_station: Station) -> tuple[Operator, Operator]:
    return make_staff(copied_station.db)  # (technician, agent)


def neighbours(count: int) -> list[Identity]:
    return [make_person(name=f"张{'一二三四五六'[i]}", seq=300 + i) for i in range(count)]


def at(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


def test_defaults_suit_a_township_station(rules: AppointmentRules) -> None:
    assert (rules.slot_minutes, rules.capacity, rules.days_ahead, rules.max_open_per_person) == (30, 2, 7, 2)
    assert rules.hours.describe() == "周一至周五 08:30-12:00、13:30-17:00"


def test_slots_leave_out_the_past_closed_days_and_days_too_far(copied_station: Station,
                                                               rules: AppointmentRules) -> None:
    days = open_days(copied_station.db, rules, now=NOW)
    assert [d.day.day for d in days] == [30, 1, 2, 3, 4, 7]  # Mon..Fri, not the weekend, up to 7 days ahead
    today = days[0]
    assert today.slots[0].start == at(9, 30)  # 08:30 and 09:00 have started
    assert len(today.slots) == 12 and all(len(d.slots) == 14 for d in days[1:])
    assert {s.free for d in days for s in d.slots} == {2}
    assert [s.label for s in days[1].slots[6:8]] == ["11:30-12:00", "13:30-14:00"]  # the lunch break is closed
    late = datetime(2026, 11, 30, 17, 0)
    assert open_days(copied_station.db, rules, now=late)[0].day == date(2026, 12, 1)  # today is over


def test_a_full_slot_refuses_and_cancelling_frees_a_place(copied_station: Station, rules: AppointmentRules) -> None:
    db = copied_station.db
    first, second, third = neighbours(3)
    booked = book(db, rules, identity=first, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    book(db, rules, identity=second, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    with pytest.raises(SlotFull, match="约满"):
        book(db, rules, identity=third, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    slot = next(s for s in free_slots(db, rules, MONDAY, MONDAY, now=NOW) if s.start == at(10))
    assert slot.full and slot.booked == 2
    cancel_own(db, booked.id, first, now=NOW)
    again = book(db, rules, identity=third, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    assert again.state == "booked"


@pytest.mark.parametrize(("day", "start", "message"), [
    (MONDAY, at(9), "已经开始或过去"),
    (MONDAY, at(8, 30), "已经开始或过去"),
    (date(2026, 12, 5), at(9), "不办理预约"),  # Saturday
    (date(2026, 12, 8), at(9), "7 天内"),  # eight days ahead
    (date(2026, 11, 29), at(9), "7 天内"),  # yesterday
    (MONDAY, at(9, 45), "不在本站的办公时间内"),
    (MONDAY, at(12), "不在本站的办公时间内"),  # the lunch break
])
def test_a_slot_that_cannot_be_booked_is_refused_plainly(copied_station: Station, rules: AppointmentRules,
                                                         day: date, start: time, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        book(copied_station.db, rules, identity=make_person(), item=ID_CARD, day=day, start=start, now=NOW)
    assert copied_station.db.read(lambda s: s.scalar(select(Appointment))) is None


def test_one_person_holds_at_most_the_limit_and_one_place_per_slot(copied_station: Station,
                                                                   rules: AppointmentRules) -> None:
    db, person = copied_station.db, make_person()
    first = book(db, rules, identity=person, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    with pytest.raises(InvalidInput, match=f"预约号 {first.booking_no}.*不用重复预约"):
        book(db, rules, identity=person, item=OTHER_ITEM, day=MONDAY, start=at(10), now=NOW)
    book(db, rules, identity=person, item=OTHER_ITEM, day=date(2026, 12, 1), start=at(14), now=NOW)
    with pytest.raises(InvalidInput, match="最多同时预约 2 个"):
        book(db, rules, identity=person, item=ID_CARD, day=date(2026, 12, 2), start=at(9), now=NOW)
    # Once the first is over, the person may book again.
    book(db, rules, identity=person, item=ID_CARD, day=date(2026, 12, 2), start=at(9),
         now=datetime(2026, 11, 30, 10, 45))


def test_booking_numbers_are_short_and_count_per_day(copied_station: Station, rules: AppointmentRules) -> None:
    db = copied_station.db
    made = [book(db, rules, identity=p, item=ID_CARD, day=MONDAY, start=at(9 + i, 30), now=NOW)
            for i, p in enumerate(neighbours(3))]
    assert [a.booking_no for a in made] == ["YY261130-001", "YY261130-002", "YY261130-003"]
    cancel_own(db, made[2].id, neighbours(3)[2], now=NOW)
    later = book(db, rules, identity=make_person(), item=ID_CARD, day=MONDAY, start=at(14), now=NOW)
    assert later.booking_no == "YY261130-004"  # a cancelled number is not given again
    tuesday = book(db, rules, identity=make_person(), item=ID_CARD, day=date(2026, 12, 1), start=at(14), now=NOW)
    assert re.fullmatch(r"YY\d{6}-\d{3}", tuesday.booking_no) and tuesday.booking_no.endswith("-001")


def test_a_person_sees_and_cancels_only_their_own(copied_station: Station, rules: AppointmentRules) -> None:
    db = copied_station.db
    mine, theirs = neighbours(2)
    own = book(db, rules, identity=mine, item=ID_CARD, day=date(2026, 12, 1), start=at(9), now=NOW)
    other = book(db, rules, identity=theirs, item=ID_CARD, day=date(2026, 12, 1), start=at(9), now=NOW)
    assert [a.booking_no for a in own_upcoming(db, mine, now=NOW)] == [own.booking_no]
    assert own_upcoming(db, mine, now=NOW)[0].person == mask_name(mine.name)
    with pytest.raises(NotFound):
        cancel_own(db, other.id, mine, now=NOW)
    cancelled = cancel_own(db, own.id, mine, now=NOW)
    assert cancelled.state == "cancelled" and own_upcoming(db, mine, now=NOW) == []
    with pytest.raises(InvalidInput, match="已取消"):
        cancel_own(db, own.id, mine, now=NOW)
    assert [a.booking_no for a in own_upcoming(db, theirs, now=NOW)] == [other.booking_no]


def test_the_agent_lists_the_day_masked_and_marks_what_happened(
    copied_station: Station, rules: AppointmentRules, staff: tuple[Operator, Operator]
) -> None:
    db, (_technician, agent) = copied_station.db, staff
    person = make_person()
    booked = book(db, rules, identity=person, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    [listed] = day_appointments(db, MONDAY, agent)
    assert (listed.person, listed.id_number) == (mask_name(person.name), mask_id_number(person.id_number))
    [clear] = day_appointments(db, MONDAY, agent, unmask=True)
    assert (clear.person, clear.id_number) == (person.name, person.id_number)
    with pytest.raises(InvalidInput, match="还没到"):
        mark(db, booked.id, AppointmentState.NO_SHOW, agent, now=NOW)
    with pytest.raises(InvalidInput, match="当天"):
        mark(db, booked.id, "arrived", agent, now=datetime(2026, 11, 29, 10))
    assert mark(db, booked.id, "arrived", agent, now=NOW).state_label == "已到达"
    with pytest.raises(InvalidInput, match="不能改为“已取消”"):
        cancel_by_staff(db, booked.id, agent)
    assert mark(db, booked.id, "done", agent, now=NOW).state == "done"
    assert own_upcoming(db, person, now=NOW) == []

    late = book(db, rules, identity=person, item=ID_CARD, day=MONDAY, start=at(14), now=NOW)
    after = datetime(2026, 11, 30, 14, 40)
    assert mark(db, late.id, "no_show", agent, now=after).state_label == "未到"
    assert mark(db, late.id, "arrived", agent, now=after).state == "arrived"  # came late after all
    gone = book(db, rules, identity=person, item=ID_CARD, day=date(2026, 12, 1), start=at(9), now=NOW)
    assert cancel_by_staff(db, gone.id, agent).state == "cancelled"
    assert [a.state for a in day_appointments(db, MONDAY, agent)] == ["done", "arrived"]


@pytest.mark.parametrize("who", ["villager", "technician"])
def test_only_an_agent_may_see_or_change_the_book(copied_station: Station, rules: AppointmentRules,
                                                  staff: tuple[Operator, Operator], who: str) -> None:
    db = copied_station.db
    operator = staff[0] if who == "technician" else None
    booked = book(db, rules, identity=make_person(), item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    message = "技术人员账号不能“管理预约”" if who == "technician" else "需要工作人员登录"
    with pytest.raises(NotPermitted, match=message):
        day_appointments(db, MONDAY, operator)
    with pytest.raises(NotPermitted, match=message):
        mark(db, booked.id, "arrived", operator, now=NOW)
    with pytest.raises(NotPermitted, match=message):
        cancel_by_staff(db, booked.id, operator)
    assert db.read(lambda s: s.get(Appointment, booked.id)).state == "booked"  # type: ignore[union-attr]


def test_items_offered_are_the_stations_items_that_need_a_visit(copied_station: Station) -> None:
    items = bookable_items(copied_station.db, "township")
    names = [item.name for item in items]
    assert "居民身份证换领" in names and "农村宅基地建房审批" in names
    assert "最低生活保障申请" not in names  # 零跑腿: nothing to book a counter for
    assert items[-1] == OTHER_ITEM
    village = [item.name for item in bookable_items(copied_station.db, "village")]
    assert "居民身份证换领" not in village  # a township-only item


def test_personal_data_is_encrypted_at_rest_and_audits_are_masked(copied_station: Station,
                                                                  rules: AppointmentRules) -> None:
    db, person = copied_station.db, make_person()
    booked = book(db, rules, identity=person, item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
    with db.read_engine.connect() as conn:
        raw = conn.execute(text("SELECT person_name, id_number, phone FROM appointment")).one()
    for column, secret in zip(raw, (person.name, person.id_number, person.phone), strict=True):
        assert isinstance(column, bytes) and secret is not None
        assert secret.encode() not in column
    events = db.read(lambda s: [e.detail for e in s.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == booked.id))])
    assert events and all(person.id_number not in str(d) and person.name not in str(d) for d in events)
    assert events[0]["id_number"] == mask_id_number(person.id_number)


def test_settings_refuse_bad_values_with_plain_messages(copied_station: Station) -> None:
    settings = copied_station.settings
    with pytest.raises(InvalidInput, match=r"设置项 appointment\.hours：时间“25:00”不对"):
        settings.set("appointment.hours", "mon 25:00-26:00")
    with pytest.raises(InvalidInput, match="应在 1 到 50 之间"):
        settings.set("appointment.capacity", "0")
    with pytest.raises(InvalidInput, match="应在 10 到 240 之间"):
        settings.set("appointment.slot_minutes", 5)
    with pytest.raises(InvalidInput, match="格式不对，应为整数"):
        settings.set("appointment.days_ahead", "一周")
    settings.set("appointment.hours", "周一至周五 08:30-11:30；sat 09:00-11:00")
    settings.set("appointment.capacity", "1")
    rules = AppointmentRules.from_settings(settings)
    assert rules.capacity == 1 and rules.hours.is_open(date(2026, 12, 5))


def test_no_hours_means_no_appointments(copied_station: Station, rules: AppointmentRules) -> None:
    closed = replace(rules, hours=replace(rules.hours, ranges={}))
    assert open_days(copied_station.db, closed, now=NOW) == []
    with pytest.raises(InvalidInput, match="不办理预约"):
        book(copied_station.db, closed, identity=make_person(), item=ID_CARD, day=MONDAY, start=at(10), now=NOW)
