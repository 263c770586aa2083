"""The applicant's signature drawn on the agent's screen during proxy filing (代办), and where it is kept.

A proxy filing is made on the applicant's behalf, so their own mark must travel with it. When the item asks for
the application form itself (a material named like 申请表/申请书), the signed screen stands in for that paper and
is filed as that material, so it syncs like any scan. Either way the PNG goes to the blob store (encrypted,
fsynced) before the filing, and an `application.signature` audit event tying its hash to the case commits in the
application's own transaction, so the signature is never only in a widget nor a case without its signature.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.filing import Filed, MaterialFile
from kiosk_app.catalog.library import ItemView, MaterialView
from kiosk_app.errors import InvalidInput
from kiosk_app.self_service import SelfServiceSession
from kiosk_app.station import Station
from local_db.models import Application

PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES: Final = 4 * 1024 * 1024
# The material must BE the application form. A qualifier in brackets after it ("申请表（医师签署意见）") means
# someone else has to sign that paper, so an applicant's screen signature cannot replace it.
_FORM_NAME: Final = re.compile(r"(申请表|申请书|申请审批表|申报表)$")


@dataclass(frozen=True)
class SignedFiling:
    filed: Filed
    sha256: str
    material_code: str | None  # the material the signature was filed as; None when kept in the audit trail

    def to_json(self) -> dict[str, Any]:
        return {**self.filed.to_json(), "signature_sha256": self.sha256, "signature_material": self.material_code}


def signature_material(item: ItemView, provided: Collection[str] = ()) -> MaterialView | None:
    """The item's application-form material that a screen signature may stand in for, unless already provided
    (a scanned paper form wins: it carries what the applicant wrote, not only their name)."""
    for material in item.materials:
        if material.elicence_type or material.code in provided:
            continue
        if _FORM_NAME.search(material.name.strip()):
            return material
    return None


def check_signature(png: bytes) -> None:
    if not png.startswith(PNG_MAGIC):
        raise InvalidInput("签名没有保存成功，请委托人重新签名。")
    if len(png) > MAX_SIGNATURE_BYTES:
        raise InvalidInput("签名图片过大，请点“重签”后重新签名。")


def submit_signed(station: Station, session: SelfServiceSession, operator: Operator | None, signature_png: bytes,
                  *, allow_missing: bool = False, today: date | None = None) -> SignedFiling:
    """File the session's application for the applicant (channel "agent"), with their screen signature.

    Agents may accept missing materials (容缺, `allow_missing`); the consents are still the applicant's to give.
    Sets `session.filed` like `SelfServiceSession.submit`."""
    agent = require(operator, Permission.FILE_FOR_OTHERS)
    station.db.read(lambda s: ensure_active(s, agent))
    check_signature(signature_png)
    if session.identity is None or session.item is None:
        raise InvalidInput("请先刷委托人的身份证并选择要办理的事项。")
    ref = station.db.blobs.put(signature_png)  # durable before any row names it; storing it again is a no-op
    material = signature_material(session.item, session.captured)
    code = material.code if material is not None else None

    def audit_signature(db_session: Session, app: Application) -> None:
        audit.record(db_session, actor=agent.actor, action="application.signature", subject_type="application",
                     subject_id=app.id, tracking_no=app.tracking_no, sha256=ref.sha256, size=ref.size,
                     media_type="image/png", material=code)

    extra = [MaterialFile(code, signature_png, "image/png")] if code is not None else []
    filed = session.submit(station, channel="agent", actor=agent.actor, agent_user_id=agent.user_id,
                           allow_missing=allow_missing, today=today, extra_files=extra, also=audit_signature)
    return SignedFiling(filed, ref.sha256, code)
