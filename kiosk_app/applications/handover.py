"""出件: handing a result over to the applicant (or whoever collects it for them), or posting it.

One write transaction moves the application RESULT_READY -> DELIVERED, stores who received it (encrypted) and
audits it with the receiver's name masked, so the state, the hand-over record and the audit trail agree.
Nothing goes to the platform's outbox: the platform learns of delivery from its own 出件 records.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.lifecycle import STATE_LABELS, State, move
from kiosk_app.errors import InvalidInput, KioskError, NotFound
from kiosk_app.identity.masking import mask_name
from local_db.database import Database
from local_db.models import Applicant, Application, Handover, utcnow

RELATIONS: Final = ("本人", "代领人")
METHODS: Final = ("窗口领取", "邮寄", "村代办员转交")
WINDOW: Final = "窗口领取"
POST: Final = "邮寄"
_POST_TRACKING: Final = re.compile(r"[A-Za-z0-9-]{6,40}", re.ASCII)


class NotReadyForHandover(KioskError):
    def __init__(self, state: State) -> None:
        super().__init__(f"这件申请当前为“{STATE_LABELS[state]}”，结果待领取后才能出件。")
        self.state = state


@dataclass(frozen=True)
class HandedOver:
    handover_id: str
    application_id: str
    tracking_no: str
    state: str
    received_by: str  # masked
    method: str
    handed_over_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"handover_id": self.handover_id, "application_id": self.application_id,
                "tracking_no": self.tracking_no, "state": self.state, "received_by": self.received_by,
                "method": self.method, "handed_over_at": self.handed_over_at.isoformat()}


@dataclass(frozen=True)
class HandoverRecord:
    application_id: str
    received_by: str  # masked unless asked for in clear
    relation: str
    id_checked: bool
    method: str
    post_tracking_no: str | None
    operator_user_id: int
    handed_over_at: datetime


def _check_input(received_by: str, relation: str, id_checked: bool, method: str,
                 tracking_no_of_post: str | None) -> tuple[str, str | None]:
    name = received_by.strip()
    if not name:
        raise InvalidInput("请填写领取人姓名。", field="received_by")
    if len(name) > 40:
        raise InvalidInput("领取人姓名最多 40 个字。", field="received_by")
    if relation not in RELATIONS:
        raise InvalidInput("领取人关系只能是“本人”或“代领人”。", field="relation")
    if method not in METHODS:
        raise InvalidInput(f"出件方式只能是{'、'.join(METHODS)}之一。", field="method")
    post_no = (tracking_no_of_post or "").strip() or None
    if method == POST:
        if post_no is None:
            raise InvalidInput("邮寄出件请填写快递单号。", field="tracking_no_of_post")
        if not _POST_TRACKING.fullmatch(post_no):
            raise InvalidInput("快递单号应为 6 到 40 位字母、数字或短横线。", field="tracking_no_of_post")
    elif post_no is not None:
        raise InvalidInput("只有邮寄出件才填写快递单号。", field="tracking_no_of_post")
    # At the window the person stands there with a card; handing a licence to someone unchecked is the one
    # mistake this record exists to prevent.
    if method == WINDOW and not id_checked:
        raise InvalidInput("请先核验领取人身份证件。", field="id_checked")
    return name, post_no


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def record_handover(
    db: Database,
    operator: Operator | None,
    application_id: str,
    *,
    received_by: str,
    relation: str,
    id_checked: bool,
    method: str,
    tracking_no_of_post: str | None = None,
) -> HandedOver:
    agent = require(operator, Permission.HAND_OVER)
    name, post_no = _check_input(received_by, relation, id_checked, method, tracking_no_of_post)
    actor = f"agent:{agent.username}"

    def job(session: Session) -> HandedOver:
        ensure_active(session, agent)
        app = session.get(Application, application_id)
        if app is None:
            raise NotFound("没有找到这件申请，请核对受理编号。")
        if app.state != State.RESULT_READY.value:
            raise NotReadyForHandover(State(app.state))
        if relation == "本人":
            applicant = session.get(Applicant, app.applicant_id)
            applicant_name = str((applicant.identity if applicant else {}).get("name") or "")
            if not _same_name(name, applicant_name):
                raise InvalidInput("领取人姓名与申请人不一致；如由他人代领，请选择“代领人”。", field="received_by")
        now = utcnow()
        row = Handover(id=str(uuid.uuid4()), application_id=app.id, received_by=name, relation=relation,
                       id_checked=id_checked, method=method, post_tracking_no=post_no,
                       operator_user_id=agent.user_id, handed_over_at=now)
        session.add(row)
        move(session, app, State.DELIVERED, actor=actor)
        audit.record(session, actor=actor, action="application.handover", subject_type="application",
                     subject_id=app.id, tracking_no=app.tracking_no, received_by=mask_name(name),
                     relation=relation, id_checked=id_checked, method=method, post_tracking_no=post_no)
        return HandedOver(row.id, app.id, app.tracking_no, app.state, mask_name(name), method, now)

    return db.write(job)


def handover_record(db: Database, operator: Operator | None, application_id: str, *,
                    unmask: bool = False) -> HandoverRecord | None:
    """The hand-over of one application, for the agent checking who collected it; None if not handed over."""
    agent = require(operator, Permission.HAND_OVER)

    def job(session: Session) -> HandoverRecord | None:
        ensure_active(session, agent)
        row = session.scalar(select(Handover).where(Handover.application_id == application_id))
        if row is None:
            return None
        return HandoverRecord(row.application_id, row.received_by if unmask else mask_name(row.received_by),
                              row.relation, row.id_checked, row.method, row.post_tracking_no,
                              row.operator_user_id, row.handed_over_at)

    return db.read(job)
