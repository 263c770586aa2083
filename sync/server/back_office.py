"""What platform staff do, as functions the `kiosk-platform` command (and tests, and the demo) call.

Each function takes an open `PlatformStore` and returns plain JSON-ready data. Refusals raise
`BackOfficeError` with a plain Chinese message: `InvalidRequest` for input that is wrong (exit code 2 at the
command line), `ActionRefused` for an action the case's state does not allow (exit code 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.protocol.models import PlatformState
from sync.server import catalog, enrolment, states
from sync.server.applications import missing_blobs, record_event, to_update, version_hashes
from sync.server.models import Application, DepartmentProgress
from sync.server.store import PlatformStore, utc_now


class BackOfficeError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidRequest(BackOfficeError):
    exit_code = 2


class ActionRefused(BackOfficeError):
    exit_code = 1


def create_token(store: PlatformStore, station_code: str, ttl_hours: float = 72) -> dict[str, Any]:
    """A one-time enrolment token for a station; only its hash is kept, so show it to the technician now."""
    if not enrolment.STATION_CODE.match(station_code):
        raise InvalidRequest(f"站点编码“{station_code}”不正确：应为 6、9 或 12 位数字。")
    if not 0 < ttl_hours <= 24 * 365:
        raise InvalidRequest("令牌有效期应在 0 到 8760 小时之间。")
    token, expires_at = store.write(lambda s: enrolment.new_token(s, station_code, timedelta(hours=ttl_hours)))
    return {"token": token, "station_code": station_code, "expires_at": expires_at.isoformat()}


def list_devices(store: PlatformStore, station_code: str | None = None) -> list[dict[str, Any]]:
    return store.read(lambda s: enrolment.device_rows(s, station_code))


def publish_catalog(store: PlatformStore, document: Mapping[str, Any]) -> dict[str, Any]:
    """Publish a catalogue document; changed items get new sequence numbers, vanished codes become removals."""
    try:
        catalog.check_document(document)  # before taking the write lock, so a bad file costs nothing
        return store.write(lambda s: catalog.publish(s, document)).as_dict()
    except catalog.CatalogDocumentInvalid as exc:
        raise InvalidRequest(exc.message) from None


def _app_row(session: Session, app: Application) -> dict[str, Any]:
    hashes = version_hashes(session, app.client_id, app.version)
    departments = session.scalars(select(DepartmentProgress).where(DepartmentProgress.client_id == app.client_id)
                                  .order_by(DepartmentProgress.department))
    return {
        "client_id": app.client_id,
        "case_no": app.case_no,
        "state": app.state,
        "station_code": app.station_code,
        "tracking_no": app.tracking_no,
        "item_code": app.item_code,
        "item_name": app.item_name,
        "version": app.version,
        "blobs": hashes,
        "missing_blobs": missing_blobs(session, hashes),
        "departments": {d.department: {"state": d.state, "reason": d.reason, "updated_at": d.updated_at.isoformat()}
                        for d in departments},
        "received_at": app.received_at.isoformat(),
        "updated_at": app.updated_at.isoformat(),
    }


def list_apps(store: PlatformStore, station_code: str | None = None) -> list[dict[str, Any]]:
    def job(session: Session) -> list[dict[str, Any]]:
        query = select(Application).order_by(Application.received_at, Application.case_no)
        if station_code:
            query = query.where(Application.station_code == station_code)
        return [_app_row(session, app) for app in session.scalars(query)]

    return store.read(job)


def _find_case(session: Session, key: str) -> Application:
    app = session.scalars(select(Application).where(Application.case_no == key)).first()
    if app is None and len(key) == 36:
        app = session.get(Application, key.lower())
    if app is None:
        raise InvalidRequest(f"没有找到办件 {key}（请填写办件编号或申请编号）。")
    return app


def advance(store: PlatformStore, case: str, to: str, *, reason: str | None = None,
            department: str | None = None) -> dict[str, Any]:
    """Move a case (by case number or client UUID) to `to`, or with `department` record that department's progress.

    Returns the status event as the station will read it, plus the case row after the change."""
    try:
        target = PlatformState(to)
    except ValueError:
        raise InvalidRequest(f"不认识的状态“{to}”：可用 {', '.join(s.value for s in PlatformState)}。") from None
    reason = reason.strip() if reason and reason.strip() else None
    if department is not None and not department.strip():
        raise InvalidRequest("部门名称不能为空。")
    if reason is not None and len(reason) > 4000:
        raise InvalidRequest("原因太长（最多 4000 字）。")
    if target in states.NEEDS_REASON and reason is None:
        raise InvalidRequest(f"变更为“{states.LABELS[target]}”必须写明原因（--reason）。")

    def job(session: Session) -> dict[str, Any]:
        app = _find_case(session, case)
        current = PlatformState(app.state)
        now = utc_now()
        try:
            if department is not None:
                states.check_department_progress(current, target, reason)
            else:
                states.check_transition(current, target, reason)
        except states.TransitionRefused as exc:
            raise ActionRefused(exc.message) from None
        if department is not None:
            name = department.strip()
            progress = session.get(DepartmentProgress, (app.client_id, name))
            if progress is None:
                session.add(DepartmentProgress(client_id=app.client_id, department=name, state=target.value,
                                               reason=reason, updated_at=now))
            else:
                progress.state, progress.reason, progress.updated_at = target.value, reason, now
            app.updated_at = now
            event = record_event(session, app, reason=reason, department=name, department_state=target.value,
                                 now=now)
        else:
            if target == PlatformState.ACCEPTED:
                missing = missing_blobs(session, version_hashes(session, app.client_id, app.version))
                if missing:
                    raise ActionRefused(f"材料未到齐：还有 {len(missing)} 份材料文件未上传完成，暂不能受理。")
            app.state, app.updated_at = target.value, now
            event = record_event(session, app, reason=reason, now=now)
        return {"event": to_update(event).model_dump(mode="json"), "application": _app_row(session, app)}

    return store.write(job)
