"""The applicant's signature drawn on the agent's screen during proxy filing (代办), and where it is kept.

A proxy filing is made on the applicant's behalf, so their own mark must travel with it. When the item asks for
the application form itself (a material named like 申请表/申请书), the signed screen stands in for that paper and
is filed as that material in the same transaction as the application, so it syncs like any scan. Otherwise the
PNG goes to the blob store (encrypted, fsynced) before the filing and an `application.signature` audit event
ties its hash to the case, so the signature is never only in a widget.
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
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.catalog.library import ItemView, MaterialView
from kiosk_app.errors import InvalidInput, NotFound
from kiosk_app.self_service import SelfServiceSession
from kiosk_app.station import Station
from local_db.database import Database
from local_db.models import Application

PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES: Final = 4 * 1024 * 1024
# The material must BE the application form. A qualifier in brackets after it ("申请表（医师签署意见）") means
# someone else has to sign that paper, so an applicant's screen signature cannot replace it.
_FORM_NAME: Final = re.compile(r"(申请表|申请书|申请审批表|申报表)$")
_MISSING_PREFIX: Final = "还缺少材料"


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


def record_signature(db: Database, application_id: str, png: bytes, *, actor: str,
                     material_code: str | None = None) -> str:
    """Store the PNG (durably, before the row that names it) and audit its hash against the application."""
    check_signature(png)
    ref = db.blobs.put(png)

    def job(session: Session) -> None:
        app = session.get(Application, application_id)
        if app is None:
            raise NotFound("没有找到这件申请，签名未保存。")
        audit.record(session, actor=actor, action="application.signature", subject_type="application",
                     subject_id=app.id, tracking_no=app.tracking_no, sha256=ref.sha256, size=ref.size,
                     media_type="image/png", material=material_code)

    db.write(job)
    return ref.sha256


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
    station.db.blobs.put(signature_png)  # durable before any row names it; storing it again later is a no-op
    material = signature_material(session.item, session.captured)
    if material is None:
        session.submit(station, channel="agent", actor=agent.actor, agent_user_id=agent.user_id,
                       allow_missing=allow_missing, today=today)
        assert session.filed is not None
        sha256 = record_signature(station.db, session.filed.id, signature_png, actor=agent.actor)
        return SignedFiling(session.filed, sha256, None)
    # Missing materials are left to the filing itself, which names them (or defers them under 容缺); the
    # application form is not missing, the signature supplies it.
    blockers = [b for b in session.blockers() if not b.startswith(_MISSING_PREFIX)]
    if blockers:
        raise InvalidInput("；".join(blockers) + "。")
    files = [MaterialFile(page.material_code, page.jpeg, "image/jpeg") for page in session.captured.values()]
    files.append(MaterialFile(material.code, signature_png, "image/png"))
    context = station.filing_context(channel="agent", actor=agent.actor, agent_user_id=agent.user_id)
    session.filed = submit_application(station.db, station.catalog, context, item_code=session.item.code,
                                       identity=session.identity, form_values=session.form_values, files=files,
                                       allow_missing=allow_missing, today=today)
    sha256 = record_signature(station.db, session.filed.id, signature_png, actor=agent.actor,
                              material_code=material.code)
    return SignedFiling(session.filed, sha256, material.code)
