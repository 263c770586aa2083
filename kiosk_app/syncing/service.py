"""Provisioning the station with a platform, and running the sync engine for it (once, or on a worker thread).

The screens and the CLI both come through here: `StationSync` wires the engine to this station's store and
settings, and `status()` is the one model of the sync state everybody shows.
"""

from __future__ import annotations

import base64
import logging
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kiosk_app import __version__, audit
from kiosk_app.errors import InvalidInput, KioskError
from kiosk_app.station import Station
from kiosk_app.syncing.local_store import CATALOG_CURSOR, STATUS_CURSOR, LocalSyncStore
from local_db.models import DeviceEnrolment, SyncMeta, utcnow
from sync.client import PlatformClient, SyncError
from sync.engine import SyncEngine, SyncReport, SyncStatus
from sync.engine.engine import BACKOFF_BASE_S, BACKOFF_CAP_S, PROBE_INTERVAL_S
from sync.protocol.models import EnrolRequest
from sync.protocol.signing import new_private_key, private_key_bytes, public_key_b64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provisioned:
    platform_url: str
    platform_id: str
    device_id: str
    station_code: str
    clock_skew_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {"platform_url": self.platform_url, "platform_id": self.platform_id, "device_id": self.device_id,
                "station_code": self.station_code, "clock_skew_s": self.clock_skew_s}


def provision(station: Station, platform_url: str, token: str, *, device_name: str | None = None,
              actor: str = "technician") -> Provisioned:
    """Enrol this station with the platform: a new key pair, the one-time token, and the station code the
    platform assigns. A station enrolled before gets a new identity; its queued work is kept and goes out."""
    url = platform_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"平台地址“{platform_url}”不对，应以 http:// 或 https:// 开头。", field="platform")
    if not token.strip():
        raise InvalidInput("请填写平台发放的开通码。", field="token")
    key = new_private_key()
    client = PlatformClient(url)
    try:
        hello = client.hello()
        answer = client.enrol(EnrolRequest(token=token.strip(), public_key=public_key_b64(key),
                                           device_name=(device_name or platform.node())[:200],
                                           app_version=__version__))
    except SyncError as exc:
        raise KioskError(f"开通失败：{exc.message}") from None
    finally:
        client.close()
    skew = None if client.skew_ms is None else round(client.skew_ms / 1000, 3)

    def job(session: Session) -> str | None:
        old = session.get(DeviceEnrolment, 1)
        previous_platform = old.platform_id if old else None
        session.execute(delete(DeviceEnrolment))
        session.add(DeviceEnrolment(id=1, platform_url=url, platform_id=hello.platform_id,
                                    device_id=answer.device_id, station_code=answer.station_code,
                                    private_key=base64.b64encode(private_key_bytes(key)).decode("ascii"),
                                    enrolled_at=utcnow()))
        if previous_platform != hello.platform_id:  # another platform's cursors mean nothing here
            session.execute(delete(SyncMeta).where(SyncMeta.key.in_((STATUS_CURSOR, CATALOG_CURSOR))))
        audit.record(session, actor=actor, action="sync.provision", subject_type="device",
                     subject_id=answer.device_id, platform=url, platform_id=hello.platform_id,
                     station_code=answer.station_code)
        return previous_platform

    station.db.write(job)
    station.settings.set("sync.platform_url", url)
    station.settings.set("station.code", answer.station_code)
    log.info("provisioned as device %s of station %s at %s", answer.device_id, answer.station_code, url)
    return Provisioned(url, hello.platform_id, answer.device_id, answer.station_code, skew)


def sync_status_json(status: SyncStatus) -> dict[str, Any]:
    """The sync state as plain JSON: what `kiosk sync --status --json` prints and the diagnostics bundle keeps."""
    q = status.queue
    return {"provisioned": status.provisioned, "online": status.online,
            "last_attempt": status.last_attempt.isoformat() if status.last_attempt else None,
            "last_success": status.last_success.isoformat() if status.last_success else None,
            "last_error": status.last_error, "clock_skew_s": status.clock_skew_s, "pending": q.pending,
            "pending_bytes": q.pending_bytes, "quarantined": q.quarantined,
            "errors": [p.to_json() for p in q.problems]}


class StationSync:
    """The sync engine for one station; `start()` runs it on its own worker thread until `stop()`."""

    def __init__(self, station: Station, *, max_attempts: int = 8, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, item_backoff_cap_s: float = BACKOFF_CAP_S,
                 link_backoff_base_s: float = BACKOFF_BASE_S, probe_interval_s: float = PROBE_INTERVAL_S) -> None:
        self.station = station
        settings = station.settings
        devices = {k.removeprefix("devices."): str(v).split("://", 1)[0]
                   for k, v in settings.all().items() if k.startswith("devices.") and v}
        self.store = LocalSyncStore(station.db, retention_days=settings.get("storage.retention_days"),
                                    devices=devices)
        self._timeouts = (connect_timeout, read_timeout)
        self.engine = SyncEngine(self.store, self._client, max_attempts=max_attempts,
                                 item_backoff_cap_s=item_backoff_cap_s, link_backoff_base_s=link_backoff_base_s,
                                 probe_interval_s=probe_interval_s)
        self._thread: threading.Thread | None = None

    def _client(self) -> PlatformClient:
        url = self.station.settings.get("sync.platform_url")
        if not url:
            enrolment = self.station.db.read(lambda s: s.get(DeviceEnrolment, 1))
            url = enrolment.platform_url if enrolment else "http://127.0.0.1:9"
        return PlatformClient(url, self.store.credentials(), connect_timeout=self._timeouts[0],
                              read_timeout=self._timeouts[1])

    def sync_once(self) -> SyncReport:
        return self.engine.run_once()

    def status(self) -> SyncStatus:
        last = self.store.last_run() or {}
        at = last.get("at")
        return SyncStatus(
            provisioned=self.store.credentials() is not None,
            online=last.get("online"),
            last_attempt=datetime.fromisoformat(at) if isinstance(at, str) else None,
            last_success=self.store.last_success(),
            last_error=last.get("error"),
            clock_skew_s=last.get("clock_skew_s"),
            queue=self.store.queue_summary(),
        )

    def start(self, on_report: Callable[[SyncReport], None] | None = None) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.engine.run_forever, args=(on_report,), name="sync-worker",
                                        daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def nudge(self) -> None:
        self.engine.nudge()

    def stop(self, timeout: float = 10.0) -> None:
        self.engine.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
