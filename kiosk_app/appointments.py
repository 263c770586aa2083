"""预约: booking a time slot at this station's counter, and the station's side of it (the day's list, 到达/办结/未到).

A villager swipes the card, picks an item, a day and a slot; the booking is one write transaction that counts the
slot's bookings and the person's open ones and inserts the row, so the capacity and the per-person limit hold
even when two bookings race on the single writer. An agent may book the same way for a villager at the counter
or on the phone (代约, `book_for`): the same transaction, the agent recorded as the actor. Kiosks do not share
a database: each station's counter has its own book. Slots are the station's local wall-clock time; past slots
and closed days are never offered, and public holidays are not known (see `kiosk_app.appointment_hours`).

Personal data (name, ID number, phone) is stored encrypted; a person finds only their own appointments, by the
keyed hash of the ID number. Staff lists show names masked unless an agent asks for them in clear, and every
change is an audit event with masked details only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.appointment_hours import OpeningHours, day_label, parse_hours, range_label
from kiosk_app.config import Settings
from kiosk_app.errors import InvalidInput, KioskError, NotFound
from kiosk_app.identity import Identity, manual_identity
from kiosk_app.identity.masking import mask_id_number, mask_name
from local_db.database import Database
from local_db.models import Appointment, ServiceItem, utcnow

BOOKING_PREFIX: Final = "YY"
MAX_PER_DAY: Final = 999  # three digits in the booking number
OTHER_ITEM_NAME: Final = "其他事项"  # the villager explains at the counter
MAX_TYPED_NAME: Final = 30  # characters of a name an agent types (代约 by phone)


class AppointmentState(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


STATE_LABELS: Final = {
    AppointmentState.BOOKED: "待到达",
    AppointmentState.ARRIVED: "已到达",
    AppointmentState.DONE: "已办结",
    AppointmentState.NO_SHOW: "未到",
    AppointmentState.CANCELLED: "已取消",
}
# What staff may move an appointment to. A late-comer marked 未到 may still be served (-> 已到达); 办结 and 取消
# are final, so the day's figures do not change under anyone's feet.
TRANSITIONS: Final[dict[AppointmentState, frozenset[AppointmentState]]] = {
    AppointmentState.BOOKED: frozenset({AppointmentState.ARRIVED, AppointmentState.DONE, AppointmentState.NO_SHOW,
                                        AppointmentState.CANCELLED}),
    AppointmentState.ARRIVED: frozenset({AppointmentState.DONE}),
    AppointmentState.NO_SHOW: frozenset({AppointmentState.ARRIVED}),
    AppointmentState.DONE: frozenset(),
    AppointmentState.CANCELLED: frozenset(),
}
# Holding a place: counted against a slot's capacity (everything but cancelled) and, while upcoming, against
# the person's limit (booked or arrived).
HOLDING: Final = (AppointmentState.BOOKED.value, AppointmentState.ARRIVED.value, AppointmentState.DONE.value,
                  AppointmentState.NO_SHOW.value)
OPEN: Final = (AppointmentState.BOOKED.value, AppointmentState.ARRIVED.value)


class SlotFull(KioskError):
    """Somebody else took the slot's last place since the screen showed it."""


@dataclass(frozen=True)
class AppointmentRules:
    """The settings that shape the book, read once per screen or operation."""

    hours: OpeningHours
    slot_minutes: int
    capacity: int
    days_ahead: int
    max_open_per_person: int
    station_code: str

    @classmethod
    def from_settings(cls, settings: Settings) -> AppointmentRules:
        values = settings.all()
        return cls(hours=parse_hours(str(values["appointment.hours"])),
                   slot_minutes=int(values["appointment.slot_minutes"]),
                   capacity=int(values["appointment.capacity"]),
                   days_ahead=int(values["appointment.days_ahead"]),
                   max_open_per_person=int(values["appointment.max_open_per_person"]),
                   station_code=str(values["station.code"]))

    def last_day(self, today: date) -> date:
        return today + timedelta(days=self.days_ahead)


@dataclass(frozen=True)
class Slot:
    day: date
    start: time
    end: time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def full(self) -> bool:
        return self.free == 0

    @property
    def label(self) -> str:
        return range_label(self.start, self.end)


@dataclass(frozen=True)
class OpenDay:
    day: date
    slots: tuple[Slot, ...]

    @property
    def free(self) -> int:
        return sum(slot.free for slot in self.slots)

    @property
    def label(self) -> str:
        return day_label(self.day)


@dataclass(frozen=True)
class ItemChoice:
    """What the appointment is for: a catalogue item, or `code` None for 其他事项."""

    code: str | None
    name: str


OTHER_ITEM: Final = ItemChoice(None, OTHER_ITEM_NAME)


@dataclass(frozen=True)
class AppointmentView:
    id: str
    booking_no: str
    day: date
    slot_start: time
    slot_end: time
    item_code: str | None
    item_name: str
    person: str  # masked unless an agent asked for clear names
    id_number: str  # masked unless an agent asked for clear names
    state: str
    channel: str
    created_at: datetime

    @property
    def state_label(self) -> str:
        return STATE_LABELS[AppointmentState(self.state)]

    @property
    def slot_label(self) -> str:
        return range_label(self.slot_start, self.slot_end)

    @property
    def day_label(self) -> str:
        return day_label(self.day)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "booking_no": self.booking_no, "day": self.day.isoformat(),
                "slot": self.slot_label, "item_code": self.item_code, "item_name": self.item_name,
                "person": self.person, "id_number": self.id_number, "state": self.state,
                "state_label": self.state_label, "channel": self.channel}


def local_now(now: datetime | None = None) -> datetime:
    """The station's wall-clock time, naive: slots are compared with what the counter's clock says."""
    moment = now or datetime.now().astimezone()
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


# ---- for the villager ------------------------------------------------------------------------------------------


def bookable_items(db: Database, station_level: str) -> list[ItemChoice]:
    """Items this station handles that need a trip to the counter (到办事现场次数 > 0), then 其他事项."""

    def job(session: Session) -> list[ItemChoice]:
        rows = session.execute(select(ServiceItem.code, ServiceItem.name, ServiceItem.levels)
                               .where(ServiceItem.active.is_(True), ServiceItem.visits > 0)
                               .order_by(ServiceItem.code))
        return [ItemChoice(code, name) for code, name, levels in rows if station_level in levels]

    return [*db.read(job), OTHER_ITEM]


def open_days(db: Database, rules: AppointmentRules, *, now: datetime | None = None) -> list[OpenDay]:
    """Every day from today to the last bookable one that still has a slot ahead, full slots included (the
    screen shows them as 已满)."""
    today = local_now(now).date()
    slots = free_slots(db, rules, today, rules.last_day(today), now=now)
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.day, []).append(slot)
    return [OpenDay(day, tuple(day_slots)) for day, day_slots in sorted(days.items())]


def free_slots(db: Database, rules: AppointmentRules, first_day: date, last_day: date, *,
               now: datetime | None = None) -> list[Slot]:
    """The slots of open days from `first_day` to `last_day` that have not started yet, with their bookings."""
    moment = local_now(now)
    wanted = [(day, start, end) for day in _days(first_day, last_day) for start, end in
              rules.hours.slots(day, rules.slot_minutes) if datetime.combine(day, start) > moment]
    if not wanted:
        return []
    counts = db.read(lambda s: _booked_counts(s, first_day, last_day))
    return [Slot(day, start, end, rules.capacity, counts.get((day, start), 0)) for day, start, end in wanted]


def book(db: Database, rules: AppointmentRules, *, identity: Identity, item: ItemChoice, day: date, start: time,
         channel: str = "kiosk", actor: str = "kiosk", now: datetime | None = None) -> AppointmentView:
    """Book `start` on `day` for the card holder. Checked again inside the write: the slot still has room, the
    person holds no place in it yet and has fewer than the allowed open appointments."""
    return _book(db, rules, identity, item, day, start, channel=channel, actor=actor, operator=None, now=now)


@dataclass(frozen=True)
class TypedPerson:
    """A villager the agent books for without a card on the reader (they phoned): name and ID number as typed."""

    name: str
    id_number: str

    def identity(self) -> Identity:
        """The typed person as an `Identity` (card type 手工录入), or `InvalidInput` saying what to correct."""
        name = " ".join(self.name.split())
        if not name:
            raise InvalidInput("请填写预约人的姓名。", field="name")
        if len(name) > MAX_TYPED_NAME:
            raise InvalidInput(f"姓名最多 {MAX_TYPED_NAME} 个字，请核对。", field="name")
        return manual_identity(name, self.id_number)  # the ID number's own checks, check digit included


def book_for(db: Database, rules: AppointmentRules, operator: Operator | None, *, identity: Identity | TypedPerson,
             item: ItemChoice, day: date, start: time, now: datetime | None = None) -> AppointmentView:
    """代约: an agent books for a villager at the counter (card on the agent's reader) or on the phone (name and
    ID number typed). The same checks as `book` in the same transaction; the agent is the actor."""
    require(operator, Permission.MANAGE_APPOINTMENTS)
    assert operator is not None
    person = identity.identity() if isinstance(identity, TypedPerson) else identity
    return _book(db, rules, person, item, day, start, channel="agent", actor=operator.actor, operator=operator,
                 now=now)


def own_upcoming(db: Database, identity: Identity, *, now: datetime | None = None) -> list[AppointmentView]:
    """The card holder's appointments that are still ahead (or under way), earliest first."""
    moment = local_now(now)
    lookup = db.cipher.lookup_hash(identity.id_number, "id_number")

    def job(session: Session) -> list[AppointmentView]:
        rows = session.scalars(select(Appointment).where(
            Appointment.person_lookup == lookup, Appointment.state.in_(OPEN), Appointment.day >= moment.date())
            .order_by(Appointment.day, Appointment.slot_start))
        return [_view(row, unmask=False) for row in rows if datetime.combine(row.day, row.slot_end) > moment]

    return db.read(job)


def cancel_own(db: Database, appointment_id: str, identity: Identity, *,
               now: datetime | None = None) -> AppointmentView:
    """The card holder cancels one of their own booked appointments; anyone else's is simply not found."""
    moment = local_now(now)
    lookup = db.cipher.lookup_hash(identity.id_number, "id_number")

    def job(session: Session) -> AppointmentView:
        row = session.get(Appointment, appointment_id)
        if row is None or row.person_lookup != lookup:
            raise NotFound("没有找到您的这个预约，可能已经取消。")
        if row.state != AppointmentState.BOOKED.value:
            raise InvalidInput(f"这个预约现在是“{STATE_LABELS[AppointmentState(row.state)]}”，不能再取消。")
        if datetime.combine(row.day, row.slot_end) <= moment:
            raise InvalidInput("这个预约的时间已经过了，不需要取消。")
        return _move(session, row, AppointmentState.CANCELLED, "kiosk:card_holder")

    return db.write(job)


def slip_view(db: Database, appointment_id: str) -> AppointmentView:
    """The masked appointment a slip is printed from (no full name or ID number ever reaches paper)."""
    row_view = db.read(lambda s: _maybe_view(s.get(Appointment, appointment_id)))
    if row_view is None:
        raise NotFound("没有找到这个预约，不能打印凭条。")
    return row_view


# ---- for station staff -----------------------------------------------------------------------------------------


def day_appointments(db: Database, day: date, operator: Operator | None, *,
                     unmask: bool = False) -> list[AppointmentView]:
    """One day's appointments in slot order, cancelled ones included (the agent sees why a slot came free)."""
    require(operator, Permission.MANAGE_APPOINTMENTS)
    assert operator is not None

    def job(session: Session) -> list[AppointmentView]:
        ensure_active(session, operator)
        rows = session.scalars(select(Appointment).where(Appointment.day == day)
                               .order_by(Appointment.slot_start, Appointment.booking_no))
        return [_view(row, unmask=unmask) for row in rows]

    return db.read(job)


def mark(db: Database, appointment_id: str, to: AppointmentState | str, operator: Operator | None, *,
         now: datetime | None = None) -> AppointmentView:
    """An agent records what happened: 已到达, 已办结, 未到 or 取消 (TRANSITIONS says what may follow what)."""
    require(operator, Permission.MANAGE_APPOINTMENTS)
    assert operator is not None
    target = AppointmentState(to)
    moment = local_now(now)

    def job(session: Session) -> AppointmentView:
        ensure_active(session, operator)
        row = session.get(Appointment, appointment_id)
        if row is None:
            raise NotFound("没有找到这个预约。")
        current = AppointmentState(row.state)
        if target not in TRANSITIONS[current]:
            raise InvalidInput(f"这个预约现在是“{STATE_LABELS[current]}”，不能改为“{STATE_LABELS[target]}”。")
        if target in (AppointmentState.ARRIVED, AppointmentState.DONE) and row.day != moment.date():
            raise InvalidInput(f"这是 {day_label(row.day)} 的预约，只能在当天标记到达或办结。")
        if target is AppointmentState.NO_SHOW and datetime.combine(row.day, row.slot_start) > moment:
            raise InvalidInput("预约的时间还没到，不能标记为未到。")
        return _move(session, row, target, operator.actor)

    return db.write(job)


def cancel_by_staff(db: Database, appointment_id: str, operator: Operator | None) -> AppointmentView:
    """An agent cancels a booking (the villager phoned, the counter closes for a holiday)."""
    return mark(db, appointment_id, AppointmentState.CANCELLED, operator)


# ---- inside ----------------------------------------------------------------------------------------------------


def _book(db: Database, rules: AppointmentRules, identity: Identity, item: ItemChoice, day: date, start: time, *,
          channel: str, actor: str, operator: Operator | None, now: datetime | None) -> AppointmentView:
    """The one booking transaction, for the card holder at the kiosk (`operator` None) or an agent's 代约 (the
    account re-checked inside the write, and the messages speak of 预约人 rather than 您)."""
    moment = local_now(now)
    end = _slot_end(rules, day, start, moment)
    name = item.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("请选择要预约办理的事项。", field="item")
    lookup = db.cipher.lookup_hash(identity.id_number, "id_number")
    who = "您" if operator is None else "预约人"

    def job(session: Session) -> AppointmentView:
        if operator is not None:
            ensure_active(session, operator)
        taken = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.day == day, Appointment.slot_start == start, Appointment.state.in_(HOLDING))) or 0
        mine = list(session.scalars(select(Appointment).where(
            Appointment.person_lookup == lookup, Appointment.state.in_(OPEN), Appointment.day >= moment.date())))
        same = next((a for a in mine if a.day == day and a.slot_start == start), None)
        if same is not None:
            raise InvalidInput(f"{who}已预约了这个时间段（预约号 {same.booking_no}），不用重复预约。")
        upcoming = [a for a in mine if datetime.combine(a.day, a.slot_end) > moment]
        if len(upcoming) >= rules.max_open_per_person:
            raise InvalidInput(f"{who}已有 {len(upcoming)} 个未到期的预约，每人最多同时预约 "
                               f"{rules.max_open_per_person} 个；请先办完或取消一个再预约。")
        if taken >= rules.capacity:
            raise SlotFull("这个时间段刚刚约满了，请选其他时间。")
        at = utcnow()
        row = Appointment(
            id=str(uuid.uuid4()), booking_no=_next_booking_no(session, day), station_code=rules.station_code,
            day=day, slot_start=start, slot_end=end, item_code=item.code, item_name=name, person_lookup=lookup,
            person_name=identity.name, id_number=identity.id_number, phone=identity.phone,
            state=AppointmentState.BOOKED.value, channel=channel, created_by=actor, updated_by=actor,
            created_at=at, updated_at=at)
        session.add(row)
        _audit(session, row, "appointment.book", actor, channel=channel)
        return _view(row, unmask=False)

    return db.write(job)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _booked_counts(session: Session, first: date, last: date) -> dict[tuple[date, time], int]:
    rows = session.execute(select(Appointment.day, Appointment.slot_start, func.count())
                           .where(Appointment.day >= first, Appointment.day <= last, Appointment.state.in_(HOLDING))
                           .group_by(Appointment.day, Appointment.slot_start))
    return {(day, start): count for day, start, count in rows}


def _slot_end(rules: AppointmentRules, day: date, start: time, moment: datetime) -> time:
    """The end of the slot starting at `start`, after checking the day and the slot may be booked at all."""
    today = moment.date()
    if day < today or day > rules.last_day(today):
        raise InvalidInput(f"只能预约今天起 {rules.days_ahead} 天内的时间，请重新选择日子。", field="day")
    if not rules.hours.is_open(day):
        raise InvalidInput(f"{day_label(day)}本站不办理预约，请选其他日子。", field="day")
    end = dict(rules.hours.slots(day, rules.slot_minutes)).get(start)
    if end is None:
        raise InvalidInput("所选时间段不在本站的办公时间内，请重新选择。", field="slot")
    if datetime.combine(day, start) <= moment:
        raise InvalidInput("这个时间段已经开始或过去了，请选其他时间。", field="slot")
    return end


def _next_booking_no(session: Session, day: date) -> str:
    """YY + the appointment's date + a three-digit number for that day: YY261130-007. Cancelled bookings keep their
    rows, so a number is never given twice."""
    prefix = f"{BOOKING_PREFIX}{day:%y%m%d}-"
    last = session.scalar(select(func.max(Appointment.booking_no)).where(Appointment.booking_no.startswith(prefix)))
    seq = int(last.removeprefix(prefix)) + 1 if last else 1
    if seq > MAX_PER_DAY:
        raise KioskError("这一天的预约号已经用完，请选其他日子。")
    return f"{prefix}{seq:03d}"


def _move(session: Session, row: Appointment, to: AppointmentState, actor: str) -> AppointmentView:
    before = row.state
    row.state = to.value
    row.updated_by = actor
    row.updated_at = utcnow()
    _audit(session, row, "appointment.cancel" if to is AppointmentState.CANCELLED else "appointment.mark",
           actor, from_state=before)
    return _view(row, unmask=False)


def _audit(session: Session, row: Appointment, action: str, actor: str, **extra: Any) -> None:
    audit.record(session, actor=actor, action=action, subject_type="appointment", subject_id=row.id,
                 booking_no=row.booking_no, day=row.day.isoformat(), slot=range_label(row.slot_start, row.slot_end),
                 item=row.item_code, state=row.state, person=mask_name(row.person_name),
                 id_number=mask_id_number(row.id_number), **extra)


def _maybe_view(row: Appointment | None) -> AppointmentView | None:
    return None if row is None else _view(row, unmask=False)


def _view(row: Appointment, *, unmask: bool) -> AppointmentView:
    name = row.person_name if unmask else mask_name(row.person_name)
    number = row.id_number if unmask else mask_id_number(row.id_number)
    return AppointmentView(row.id, row.booking_no, row.day, row.slot_start, row.slot_end, row.item_code,
                           row.item_name, name, number, row.state, row.channel, row.created_at)
