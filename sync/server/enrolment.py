"""Devices: one-time enrolment tokens, enrolling a key pair, and what a device last reported (heartbeat)."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.protocol.models import EnrolRequest, Heartbeat
from sync.protocol.signing import SignatureInvalid, load_public_key
from sync.server.errors import PlatformError
from sync.server.models import Device, EnrolToken
from sync.server.store import utc_now

STATION_CODE: Final = re.compile(r"^\d{6}(\d{3})?(\d{3})?$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(session: Session, station_code: str, ttl: timedelta) -> tuple[str, datetime]:
    # The station code is readable in the token so a technician can tell which station a slip of paper is for.
    token = f"{station_code}-{secrets.token_urlsafe(24)}"
    now = utc_now()
    expires_at = now + ttl
    session.add(EnrolToken(token_hash=token_hash(token), station_code=station_code, created_at=now,
                           expires_at=expires_at, used_at=None, device_id=None))
    return token, expires_at


def enrol(session: Session, request: EnrolRequest) -> Device:
    try:
        load_public_key(request.public_key)
    except SignatureInvalid:
        raise PlatformError(422, "invalid", "设备公钥格式不正确（应为 base64 编码的 Ed25519 公钥）。",
                            {"field": "public_key"}) from None
    now = utc_now()
    digest = token_hash(request.token)
    token = session.get(EnrolToken, digest)
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise PlatformError(403, "token_invalid")
    device_id = str(uuid.uuid4())
    # Conditional update: even two processes sharing the database cannot both spend the token.
    spent = session.execute(update(EnrolToken).where(EnrolToken.token_hash == digest, EnrolToken.used_at.is_(None))
                            .values(used_at=now, device_id=device_id).execution_options(synchronize_session=False))
    if getattr(spent, "rowcount", 1) != 1:
        raise PlatformError(403, "token_invalid")
    device = Device(device_id=device_id, public_key=request.public_key, station_code=token.station_code,
                    name=request.device_name, app_version=request.app_version, enrolled_at=now, last_seen=now,
                    last_heartbeat_at=None, heartbeat=None)
    session.add(device)
    session.flush()
    return device


def record_heartbeat(session: Session, device_id: str, beat: Heartbeat) -> None:
    device = session.get(Device, device_id)
    if device is None:
        raise PlatformError(401, "device_unknown")
    now = utc_now()
    device.heartbeat = beat.model_dump(mode="json")
    device.last_heartbeat_at = now
    device.last_seen = now
    device.app_version = beat.app_version


def device_rows(session: Session, station_code: str | None = None) -> list[dict[str, Any]]:
    query = select(Device).order_by(Device.station_code, Device.enrolled_at)
    if station_code:
        query = query.where(Device.station_code == station_code)
    return [{
        "device_id": d.device_id,
        "station_code": d.station_code,
        "name": d.name,
        "app_version": d.app_version,
        "enrolled_at": d.enrolled_at.isoformat(),
        "last_seen": d.last_seen.isoformat() if d.last_seen else None,
        "last_heartbeat_at": d.last_heartbeat_at.isoformat() if d.last_heartbeat_at else None,
        "heartbeat": d.heartbeat,
    } for d in session.scalars(query)]
