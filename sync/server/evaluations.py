"""Service evaluations (好差评) from stations, stored once per evaluation UUID."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.protocol.models import EvaluationReceipt, EvaluationUpload
from sync.server.auth import SignedDevice
from sync.server.errors import PlatformError
from sync.server.models import Evaluation
from sync.server.store import canonical_hash, utc_now


def store_evaluation(session: Session, device: SignedDevice, body: EvaluationUpload) -> EvaluationReceipt:
    data = body.model_dump(mode="json")
    digest = canonical_hash(data)
    existing = session.get(Evaluation, body.id)
    if existing is not None:
        if existing.body_hash != digest or existing.station_code != device.station_code:
            raise PlatformError(409, "conflict", "同一编号的评价已以不同内容提交过。", {"id": body.id})
        return EvaluationReceipt(id=existing.id, received_at=existing.received_at)
    now = utc_now()
    session.add(Evaluation(id=body.id, device_id=device.device_id, station_code=device.station_code,
                           client_id=body.client_id, body=data, body_hash=digest, received_at=now))
    return EvaluationReceipt(id=body.id, received_at=now)
