"""The reference platform's endpoints and back office, through real uvicorn on loopback with signed requests.

Blobs (chunked, resumable, verified, durable), applications (idempotent commit, conflict, 补正 resubmission),
the status feed (scoped to the station, paged), the catalogue (full, delta, removals, paging), evaluations,
heartbeats, and the department actions of the back office.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from sync.protocol.models import BlobState, CatalogPage, CommitReceipt, Limits, StatusFeed
from sync.server import RunningPlatform, back_office
from sync.server.back_office import ActionRefused, InvalidRequest
from tests.sync.platform_support import (
    STATION_A,
    STATION_B,
    SignedDevice,
    commit_body,
    enrol,
    new_uuid,
    put_application,
    sha,
)

LIMITS = Limits(chunk_bytes=1024, max_chunk_bytes=4096, max_body_bytes=256 * 1024, max_blob_bytes=64 * 1024,
                max_query_hashes=20, status_page=3, catalog_page=2)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    folder = tmp_path_factory.mktemp("platform")
    with RunningPlatform(f"sqlite:///{folder / 'platform.db'}", folder / "blobs", limits=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def station_a(platform: RunningPlatform) -> SignedDevice:
    return enrol(platform.url, platform.store, STATION_A)


@pytest.fixture(scope="module")
def station_b(platform: RunningPlatform) -> SignedDevice:
    return enrol(platform.url, platform.store, STATION_B)


def blob_state(device: SignedDevice, digest: str) -> BlobState:
    answer = device.call("POST", "/v1/blobs/query", {"hashes": [digest]})
    assert answer.status_code == 200, answer.text
    return BlobState.model_validate(answer.json()["blobs"][0])


def error_of(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()
    assert set(error) == {"error", "message", "detail"} and error["message"]
    return error


# ---- blobs ----------------------------------------------------------------------------------------------------

def test_chunked_upload_resumes_after_an_interruption(station_a: SignedDevice) -> None:
    data = os.urandom(5000)
    digest = sha(data)
    assert blob_state(station_a, digest) == BlobState(sha256=digest, size=None, received=0, complete=False)
    first = station_a.put_chunk(digest, 0, len(data), data[:2000])
    assert BlobState.model_validate(first.json()) == BlobState(sha256=digest, size=5000, received=2000,
                                                               complete=False)
    # The station went offline here; later it asks where to go on from.
    state = blob_state(station_a, digest)
    assert (state.received, state.size, state.complete) == (2000, 5000, False)
    second = station_a.put_chunk(digest, state.received, len(data), data[2000:4000])
    assert second.json()["received"] == 4000
    last = station_a.put_chunk(digest, 4000, len(data), data[4000:])
    assert last.status_code == 200 and last.json()["complete"] is True and last.json()["received"] == 5000
    assert blob_state(station_a, digest).complete


def test_offset_mismatch_tells_where_to_resume(station_a: SignedDevice) -> None:
    data = os.urandom(3000)
    digest = sha(data)
    station_a.put_chunk(digest, 0, len(data), data[:1000])
    ahead = error_of(station_a.put_chunk(digest, 2000, len(data), data[2000:]), 409)
    assert ahead["error"] == "offset_mismatch" and ahead["detail"] == {"received": 1000}
    behind = error_of(station_a.put_chunk(digest, 0, len(data), data[:1000]), 409)
    assert behind["detail"]["received"] == 1000
    assert station_a.put_chunk(digest, 1000, len(data), data[1000:]).json()["complete"] is True


def test_hash_mismatch_discards_the_upload(station_a: SignedDevice) -> None:
    data = os.urandom(1500)
    digest = sha(data)
    station_a.put_chunk(digest, 0, len(data), data[:1000])
    wrong = error_of(station_a.put_chunk(digest, 1000, len(data), b"\0" * 500), 422)
    assert wrong["error"] == "hash_mismatch" and wrong["detail"]["expected"] == digest
    assert blob_state(station_a, digest) == BlobState(sha256=digest, size=None, received=0, complete=False)
    assert station_a.upload(data).json()["complete"] is True


def test_complete_blob_put_again_is_idempotent(station_a: SignedDevice) -> None:
    data = b"same bytes twice"
    digest = sha(data)
    assert station_a.upload(data).json()["complete"] is True
    again = station_a.put_chunk(digest, 0, len(data), data)
    assert again.status_code == 200
    assert BlobState.model_validate(again.json()) == BlobState(sha256=digest, size=len(data), received=len(data),
                                                               complete=True)


def test_blob_limits(station_a: SignedDevice) -> None:
    digest = sha(b"whatever")
    too_big_chunk = station_a.put_chunk(digest, 0, 10_000, b"x" * (LIMITS.max_chunk_bytes + 1))
    assert error_of(too_big_chunk, 413)["error"] == "too_large"
    too_big_blob = station_a.put_chunk(digest, 0, LIMITS.max_blob_bytes + 1, b"x")
    assert error_of(too_big_blob, 413)["error"] == "too_large"
    past_the_end = station_a.put_chunk(digest, 0, 3, b"four")
    assert error_of(past_the_end, 422)["error"] == "invalid"
    bad_hash = station_a.send("PUT", "/v1/blobs/NOTAHASH?offset=0&size=1", body=b"x",
                              content_type="application/octet-stream")
    assert error_of(bad_hash, 422)["error"] == "invalid"
    too_many = station_a.call("POST", "/v1/blobs/query", {"hashes": [digest] * (LIMITS.max_query_hashes + 1)})
    assert error_of(too_many, 422)["detail"]["field"] == "hashes"


def test_torn_tail_past_the_durable_length_is_never_reported_and_is_cut(platform: RunningPlatform,
                                                                       station_a: SignedDevice) -> None:
    data = os.urandom(3000)
    digest = sha(data)
    station_a.put_chunk(digest, 0, len(data), data[:1000])
    # A crash after writing more bytes but before recording them leaves a tail nobody vouched for.
    with platform.platform.blobs.files.partial_path(digest).open("ab") as fh:
        fh.write(b"\xff" * 700)
    assert blob_state(station_a, digest).received == 1000
    station_a.put_chunk(digest, 1000, len(data), data[1000:2000])
    assert station_a.put_chunk(digest, 2000, len(data), data[2000:]).json()["complete"] is True
    assert platform.platform.blobs.files.final_path(digest).read_bytes() == data


def test_partial_file_shorter_than_the_record_wins(platform: RunningPlatform, station_a: SignedDevice) -> None:
    data = os.urandom(2500)
    digest = sha(data)
    station_a.put_chunk(digest, 0, len(data), data[:2000])
    with platform.platform.blobs.files.partial_path(digest).open("r+b") as fh:
        fh.truncate(1200)
    assert blob_state(station_a, digest).received == 1200
    assert error_of(station_a.put_chunk(digest, 2000, len(data), data[2000:]), 409)["detail"] == {"received": 1200}
    assert station_a.put_chunk(digest, 1200, len(data), data[1200:]).json()["complete"] is True


# ---- applications ---------------------------------------------------------------------------------------------

def test_commit_gives_a_case_number_and_waits_for_missing_blobs(platform: RunningPlatform,
                                                                station_a: SignedDevice) -> None:
    material = os.urandom(1800)
    body = commit_body(STATION_A, blobs=(sha(material),))
    answer = put_application(station_a, body)
    assert answer.status_code == 200, answer.text
    receipt = CommitReceipt.model_validate(answer.json())
    assert re.fullmatch(r"ZJ\d{8}\d{6}", receipt.case_no)
    assert (receipt.client_id, receipt.version, receipt.state) == (body["client_id"], 1, "received")
    assert receipt.missing_blobs == [sha(material)]
    station_a.upload(material)
    replay = CommitReceipt.model_validate(put_application(station_a, body).json())
    assert (replay.case_no, replay.received_at, replay.missing_blobs) == (receipt.case_no, receipt.received_at, [])
    listed = {a["client_id"]: a for a in back_office.list_apps(platform.store, STATION_A)}[body["client_id"]]
    assert listed["blobs"] == [sha(material)] and listed["missing_blobs"] == []


def test_case_numbers_are_unique(station_a: SignedDevice) -> None:
    numbers = {put_application(station_a, commit_body(STATION_A)).json()["case_no"] for _ in range(5)}
    assert len(numbers) == 5


def test_same_id_different_body_is_a_conflict(station_a: SignedDevice) -> None:
    body = commit_body(STATION_A)
    case_no = put_application(station_a, body).json()["case_no"]
    conflict = error_of(put_application(station_a, {**body, "tracking_no": "DB-OTHER"}), 409)
    assert conflict["error"] == "conflict" and conflict["detail"]["case_no"] == case_no
    # Not a correction request: naming the version to supersede does not help.
    newer = {**body, "version": 2, "supersedes_version": 1}
    assert error_of(put_application(station_a, newer), 409)["error"] == "conflict"


def test_path_and_body_ids_must_agree_and_station_must_be_the_devices(station_a: SignedDevice) -> None:
    body = commit_body(STATION_A)
    mismatch = station_a.call("PUT", f"/v1/applications/{new_uuid()}", body)
    assert error_of(mismatch, 422)["detail"]["field"] == "client_id"
    wrong = error_of(put_application(station_a, commit_body(STATION_B)), 403)
    assert wrong["error"] == "wrong_station"


def test_validation_error_names_the_field(station_a: SignedDevice) -> None:
    body = commit_body(STATION_A)
    body["materials"] = [{"code": "M1", "name": "x", "source": "fax"}]
    error = error_of(put_application(station_a, body), 422)
    assert error["error"] == "invalid" and "materials.0.source" in error["message"]
    del body["materials"]
    assert "materials" in error_of(put_application(station_a, body), 422)["message"]


def test_resubmission_after_correction_supersedes_the_version(platform: RunningPlatform,
                                                              station_a: SignedDevice) -> None:
    body = commit_body(STATION_A)
    case_no = put_application(station_a, body).json()["case_no"]
    back_office.advance(platform.store, case_no, "correction_requested", reason="户口簿复印件不清晰")
    corrected = {**body, "version": 2, "supersedes_version": 1, "form": {"household_size": 3}}
    answer = put_application(station_a, corrected)
    assert answer.status_code == 200, answer.text
    receipt = CommitReceipt.model_validate(answer.json())
    assert (receipt.case_no, receipt.version, receipt.state) == (case_no, 2, "received")
    # Both versions replay to their own answers; the first one no longer can be changed.
    assert put_application(station_a, corrected).json()["case_no"] == case_no
    assert put_application(station_a, body).json()["version"] == 1
    assert error_of(put_application(station_a, {**body, "version": 3, "supersedes_version": 1}),
                    409)["error"] == "conflict"
    events = [e for e in read_all(station_a)[0] if e.case_no == case_no]
    assert [(e.state.value, e.version) for e in events] == [("received", 1), ("correction_requested", 1),
                                                            ("received", 2)]
    assert events[1].reason == "户口簿复印件不清晰"


# ---- status feed ----------------------------------------------------------------------------------------------

def feed(device: SignedDevice, since: int, limit: int | None = None) -> StatusFeed:
    query = f"/v1/status?since={since}" + (f"&limit={limit}" if limit else "")
    answer = device.call("GET", query)
    assert answer.status_code == 200, answer.text
    return StatusFeed.model_validate(answer.json())


def read_all(device: SignedDevice, since: int = 0, limit: int | None = None) -> tuple[list[Any], int, int]:
    events: list[Any] = []
    pages = 0
    while True:
        page = feed(device, since, limit)
        pages += 1
        events += page.events
        since = page.cursor
        if not page.more:
            return events, since, pages


def test_status_feed_is_scoped_to_the_station_and_paged(platform: RunningPlatform, station_a: SignedDevice,
                                                        station_b: SignedDevice) -> None:
    _, cursor_a, _ = read_all(station_a)
    _, cursor_b, _ = read_all(station_b)
    mine = [put_application(station_b, commit_body(STATION_B)).json()["case_no"] for _ in range(4)]
    put_application(station_a, commit_body(STATION_A))
    events, new_cursor_b, pages = read_all(station_b, cursor_b)
    assert [e.case_no for e in events] == mine
    assert pages == 2  # status_page is 3 on this platform
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    only_a, _, _ = read_all(station_a, cursor_a, limit=1)
    assert only_a and not {e.case_no for e in only_a} & set(mine)
    assert feed(station_b, new_cursor_b).events == []
    back_office.advance(platform.store, mine[0], "rejected", reason="不符合条件")
    later = feed(station_b, new_cursor_b)
    assert [(e.case_no, e.state.value, e.reason) for e in later.events] == [(mine[0], "rejected", "不符合条件")]


# ---- catalogue ------------------------------------------------------------------------------------------------

def item(code: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "materials": [], **extra}


def catalogue(device: SignedDevice, since: int, limit: int | None = None) -> CatalogPage:
    answer = device.call("GET", f"/v1/catalog?since={since}" + (f"&limit={limit}" if limit else ""))
    assert answer.status_code == 200, answer.text
    return CatalogPage.model_validate(answer.json())


def read_catalogue(device: SignedDevice, since: int) -> tuple[list[CatalogPage], dict[str, Any], set[str]]:
    """All pages from `since`, and what a station would hold after applying them together."""
    pages = [catalogue(device, since)]
    while pages[-1].more:
        pages.append(catalogue(device, pages[-1].cursor))
    items: dict[str, Any] = {}
    removed: set[str] = set()
    for page in pages:
        for entry in page.items:
            items[entry["code"]] = entry
            removed.discard(entry["code"])
        for code in page.removed:
            items.pop(code, None)
            removed.add(code)
    return pages, items, removed


def test_catalogue_full_then_delta_with_removals(platform: RunningPlatform, station_a: SignedDevice) -> None:
    first = {"catalog_version": "2026.11.1", "region": "遂昌县", "items": [
        item("A-1", "低保"), item("A-2", "医保"), item("A-3", "社保卡"), item("A-4", "残疾证"), item("A-5", "准生")]}
    summary = back_office.publish_catalog(platform.store, first)
    assert (summary["added"], summary["items"]) == (5, 5)
    pages, items, _ = read_catalogue(station_a, 0)
    assert pages[0].full and len(pages) == 3 and len(pages[0].items) == 2  # catalog_page is 2 on this platform
    assert [i["code"] for p in pages for i in p.items] == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert (pages[-1].version, pages[-1].region) == ("2026.11.1", "遂昌县")
    cursor = pages[-1].cursor
    assert catalogue(station_a, cursor) == CatalogPage(full=False, version="2026.11.1", region="遂昌县",
                                                       cursor=cursor, more=False, items=[], removed=[])
    assert catalogue(station_a, 0, limit=1).cursor < catalogue(station_a, 0).cursor

    second = {"catalog_version": "2026.11.2", "region": "遂昌县", "items": [
        item("A-1", "低保"), item("A-2", "医保（新）"), item("A-4", "残疾证"), item("A-6", "养老")]}
    summary = back_office.publish_catalog(platform.store, second)
    assert (summary["added"], summary["changed"], summary["removed"], summary["unchanged"]) == (1, 1, 2, 2)
    pages, changed, removed = read_catalogue(station_a, cursor)
    assert not any(p.full for p in pages) and pages[-1].version == "2026.11.2"
    assert sorted(changed) == ["A-2", "A-6"] and changed["A-2"]["name"] == "医保（新）"
    assert removed == {"A-3", "A-5"}
    pages, items, removed = read_catalogue(station_a, 0)
    assert pages[0].full and sorted(items) == ["A-1", "A-2", "A-4", "A-6"]
    # A cursor the platform never gave out (its catalogue was rebuilt) restarts the station from scratch.
    assert catalogue(station_a, pages[-1].cursor + 1000).full
    # Publishing the same document again changes nothing a station would have to fetch.
    assert back_office.publish_catalog(platform.store, second)["unchanged"] == 4
    assert catalogue(station_a, pages[-1].cursor).items == []


def test_catalogue_document_checks(platform: RunningPlatform) -> None:
    for bad in ({"region": "x", "items": []}, {"catalog_version": "1", "region": "x", "items": [{"name": "x"}]},
                {"catalog_version": "1", "region": "x", "items": [item("X", "a"), item("X", "b")]},
                {"catalog_version": "1", "region": "x", "items": "none"}):
        with pytest.raises(InvalidRequest):
            back_office.publish_catalog(platform.store, bad)


# ---- evaluations and heartbeat --------------------------------------------------------------------------------

def test_evaluation_is_stored_once(station_a: SignedDevice) -> None:
    evaluation = {"id": new_uuid(), "client_id": new_uuid(), "level": 5, "labels": ["办事快"], "comment": "很好",
                  "channel": "kiosk", "created_at": "2026-11-01T10:00:00+08:00"}
    path = f"/v1/evaluations/{evaluation['id']}"
    first = station_a.call("PUT", path, evaluation)
    assert first.status_code == 200, first.text
    assert station_a.call("PUT", path, evaluation).json() == first.json()
    assert error_of(station_a.call("PUT", path, {**evaluation, "level": 1}), 409)["error"] == "conflict"
    assert error_of(station_a.call("PUT", f"/v1/evaluations/{new_uuid()}", evaluation), 422)["error"] == "invalid"


def test_heartbeat_is_recorded_on_the_device(platform: RunningPlatform, station_a: SignedDevice) -> None:
    beat = {"queue_depth": 3, "pending_bytes": 12345, "quarantined": 1, "app_version": "0.2.0",
            "catalog_version": "2026.11.2", "clock_skew_s": -1.5, "devices": {"printer": "ok"},
            "client_time": "2026-11-01T10:00:00+08:00"}
    answer = station_a.call("POST", "/v1/heartbeat", beat)
    assert answer.status_code == 200, answer.text
    assert answer.json()["limits"]["status_page"] == 3
    row = {d["device_id"]: d for d in back_office.list_devices(platform.store)}[station_a.device_id]
    assert row["heartbeat"]["queue_depth"] == 3 and row["app_version"] == "0.2.0"
    assert row["last_heartbeat_at"] and row["last_seen"]


# ---- back office ----------------------------------------------------------------------------------------------

def test_acceptance_waits_for_materials_and_reasons_are_required(platform: RunningPlatform,
                                                                 station_a: SignedDevice) -> None:
    material = os.urandom(1200)
    case_no = put_application(station_a, commit_body(STATION_A, blobs=(sha(material),))).json()["case_no"]
    with pytest.raises(ActionRefused, match="材料未到齐"):
        back_office.advance(platform.store, case_no, "accepted")
    with pytest.raises(InvalidRequest, match="原因"):
        back_office.advance(platform.store, case_no, "correction_requested")
    with pytest.raises(InvalidRequest, match="原因"):
        back_office.advance(platform.store, case_no, "rejected", reason="  ")
    with pytest.raises(ActionRefused):
        back_office.advance(platform.store, case_no, "approved")
    station_a.upload(material)
    assert back_office.advance(platform.store, case_no, "accepted")["application"]["state"] == "accepted"


def test_parallel_approval_records_department_progress(platform: RunningPlatform, station_a: SignedDevice) -> None:
    case_no = put_application(station_a, commit_body(STATION_A)).json()["case_no"]
    _, cursor, _ = read_all(station_a)
    with pytest.raises(ActionRefused):  # departments start after acceptance
        back_office.advance(platform.store, case_no, "in_review", department="民政办")
    back_office.advance(platform.store, case_no, "accepted")
    back_office.advance(platform.store, case_no, "in_review", department="民政办")
    result = back_office.advance(platform.store, case_no, "approved", department="残联")
    assert result["application"]["state"] == "accepted"
    assert result["application"]["departments"]["残联"]["state"] == "approved"
    with pytest.raises(InvalidRequest):
        back_office.advance(platform.store, case_no, "rejected", department="民政办")
    with pytest.raises(ActionRefused):
        back_office.advance(platform.store, case_no, "result_ready", department="民政办")
    back_office.advance(platform.store, case_no, "approved", department="民政办")
    back_office.advance(platform.store, case_no, "approved")
    back_office.advance(platform.store, case_no, "result_ready")
    with pytest.raises(ActionRefused):
        back_office.advance(platform.store, case_no, "rejected", reason="太晚了")
    events, _, _ = read_all(station_a, cursor)
    assert [(e.state.value, e.department, e.department_state) for e in events] == [
        ("accepted", None, None), ("accepted", "民政办", "in_review"), ("accepted", "残联", "approved"),
        ("accepted", "民政办", "approved"), ("approved", None, None), ("result_ready", None, None)]


def test_advance_finds_cases_by_client_id_and_refuses_unknown_ones(platform: RunningPlatform,
                                                                   station_a: SignedDevice) -> None:
    body = commit_body(STATION_A)
    put_application(station_a, body)
    assert back_office.advance(platform.store, body["client_id"], "accepted")["application"]["state"] == "accepted"
    with pytest.raises(InvalidRequest, match="没有找到"):
        back_office.advance(platform.store, "ZJ20990101000001", "accepted")
    with pytest.raises(InvalidRequest):
        back_office.advance(platform.store, body["client_id"], "delivered")


# ---- unexpected failures --------------------------------------------------------------------------------------

def test_a_bug_is_a_logged_500_with_a_plain_error_body(platform: RunningPlatform, station_a: SignedDevice,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def broken(_hashes: list[str]) -> list[BlobState]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(platform.platform.blobs, "query", broken)
    answer = station_a.call("POST", "/v1/blobs/query", {"hashes": []})
    error = error_of(answer, 500)
    assert error["error"] == "server_error" and "simulated" not in answer.text
    assert int(answer.headers["X-Server-Time"]) > 0
    assert any("simulated bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_an_unavailable_database_is_a_503(platform: RunningPlatform, station_a: SignedDevice,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(_hashes: list[str]) -> list[BlobState]:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(platform.platform.blobs, "query", locked)
    assert error_of(station_a.call("POST", "/v1/blobs/query", {"hashes": []}), 503)["error"] == "unavailable"
