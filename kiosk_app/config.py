"""Every setting declared once: key, type, default, description, and how old keys map to new ones.

Values live in the station database's `setting` table (only values that differ from the default), so a
technician's change survives updates and travels with a backup. The data folder itself cannot be a stored
setting; it comes from `--home`, then `KIOSK_HOME`, then the platform's per-machine data folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from platformdirs import user_data_path

from kiosk_app.appointment_hours import hours_problem, within
from kiosk_app.errors import InvalidInput, NotFound
from local_db.early_read import peek_setting

if TYPE_CHECKING:  # the declarations load without the store: the home screen reads its name before it opens
    from sqlalchemy.orm import Session

    from local_db.database import Database

APP_DIR_NAME: Final = "zj-service-kiosk"


def resolve_home(cli_home: str | None = None) -> Path:
    if cli_home:
        return Path(cli_home).expanduser()
    env = os.environ.get("KIOSK_HOME")
    if env:
        return Path(env).expanduser()
    return user_data_path(APP_DIR_NAME, appauthor=False)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    description: str
    check: Callable[[Any], str | None] | None = None  # returns a plain message when the value is not allowed

    def parse(self, raw: Any) -> Any:
        """Accept a typed value or its text form (from the CLI) and return the typed value."""
        try:
            if self.type is bool and isinstance(raw, str):
                if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError(raw)
                value: Any = raw.lower() in {"true", "1", "yes"}
            elif self.type is bool and not isinstance(raw, bool):
                raise ValueError(raw)
            else:
                value = self.type(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"设置项 {self.key} 的值“{raw}”格式不对，应为{_TYPE_NAMES[self.type]}。") from exc
        problem = self.check(value) if self.check else None
        if problem:
            raise InvalidInput(f"设置项 {self.key}：{problem}", field=self.key)
        return value


_TYPE_NAMES: Final = {str: "文本", int: "整数", bool: "是/否（true/false）", float: "数字"}


def _division_code(value: str) -> str | None:
    return None if re.fullmatch(r"\d{6}|\d{9}|\d{12}", value) else "站点代码应为 6、9 或 12 位行政区划代码。"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in allowed else f"只能是 {'、'.join(allowed)} 之一。"


def _url(value: str) -> str | None:
    return None if value == "" or re.match(r"^https?://[^\s]+$", value) else "应为以 http:// 或 https:// 开头的地址。"


def _station_name(value: str) -> str | None:
    # Shown in every screen's header and printed on every receipt: blank or too long breaks both.
    name = value.strip()
    if not name:
        return "站点名称不能为空。"
    return None if len(name) <= 30 else "站点名称最多 30 个字。"


def _positive(value: int) -> str | None:
    return None if value > 0 else "必须大于 0。"


def _reader_url(value: str) -> str | None:
    ok = value == "" or re.match(r"^(samv://.+|pcsc://.*|sim://.*)$", value)
    return None if ok else "读卡器地址应以 samv://、pcsc:// 或 sim:// 开头。"


def _camera_url(value: str) -> str | None:
    ok = value == "" or re.match(r"^(uvc|file|video|dir|sim)://.*$", value)
    return None if ok else "高拍仪地址应以 uvc://、file://、video://、dir:// 或 sim:// 开头。"


def _printer_url(value: str) -> str | None:
    ok = value == "" or re.match(r"^(tcp|serial|usb|file|cups|sim)://.*$", value)
    return None if ok else "打印机地址应以 tcp://、serial://、usb://、file://、cups:// 或 sim:// 开头。"


def _a4_printer_url(value: str) -> str | None:
    from devices.printing.a4_output import a4_url_problem  # parses the address only; never connects

    return a4_url_problem(value)


SETTINGS: Final[tuple[SettingSpec, ...]] = (
    SettingSpec("station.code", str, "331123001", "Station division code (township 9 or village 12 digits).",
                _division_code),
    SettingSpec("station.name", str, "遂昌县妙高街道便民服务中心", "Station name printed on receipts and screens.",
                _station_name),
    SettingSpec("station.level", str, "township", "township or village: which catalogue items are offered.",
                _one_of("township", "village")),
    SettingSpec("sync.platform_url", str, "", "Provincial platform base URL; empty until provisioned.", _url),
    SettingSpec("receipt.query_url", str, "", "URL printed in the receipt QR code for progress queries.", _url),
    SettingSpec("receipt.hotline", str, "12345", "Hotline printed on receipts."),
    SettingSpec("devices.id_reader", str, "", "Resident ID card reader URL (samv://..., sim://).", _reader_url),
    SettingSpec("devices.ssc_reader", str, "", "Social security card reader URL (pcsc://...).", _reader_url),
    SettingSpec("devices.camera", str, "", "Document camera (高拍仪) URL (uvc://0, file://..., sim://a4).",
                _camera_url),
    SettingSpec("devices.receipt_printer", str, "",
                "Receipt printer URL (tcp://host:9100, serial://..., usb://..., file://..., cups://..., sim://);"
                " used when a print command names none.", _printer_url),
    SettingSpec("devices.a4_printer", str, "",
                "A4 printer for forms and letters (socket://host:9100, ipp://host/ipp/print, system://QUEUE,"
                " dir:///folder, sim://); empty: PDF files in printouts/ only.", _a4_printer_url),
    SettingSpec("storage.retention_days", int, 180,
                "Days a material file is kept after the platform acknowledged it.", _positive),
    SettingSpec("log.level", str, "INFO", "Log level: DEBUG, INFO, WARNING, ERROR.",
                _one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    SettingSpec("appointment.hours", str, "mon-fri 08:30-12:00,13:30-17:00",
                "Counter hours open to appointments, e.g. 'mon-fri 08:30-12:00,13:30-17:00; sat 09:00-11:30'"
                " (empty: no appointments). Public holidays are not known: cancel those days' bookings.",
                hours_problem),
    SettingSpec("appointment.slot_minutes", int, 30, "Length of one appointment slot in minutes.", within(10, 240)),
    SettingSpec("appointment.capacity", int, 2, "Appointments taken per slot (the windows that serve them).",
                within(1, 50)),
    SettingSpec("appointment.days_ahead", int, 7, "How many days after today may be booked.", within(1, 60)),
    SettingSpec("appointment.max_open_per_person", int, 2, "Upcoming appointments one person may hold at once.",
                within(1, 10)),
)
SPECS: Final = {spec.key: spec for spec in SETTINGS}
# Keys renamed in later versions: old -> new. Applied when settings are read, so old databases keep values.
RENAMED: Final[dict[str, str]] = {}


def spec_for(key: str) -> SettingSpec:
    try:
        return SPECS[RENAMED.get(key, key)]
    except KeyError:
        raise NotFound(f"没有名为 {key} 的设置项；可用的有：{'、'.join(SPECS)}。") from None


class Settings:
    """Typed access to the settings table. Reads hit the database; settings are few and rarely read."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> Any:
        spec = spec_for(key)
        stored = self._db.read(lambda s: _stored_values(s).get(spec.key))
        return spec.default if stored is None else stored

    def all(self) -> dict[str, Any]:
        stored = self._db.read(_stored_values)
        return {spec.key: stored.get(spec.key, spec.default) for spec in SETTINGS}

    def set(self, key: str, raw: Any) -> Any:
        spec = spec_for(key)
        value = spec.parse(raw)

        from sqlalchemy import delete

        from local_db.models import Setting, utcnow

        def job(session: Session) -> None:
            session.execute(delete(Setting).where(Setting.key == spec.key))
            if value != spec.default:
                session.add(Setting(key=spec.key, value=value, updated_at=utcnow()))

        self._db.write(job)
        return value


def early_setting(home: Path, key: str) -> Any:
    """A setting's value read before the station opens (its store, keys and migrations): the stored value when
    the file has one of the declared type, else the default. For what a screen must show at once."""
    spec = spec_for(key)
    stored = peek_setting(home, spec.key)
    return stored if isinstance(stored, spec.type) else spec.default


def _stored_values(session: Session) -> dict[str, Any]:
    from sqlalchemy import select

    from local_db.models import Setting

    values: dict[str, Any] = {}
    for row in session.scalars(select(Setting)):
        key = RENAMED.get(row.key, row.key)
        if key in SPECS:
            values[key] = row.value
    return values
