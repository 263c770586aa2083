"""The counter's opening hours for appointments, as a technician types them into the `appointment.hours` setting,
and the time slots they make.

The text is a list of groups separated by ";", each "DAYS RANGES": `mon-fri 08:30-12:00,13:30-17:00; sat 09:00-11:30`.
DAYS is a day (mon tue wed thu fri sat sun), a run (mon-fri) or a list (mon,wed,fri); RANGES are HH:MM-HH:MM
separated by ",". Every mistake gets one plain Chinese sentence (InvalidInput), never a traceback: the same text
is checked when the setting is stored and parsed again when slots are listed. An empty text means the station
takes no appointments.

Chinese public holidays and 调休 working weekends are not known here (they need the platform's calendar): on a
holiday the technician or the agents cancel that day's appointments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Final

from kiosk_app.errors import InvalidInput

WEEKDAY_KEYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MAX_TEXT: Final = 500
EXAMPLE: Final = "mon-fri 08:30-12:00,13:30-17:00"
_TIME: Final = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_SPLIT_GROUPS: Final = re.compile(r"[;；\n]")
_SPLIT_LIST: Final = re.compile(r"[,，、]")
_DAYS_THEN_TIMES: Final = re.compile(r"(\D*?)(\d.*)")  # the days are what comes before the first digit
# Full-width and look-alike punctuation a Chinese keyboard types, and "周一至周五".
_NORMALISE: Final = str.maketrans({"：": ":", "～": "-", "~": "-", "—": "-", "－": "-", "至": "-", "到": "-"})
_CHINESE_WEEKDAYS: Final = {name: i for i, name in enumerate(WEEKDAY_LABELS)} | {
    f"星期{label[1]}": i for i, label in enumerate(WEEKDAY_LABELS)} | {"周天": 6, "星期天": 6}

TimeRange = tuple[time, time]


@dataclass(frozen=True)
class OpeningHours:
    """Ranges per weekday (Monday 0 .. Sunday 6), sorted and not overlapping; a missing weekday is closed."""

    ranges: dict[int, tuple[TimeRange, ...]]

    def is_open(self, day: date) -> bool:
        return bool(self.ranges.get(day.weekday()))

    def slots(self, day: date, minutes: int) -> list[TimeRange]:
        """The day's slots of `minutes` each, from the start of every range; a remainder too short is dropped."""
        length = timedelta(minutes=minutes)
        found: list[TimeRange] = []
        for start, end in self.ranges.get(day.weekday(), ()):
            at = datetime.combine(day, start)
            close = datetime.combine(day, end)
            while at + length <= close:
                found.append((at.time(), (at + length).time()))
                at += length
        return found

    def describe(self) -> str:
        """E.g. "周一至周五 08:30-12:00、13:30-17:00；周六 09:00-11:30", for screens."""
        if not self.ranges:
            return "暂不开放预约"
        groups: list[tuple[list[int], tuple[TimeRange, ...]]] = []
        for weekday in sorted(self.ranges):
            ranges = self.ranges[weekday]
            if groups and groups[-1][1] == ranges and groups[-1][0][-1] == weekday - 1:
                groups[-1][0].append(weekday)
            else:
                groups.append(([weekday], ranges))
        parts = []
        for days, ranges in groups:
            first, last = WEEKDAY_LABELS[days[0]], WEEKDAY_LABELS[days[-1]]
            names = first if len(days) == 1 else f"{first}至{last}"
            parts.append(f"{names} " + "、".join(range_label(start, end) for start, end in ranges))
        return "；".join(parts)


def range_label(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def day_label(day: date) -> str:
    """"11月30日（周一）": how a slip and a tile name a day."""
    return f"{day.month}月{day.day}日（{WEEKDAY_LABELS[day.weekday()]}）"


def parse_hours(text: str) -> OpeningHours:
    """Parse the setting's text; raise InvalidInput with a plain sentence naming the first mistake."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"办公时间设置太长（最多 {MAX_TEXT} 个字符）。", field="appointment.hours")
    per_day: dict[int, list[TimeRange]] = {}
    for group in _SPLIT_GROUPS.split(text):
        group = "".join(group.translate(_NORMALISE).split())  # spaces carry no meaning: "mon - fri" is "mon-fri"
        if not group:
            continue
        split = _DAYS_THEN_TIMES.fullmatch(group)
        if split is None:
            raise _problem(f"“{group[:30]}”缺少时间段；每段应写成“星期 时间段”，例如 {EXAMPLE}。")
        days_text, ranges_text = split.groups()
        ranges = [_range(part) for part in _SPLIT_LIST.split(ranges_text) if part]
        for weekday in _weekdays(days_text):
            per_day.setdefault(weekday, []).extend(ranges)
    result: dict[int, tuple[TimeRange, ...]] = {}
    for weekday, ranges in per_day.items():
        ordered = sorted(set(ranges))
        for (start_a, end_a), (start_b, end_b) in pairwise(ordered):
            if start_b < end_a:
                raise _problem(f"{WEEKDAY_LABELS[weekday]}的时间段 {range_label(start_a, end_a)} 和 "
                               f"{range_label(start_b, end_b)} 重叠了，请分开写。")
        result[weekday] = tuple(ordered)
    return OpeningHours(result)


def hours_problem(text: str) -> str | None:
    """For the setting's check: None when the text is fine, else the plain sentence saying what is wrong."""
    try:
        parse_hours(text)
    except InvalidInput as exc:
        return exc.message
    return None


def _problem(message: str) -> InvalidInput:
    return InvalidInput(message, field="appointment.hours")


def _weekdays(text: str) -> list[int]:
    days: list[int] = []
    for part in _SPLIT_LIST.split(text.lower()):
        if not part:
            continue
        first, dash, last = part.partition("-")
        start = _weekday(first)
        if not dash:
            days.append(start)
            continue
        end = _weekday(last)
        if end < start:
            raise _problem(f"星期范围“{part}”应从前往后写，例如 mon-fri。")
        days.extend(range(start, end + 1))
    if not days:
        raise _problem(f"没有写星期几；每段应写成“星期 时间段”，例如 {EXAMPLE}。")
    return days


def _weekday(text: str) -> int:
    if text in WEEKDAY_KEYS:
        return WEEKDAY_KEYS.index(text)
    if text in _CHINESE_WEEKDAYS:
        return _CHINESE_WEEKDAYS[text]
    raise _problem(f"不认识的星期“{text[:20]}”，请用 mon、tue、wed、thu、fri、sat、sun（或 周一 至 周日），"
                   f"例如 {EXAMPLE}。")


def _range(text: str) -> TimeRange:
    first, dash, last = text.partition("-")
    if not dash:
        raise _problem(f"时间段“{text[:20]}”应写成 开始-结束，例如 08:30-12:00。")
    start, end = _time(first), _time(last)
    if start >= end:
        raise _problem(f"时间段 {range_label(start, end)} 的开始时间应早于结束时间。")
    return start, end


def _time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _problem(f"时间“{text[:20]}”不对，应为 00:00 到 23:59 之间，例如 08:30。")
    return time(int(match.group(1)), int(match.group(2)))


def within(low: int, high: int) -> Callable[[int], str | None]:
    """A setting's check for a whole number from `low` to `high` (slot length, capacity, days ahead)."""
    return lambda value: None if low <= value <= high else f"应在 {low} 到 {high} 之间。"
