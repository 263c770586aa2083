"""Station operators against a real station database: PIN rules and hashes, log-in and lock-out, roles."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kiosk_app.accounts import (
    LOCK_FOR,
    MAX_FAILURES,
    ROLE_PERMISSIONS,
    AccountLocked,
    LoginFailed,
    NotPermitted,
    Operator,
    Permission,
    Role,
    allowed,
    create_user,
    deactivate,
    ensure_bootstrap_technician,
    hash_pin,
    list_users,
    log_in,
    require,
    set_pin,
    validate_pin,
    verify_pin,
)
from kiosk_app.applications.workqueue import work_queue
from kiosk_app.errors import InvalidInput, KioskError
from local_db.database import Database
from local_db.models import AuditEvent, UserAccount, utcnow
from tests.accounts import AGENT_PIN, TECH_PIN, make_staff


def audits(db: Database, action: str) -> list[AuditEvent]:
    return db.read(lambda s: list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                            .order_by(AuditEvent.id))))


def account(db: Database, username: str) -> UserAccount:
    row = db.read(lambda s: s.scalar(select(UserAccount).where(UserAccount.username == username)))
    assert row is not None
    return row


# ---- PINs -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pin", ["258369", "100200", "013579", "112233", "909090", "123457"])
def test_acceptable_pins(pin: str) -> None:
    validate_pin(pin)


@pytest.mark.parametrize("pin", [
    "", "12345", "1234567", "12a456", " 25836", "258369 ", "２５８３６９", "٢٥٨٣٦٩",  # not 6 ASCII digits
    "000000", "777777",  # one digit repeated
    "123456", "234567", "012345", "654321", "987654", "543210",  # straight runs
])
def test_refused_pins(pin: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_pin(pin)
    assert err.value.field == "pin"


@given(st.text())
def test_pin_validation_never_crashes(pin: str) -> None:
    try:
        validate_pin(pin)
    except InvalidInput as err:
        assert err.message.startswith("PIN 码")
    else:
        assert len(pin) == 6 and pin.isascii() and pin.isdigit()


def test_hash_is_self_describing_salted_scrypt() -> None:
    stored = hash_pin("258369")
    scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
    salt, digest = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    assert scheme == "scrypt" and len(salt) == 16 and len(digest) == 32
    assert hashlib.scrypt(b"258369", salt=salt, n=int(n), r=int(r), p=int(p), dklen=32) == digest
    assert hash_pin("258369") != stored  # a fresh salt every time
    assert verify_pin("258369", stored) and not verify_pin("258360", stored)


@settings(max_examples=30, deadline=None)  # each check is a real scrypt
@given(st.text(max_size=12), st.one_of(st.none(), st.text(max_size=80)))
def test_verify_never_crashes_and_never_matches_junk(pin: str, stored: str | None) -> None:
    assert verify_pin(pin, stored) is False


@pytest.mark.parametrize("stored", [None, "", "plain", "scrypt$16384$8$1$!!$!!", "bcrypt$1$2$3$4$5",
                                    "scrypt$16385$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
                                    "scrypt$1073741824$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=="])
def test_malformed_or_hostile_hash_never_matches(stored: str | None) -> None:
    assert not verify_pin("258369", stored)


# ---- accounts ---------------------------------------------------------------------------------------------------


def test_bootstrap_creates_admin_once(db: Database) -> None:
    with pytest.raises(InvalidInput):
        ensure_bootstrap_technician(db, "123456")
    assert ensure_bootstrap_technician(db, TECH_PIN) is True
    assert ensure_bootstrap_technician(db, "963852") is False
    admin = log_in(db, "admin", TECH_PIN)
    assert admin.role is Role.TECHNICIAN
    with pytest.raises(LoginFailed):
        log_in(db, "admin", "963852")


def test_technician_manages_users_and_agent_may_not(db: Database) -> None:
    technician, agent = make_staff(db)
    assert agent == Operator(agent.user_id, "wangli", "王丽", Role.AGENT)
    users = list_users(db, actor=technician)
    assert [(u.username, u.role, u.active, u.has_pin) for u in users] == [
        ("admin", Role.TECHNICIAN, True, True), ("wangli", Role.AGENT, True, True)]
    with pytest.raises(NotPermitted, match="代办员账号不能“管理工作人员账号”"):
        create_user(db, "zhaomin", "赵敏", "agent", "852963", actor=agent)
    with pytest.raises(NotPermitted):
        list_users(db, actor=agent)
    with pytest.raises(NotPermitted):
        deactivate(db, "admin", actor=agent)
    with pytest.raises(NotPermitted):
        set_pin(db, "admin", "852963", actor=agent)
    stored = account(db, "wangli").pin_hash
    assert stored is not None and stored.startswith("scrypt$") and AGENT_PIN not in stored


@pytest.mark.parametrize(("username", "display", "role", "pin"), [
    ("wangli", "王丽", "agent", "852963"),  # taken
    ("x", "王丽", "agent", "852963"),  # too short
    ("王丽", "王丽", "agent", "852963"),  # not ASCII
    ("zhaomin", "  ", "agent", "852963"),
    ("zhaomin", "赵敏", "villager", "852963"),  # villagers have no account
    ("zhaomin", "赵敏", "boss", "852963"),
    ("zhaomin", "赵敏", "agent", "111111"),
])
def test_create_user_refuses_bad_input(db: Database, username: str, display: str, role: str, pin: str) -> None:
    technician, _ = make_staff(db)
    with pytest.raises(InvalidInput):
        create_user(db, username, display, role, pin, actor=technician)


def test_deactivated_account_cannot_log_in_or_act(db: Database) -> None:
    technician, agent = make_staff(db)
    deactivate(db, "wangli", actor=technician)
    with pytest.raises(LoginFailed, match="已停用"):
        log_in(db, "wangli", AGENT_PIN)
    with pytest.raises(LoginFailed, match="用户名或 PIN 码不对"):  # the wrong PIN does not learn it is inactive
        log_in(db, "wangli", "852963")
    with pytest.raises(NotPermitted, match="重新登录"):  # a session opened before deactivation stops working
        work_queue(db, agent, bucket="all")


def test_last_technician_and_self_cannot_be_deactivated(db: Database) -> None:
    technician, _ = make_staff(db)
    with pytest.raises(InvalidInput, match="自己"):
        deactivate(db, "admin", actor=technician)
    create_user(db, "chenjie", "陈杰", Role.TECHNICIAN, "852963", actor=technician)
    second = log_in(db, "chenjie", "852963")
    deactivate(db, "admin", actor=second)
    with pytest.raises(InvalidInput, match="自己"):
        deactivate(db, "chenjie", actor=second)
    assert ensure_bootstrap_technician(db, TECH_PIN) is False  # an active technician exists


def test_forged_operator_gets_nowhere(db: Database) -> None:
    _, agent = make_staff(db)
    forged = Operator(agent.user_id, agent.username, agent.display_name, Role.TECHNICIAN)
    with pytest.raises(NotPermitted):
        list_users(db, actor=forged)


def test_changing_own_pin_needs_the_current_one(db: Database) -> None:
    technician, agent = make_staff(db)
    with pytest.raises(InvalidInput, match="原 PIN 码不对"):
        set_pin(db, "wangli", "852963", actor=agent, current_pin="000001")
    assert account(db, "wangli").failed_attempts == 1  # a guess here counts like one at the log-in screen
    set_pin(db, "wangli", "852963", actor=agent, current_pin=AGENT_PIN)
    assert log_in(db, "wangli", "852963").username == "wangli"
    set_pin(db, "wangli", "369258", actor=technician)  # a technician resets without the old one
    assert log_in(db, "wangli", "369258").username == "wangli"


# ---- log-in and lock-out ----------------------------------------------------------------------------------------


def test_lock_out_after_five_failures(db: Database) -> None:
    make_staff(db)
    start = utcnow()
    for attempt in range(1, MAX_FAILURES):
        with pytest.raises(LoginFailed, match="用户名或 PIN 码不对"):
            log_in(db, "wangli", "000001", now=start)
        assert account(db, "wangli").failed_attempts == attempt
    with pytest.raises(AccountLocked) as locked:
        log_in(db, "wangli", "000001", now=start)
    assert locked.value.until == start + LOCK_FOR
    assert f"{(start + LOCK_FOR).astimezone():%H:%M} 之后再试" in locked.value.message

    # While locked even the right PIN is refused, and says when to retry.
    with pytest.raises(AccountLocked):
        log_in(db, "wangli", AGENT_PIN, now=start + LOCK_FOR - timedelta(seconds=1))
    # Once the time has passed the right PIN works and the count starts again.
    assert log_in(db, "wangli", AGENT_PIN, now=start + LOCK_FOR).username == "wangli"
    row = account(db, "wangli")
    assert row.failed_attempts == 0 and row.locked_until is None


def test_expired_lock_gives_a_fresh_count(db: Database) -> None:
    make_staff(db)
    start = utcnow()
    for _ in range(MAX_FAILURES):
        with pytest.raises(KioskError):
            log_in(db, "wangli", "000001", now=start)
    with pytest.raises(LoginFailed):  # one more wrong PIN after the lock: counted from one, not locked again
        log_in(db, "wangli", "000001", now=start + LOCK_FOR + timedelta(minutes=1))
    assert account(db, "wangli").failed_attempts == 1


def test_success_resets_the_counter(db: Database) -> None:
    make_staff(db)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            log_in(db, "wangli", "000001")
    log_in(db, "wangli", AGENT_PIN)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            log_in(db, "wangli", "000001")
    assert log_in(db, "wangli", AGENT_PIN).role is Role.AGENT


def test_technician_reset_lifts_a_lock(db: Database) -> None:
    technician, _ = make_staff(db)
    for _ in range(MAX_FAILURES):
        with pytest.raises(KioskError):
            log_in(db, "wangli", "000001")
    set_pin(db, "wangli", "852963", actor=technician)
    assert log_in(db, "wangli", "852963").username == "wangli"


def test_every_attempt_is_audited_with_the_username_only(db: Database) -> None:
    make_staff(db)
    with pytest.raises(LoginFailed, match="用户名或 PIN 码不对"):  # unknown user: the same sentence
        log_in(db, "nobody", "000001")
    with pytest.raises(LoginFailed):
        log_in(db, "wangli", "000001")
    with pytest.raises(LoginFailed):  # someone typed an ID number into the user-name box
        log_in(db, "33112319580412122X", "000001")
    events = audits(db, "account.login")
    assert [(e.subject_id, e.detail["outcome"]) for e in events] == [
        ("admin", "ok"), ("wangli", "ok"), ("nobody", "unknown_user"), ("wangli", "wrong_pin"),
        ("3311**********122x", "unknown_user")]
    text = repr([(e.actor, e.subject_id, e.detail) for e in events])
    for pin in (TECH_PIN, AGENT_PIN, "000001", "33112319580412122"):
        assert pin not in text


# ---- permissions ------------------------------------------------------------------------------------------------


def test_role_permission_table() -> None:
    assert ROLE_PERMISSIONS[Role.VILLAGER] == frozenset()
    assert Permission.MANAGE_USERS in ROLE_PERMISSIONS[Role.TECHNICIAN]
    assert Permission.MANAGE_USERS not in ROLE_PERMISSIONS[Role.AGENT]
    assert {Permission.FILE_FOR_OTHERS, Permission.VIEW_QUEUE, Permission.HAND_OVER, Permission.PRINT_FORMS,
            Permission.VIEW_FIGURES, Permission.MANAGE_APPOINTMENTS} == ROLE_PERMISSIONS[Role.AGENT]
    assert {Permission.PROVISION, Permission.CONFIGURE_DEVICES, Permission.VIEW_LOGS, Permission.EXPORT_DIAGNOSTICS,
            Permission.REQUEUE_SYNC} <= ROLE_PERMISSIONS[Role.TECHNICIAN]
    assert set(Permission) == ROLE_PERMISSIONS[Role.AGENT] | ROLE_PERMISSIONS[Role.TECHNICIAN]


@given(st.sampled_from(list(Role)), st.sampled_from(list(Permission)))
def test_require_agrees_with_the_table(role: Role, permission: Permission) -> None:
    operator = Operator(1, "someone", "某人", role)
    if permission in ROLE_PERMISSIONS[role]:
        assert require(operator, permission) is operator and allowed(operator, permission)
    else:
        with pytest.raises(NotPermitted):
            require(operator, permission)
    with pytest.raises(NotPermitted, match="登录"):
        require(None, permission)
