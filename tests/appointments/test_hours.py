"""The `appointment.hours` text: what it accepts, the slots it makes, and that no text ever crashes it."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.appointment_hours import OpeningHours, day_label, hours_problem, parse_hours
from kiosk_app.errors import InvalidInput

MONDAY = date(2026, 11, 30)


def test_groups_runs_lists_and_chinese_day_names() -> None:
    hours = parse_hours("mon-wed,fri 08:30-12:00, 13:30-17:00；SAT 09:00-11:30")
    assert sorted(hours.ranges) == [0, 1, 2, 4, 5]
    assert hours.ranges[5] == ((time(9), time(11, 30)),)
    assert parse_hours("周一至周五 8:30－12:00，13:30-17:00") == parse_hours("mon-fri 08:30-12:00,13:30-17:00")
    assert parse_hours("") == OpeningHours({})
    assert parse_hours("mon-fri 08:30-12:00,13:30-17:00; sat 09:00-11:30").describe() == (
        "周一至周五 08:30-12:00、13:30-17:00；周六 09:00-11:30")


def test_slots_fill_each_range_and_drop_a_short_remainder() -> None:
    hours = parse_hours("mon 08:30-10:15")
    assert hours.slots(MONDAY, 30) == [(time(8, 30), time(9)), (time(9), time(9, 30)), (time(9, 30), time(10))]
    assert hours.slots(MONDAY, 120) == []
    assert hours.slots(date(2026, 12, 1), 30) == []  # Tuesday is closed
    assert day_label(MONDAY) == "11月30日（周一）"


@pytest.mark.parametrize(("text", "message"), [
    ("mon", "缺少时间段"),
    ("08:00-09:00", "没有写星期几"),
    ("xyz 08:00-09:00", "不认识的星期“xyz”"),
    ("fri-mon 08:00-09:00", "应从前往后写"),
    ("mon 09:00-08:00", "开始时间应早于结束时间"),
    ("mon 08:00-10:00,09:00-11:00", "周一的时间段 08:00-10:00 和 09:00-11:00 重叠了"),
    ("mon 08:00-10:00; mon 09:30-11:00", "重叠了"),
    ("mon 24:00-24:30", "时间“24:00”不对"),
    ("mon 0800-0900", "时间“0800”不对"),
    ("mon 08:00", "应写成 开始-结束"),
    ("mon " + "08:00-09:00," * 60, "太长"),
])
def test_mistakes_get_one_plain_sentence(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_hours(text)
    assert caught.value.field == "appointment.hours"
    assert hours_problem(text) == caught.value.message


HOURS_TOKENS = st.sampled_from(["mon", "tue", "fri", "sat", "sun", "周一", "星期天", "-", ",", "，", ";", "；", " ",
                                "08:30", "12:00", "13:30", "17:00", "9", ":", "24:00", "至", "0", "x", "\n"])


@given(st.one_of(st.text(max_size=80), st.lists(HOURS_TOKENS, max_size=30).map("".join)))
def test_any_text_parses_or_gets_a_plain_message(text: str) -> None:
    try:
        hours = parse_hours(text)
    except InvalidInput as exc:
        assert exc.message and "Traceback" not in exc.message
        assert exc.message.endswith("。")
        return
    for ranges in hours.ranges.values():  # whatever it accepted is well-formed
        assert all(start < end for start, end in ranges)
        assert all(a[1] <= b[0] for a, b in pairwise(ranges))
    hours.describe()
    for offset in range(7):
        hours.slots(MONDAY + timedelta(days=offset), 30)
