"""Cases on the platform: committing a station's application (idempotently), status events and their feed.

The station's client UUID is the idempotency key: the same body again gets the same answer, a different body
is a conflict, except a resubmission after 补正 that names the version it supersedes. Every change of a case is
a status event with a global sequence number; a station reads the events of its own station by cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.protocol.models import ApplicationCommit, CommitReceipt, PlatformState, StatusFeed, StatusUpdate
from sync.server.auth import SignedDevice
from sync.server.blobs import complete_hashes
from sync.server.errors import PlatformError
from sync.server.models import Application, ApplicationBlob, ApplicationVersion, StatusEvent
from sync.server.store import STATUS_SEQ, canonical_hash, current_number, next_number, utc_now

CHINA: Final = timezone(timedelta(hours=8))  # case numbers carry the Beijing date; China keeps no DST


def referenced_hashes(body: ApplicationCommit) -> list[str]:
    return sorted({m.sha256 for m in body.materials if m.sha256})


def version_hashes(session: Session, client_id: str, version: int) -> list[str]:
    return list(session.scalars(select(ApplicationBlob.sha256).where(
        ApplicationBlob.client_id == client_id, ApplicationBlob.version == version).order_by(ApplicationBlob.sha256)))


def missing_blobs(session: Session, hashes: list[str]) -> list[str]:
    present = complete_hashes(session, hashes)
    return [h for h in hashes if h not in present]


def _new_case_no(session: Session, now: datetime) -> str:
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    return f"ZJ{day}{next_number(session, f'case:{day}'):06d}"


def record_event(session: Session, app: Application, *, reason: str | None = None, department: str | None = None,
                 department_state: str | None = None, now: datetime | None = None) -> StatusEvent:
    event = StatusEvent(seq=next_number(session, STATUS_SEQ), client_id=app.client_id, station_code=app.station_code,
                        case_no=app.case_no, version=app.version, state=app.state, reason=reason,
                        department=department, department_state=department_state, occurred_at=now or utc_now())
    session.add(event)
    session.flush()
    return event


def _store_version(session: Session, app: Application, body: ApplicationCommit, digest: str, device_id: str,
                   now: datetime) -> None:
    session.add(ApplicationVersion(client_id=app.client_id, version=body.version, body=body.model_dump(mode="json"),
                                   body_hash=digest, device_id=device_id, received_at=now))
    for sha in referenced_hashes(body):
        session.add(ApplicationBlob(client_id=app.client_id, version=body.version, sha256=sha))


def commit(session: Session, device: SignedDevice, body: ApplicationCommit) -> CommitReceipt:
    if body.station_code != device.station_code:
        raise PlatformError(403, "wrong_station", detail={"device_station": device.station_code,
                                                          "station_code": body.station_code})
    digest = canonical_hash(body.model_dump(mode="json"))
    now = utc_now()
    app = session.get(Application, body.client_id)
    if app is None:
        app = Application(client_id=body.client_id, case_no=_new_case_no(session, now),
                          station_code=body.station_code, device_id=device.device_id, version=body.version,
                          state=PlatformState.RECEIVED.value, tracking_no=body.tracking_no, item_code=body.item_code,
                          item_name=body.item_name, received_at=now, updated_at=now)
        session.add(app)
        session.flush()
        _store_version(session, app, body, digest, device.device_id, now)
        record_event(session, app, now=now)
        return _receipt(session, app, body.version)
    stored = session.get(ApplicationVersion, (app.client_id, body.version))
    if stored is not None and stored.body_hash == digest:
        return _receipt(session, app, body.version)
    if (body.version > app.version and body.supersedes_version == app.version
            and app.state == PlatformState.CORRECTION_REQUESTED and app.station_code == device.station_code):
        app.version, app.state, app.updated_at = body.version, PlatformState.RECEIVED.value, now
        app.tracking_no, app.item_code, app.item_name = body.tracking_no, body.item_code, body.item_name
        _store_version(session, app, body, digest, device.device_id, now)
        record_event(session, app, now=now)
        return _receipt(session, app, body.version)
    raise PlatformError(409, "conflict", "同一编号的申请已以不同内容提交过；补正后重新提交须填写 supersedes_version。",
                        {"case_no": app.case_no, "version": app.version, "state": app.state})


def _receipt(session: Session, app: Application, version: int) -> CommitReceipt:
    stored = session.get(ApplicationVersion, (app.client_id, version))
    assert stored is not None
    return CommitReceipt(client_id=app.client_id, case_no=app.case_no, version=version, state=app.state,
                         missing_blobs=missing_blobs(session, version_hashes(session, app.client_id, version)),
                         received_at=stored.received_at)


def to_update(event: StatusEvent) -> StatusUpdate:
    return StatusUpdate(seq=event.seq, client_id=event.client_id, case_no=event.case_no, version=event.version,
                        state=PlatformState(event.state), reason=event.reason, department=event.department,
                        department_state=event.department_state, occurred_at=event.occurred_at.astimezone(UTC))


def status_feed(session: Session, station_code: str, since: int, limit: int) -> StatusFeed:
    rows = list(session.scalars(select(StatusEvent).where(StatusEvent.station_code == station_code,
                                                          StatusEvent.seq > since)
                                .order_by(StatusEvent.seq).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    # An empty page moves the cursor past other stations' events, which this station will never be shown.
    cursor = rows[-1].seq if rows else max(since, current_number(session, STATUS_SEQ))
    return StatusFeed(events=[to_update(row) for row in rows], cursor=cursor, more=more)
