"""The applicant's screen signature in proxy filing: filed as the application form when the item asks for one,
otherwise kept in the blob store with an audit event; agents only; nothing filed when the filing is refused."""

from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.applications.filing import MissingMaterials
from kiosk_app.applications.signature import signature_material, submit_signed
from kiosk_app.demo import sample_form_values
from kiosk_app.errors import InvalidInput
from kiosk_app.self_service import CapturedPage, SelfServiceSession
from kiosk_app.station import Station
from local_db.models import Application, ApplicationMaterial, AuditEvent, Blob
from tests.accounts import make_staff
from tests.conftest import make_person

DIBAO = "331123-MZ-0001"  # 最低生活保障申请: M03 最低生活保障申请书, M04/M05/M07 papers, ID and 户口簿 e-licences
ELDER = "331123-WJ-0008"  # 老年人优待证: only a photo on paper, no application form
CHRONIC = "331123-YB-0004"  # 门诊慢特病待遇认定: the form needs a doctor's opinion, so a signature cannot replace it
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


def png(seed: int = 1) -> bytes:
    """A tiny valid PNG (one grey row), enough to be stored and sniffed as a PNG."""
    raw = b"\x00" + bytes([seed % 256] * 4)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def staff(copied_station: Station) -> tuple[Operator, Operator]:
    return make_staff(copied_station.db)


def session_for(station: Station, code: str, *scanned: str) -> SelfServiceSession:
    session = SelfServiceSession()
    session.start(make_person())
    item = station.catalog.get(code)
    session.choose(item)
    session.form_values.update(sample_form_values(item))
    for material_code in scanned:
        material = item.material(material_code)
        assert material is not None
        session.captured[material.code] = CapturedPage(material.code, material.name, JPEG, JPEG)
    session.consent_personal_data = session.consent_data_sharing = True
    return session


def audits(station: Station, application_id: str) -> list[AuditEvent]:
    return station.db.read(lambda s: list(s.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == application_id, AuditEvent.action == "application.signature"))))


def test_the_application_form_is_the_material_a_signature_stands_in_for(copied_station: Station) -> None:
    catalog = copied_station.catalog
    found = signature_material(catalog.get(DIBAO))
    assert found is not None and found.code == "M03" and found.name == "最低生活保障申请书"
    assert signature_material(catalog.get(DIBAO), {"M03"}) is None  # a scanned paper form wins
    assert signature_material(catalog.get(ELDER)) is None
    assert signature_material(catalog.get(CHRONIC)) is None


def test_signature_filed_as_the_form_with_missing_papers_accepted(copied_station: Station,
                                                                  staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    session = session_for(copied_station, DIBAO, "M04")
    signature = png()
    signed = submit_signed(copied_station, session, agent, signature, allow_missing=True)

    assert signed.material_code == "M03" and session.filed == signed.filed
    assert set(signed.filed.deferred) == {"家庭收入情况声明（承诺书）", "本人银行账户信息（社会保障卡或银行存折）"}

    def look(s: Session) -> tuple[Application, dict[str, ApplicationMaterial], Blob | None]:
        app = s.get(Application, signed.filed.id)
        assert app is not None
        materials = {m.material_code: m for m in app.materials}
        return app, materials, s.get(Blob, signed.sha256)

    app, materials, blob = copied_station.db.read(look)
    assert app.channel == "agent" and app.agent_user_id == agent.user_id and app.deferred_materials
    assert materials["M03"].source == "file" and materials["M03"].blob_sha256 == signed.sha256
    assert materials["M05"].source == "deferred" and materials["M04"].source == "file"
    assert blob is not None and blob.media_type == "image/png"
    assert copied_station.db.blobs.get(signed.sha256) == signature
    [event] = audits(copied_station, signed.filed.id)
    assert event.actor == agent.actor and event.detail["sha256"] == signed.sha256
    assert event.detail["material"] == "M03"


def test_without_a_form_material_the_signature_is_kept_in_the_audit_trail(copied_station: Station,
                                                                         staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    session = session_for(copied_station, ELDER, "M02")
    signature = png(7)
    signed = submit_signed(copied_station, session, agent, signature)

    assert signed.material_code is None
    app = copied_station.db.read(lambda s: s.get(Application, signed.filed.id))
    assert app is not None and app.channel == "agent"
    codes = copied_station.db.read(lambda s: {m.material_code: m.blob_sha256 for m in s.get(
        Application, signed.filed.id).materials})  # type: ignore[union-attr]
    assert signed.sha256 not in codes.values()  # not passed off as the photo
    [event] = audits(copied_station, signed.filed.id)
    assert event.detail["sha256"] == signed.sha256 and event.detail["material"] is None
    assert copied_station.db.blobs.get(signed.sha256) == signature


def test_only_agents_file_with_a_signature_and_refusals_file_nothing(copied_station: Station,
                                                                    staff: tuple[Operator, Operator]) -> None:
    technician, agent = staff
    for who in (None, technician):
        with pytest.raises(NotPermitted):
            submit_signed(copied_station, session_for(copied_station, DIBAO, "M04"), who, png())
    with pytest.raises(InvalidInput, match="重新签名"):
        submit_signed(copied_station, session_for(copied_station, DIBAO, "M04"), agent, JPEG)
    with pytest.raises(MissingMaterials, match="家庭收入情况声明"):  # 容缺 is the agent's explicit choice
        submit_signed(copied_station, session_for(copied_station, DIBAO, "M04"), agent, png())
    unconsented = session_for(copied_station, DIBAO, "M04")
    unconsented.consent_personal_data = False
    with pytest.raises(InvalidInput, match="个人信息使用说明"):
        submit_signed(copied_station, unconsented, agent, png(), allow_missing=True)
    count = copied_station.db.read(lambda s: s.scalar(select(func.count()).select_from(Application)))
    assert count == 0


def test_signature_audit_and_application_commit_together(copied_station: Station, staff: tuple[Operator, Operator],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """When the signature's audit record cannot be written, no application exists without it."""
    from kiosk_app import audit

    real_record = audit.record

    def failing(session: Session, **fields: object) -> None:
        if fields.get("action") == "application.signature":
            raise RuntimeError("disk full")
        real_record(session, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        submit_signed(copied_station, session_for(copied_station, ELDER, "M02"), staff[1], png())
    count = copied_station.db.read(lambda s: s.scalar(select(func.count()).select_from(Application)))
    assert count == 0
