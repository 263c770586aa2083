"""The life of an application: its states, the one table of allowed moves, and the move itself.

An illegal move raises and changes nothing. Every legal move writes a status event and an audit event in the
caller's transaction, so the state, its history and the audit trail can never disagree.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.errors import KioskError
from local_db.models import Application, StatusEvent, utcnow


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # durable locally, receipt may print
    UPLOADED = "uploaded"  # the platform acknowledged it
    ACCEPTED = "accepted"  # 受理
    IN_REVIEW = "in_review"
    CORRECTION_REQUESTED = "correction_requested"  # 补正
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_READY = "result_ready"  # 待出件
    DELIVERED = "delivered"  # 已出件 / 已寄出
    WITHDRAWN = "withdrawn"


STATE_LABELS: Final = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "已提交（待同步）",
    State.UPLOADED: "已上报",
    State.ACCEPTED: "已受理",
    State.IN_REVIEW: "审核中",
    State.CORRECTION_REQUESTED: "需补正材料",
    State.APPROVED: "已办结（准予）",
    State.REJECTED: "不予办理",
    State.RESULT_READY: "结果待领取",
    State.DELIVERED: "已出件",
    State.WITHDRAWN: "已撤回",
}

# Withdrawal is allowed from every state before a decision (APPROVED/REJECTED) is made.
TRANSITIONS: Final[dict[State, frozenset[State]]] = {
    State.DRAFT: frozenset({State.SUBMITTED, State.WITHDRAWN}),
    State.SUBMITTED: frozenset({State.UPLOADED, State.WITHDRAWN}),
    # The platform may ask for corrections or refuse at acceptance (一次性告知), not only during review.
    State.UPLOADED: frozenset({State.ACCEPTED, State.CORRECTION_REQUESTED, State.REJECTED, State.WITHDRAWN}),
    # 即办件 are decided on acceptance without a separate review step.
    State.ACCEPTED: frozenset(
        {State.IN_REVIEW, State.CORRECTION_REQUESTED, State.APPROVED, State.REJECTED, State.WITHDRAWN}
    ),
    State.IN_REVIEW: frozenset({State.CORRECTION_REQUESTED, State.APPROVED, State.REJECTED, State.WITHDRAWN}),
    # Resubmission after 补正 goes back through SUBMITTED so the corrected version is synced like the first.
    State.CORRECTION_REQUESTED: frozenset({State.SUBMITTED, State.REJECTED, State.WITHDRAWN}),
    State.APPROVED: frozenset({State.RESULT_READY}),
    State.REJECTED: frozenset(),
    State.RESULT_READY: frozenset({State.DELIVERED}),
    State.DELIVERED: frozenset(),
    State.WITHDRAWN: frozenset(),
}
TERMINAL: Final = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(KioskError):
    def __init__(self, current: State, target: State) -> None:
        super().__init__(f"申请当前状态为“{STATE_LABELS[current]}”，不能变为“{STATE_LABELS[target]}”。")
        self.current = current
        self.target = target


def can_move(current: State, target: State) -> bool:
    return target in TRANSITIONS[current]


def move(
    session: Session,
    app: Application,
    target: State,
    *,
    actor: str,
    reason: str | None = None,
    department: str | None = None,
    source: str = "local",
) -> None:
    current = State(app.state)
    if not can_move(current, target):
        raise IllegalTransition(current, target)
    now = utcnow()
    app.state = target.value
    app.updated_at = now
    if target is State.SUBMITTED:
        if current is State.CORRECTION_REQUESTED:
            app.version += 1
        app.submitted_at = now
    session.add(
        StatusEvent(
            application_id=app.id,
            from_state=current.value,
            to_state=target.value,
            reason=reason,
            department=department,
            source=source,
            actor=actor,
            occurred_at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="application.transition",
        subject_type="application",
        subject_id=app.id,
        from_state=current.value,
        to_state=target.value,
        reason=reason,
    )
