"""好差评: a villager's rating of a service, stored anonymously and queued for the platform.

Five levels (5 非常满意 .. 1 非常不满意). The rater stays anonymous to station staff: no applicant or agent is
stored with the rating, only the application it is about (so the platform can route 差评 for rectification).
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.orm import Session

from kiosk_app.applications.filing import PRIORITY_EVALUATION
from kiosk_app.errors import InvalidInput
from local_db.database import Database
from local_db.models import Application, Evaluation, OutboxEntry, utcnow

LEVELS: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
MAX_LABELS: Final = 20
MAX_COMMENT: Final = 4000


def record_evaluation(db: Database, *, level: int, channel: str, application_id: str | None = None,
                      labels: list[str] | None = None, comment: str | None = None) -> str:
    if level not in LEVELS:
        raise InvalidInput("评价等级应为 1 到 5（非常不满意到非常满意）。", field="level")
    labels = [label.strip() for label in labels or [] if label.strip()]
    if len(labels) > MAX_LABELS or any(len(label) > 200 for label in labels):
        raise InvalidInput("评价标签过多或过长。", field="labels")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput(f"评价内容最多 {MAX_COMMENT} 字。", field="comment")
    evaluation_id = str(uuid.uuid4())

    def job(session: Session) -> None:
        if application_id is not None and session.get(Application, application_id) is None:
            raise InvalidInput("要评价的申请不存在。", field="application_id")
        now = utcnow()
        session.add(Evaluation(id=evaluation_id, application_id=application_id, level=level, labels=labels,
                               comment=comment, channel=channel, created_at=now))
        session.add(OutboxEntry(kind="evaluation", ref_id=evaluation_id, priority=PRIORITY_EVALUATION,
                                state="pending", attempts=0, created_at=now, updated_at=now))

    db.write(job)
    return evaluation_id
