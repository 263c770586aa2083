"""Filing an application end to end against a real station database: materials, tracking numbers, what is
stored (and what is not when filing is refused), the outbox, the audit trail and the masked queries."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk_app.applications.filing import (
    PRIORITY_APPLICATION,
    PRIORITY_BLOB,
    Filed,
    MaterialFile,
    MissingMaterials,
    submit_application,
)
from kiosk_app.applications.forms import FormInvalid
from kiosk_app.applications.queries import application_detail, list_applications
from kiosk_app.applications.tracking import looks_like_tracking_no
from kiosk_app.errors import InvalidInput, NotFound
from kiosk_app.identity import Identity
from kiosk_app.station import Station
from local_db.models import (
    Applicant,
    Application,
    ApplicationMaterial,
    AuditEvent,
    Blob,
    OutboxEntry,
    StatusEvent,
)
from tests.conftest import make_person

# 社会保障卡补领换领: M01 required e-licence (居民身份证), M02 optional e-licence, M03 required paper photo;
# the only form field without prefill is `reason` (choice). Promised limit: 10 working days.
CARD = "331123-RS-0005"
CARD_PHOTO = "近期免冠彩色证件照片（白底）"
# 法律援助申请: M01 e-licence, M02..M04 required paper; fields case_type (choice), case_desc (textarea).
LEGAL_AID = "331123-SF-0001"
TOWNSHIP_ONLY = "331123-GA-0004"  # 居民身份证申领, levels: township
VILLAGE_ONLY = "331123-ZF-0003"  # 村级公益性岗位申请, levels: village

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40, 90))
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
MONDAY = date(2026, 3, 2)


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


def file_card(station: Station, person: Identity, *, today: date = MONDAY, **kwargs: Any) -> Filed:
    kwargs.setdefault("form_values", {"reason": "遗失补领"})
    kwargs.setdefault("files", [MaterialFile("M03", PNG, "image/png")])
    return submit_application(station.db, station.catalog, station.filing_context(), item_code=CARD,
                              identity=person, today=today, **kwargs)


def legal_aid_values() -> dict[str, Any]:
    return {"case_type": "请求支付劳动报酬", "case_desc": "工地拖欠三个月工资，多次讨要未果。"}


def count(station: Station, model: type[Any], *where: Any) -> int:
    def job(session: Session) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return station.db.read(job)


def stored_counts(station: Station) -> dict[str, int]:
    counts = {model.__name__: count(station, model)
              for model in (Application, Applicant, ApplicationMaterial, OutboxEntry, StatusEvent, Blob)}
    counts["AuditEvent(application)"] = count(station, AuditEvent, AuditEvent.subject_type == "application")
    counts["blob files"] = len(blob_files(station))
    return counts


def blob_files(station: Station) -> list[Path]:
    root = station.db.blobs.root
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp"]


def outbox(station: Station) -> list[tuple[str, str, int, str]]:
    def job(session: Session) -> list[tuple[str, str, int, str]]:
        return [(o.kind, o.ref_id, o.priority, o.state) for o in session.scalars(select(OutboxEntry))]

    return station.db.read(job)


# --- MaterialFile.from_path -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [("photo.png", PNG, "image/png"), ("scan.jpg", JPEG, "image/jpeg"), ("form.pdf", PDF, "application/pdf"),
     ("misnamed.pdf", PNG, "image/png")],
)
def test_from_path_sniffs_the_content(tmp_path: Path, name: str, data: bytes, media_type: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    material = MaterialFile.from_path("M03", path)
    assert (material.key, material.data, material.media_type) == ("M03", data, media_type)


def test_from_path_refuses_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "申请书.png"
    path.write_text("这不是图片", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"材料文件 申请书\.png 不是图片或 PDF"):
        MaterialFile.from_path("M02", path)
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"识别为 text/plain"):
        MaterialFile.from_path("M02", path)


def test_from_path_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="不是图片或 PDF"):
        MaterialFile.from_path("M02", path)


def test_from_path_refuses_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    with pytest.raises(InvalidInput, match="材料路径是文件夹"):
        MaterialFile.from_path("M02", folder)


def test_from_path_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="找不到材料文件"):
        MaterialFile.from_path("M02", tmp_path / "nowhere.pdf")


# --- a successful filing --------------------------------------------------------------------------


def test_filing_with_all_paper_materials_is_submitted(station: Station, person: Identity) -> None:
    filed = submit_application(
        station.db, station.catalog, station.filing_context(), item_code=LEGAL_AID, identity=person,
        form_values=legal_aid_values(),
        files=[MaterialFile("M02", PNG, "image/png"), MaterialFile("M03", JPEG, "image/jpeg"),
               MaterialFile("M04", PDF, "application/pdf")],
        today=MONDAY)
    assert filed.state == "submitted"
    assert filed.tracking_no == "331123001-20260302-0001"
    assert looks_like_tracking_no(filed.tracking_no)
    assert filed.deferred == ()
    assert filed.elicences == ("申请人居民身份证",)

    detail = application_detail(station.db, filed.tracking_no, unmask=True)
    assert detail["id"] == filed.id and detail["state"] == "submitted" and detail["version"] == 1
    assert detail["deferred_materials"] is False
    assert detail["promised_date"] == "2026-03-05"  # 3 working days after Monday
    assert detail["delivery_method"] == "电子送达"
    assert detail["form"]["case_type"] == "请求支付劳动报酬"
    assert detail["form"]["name"] == person.name  # prefilled from the card
    by_code = {m["code"]: m for m in detail["materials"]}
    assert set(by_code) == {"M01", "M02", "M03", "M04"}
    for code, data in (("M02", PNG), ("M03", JPEG), ("M04", PDF)):
        assert by_code[code]["source"] == "file"
        assert by_code[code]["sha256"] == hashlib.sha256(data).hexdigest()
        assert station.db.blobs.get(by_code[code]["sha256"]) == data  # encrypted at rest, readable back
    assert by_code["M01"]["source"] == "elicence" and by_code["M01"]["elicence"] == "居民身份证"
    assert by_code["M01"]["sha256"] is None

    def media_types(session: Session) -> dict[str, str]:
        return {b.sha256: b.media_type for b in session.scalars(select(Blob))}

    assert station.db.read(media_types) == {
        hashlib.sha256(PNG).hexdigest(): "image/png",
        hashlib.sha256(JPEG).hexdigest(): "image/jpeg",
        hashlib.sha256(PDF).hexdigest(): "application/pdf",
    }


def test_materials_can_be_named_by_code_name_or_unique_fragment(station: Station, person: Identity) -> None:
    for key in ("M03", CARD_PHOTO, "证件照片"):
        filed = file_card(station, person, files=[MaterialFile(key, PNG, "image/png")])
        detail = application_detail(station.db, filed.id)
        assert [(m["code"], m["source"]) for m in detail["materials"]] == [("M03", "file"), ("M01", "elicence")]


def test_the_same_material_twice_is_refused(station: Station, person: Identity) -> None:
    before = stored_counts(station)
    with pytest.raises(InvalidInput, match="提交了不止一份"):
        file_card(station, person, files=[MaterialFile("M03", PNG, "image/png"),
                                          MaterialFile(CARD_PHOTO, JPEG, "image/jpeg")])
    assert stored_counts(station) == before


# --- tracking numbers -----------------------------------------------------------------------------


def test_tracking_numbers_count_per_day_and_restart_on_a_new_day(station: Station, person: Identity) -> None:
    numbers = [file_card(station, person, today=day).tracking_no
               for day in (MONDAY, MONDAY, date(2026, 3, 3), MONDAY, date(2027, 1, 1))]
    assert numbers == [
        "331123001-20260302-0001",
        "331123001-20260302-0002",
        "331123001-20260303-0001",
        "331123001-20260302-0003",  # the clock went back to a used day: that day's counter continues
        "331123001-20270101-0001",
    ]


def test_tracking_number_uses_the_station_code(station: Station, person: Identity) -> None:
    station.settings.set("station.code", "331123001002")
    assert file_card(station, person).tracking_no == "331123001002-20260302-0001"


def test_fifty_filings_get_fifty_consecutive_unique_numbers(station: Station, person: Identity) -> None:
    numbers = [file_card(station, person).tracking_no for _ in range(50)]
    assert len(set(numbers)) == 50
    assert all(re.fullmatch(r"331123001-20260302-\d{4}", n) for n in numbers)
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, 51))
    assert count(station, Application) == 50
    assert count(station, Applicant) == 1  # the same person is one applicant row


# --- refusals store nothing -----------------------------------------------------------------------


def test_missing_required_paper_material_is_refused_by_name(station: Station, person: Identity) -> None:
    before = stored_counts(station)
    with pytest.raises(MissingMaterials) as caught:
        file_card(station, person, files=[])
    assert [m.code for m in caught.value.missing] == ["M03"]
    assert CARD_PHOTO in str(caught.value)
    assert isinstance(caught.value, InvalidInput)
    assert stored_counts(station) == before


def test_several_missing_materials_are_all_listed_and_given_files_not_stored(
    station: Station, person: Identity
) -> None:
    before = stored_counts(station)
    with pytest.raises(MissingMaterials) as caught:
        submit_application(station.db, station.catalog, station.filing_context(), item_code=LEGAL_AID,
                           identity=person, form_values=legal_aid_values(),
                           files=[MaterialFile("M02", PDF, "application/pdf")])
    assert [m.code for m in caught.value.missing] == ["M03", "M04"]
    assert "经济困难状况说明表（个人诚信承诺）、与申请法律援助事项有关的证据材料" in str(caught.value)
    assert stored_counts(station) == before
    assert before["blob files"] == 0


def test_allow_missing_records_deferred_materials(station: Station, person: Identity) -> None:
    filed = file_card(station, person, files=[], allow_missing=True)
    assert filed.state == "submitted"
    assert filed.deferred == (CARD_PHOTO,)
    assert filed.to_json()["deferred_materials"] == [CARD_PHOTO]
    detail = application_detail(station.db, filed.id)
    assert detail["deferred_materials"] is True
    assert {m["code"]: m["source"] for m in detail["materials"]} == {"M01": "elicence", "M03": "deferred"}
    assert [kind for kind, *_ in outbox(station)] == ["application"]  # no files, no blob work


def test_elicence_materials_are_recorded_automatically(station: Station, person: Identity) -> None:
    filed = file_card(station, person)
    assert filed.elicences == ("申请人居民身份证",)
    detail = application_detail(station.db, filed.id)
    materials = {m["code"]: m for m in detail["materials"]}
    assert materials["M01"]["source"] == "elicence" and materials["M01"]["elicence"] == "居民身份证"
    assert "M02" not in materials  # optional e-licence material: nothing to record


def test_an_elicence_material_may_still_be_handed_in_as_a_file(station: Station, person: Identity) -> None:
    filed = file_card(station, person, files=[MaterialFile("M03", PNG, "image/png"),
                                              MaterialFile("M01", JPEG, "image/jpeg")])
    assert filed.elicences == ()
    detail = application_detail(station.db, filed.id)
    assert {m["code"]: m["source"] for m in detail["materials"]} == {"M01": "file", "M03": "file"}


def test_unknown_material_key_is_refused_with_the_valid_list(station: Station, person: Identity) -> None:
    before = stored_counts(station)
    with pytest.raises(InvalidInput) as caught:
        file_card(station, person, files=[MaterialFile("M03", PNG, "image/png"),
                                          MaterialFile("M99", PDF, "application/pdf")])
    message = str(caught.value)
    assert "没有名为“M99”的材料" in message
    for listed in ("M01 申请人居民身份证", "M02 社会保障卡", f"M03 {CARD_PHOTO}"):
        assert listed in message
    assert stored_counts(station) == before


def test_form_problems_are_reported_field_by_field(station: Station, person: Identity) -> None:
    before = stored_counts(station)
    with pytest.raises(FormInvalid) as caught:
        file_card(station, person, form_values={"reason": "不想要了", "phone": "12345", "favourite_colour": "红"})
    problems = caught.value.problems
    assert set(problems) == {"reason", "phone", "favourite_colour"}
    assert "遗失补领" in problems["reason"]
    assert problems["favourite_colour"] == "本事项的表单中没有这一项"
    assert "补换原因" in str(caught.value) and "联系电话" in str(caught.value)
    assert stored_counts(station) == before


def test_required_form_field_missing_is_reported(station: Station, person: Identity) -> None:
    with pytest.raises(FormInvalid) as caught:
        file_card(station, person, form_values={})
    assert caught.value.problems == {"reason": "必须填写"}


def test_item_not_offered_at_a_village_station_is_refused(station: Station, person: Identity) -> None:
    station.settings.set("station.level", "village")
    assert "village" not in station.catalog.get(TOWNSHIP_ONLY).levels
    before = stored_counts(station)
    with pytest.raises(InvalidInput, match="本站点不能受理“居民身份证申领”"):
        submit_application(station.db, station.catalog, station.filing_context(), item_code=TOWNSHIP_ONLY,
                           identity=person, files=[MaterialFile("M02", PNG, "image/png")])
    assert stored_counts(station) == before
    # Items that list the village level are still offered there.
    assert file_card(station, person).state == "submitted"


def test_village_only_item_is_refused_at_a_township_station(station: Station, person: Identity) -> None:
    assert station.filing_context().station_level == "township"
    values = {"post_intention": "保洁", "health_status": "健康"}
    files = [MaterialFile("M02", PDF, "application/pdf")]
    with pytest.raises(InvalidInput, match="本站点不能受理"):
        submit_application(station.db, station.catalog, station.filing_context(), item_code=VILLAGE_ONLY,
                           identity=person, form_values=values, files=files)
    station.settings.set("station.level", "village")
    filed = submit_application(station.db, station.catalog, station.filing_context(), item_code=VILLAGE_ONLY,
                               identity=person, form_values=values, files=files)
    assert filed.state == "submitted"


def test_unknown_item_code_is_not_found(station: Station, person: Identity) -> None:
    with pytest.raises(NotFound, match="331123-XX-9999"):
        submit_application(station.db, station.catalog, station.filing_context(), item_code="331123-XX-9999",
                           identity=person)


# --- outbox, audit and status events --------------------------------------------------------------


def test_outbox_gets_one_application_and_one_blob_entry_per_file(station: Station, person: Identity) -> None:
    filed = submit_application(
        station.db, station.catalog, station.filing_context(), item_code=LEGAL_AID, identity=person,
        form_values=legal_aid_values(),
        files=[MaterialFile("M02", PNG, "image/png"), MaterialFile("M03", JPEG, "image/jpeg"),
               MaterialFile("M04", PDF, "application/pdf")])
    entries = outbox(station)
    assert [e for e in entries if e[0] == "application"] == [
        ("application", filed.id, PRIORITY_APPLICATION, "pending")]
    assert sorted(e for e in entries if e[0] == "blob") == sorted(
        ("blob", hashlib.sha256(data).hexdigest(), PRIORITY_BLOB, "pending") for data in (PNG, JPEG, PDF))
    assert len(entries) == 4
    assert PRIORITY_APPLICATION < PRIORITY_BLOB


def test_same_content_twice_is_stored_once(station: Station, person: Identity) -> None:
    first = file_card(station, person)
    second = file_card(station, person)
    sha = hashlib.sha256(PNG).hexdigest()
    assert count(station, Blob) == 1
    assert len(blob_files(station)) == 1
    for filed in (first, second):
        detail = application_detail(station.db, filed.id)
        assert [m["sha256"] for m in detail["materials"] if m["source"] == "file"] == [sha]
    # Two materials of one application with identical bytes: one blob as well.
    submit_application(
        station.db, station.catalog, station.filing_context(), item_code=LEGAL_AID, identity=person,
        form_values=legal_aid_values(),
        files=[MaterialFile("M02", PDF, "application/pdf"), MaterialFile("M03", PDF, "application/pdf"),
               MaterialFile("M04", PDF, "application/pdf")])
    assert count(station, Blob) == 2
    assert len(blob_files(station)) == 2


def test_outbox_has_one_blob_entry_per_new_blob(station: Station, person: Identity) -> None:
    file_card(station, person)
    file_card(station, person)  # same photo again: the blob exists already
    submit_application(
        station.db, station.catalog, station.filing_context(), item_code=LEGAL_AID, identity=person,
        form_values=legal_aid_values(),
        files=[MaterialFile("M02", PDF, "application/pdf"), MaterialFile("M03", PDF, "application/pdf"),
               MaterialFile("M04", PDF, "application/pdf")])
    blob_refs = [ref for kind, ref, *_ in outbox(station) if kind == "blob"]
    assert sorted(blob_refs) == sorted([hashlib.sha256(PNG).hexdigest(), hashlib.sha256(PDF).hexdigest()])


def test_audit_and_status_events_of_a_filing(station: Station, person: Identity) -> None:
    ctx = station.filing_context(channel="agent", actor="agent:wangli")
    filed = submit_application(station.db, station.catalog, ctx, item_code=CARD, identity=person,
                               form_values={"reason": "损坏换领"}, files=[MaterialFile("M03", PNG, "image/png")])

    def events(session: Session) -> tuple[list[tuple[str, str, dict[str, Any]]], list[tuple[Any, ...]]]:
        audits = [(a.action, a.actor, dict(a.detail)) for a in session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == filed.id).order_by(AuditEvent.id))]
        statuses = [(s.from_state, s.to_state, s.actor, s.source) for s in session.scalars(
            select(StatusEvent).where(StatusEvent.application_id == filed.id).order_by(StatusEvent.id))]
        return audits, statuses

    audits, statuses = station.db.read(events)
    assert [(action, actor) for action, actor, _ in audits] == [
        ("application.create", "agent:wangli"), ("application.transition", "agent:wangli")]
    create, transition = audits[0][2], audits[1][2]
    assert create["item"] == CARD and create["tracking_no"] == filed.tracking_no
    assert (transition["from_state"], transition["to_state"]) == ("draft", "submitted")
    assert statuses == [("draft", "submitted", "agent:wangli", "local")]
    # The audit trail is read by many people: no clear name or ID number in it.
    dumped = json.dumps([detail for *_, detail in audits], ensure_ascii=False)
    assert person.name not in dumped and person.id_number not in dumped
    assert application_detail(station.db, filed.id)["channel"] == "agent"


# --- queries --------------------------------------------------------------------------------------


def test_application_detail_is_masked_unless_asked(station: Station, person: Identity) -> None:
    filed = file_card(station, person, form_values={"reason": "遗失补领", "mailing_address": "上江村18号"})
    masked = application_detail(station.db, filed.tracking_no)
    dumped = json.dumps(masked, ensure_ascii=False)
    assert person.phone is not None
    for secret in (person.name, person.id_number, person.id_number[6:14], person.phone, "上江村18号", "遗失补领"):
        assert secret not in dumped, secret
    assert set(masked["form"].values()) == {"***"}
    assert masked["applicant"]["name"] != person.name and masked["applicant"]["name"]

    clear = application_detail(station.db, filed.id, unmask=True)
    assert clear["applicant"]["name"] == person.name
    assert clear["applicant"]["id_number"] == person.id_number
    assert clear["form"]["reason"] == "遗失补领" and clear["form"]["id_number"] == person.id_number
    assert {k: v for k, v in clear.items() if k not in ("applicant", "form")} == {
        k: v for k, v in masked.items() if k not in ("applicant", "form")}


def test_application_detail_of_unknown_number_is_not_found(station: Station) -> None:
    with pytest.raises(NotFound, match="331123001-20260302-0001"):
        application_detail(station.db, "331123001-20260302-0001")


def test_list_applications_by_id_number_shows_only_that_person(station: Station) -> None:
    ye = make_person()
    wang = make_person(name="王建国", birth=date(1970, 1, 1), seq=33)
    mine = {file_card(station, ye).tracking_no, file_card(station, ye).tracking_no}
    theirs = {file_card(station, wang).tracking_no}

    listed = list_applications(station.db, id_number=ye.id_number)
    assert {s.tracking_no for s in listed} == mine
    assert all(s.applicant != ye.name and s.applicant.startswith("叶") for s in listed)
    assert {s.tracking_no for s in list_applications(station.db, id_number=wang.id_number)} == theirs
    assert {s.tracking_no for s in list_applications(station.db)} == mine | theirs
    stranger = make_person(name="李四", birth=date(1990, 6, 6), seq=45)
    assert list_applications(station.db, id_number=stranger.id_number) == []
    assert list_applications(station.db, state="withdrawn") == []
    assert len(list_applications(station.db, state="submitted", id_number=ye.id_number)) == 2
    summary = listed[0].to_json()
    assert summary["state_label"] == "已提交（待同步）" and summary["item_code"] == CARD
