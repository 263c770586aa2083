"""Turning the platform's status events into moves of the local lifecycle.

The platform reports where a case stands; the station may have missed steps (it was offline while the case
was accepted and reviewed). The local record walks the shortest legal path to the reported state, one status
event per step, so the history stays readable and the transition table is never bypassed.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Final

from sqlalchemy.orm import Session

from kiosk_app.applications.lifecycle import TRANSITIONS, State, move
from local_db.models import Application, DepartmentProgress, utcnow

log = logging.getLogger(__name__)

PLATFORM_TO_LOCAL: Final = {
    "received": State.UPLOADED,
    "accepted": State.ACCEPTED,
    "in_review": State.IN_REVIEW,
    "correction_requested": State.CORRECTION_REQUESTED,
    "approved": State.APPROVED,
    "rejected": State.REJECTED,
    "result_ready": State.RESULT_READY,
}
_NEVER_VIA: Final = frozenset({State.WITHDRAWN, State.DRAFT, State.SUBMITTED})


def path_to(current: State, target: State) -> list[State] | None:
    """Shortest chain of legal moves from current to target, or None if the target cannot be reached."""
    if current == target:
        return []
    seen = {current}
    queue: deque[tuple[State, list[State]]] = deque([(current, [])])
    while queue:
        state, path = queue.popleft()
        for nxt in sorted(TRANSITIONS[state]):
            if nxt in seen or (nxt in _NEVER_VIA and nxt != target):
                continue
            if nxt == target:
                return [*path, nxt]
            seen.add(nxt)
            queue.append((nxt, [*path, nxt]))
    return None


def apply_event(session: Session, app: Application, *, state: str, version: int, case_no: str,
                reason: str | None, department: str | None, department_state: str | None) -> bool:
    """Apply one platform event to `app` in the caller's transaction; returns whether anything changed."""
    if case_no and not app.case_no:
        app.case_no = case_no
    if department:
        row = session.get(DepartmentProgress, (app.id, department))
        if row is None:
            row = DepartmentProgress(application_id=app.id, department=department)
            session.add(row)
        row.state = department_state or state
        row.reason = reason
        row.updated_at = utcnow()
        return True
    target = PLATFORM_TO_LOCAL.get(state)
    if target is None or version < app.version:
        return False  # an older version's news, or a state this release does not know
    path = path_to(State(app.state), target)
    if path is None:
        log.info("platform says %s for %s but it is %s locally; kept", state, app.id, app.state)
        return False
    for step in path:
        move(session, app, step, actor="platform", source="platform",
             reason=reason if step == target else None)
    return bool(path)
