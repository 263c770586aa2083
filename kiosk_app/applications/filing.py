"""Filing an application: the operation every screen and the CLI call, and the queries that show the results.

Order matters for the promise on the receipt: materials go to the blob store first (fsynced), then ONE write
transaction stores the applicant, the application, its material references, its first status events, the
outbox entries for sync and the audit trail. Only after that commit returns may a receipt print.
"""

from __future__ import annotations

import logging
import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kiosk_app import audit
from kiosk_app.applications.forms import validate_form
from kiosk_app.applications.lifecycle import State, move
from kiosk_app.applications.tracking import next_tracking_no
from kiosk_app.catalog.library import CatalogLibrary, ItemView, MaterialView
from kiosk_app.errors import InvalidInput
from kiosk_app.identity import Identity
from kiosk_app.identity.masking import mask_id_number, mask_name
from local_db.blobstore import BlobRef
from local_db.database import Database
from local_db.models import Applicant, Application, ApplicationMaterial, Blob, OutboxEntry, utcnow

# Outbox priorities: lower goes first, so a slow link moves the small metadata before the heavy scans.
log = logging.getLogger(__name__)

PRIORITY_APPLICATION: Final = 10
PRIORITY_EVALUATION: Final = 20
PRIORITY_BLOB: Final = 50
_MAGIC: Final = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}


class MissingMaterials(InvalidInput):
    def __init__(self, missing: list[MaterialView]) -> None:
        names = "、".join(m.name for m in missing)
        super().__init__(f"缺少必需材料：{names}。请补齐后再提交，或选择容缺受理（以后补交）。")
        self.missing = missing


@dataclass(frozen=True)
class MaterialFile:
    """A material the person handed over: a scan or file, named by the item's material code or name."""

    key: str
    data: bytes
    media_type: str

    @classmethod
    def from_path(cls, key: str, path: Path) -> MaterialFile:
        try:
            with path.open("rb") as fh:
                data = fh.read(64 * 1024 * 1024 + 1)
        except FileNotFoundError:
            raise InvalidInput(f"找不到材料文件：{path}") from None
        except IsADirectoryError:
            raise InvalidInput(f"材料路径是文件夹，不是文件：{path}") from None
        except PermissionError:
            raise InvalidInput(f"没有权限读取材料文件：{path}") from None
        if len(data) > 64 * 1024 * 1024:
            raise InvalidInput(f"材料文件 {path.name} 超过 64 MB，请重新扫描成较小的文件。")
        media_type = sniff_media_type(data)
        if media_type is None:
            guessed = mimetypes.guess_type(path.name)[0] or "未知类型"
            raise InvalidInput(f"材料文件 {path.name} 不是图片或 PDF（识别为 {guessed}），请提交扫描件。")
        return cls(key, data, media_type)


def sniff_media_type(data: bytes) -> str | None:
    for magic, media_type in _MAGIC.items():
        if data.startswith(magic):
            return media_type
    return None


@dataclass(frozen=True)
class Filed:
    id: str
    tracking_no: str
    state: str
    deferred: tuple[str, ...]  # names of materials accepted as 容缺, to be supplemented
    elicences: tuple[str, ...]  # names of materials replaced by e-licences

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "tracking_no": self.tracking_no, "state": self.state,
                "deferred_materials": list(self.deferred), "elicence_materials": list(self.elicences)}


@dataclass(frozen=True)
class FilingContext:
    """Who files and where: the station, the channel and (for 代办) the agent."""

    station_code: str
    station_level: str
    channel: str = "kiosk"  # kiosk | agent | cli
    actor: str = "kiosk"
    agent_user_id: int | None = None


def submit_application(
    db: Database,
    catalog: CatalogLibrary,
    ctx: FilingContext,
    *,
    item_code: str,
    identity: Identity,
    form_values: dict[str, Any] | None = None,
    files: list[MaterialFile] | None = None,
    allow_missing: bool = False,
    today: date | None = None,
    also: Callable[[Session, Application], None] | None = None,
) -> Filed:
    """File one application: its materials (stored durably first), the SUBMITTED state and its outbox entry,
    all in one transaction. `also` adds work that must commit or fail with the application (a signature's
    audit record), run after the case has its tracking number."""
    item = catalog.get(item_code)
    if not item.active:
        raise InvalidInput(f"“{item.name}”已从服务事项目录中停用，不能再申请。")
    if ctx.station_level not in item.levels:
        raise InvalidInput(f"本站点不能受理“{item.name}”，请到乡镇（街道）便民服务中心办理。")
    identity.validate()
    form = validate_form(item.form_fields, form_values or {}, identity)
    plan = _plan_materials(item, files or [], allow_missing)
    stored = {f.key: (db.blobs.put(f.data), f.media_type) for f in plan.files}  # durable before the row
    day = today or date.today()
    id_lookup = db.cipher.lookup_hash(identity.id_number, "id_number")

    def job(session: Session) -> Filed:
        now = utcnow()
        applicant = session.scalar(select(Applicant).where(Applicant.id_lookup == id_lookup))
        if applicant is None:
            applicant = Applicant(id=str(uuid.uuid4()), id_lookup=id_lookup, created_at=now)
            session.add(applicant)
        applicant.identity = identity.to_json_dict()
        applicant.card_type = identity.card_type.value
        applicant.updated_at = now
        app = Application(
            id=str(uuid.uuid4()),
            tracking_no=next_tracking_no(session, ctx.station_code, day),
            station_code=ctx.station_code,
            item_code=item.code,
            item_name=item.name,
            catalog_version=item.catalog_version,
            applicant_id=applicant.id,
            state=State.DRAFT.value,
            channel=ctx.channel,
            agent_user_id=ctx.agent_user_id,
            form_data=form,
            deferred_materials=bool(plan.deferred),
            delivery_method=item.delivery[0],
            promised_date=add_working_days(day, item.promised_limit_days),
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(app)
        session.flush()
        for material, (ref, media_type) in ((plan.by_key[k], v) for k, v in stored.items()):
            if add_blob_row(session, ref, media_type, now):  # content already stored is already queued
                session.add(OutboxEntry(kind="blob", ref_id=ref.sha256, priority=PRIORITY_BLOB, state="pending",
                                        attempts=0, created_at=now, updated_at=now))
            app.materials.append(_material_row(material, "file", now, blob=ref.sha256))
        for material in plan.elicences:
            app.materials.append(_material_row(material, "elicence", now, elicence=material.elicence_type))
        for material in plan.deferred:
            app.materials.append(_material_row(material, "deferred", now))
        audit.record(session, actor=ctx.actor, action="application.create", subject_type="application",
                     subject_id=app.id, item=item.code, tracking_no=app.tracking_no,
                     applicant=mask_name(identity.name), id_number=mask_id_number(identity.id_number))
        if also is not None:
            also(session, app)
        move(session, app, State.SUBMITTED, actor=ctx.actor)
        session.add(OutboxEntry(kind="application", ref_id=app.id, priority=PRIORITY_APPLICATION,
                                state="pending", attempts=0, created_at=now, updated_at=now))
        return Filed(app.id, app.tracking_no, app.state, tuple(m.name for m in plan.deferred),
                     tuple(m.name for m in plan.elicences))

    filed = db.write(job)
    log.info("filed %s (%s) item %s for %s via %s: %d files, %d e-licences, %d deferred", filed.tracking_no,
             filed.id, item.code, mask_id_number(identity.id_number), ctx.channel, len(stored),
             len(filed.elicences), len(filed.deferred))
    return filed


@dataclass(frozen=True)
class _MaterialPlan:
    files: list[MaterialFile]
    by_key: dict[str, MaterialView]
    elicences: list[MaterialView]
    deferred: list[MaterialView]


def _plan_materials(item: ItemView, files: list[MaterialFile], allow_missing: bool) -> _MaterialPlan:
    by_key: dict[str, MaterialView] = {}
    provided: set[str] = set()
    for f in files:
        material = item.material(f.key)
        if material is None:
            names = "、".join(f"{m.code} {m.name}" for m in item.materials) or "无"
            raise InvalidInput(f"“{item.name}”没有名为“{f.key}”的材料。可提交的材料：{names}。")
        if material.code in provided:
            raise InvalidInput(f"材料“{material.name}”提交了不止一份，请合并为一个文件（多页可合成 PDF）。")
        provided.add(material.code)
        by_key[f.key] = material
    # An e-licence the platform holds replaces the paper (免提交); the platform fetches it by the holder's ID.
    elicences = [m for m in item.materials if m.required and m.code not in provided and m.elicence_type]
    missing = [m for m in item.materials if m.required and m.code not in provided and not m.elicence_type]
    if missing and not allow_missing:
        raise MissingMaterials(missing)
    return _MaterialPlan(files, by_key, elicences, missing)


def add_blob_row(session: Session, ref: BlobRef, media_type: str, now: datetime) -> bool:
    """Record the blob; True when it is new to this station."""
    result = session.execute(
        sqlite_insert(Blob)
        .values(sha256=ref.sha256, size=ref.size, stored_size=ref.stored_size, media_type=media_type,
                created_at=now)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return bool(getattr(result, "rowcount", 0))


def _material_row(
    material: MaterialView, source: str, now: datetime, *, blob: str | None = None, elicence: str | None = None
) -> ApplicationMaterial:
    return ApplicationMaterial(material_code=material.code, material_name=material.name, source=source,
                               blob_sha256=blob, pages=1 if blob else 0, elicence_ref=elicence, created_at=now)


def add_working_days(start: date, days: int) -> date:
    """Promised limits count working days. Weekends are skipped; statutory holidays need the platform's calendar,
    which sync will bring, so until then the date shown can be a little early, never late."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
