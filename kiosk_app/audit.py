"""The audit trail: one row per thing someone did. Callers pass masked details only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from local_db.models import AuditEvent, utcnow


def record(
    session: Session, *, actor: str, action: str, subject_type: str, subject_id: str, **detail: Any
) -> None:
    session.add(
        AuditEvent(
            occurred_at=utcnow(),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )
