"""Station operators: agents (代办员) and technicians, their PINs, log-in with lock-out, and what each role may do.

Villagers at a kiosk are anonymous and have no account. Roles are enforced by the operations themselves
(`require` at the top of every service that needs a logged-in operator), not by the screens hiding buttons, so
the CLI and any future screen get the same rules.

PINs are six digits, hashed with scrypt and a per-user salt into a self-describing string, so the parameters can
be raised later without breaking stored hashes. A six-digit PIN is only a million guesses offline; what protects
it is the lock-out here and the encrypted, access-controlled station disk, not the hash alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from itertools import pairwise
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.errors import InvalidInput, KioskError, NotFound
from kiosk_app.identity.masking import redact_text
from local_db.database import Database
from local_db.models import UserAccount, utcnow

MAX_FAILURES: Final = 5
LOCK_FOR: Final = timedelta(minutes=15)
BOOTSTRAP_USERNAME: Final = "admin"

# scrypt cost: about 16 MiB and a few tens of milliseconds per check on a kiosk's CPU.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
# Bounds on parameters read back from the database: a tampered row must not make a log-in allocate gigabytes.
_MAX_SCRYPT_MEMORY: Final = 64 * 1024 * 1024
_MAX_P: Final = 4

_USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{1,39}", re.ASCII)
_PIN: Final = re.compile(r"[0-9]{6}", re.ASCII)


class Role(StrEnum):
    VILLAGER = "villager"  # anonymous kiosk user, never an account
    AGENT = "agent"  # 代办员
    TECHNICIAN = "technician"


ROLE_TITLES: Final = {Role.VILLAGER: "办事群众", Role.AGENT: "代办员", Role.TECHNICIAN: "技术人员"}


class Permission(StrEnum):
    FILE_FOR_OTHERS = "file_for_others"
    VIEW_QUEUE = "view_queue"
    HAND_OVER = "hand_over"
    PRINT_FORMS = "print_forms"
    VIEW_FIGURES = "view_figures"
    PROVISION = "provision"
    CONFIGURE_DEVICES = "configure_devices"
    VIEW_LOGS = "view_logs"
    EXPORT_DIAGNOSTICS = "export_diagnostics"
    MANAGE_USERS = "manage_users"
    REQUEUE_SYNC = "requeue_sync"
    MANAGE_APPOINTMENTS = "manage_appointments"


PERMISSION_LABELS: Final = {
    Permission.FILE_FOR_OTHERS: "代办申请",
    Permission.VIEW_QUEUE: "查看代办工作台",
    Permission.HAND_OVER: "办理出件",
    Permission.PRINT_FORMS: "打印表单和委托书",
    Permission.VIEW_FIGURES: "查看当日统计",
    Permission.PROVISION: "开通站点",
    Permission.CONFIGURE_DEVICES: "配置设备",
    Permission.VIEW_LOGS: "查看日志",
    Permission.EXPORT_DIAGNOSTICS: "导出诊断包",
    Permission.MANAGE_USERS: "管理工作人员账号",
    Permission.REQUEUE_SYNC: "重新排队同步",
    Permission.MANAGE_APPOINTMENTS: "管理预约",
}

# Separation of duties: agents handle citizens' cases; technicians handle the machine and the accounts but never
# see case data, so a technician's maintenance visit does not open the villagers' files.
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.VILLAGER: frozenset(),
    Role.AGENT: frozenset({Permission.FILE_FOR_OTHERS, Permission.VIEW_QUEUE, Permission.HAND_OVER,
                           Permission.PRINT_FORMS, Permission.VIEW_FIGURES, Permission.MANAGE_APPOINTMENTS}),
    Role.TECHNICIAN: frozenset({Permission.PROVISION, Permission.CONFIGURE_DEVICES, Permission.VIEW_LOGS,
                                Permission.EXPORT_DIAGNOSTICS, Permission.MANAGE_USERS, Permission.REQUEUE_SYNC}),
}


class NotPermitted(KioskError):
    """The operator (or nobody) may not do this."""


class LoginFailed(KioskError):
    """Wrong user name or PIN; deliberately the same sentence for both."""


class AccountLocked(KioskError):
    def __init__(self, until: datetime) -> None:
        local = until.astimezone()
        super().__init__(f"连续输错 {MAX_FAILURES} 次，账号已锁定，请在 {local:%H:%M} 之后再试，"
                         "或请技术人员重置 PIN 码。")
        self.until = until


@dataclass(frozen=True)
class Operator:
    """A logged-in station operator, as the screens hold it for the session."""

    user_id: int
    username: str
    display_name: str
    role: Role

    @property
    def actor(self) -> str:
        """How this operator appears in status and audit events."""
        return f"{self.role.value}:{self.username}"


@dataclass(frozen=True)
class UserInfo:
    user_id: int
    username: str
    display_name: str
    role: Role
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    has_pin: bool


def allowed(operator: Operator | None, permission: Permission) -> bool:
    return operator is not None and permission in ROLE_PERMISSIONS[operator.role]


def require(operator: Operator | None, permission: Permission) -> Operator:
    """Return the operator when it may do `permission`, else raise `NotPermitted` with a plain sentence."""
    label = PERMISSION_LABELS[permission]
    if operator is None:
        raise NotPermitted(f"“{label}”需要工作人员登录后才能操作。")
    if not allowed(operator, permission):
        raise NotPermitted(f"{ROLE_TITLES[operator.role]}账号不能“{label}”，请联系有权限的工作人员。")
    return operator


def ensure_active(session: Session, operator: Operator) -> UserAccount:
    """Re-check the operator against the database inside a job: an account deactivated (or a role changed) after
    log-in stops working at once, and an `Operator` built by hand without a matching row gets nowhere."""
    row = session.get(UserAccount, operator.user_id)
    if row is None or not row.active or row.username != operator.username or row.role != operator.role.value:
        raise NotPermitted("该工作人员账号已停用或已变更，请重新登录。")
    return row


# ---- PINs -------------------------------------------------------------------------------------------------------


def validate_pin(pin: str) -> None:
    """Six ASCII digits, not one digit repeated, not a straight run up or down (123456, 987654)."""
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        raise InvalidInput("PIN 码应为 6 位数字。", field="pin")
    if len(set(pin)) == 1:
        raise InvalidInput("PIN 码不能是同一个数字重复（如 000000），请换一个。", field="pin")
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    if steps in ({1}, {-1}):
        raise InvalidInput("PIN 码不能是连续数字（如 123456、654321），请换一个。", field="pin")


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """Constant-time check of `pin` against a stored hash; a malformed hash never matches (and never raises)."""
    params = _parse_hash(stored)
    if params is None:
        _dummy_check(pin)  # same work either way, so timing does not tell a broken row from a wrong PIN
        return False
    n, r, p, salt, expected = params
    return hmac.compare_digest(_scrypt(pin, salt, n, r, p, len(expected)), expected)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=256 * r * n + 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_hash(stored: str | None) -> tuple[int, int, int, bytes, bytes] | None:
    if not stored:
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if n < 2 or n & (n - 1) or r < 1 or not 0 < p <= _MAX_P or 128 * r * n > _MAX_SCRYPT_MEMORY:
        return None
    if not salt or not 16 <= len(expected) <= 64:
        return None
    return n, r, p, salt, expected


@cache
def _dummy_hash() -> str:
    return hash_pin("000000")


def _dummy_check(pin: str) -> None:
    params = _parse_hash(_dummy_hash())
    assert params is not None
    n, r, p, salt, expected = params
    hmac.compare_digest(_scrypt(pin, salt, n, r, p, len(expected)), expected)


# ---- accounts ---------------------------------------------------------------------------------------------------


def _clean_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidInput("用户名应为 2 到 40 位小写字母、数字或 _ . -，并以字母或数字开头。", field="username")
    return name


def _clean_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not name or len(name) > 40:
        raise InvalidInput("姓名不能为空，最多 40 个字。", field="display_name")
    return name


def _account_role(role: str | Role) -> Role:
    try:
        value = Role(role)
    except ValueError:
        raise InvalidInput(f"没有“{role}”这个角色，只能是代办员（agent）或技术人员（technician）。",
                           field="role") from None
    if value is Role.VILLAGER:
        raise InvalidInput("办事群众在自助终端上匿名办理，不需要账号。", field="role")
    return value


def _info(row: UserAccount) -> UserInfo:
    return UserInfo(row.id, row.username, row.display_name, Role(row.role), row.active, row.failed_attempts,
                    row.locked_until, row.pin_hash is not None)


def _operator(row: UserAccount) -> Operator:
    return Operator(row.id, row.username, row.display_name, Role(row.role))


def _by_username(session: Session, username: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(UserAccount.username == username))


def _active_technicians(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(UserAccount).where(
        UserAccount.role == Role.TECHNICIAN.value, UserAccount.active.is_(True))) or 0


def _add_user(session: Session, username: str, display_name: str, role: Role, pin_hash: str, actor: str) -> UserInfo:
    if _by_username(session, username) is not None:
        raise InvalidInput(f"用户名 {username} 已被使用，请换一个。", field="username")
    row = UserAccount(username=username, display_name=display_name, role=role.value, pin_hash=pin_hash,
                      failed_attempts=0, locked_until=None, active=True, created_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="account.create", subject_type="user_account", subject_id=username,
                 role=role.value)
    return _info(row)


def create_user(db: Database, username: str, display_name: str, role: str | Role, pin: str, *,
                actor: Operator) -> UserInfo:
    require(actor, Permission.MANAGE_USERS)
    name = _clean_username(username)
    display = _clean_display_name(display_name)
    account_role = _account_role(role)
    validate_pin(pin)
    pin_hash = hash_pin(pin)  # hashed here, not on the writer thread, so other writes do not wait for scrypt

    def job(session: Session) -> UserInfo:
        ensure_active(session, actor)
        return _add_user(session, name, display, account_role, pin_hash, actor.actor)

    return db.write(job)


def set_pin(db: Database, username: str, new_pin: str, *, actor: Operator, current_pin: str | None = None) -> None:
    """A technician resets anyone's PIN (which also lifts a lock-out); anyone else changes only their own, and
    must give the current one, so a session left open is not enough to take the account over."""
    name = _clean_username(username)
    own = actor.username == name
    if not own:
        require(actor, Permission.MANAGE_USERS)
    validate_pin(new_pin)
    if not allowed(actor, Permission.MANAGE_USERS):
        # Through log_in, so wrong guesses here count towards the same lock-out as at the log-in screen.
        try:
            log_in(db, name, current_pin or "")
        except LoginFailed:
            raise InvalidInput("原 PIN 码不对，PIN 码未修改。", field="current_pin") from None
    pin_hash = hash_pin(new_pin)

    def job(session: Session) -> None:
        ensure_active(session, actor)
        row = _by_username(session, name)
        if row is None:
            raise NotFound(f"没有用户名为 {name} 的工作人员。")
        row.pin_hash = pin_hash
        row.failed_attempts = 0
        row.locked_until = None
        audit.record(session, actor=actor.actor, action="account.set_pin", subject_type="user_account",
                     subject_id=name, reset=not own)

    db.write(job)


def deactivate(db: Database, username: str, *, actor: Operator) -> None:
    """Accounts are deactivated, never deleted: applications and hand-overs keep pointing at who did them."""
    require(actor, Permission.MANAGE_USERS)
    name = _clean_username(username)
    if name == actor.username:
        raise InvalidInput("不能停用自己正在使用的账号，请由另一位技术人员操作。", field="username")

    def job(session: Session) -> None:
        ensure_active(session, actor)
        row = _by_username(session, name)
        if row is None:
            raise NotFound(f"没有用户名为 {name} 的工作人员。")
        if not row.active:
            return
        if row.role == Role.TECHNICIAN.value and _active_technicians(session) <= 1:
            raise InvalidInput("这是最后一个可用的技术人员账号，停用后无人能管理本站点，请先另建一个。")
        row.active = False
        audit.record(session, actor=actor.actor, action="account.deactivate", subject_type="user_account",
                     subject_id=name)

    db.write(job)


def list_users(db: Database, *, actor: Operator) -> list[UserInfo]:
    require(actor, Permission.MANAGE_USERS)

    def job(session: Session) -> list[UserInfo]:
        ensure_active(session, actor)
        return [_info(row) for row in session.scalars(select(UserAccount).order_by(UserAccount.username))]

    return db.read(job)


def ensure_bootstrap_technician(db: Database, pin: str) -> bool:
    """First start: create the `admin` technician with `pin` unless an active technician exists. True if created."""
    if db.read(_active_technicians):
        return False
    validate_pin(pin)
    pin_hash = hash_pin(pin)

    def job(session: Session) -> bool:
        if _active_technicians(session):  # another process bootstrapped in between
            return False
        if _by_username(session, BOOTSTRAP_USERNAME) is not None:
            raise KioskError(f"用户名 {BOOTSTRAP_USERNAME} 已被其他账号占用，无法自动创建技术人员账号，"
                             "请联系运维人员处理。")
        _add_user(session, BOOTSTRAP_USERNAME, "技术人员", Role.TECHNICIAN, pin_hash, "system")
        return True

    return db.write(job)


# ---- log-in -----------------------------------------------------------------------------------------------------


def log_in(db: Database, username: str, pin: str, *, now: datetime | None = None) -> Operator:
    """Check the PIN and return the operator; raise `LoginFailed` or `AccountLocked` otherwise.

    Every attempt, good or bad, is an audit event naming the user name only (never the PIN). The failure is
    committed before the error is raised, so the counter cannot be dodged by an exception. scrypt runs on the
    caller's thread; the write job re-checks the lock and the hash so two racing attempts still count twice.
    """
    at = now or utcnow()
    typed = username.strip().lower()
    # What a person typed into the user-name box is logged; mask it in case it is an ID or phone number.
    shown = redact_text(typed)[:64] or "(空)"
    row = db.read(lambda s: _by_username(s, typed))
    stored = row.pin_hash if row is not None else None
    pin_ok = verify_pin(pin, stored)

    def job(session: Session) -> tuple[str, Operator | None, datetime | None]:
        account = _by_username(session, typed)
        if account is None:
            outcome = "unknown_user"
        elif account.locked_until is not None and at < account.locked_until:
            outcome = "locked"
        else:
            if account.locked_until is not None:  # the lock ran out: a fresh count of attempts
                account.locked_until = None
                account.failed_attempts = 0
            if not pin_ok or account.pin_hash != stored:
                account.failed_attempts += 1
                outcome = "wrong_pin"
                if account.failed_attempts >= MAX_FAILURES:
                    account.locked_until = at + LOCK_FOR
                    outcome = "wrong_pin_locked"
            elif not account.active:
                outcome = "inactive"
            else:
                account.failed_attempts = 0
                outcome = "ok"
        audit.record(session, actor=f"user:{shown}", action="account.login", subject_type="user_account",
                     subject_id=shown, outcome=outcome)
        if outcome == "ok" and account is not None:
            return outcome, _operator(account), None
        return outcome, None, account.locked_until if account is not None else None

    outcome, operator, locked_until = db.write(job)
    if operator is not None:
        return operator
    if locked_until is not None:
        raise AccountLocked(locked_until)
    if outcome == "inactive":
        raise LoginFailed("该账号已停用，请联系技术人员。")
    raise LoginFailed(f"用户名或 PIN 码不对，请重新输入。连续输错 {MAX_FAILURES} 次将锁定 "
                      f"{int(LOCK_FOR.total_seconds() // 60)} 分钟。")
