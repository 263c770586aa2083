"""The platform's case states and the department actions allowed between them, in one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sync.protocol.models import PlatformState as S

TRANSITIONS: Final[Mapping[S, frozenset[S]]] = {
    S.RECEIVED: frozenset({S.ACCEPTED, S.CORRECTION_REQUESTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.IN_REVIEW, S.CORRECTION_REQUESTED, S.APPROVED, S.REJECTED}),
    S.IN_REVIEW: frozenset({S.CORRECTION_REQUESTED, S.APPROVED, S.REJECTED}),
    # Back to RECEIVED only by the station resubmitting a new version, never by a department.
    S.CORRECTION_REQUESTED: frozenset({S.REJECTED}),
    S.APPROVED: frozenset({S.RESULT_READY}),
    S.REJECTED: frozenset(),
    S.RESULT_READY: frozenset(),
}

NEEDS_REASON: Final = frozenset({S.CORRECTION_REQUESTED, S.REJECTED})

# Parallel approval (并联审批): departments report progress while the case is accepted or under review.
DEPARTMENT_STATES: Final = frozenset({S.IN_REVIEW, S.APPROVED, S.REJECTED})
DEPARTMENTS_OPEN_IN: Final = frozenset({S.ACCEPTED, S.IN_REVIEW})

LABELS: Final[Mapping[S, str]] = {
    S.RECEIVED: "已接收",
    S.ACCEPTED: "已受理",
    S.IN_REVIEW: "审查中",
    S.CORRECTION_REQUESTED: "需补正",
    S.APPROVED: "已办结（准予）",
    S.REJECTED: "不予办理",
    S.RESULT_READY: "结果可领取",
}


def label(state: str) -> str:
    try:
        return LABELS[S(state)]
    except ValueError:
        return state


class TransitionRefused(ValueError):
    """A department action the table or the case's materials do not allow; the message is plain Chinese."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def check_transition(current: S, target: S, reason: str | None) -> None:
    if target not in TRANSITIONS[current]:
        raise TransitionRefused(f"办件当前为“{LABELS[current]}”，不能变更为“{LABELS[target]}”。")
    if target in NEEDS_REASON and not (reason and reason.strip()):
        raise TransitionRefused(f"变更为“{LABELS[target]}”必须写明原因（--reason）。")


def check_department_progress(current: S, department_state: S, reason: str | None) -> None:
    if department_state not in DEPARTMENT_STATES:
        allowed = "、".join(sorted(s.value for s in DEPARTMENT_STATES))
        raise TransitionRefused(f"部门进度只能是 {allowed}。")
    if current not in DEPARTMENTS_OPEN_IN:
        raise TransitionRefused(f"办件当前为“{LABELS[current]}”，受理后、办结前才能记录部门进度。")
    if department_state in NEEDS_REASON and not (reason and reason.strip()):
        raise TransitionRefused(f"部门意见为“{LABELS[department_state]}”时必须写明原因（--reason）。")
