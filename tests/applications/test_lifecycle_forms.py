"""The application lifecycle (one table of allowed moves) and form validation (every field type and rule).

Lifecycle tests move a real filed application in a real station database; the expected outcome of every move
comes from a separate restatement of the domain rules (`ALLOWED` below), not from `TRANSITIONS` alone.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.applications.forms import FormInvalid, prefilled, validate_form
from kiosk_app.applications.lifecycle import (
    STATE_LABELS,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    State,
    can_move,
    move,
)
from kiosk_app.applications.queries import application_detail
from kiosk_app.catalog.library import FieldView
from kiosk_app.errors import InvalidInput, KioskError
from kiosk_app.identity import make_credit_code, make_id_number
from kiosk_app.station import Station
from local_db.models import Application, AuditEvent, StatusEvent
from tests.conftest import make_person

S = State
# The domain rules of DOMAIN.md / lifecycle.py's comments, written out pair by pair.
ALLOWED: frozenset[tuple[State, State]] = frozenset({
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.UPLOADED),
    (S.UPLOADED, S.ACCEPTED), (S.UPLOADED, S.CORRECTION_REQUESTED), (S.UPLOADED, S.REJECTED),
    (S.ACCEPTED, S.IN_REVIEW), (S.ACCEPTED, S.CORRECTION_REQUESTED), (S.ACCEPTED, S.APPROVED),
    (S.ACCEPTED, S.REJECTED),
    (S.IN_REVIEW, S.CORRECTION_REQUESTED), (S.IN_REVIEW, S.APPROVED), (S.IN_REVIEW, S.REJECTED),
    (S.CORRECTION_REQUESTED, S.SUBMITTED), (S.CORRECTION_REQUESTED, S.REJECTED),
    (S.APPROVED, S.RESULT_READY),
    (S.RESULT_READY, S.DELIVERED),
}) | {  # withdrawal before any decision
    (s, S.WITHDRAWN)
    for s in (S.DRAFT, S.SUBMITTED, S.UPLOADED, S.ACCEPTED, S.IN_REVIEW, S.CORRECTION_REQUESTED)
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


# --- lifecycle --------------------------------------------------------------------------------------------------


@dataclass
class Filed:
    station: Station
    app_id: str


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filed]:
    """One real application, shared by the lifecycle tests; each test puts it in the state it needs."""
    with Station(tmp_path_factory.mktemp("lifecycle") / "station", key_storage="file") as station:
        result = submit_application(
            station.db, station.catalog, station.filing_context(), item_code="331123-RS-0005",
            identity=make_person(), form_values={"reason": "遗失补领"},
            files=[MaterialFile("M03", PNG, "image/png")], today=date(2026, 3, 2))
        yield Filed(station, result.id)


def force_state(filed: Filed, state: State, version: int = 1) -> None:
    """Put the application into `state` directly (setting up a test, not a lifecycle move)."""

    def job(session: Session) -> None:
        app = session.get(Application, filed.app_id)
        assert app is not None
        app.state = state.value
        app.version = version

    filed.station.db.write(job)


@dataclass(frozen=True)
class Observed:
    state: str
    version: int
    updated_at: datetime
    submitted_at: datetime | None
    status_events: int
    transition_audits: int
    last_event: tuple[str | None, str, str | None] | None


def observe(filed: Filed) -> Observed:
    def job(session: Session) -> Observed:
        app = session.get(Application, filed.app_id)
        assert app is not None
        events = session.scalar(
            select(func.count()).select_from(StatusEvent).where(StatusEvent.application_id == filed.app_id))
        audits = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.subject_id == filed.app_id, AuditEvent.action == "application.transition"))
        last = session.scalars(select(StatusEvent).where(StatusEvent.application_id == filed.app_id)
                               .order_by(StatusEvent.id.desc()).limit(1)).first()
        last_event = None if last is None else (last.from_state, last.to_state, last.reason)
        return Observed(app.state, app.version, app.updated_at, app.submitted_at, events or 0, audits or 0,
                        last_event)

    return filed.station.db.read(job)  # type: ignore[no-any-return]


def do_move(filed: Filed, target: State, reason: str | None = None) -> None:
    def job(session: Session) -> None:
        app = session.get(Application, filed.app_id)
        assert app is not None
        move(session, app, target, actor="test:lifecycle", reason=reason)

    filed.station.db.write(job)


def test_transition_table_matches_the_domain_rules() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(TRANSITIONS) == set(State) == set(STATE_LABELS)
    assert frozenset({S.REJECTED, S.DELIVERED, S.WITHDRAWN}) == TERMINAL
    assert all(not can_move(s, s) for s in State)


@pytest.mark.parametrize(("current", "target"), list(product(State, State)),
                         ids=[f"{a.value}->{b.value}" for a, b in product(State, State)])
def test_every_pair_moves_or_is_refused_without_trace(filed: Filed, current: State, target: State) -> None:
    force_state(filed, current)
    before = observe(filed)
    if (current, target) in ALLOWED:
        do_move(filed, target, reason=f"{current.value} to {target.value}")
        after = observe(filed)
        assert after.state == target.value
        assert after.status_events == before.status_events + 1
        assert after.transition_audits == before.transition_audits + 1
        assert after.last_event == (current.value, target.value, f"{current.value} to {target.value}")
        assert after.updated_at >= before.updated_at
        bumped = current is S.CORRECTION_REQUESTED and target is S.SUBMITTED
        assert after.version == before.version + (1 if bumped else 0)
    else:
        with pytest.raises(IllegalTransition) as caught:
            do_move(filed, target)
        assert (caught.value.current, caught.value.target) == (current, target)
        assert STATE_LABELS[current] in str(caught.value) and STATE_LABELS[target] in str(caught.value)
        assert isinstance(caught.value, KioskError)
        assert observe(filed) == before


@settings(max_examples=40, deadline=None)
@given(start=st.sampled_from(list(State)), targets=st.lists(st.sampled_from(list(State)), max_size=10))
def test_random_move_sequences_follow_the_table(filed: Filed, start: State, targets: list[State]) -> None:
    force_state(filed, start)
    model_state, model_version = start, 1
    base = observe(filed)
    moved = 0
    for target in targets:
        if (model_state, target) in ALLOWED:
            do_move(filed, target)
            if model_state is S.CORRECTION_REQUESTED and target is S.SUBMITTED:
                model_version += 1
            model_state = target
            moved += 1
        else:
            with pytest.raises(IllegalTransition):
                do_move(filed, target)
        now = observe(filed)
        assert (now.state, now.version) == (model_state.value, model_version)
        assert now.status_events == base.status_events + moved
        assert now.transition_audits == base.transition_audits + moved


def test_resubmission_after_correction_bumps_the_version(filed: Filed) -> None:
    force_state(filed, S.SUBMITTED)
    first = observe(filed)
    assert first.version == 1 and first.submitted_at is not None
    for round_no in (2, 3):
        for target in (S.UPLOADED, S.CORRECTION_REQUESTED):
            do_move(filed, target)
            assert observe(filed).version == round_no - 1
        do_move(filed, S.SUBMITTED, reason="已补正")
        now = observe(filed)
        assert now.version == round_no
        assert now.submitted_at is not None and now.submitted_at >= first.submitted_at
    detail = application_detail(filed.station.db, filed.app_id)
    assert detail["version"] == 3 and detail["state"] == "submitted"
    tail = [(e["from"], e["to"]) for e in detail["events"]][-3:]
    assert tail == [("submitted", "uploaded"), ("uploaded", "correction_requested"),
                    ("correction_requested", "submitted")]


def test_first_submission_from_draft_does_not_bump_the_version(filed: Filed) -> None:
    force_state(filed, S.DRAFT, version=1)
    do_move(filed, S.SUBMITTED)
    assert observe(filed).version == 1


# --- forms --------------------------------------------------------------------------------------------------------


def fv(key: str = "v", type_: str = "text", *, required: bool = True, prefill: str | None = None,
       label: str = "测试项", **rules: Any) -> FieldView:
    return FieldView(key, label, type_, required, rules, prefill, "")


def one(field: FieldView, raw: Any) -> Any:
    return validate_form([field], {field.key: raw})[field.key]


def problem(field: FieldView, raw: Any) -> str:
    with pytest.raises(FormInvalid) as caught:
        validate_form([field], {field.key: raw})
    assert set(caught.value.problems) == {field.key}
    assert isinstance(caught.value, InvalidInput)
    return caught.value.problems[field.key]


def test_text_rules() -> None:
    field = fv(min_length=2, max_length=5)
    assert one(field, "  张三 ") == "张三"
    assert problem(field, "张") == "至少填写 2 个字"
    assert problem(field, "张三李四王五") == "最多填写 5 个字"
    assert one(field, "张三李四王") == "张三李四王"
    code = fv(pattern=r"[0-9]{6}")
    assert one(code, "323300") == "323300"
    for bad in ("32330", "3233001", "32330a", "323300\n1"):
        assert problem(code, bad) == "格式不正确"
    assert problem(fv(), "字" * 4001) == "内容过长（最多 4000 字）"
    assert one(fv(type_="textarea"), "第一行\n第二行") == "第一行\n第二行"
    assert problem(fv(), True) == "应填写文字或数字"


def test_integer_rules() -> None:
    field = fv(type_="integer", minimum=1, maximum=20)
    assert one(field, "3") == 3
    assert one(field, 20) == 20
    assert one(field, "+7") == 7
    assert problem(field, "0") == "不能小于 1"
    assert problem(field, "21") == "不能大于 20"
    for bad in ("3.5", "3.0", 3.0, "三", "1e3", "0x10", "1 2", "9" * 16):
        assert problem(field, bad) == "请填写整数", bad
    assert one(fv(type_="integer"), "-999999999999999") == -999999999999999


def test_decimal_rules() -> None:
    field = fv(type_="decimal", minimum=0, maximum=99999.99)
    assert one(field, "1,234.50") == "1234.50"
    assert one(field, "0") == "0"
    assert one(field, 12.5) == "12.5"
    assert problem(field, "-0.01") == "不能小于 0"
    assert problem(field, "100000") == "不能大于 99999.99"
    for bad in ("NaN", "nan", "sNaN", "Infinity", "-inf", "1e999", "1e15"):
        assert problem(fv(type_="decimal"), bad) == "请填写正常范围内的数字", bad
    for bad in ("abc", "1.2.3", "¥12", "十二"):
        assert problem(fv(type_="decimal"), bad) == "请填写数字", bad
    assert one(fv(type_="decimal", minimum=0.1), "0.1") == "0.1"  # no float rounding at the bound


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-02-28", "2026-02-28"), ("2026/2/3", "2026-02-03"), ("2026.12.31", "2026-12-31"),
     ("2026年2月3日", "2026-02-03"), ("2026年12月1", "2026-12-01"), ("2024-02-29", "2024-02-29"),
     (" 2026-3-9 ", "2026-03-09")],
)
def test_date_formats_accepted(raw: str, expected: str) -> None:
    assert one(fv(type_="date"), raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("2026年2月30日", "没有这一天，请检查日期"), ("2025-02-29", "没有这一天，请检查日期"),
     ("2026-13-01", "没有这一天，请检查日期"), ("2026-00-10", "没有这一天，请检查日期"),
     ("20260203", "日期格式应为 年-月-日，如 2026-11-25"), ("03/02/2026", "日期格式应为 年-月-日，如 2026-11-25"),
     ("2026-2", "日期格式应为 年-月-日，如 2026-11-25"), ("明天", "日期格式应为 年-月-日，如 2026-11-25"),
     ("2026-02-03T10:00", "日期格式应为 年-月-日，如 2026-11-25")],
)
def test_date_formats_refused(raw: str, message: str) -> None:
    assert problem(fv(type_="date"), raw) == message


def test_choice_and_multi_choice() -> None:
    choice = fv(type_="choice", choices=["遗失补领", "损坏换领"])
    assert one(choice, " 损坏换领 ") == "损坏换领"
    assert problem(choice, "其他") == "请从以下选项中选择：遗失补领、损坏换领"
    multi = fv(type_="multi_choice", choices=["糕点", "炒货", "茶叶"])
    assert one(multi, ["糕点", " 茶叶"]) == ["糕点", "茶叶"]
    assert one(multi, "糕点，炒货、茶叶") == ["糕点", "炒货", "茶叶"]
    assert one(multi, "炒货,茶叶") == ["炒货", "茶叶"]
    assert problem(multi, ["糕点", "白酒", "烟"]) == "“白酒、烟”不是可选项，可选：糕点、炒货、茶叶"


@pytest.mark.parametrize("raw", [[], "，、"], ids=["empty-list", "only-separators"])
def test_required_multi_choice_needs_a_selection(raw: Any) -> None:
    problem(fv(type_="multi_choice", choices=["糕点", "炒货"]), raw)


def test_boolean() -> None:
    field = fv(type_="boolean")
    for raw in ("是", "true", "TRUE", "1", "yes", "Y", True, 1):
        assert one(field, raw) is True, raw
    for raw in ("否", "false", "0", "no", "N", False, 0):
        assert one(field, raw) is False, raw
    for raw in ("也许", "2", "对"):
        assert problem(field, raw) == "请填写“是”或“否”"


def test_phone() -> None:
    field = fv(type_="phone")
    assert one(field, "13857800123") == "13857800123"
    assert one(field, "138 5780 0123") == "13857800123"
    assert one(field, "0578-8123456") == "0578-8123456"
    assert one(field, "05788123456") == "05788123456"
    assert one(field, "010-12345678-123") == "010-12345678-123"
    for bad in ("12857800123", "1385780012", "138578001234", "8123456", "0578-812", "电话"):
        assert problem(field, bad).startswith("请填写11位手机号码"), bad


@pytest.mark.parametrize(
    ("type_", "raw", "ascii_value"),
    [("bank_account", "６２２２０２１２３４５６７８９０", "6222021234567890"),
     ("phone", "13８５７８００１２３", "13857800123")],
    ids=["bank_account", "phone"],
)
def test_full_width_digits_are_normalised_or_refused(type_: str, raw: str, ascii_value: str) -> None:
    try:
        value = one(fv(type_=type_), raw)
    except FormInvalid:
        return
    assert value == ascii_value


def test_id_number_and_credit_code() -> None:
    number = make_id_number("331123", date(1988, 11, 30), 24)
    assert one(fv(type_="id_number"), number) == number
    x_number = next(n for n in (make_id_number("331123", date(1990, 1, 1), s) for s in range(1, 999))
                    if n.endswith("X"))
    assert one(fv(type_="id_number"), x_number.lower()) == x_number
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert "校验码" in problem(fv(type_="id_number"), broken)
    assert "18位" in problem(fv(type_="id_number"), number[:-1])
    code = make_credit_code("92331123MA2X0YPQ")
    assert one(fv(type_="credit_code"), code.lower()) == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    problem(fv(type_="credit_code"), wrong)


def test_bank_account() -> None:
    field = fv(type_="bank_account")
    assert one(field, "6222 0212 3456 7890 123") == "6222021234567890123"
    assert one(field, "6222-0212-3456") == "622202123456"
    for bad in ("123456789", "6" * 31, "6222O21234567890", "账号"):
        assert problem(field, bad) == "银行账号应为 10 到 30 位数字", bad


def test_required_optional_and_unknown_keys_all_reported_together() -> None:
    fields = [fv("name", label="姓名"), fv("age", "integer", label="年龄"),
              fv("note", required=False, label="备注"), fv("phone", "phone", label="电话")]
    with pytest.raises(FormInvalid) as caught:
        validate_form(fields, {"name": "   ", "age": "老", "shoe_size": "42", "phone": None})
    assert caught.value.problems == {
        "name": "必须填写", "age": "请填写整数", "shoe_size": "本事项的表单中没有这一项", "phone": "必须填写"}
    message = str(caught.value)
    assert message.startswith("表单有 4 处需要修改：")
    assert "姓名：必须填写" in message and "年龄：请填写整数" in message and "shoe_size：" in message
    assert validate_form(fields, {"name": "叶春兰", "age": "67", "phone": "13857800123"}) == {
        "name": "叶春兰", "age": 67, "phone": "13857800123"}  # the optional note is simply left out
    assert validate_form(fields[2:3], {}) == {}


def test_unknown_field_type_is_a_problem_not_a_crash() -> None:
    assert problem(fv(type_="signature"), "x") == "不支持的字段类型 signature"


def test_prefill_from_identity() -> None:
    person = make_person()
    fields = [
        fv("name", prefill="name"), fv("id_number", "id_number", prefill="id_number"),
        fv("sex", "choice", prefill="sex", choices=["男", "女"]), fv("birth_date", "date", prefill="birth_date"),
        fv("nation", prefill="nation"), fv("address", prefill="address"), fv("phone", "phone", prefill="phone"),
        fv("reason", "choice", choices=["遗失补领"]),
    ]
    assert prefilled(fields, None) == {}
    assert prefilled(fields, person)["birth_date"] == "1958-04-12"
    cleaned = validate_form(fields, {"reason": "遗失补领"}, person)
    assert cleaned == {
        "name": person.name, "id_number": person.id_number, "sex": person.sex, "birth_date": "1958-04-12",
        "nation": "汉", "address": person.address, "phone": person.phone, "reason": "遗失补领"}
    # A typed value wins over the card; an empty one does not erase it.
    override = validate_form(fields, {"reason": "遗失补领", "phone": "0578-8123456", "address": ""}, person)
    assert override["phone"] == "0578-8123456" and override["address"] == person.address
    # Without the card every required field must be typed.
    with pytest.raises(FormInvalid) as caught:
        validate_form(fields, {"reason": "遗失补领"})
    assert set(caught.value.problems) == {f.key for f in fields} - {"reason"}
    # A card without a phone number leaves the phone field to be typed.
    no_phone = dataclasses.replace(person, phone=None)
    with pytest.raises(FormInvalid) as caught:
        validate_form(fields, {"reason": "遗失补领"}, no_phone)
    assert caught.value.problems == {"phone": "必须填写"}


# --- hypothesis: nothing typed into any field crashes -----------------------------------------------------------

FIELDS_BY_TYPE: list[FieldView] = [
    fv(type_="text", min_length=2, max_length=30, pattern=r"[\u4e00-\u9fa5]{2,30}"),
    fv(type_="text"),
    fv(type_="textarea", max_length=200),
    fv(type_="integer", minimum=0, maximum=99),
    fv(type_="integer"),
    fv(type_="decimal", minimum=0.01, maximum=1e6),
    fv(type_="decimal"),
    fv(type_="date"),
    fv(type_="choice", choices=["男", "女"]),
    fv(type_="multi_choice", choices=["糕点", "炒货", "茶叶"]),
    fv(type_="boolean"),
    fv(type_="phone"),
    fv(type_="id_number"),
    fv(type_="credit_code"),
    fv(type_="bank_account"),
]
form_values = st.one_of(
    st.text(),
    st.text(alphabet="0123456789０１２３-/.年月日 ,，、eE+xX是否"),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=4),
    st.decimals().map(str),
    st.sampled_from(["NaN", "1e999", "-0", "2026年2月30日", "0578-8123456", "１３８５７８００１２３", "\x00",
                     "\u202e", "9" * 5000]),
)


def _check_value(field: FieldView, value: Any) -> None:
    json.dumps(value, allow_nan=False)
    if field.type == "integer":
        assert isinstance(value, int) and not isinstance(value, bool)
        assert field.rules.get("minimum", -1e300) <= value <= field.rules.get("maximum", 1e300)
    elif field.type == "decimal":
        number = Decimal(value)
        assert number.is_finite()
        low, high = field.rules.get("minimum"), field.rules.get("maximum")
        assert low is None or number >= Decimal(str(low))
        assert high is None or number <= Decimal(str(high))
    elif field.type == "date":
        date.fromisoformat(value)
    elif field.type == "choice":
        assert value in field.rules["choices"]
    elif field.type == "multi_choice":
        assert set(value) <= set(field.rules["choices"])
    elif field.type == "boolean":
        assert isinstance(value, bool)
    else:
        assert isinstance(value, str) and value == value.strip() and value


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS_BY_TYPE), raw=form_values)
def test_anything_typed_is_cleaned_or_refused(field: FieldView, raw: Any) -> None:
    try:
        cleaned = validate_form([field], {field.key: raw})
    except InvalidInput as exc:
        assert isinstance(exc, FormInvalid) and exc.problems
        return
    if field.key in cleaned:
        _check_value(field, cleaned[field.key])


def test_filed_form_is_stored_as_cleaned(filed: Filed) -> None:
    person = make_person()
    detail = application_detail(filed.station.db, filed.app_id, unmask=True)
    assert detail["form"] == {"name": person.name, "id_number": person.id_number, "phone": person.phone,
                              "reason": "遗失补领"}
