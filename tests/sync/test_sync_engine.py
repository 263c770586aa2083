"""The station's sync engine against the reference platform under real uvicorn on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk_app.applications.lifecycle import State
from kiosk_app.catalog.library import SAMPLE_CATALOG
from kiosk_app.station import Station
from kiosk_app.syncing.local_store import LocalSyncStore
from kiosk_app.syncing.service import StationSync
from local_db.models import Application, DepartmentProgress, OutboxEntry, StatusEvent
from sync.client import PlatformClient
from sync.engine import SyncEngine
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from sync.testing.fault_proxy import FaultKind, FaultProxy
from tests.sync.station_fixtures import enrol, file_applications, platform_blob_hashes_ok


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    with RunningPlatform(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs") as running:
        yield running


@pytest.fixture
def enrolled(copied_station: Station, platform: RunningPlatform) -> Station:
    enrol(copied_station, platform)
    return copied_station


def quick_sync(station: Station, **kwargs: float) -> StationSync:
    return StationSync(station, connect_timeout=2, read_timeout=5, item_backoff_cap_s=0.01, **kwargs)  # type: ignore[arg-type]


def test_filings_reach_the_platform_once_with_every_page(enrolled: Station, platform: RunningPlatform,
                                                         tmp_path: Path) -> None:
    filed = file_applications(enrolled, 3)
    report = quick_sync(enrolled).sync_once()
    assert report.online and not report.errors
    assert report.uploaded_applications == 3 and report.uploaded_blobs >= 3 and report.pending == 0
    apps = {a["client_id"]: a for a in back_office.list_apps(platform.store)}
    assert set(apps) == {f.id for f in filed}
    assert all(not a["missing_blobs"] and a["blobs"] for a in apps.values())
    assert platform_blob_hashes_ok(tmp_path / "platform-blobs", [h for a in apps.values() for h in a["blobs"]])
    local = enrolled.db.read(lambda s: {a.id: (a.state, a.case_no) for a in s.scalars(select(Application))})
    assert all(local[cid] == (State.UPLOADED.value, a["case_no"]) for cid, a in apps.items())

    again = quick_sync(enrolled).sync_once()
    assert again.uploaded == 0 and again.bytes_sent == 0
    assert len(back_office.list_apps(platform.store)) == 3


def test_platform_decisions_come_back_to_the_station(enrolled: Station, platform: RunningPlatform) -> None:
    first, second = file_applications(enrolled, 2)
    sync = quick_sync(enrolled)
    sync.sync_once()
    case = {a["client_id"]: a["case_no"] for a in back_office.list_apps(platform.store)}
    back_office.advance(platform.store, case[first.id], "accepted")
    back_office.advance(platform.store, case[first.id], "in_review", department="县医保局")
    back_office.advance(platform.store, case[first.id], "correction_requested", reason="户口簿复印件不清晰，请重新提交")
    back_office.advance(platform.store, case[second.id], "accepted")
    back_office.advance(platform.store, case[second.id], "approved")
    back_office.advance(platform.store, case[second.id], "result_ready")
    report = sync.sync_once()
    assert report.status_updates >= 5

    def read(s):  # type: ignore[no-untyped-def]
        states = {a.id: a.state for a in s.scalars(select(Application))}
        reasons = [e.reason for e in s.scalars(select(StatusEvent).where(StatusEvent.application_id == first.id))]
        progress = [(p.department, p.state) for p in s.scalars(select(DepartmentProgress))]
        path = [e.to_state for e in s.scalars(select(StatusEvent).where(StatusEvent.application_id == second.id)
                                              .order_by(StatusEvent.id))]
        return states, reasons, progress, path

    states, reasons, progress, path = enrolled.db.read(read)
    assert states[first.id] == State.CORRECTION_REQUESTED.value
    assert "户口簿复印件不清晰，请重新提交" in reasons
    assert progress == [("县医保局", "in_review")]
    # Every step of the local lifecycle is walked, even the ones the station was offline for.
    assert path[-4:] == ["uploaded", "accepted", "approved", "result_ready"]
    assert sync.sync_once().status_updates == 0  # the cursor moved with the changes


def _sample_document() -> dict[str, Any]:
    raw = resources.files("kiosk_app.catalog").joinpath("data", SAMPLE_CATALOG).read_bytes()
    data: dict[str, Any] = json.loads(raw)
    return data


def test_catalogue_full_then_delta_then_refused(enrolled: Station, platform: RunningPlatform) -> None:
    doc = _sample_document()
    doc["catalog_version"] = "2026.12"
    back_office.publish_catalog(platform.store, doc)
    sync = quick_sync(enrolled)
    report = sync.sync_once()
    assert report.catalog_items == len(doc["items"])
    assert enrolled.catalog.info().version == "2026.12"  # type: ignore[union-attr]

    gone = doc["items"].pop()
    doc["items"][0]["name"] = doc["items"][0]["name"] + "（新）"
    doc["catalog_version"] = "2026.12.1"
    back_office.publish_catalog(platform.store, doc)
    assert sync.sync_once().catalog_items == 2
    assert enrolled.catalog.get(gone["code"]).active is False
    assert enrolled.catalog.get(doc["items"][0]["code"]).name.endswith("（新）")
    assert enrolled.catalog.info().version == "2026.12.1"  # type: ignore[union-attr]

    doc["items"][1]["promised_limit_days"] = -5  # the platform does not check; the station must
    doc["catalog_version"] = "2026.12.2"
    back_office.publish_catalog(platform.store, doc)
    refused = sync.sync_once()
    assert any("目录有误" in str(e) for e in refused.to_json()["errors"][0].values())
    assert enrolled.catalog.info().version == "2026.12.1"  # type: ignore[union-attr]


def test_offline_filing_waits_and_goes_when_the_platform_returns(copied_station: Station, tmp_path: Path) -> None:
    db_url, blobs = f"sqlite:///{tmp_path / 'p.db'}", tmp_path / "pb"
    with RunningPlatform(db_url, blobs) as platform:
        enrol(copied_station, platform)
        port = platform.port
    filed = file_applications(copied_station, 2)
    sync = quick_sync(copied_station)
    down = sync.sync_once()
    assert not down.online and down.pending >= 4 and down.uploaded == 0
    assert "连" in down.to_json()["errors"][0]["message"]
    assert sync.status().online is False and sync.status().queue.pending == down.pending
    with RunningPlatform(db_url, blobs, port=port) as platform:
        up = sync.sync_once()
        assert up.online and up.uploaded_applications == 2 and up.pending == 0
        assert {a["client_id"] for a in back_office.list_apps(platform.store)} == {f.id for f in filed}


def test_a_poison_item_is_quarantined_and_the_rest_goes_on(enrolled: Station, platform: RunningPlatform) -> None:
    bad, good = file_applications(enrolled, 2)

    def tamper(s):  # type: ignore[no-untyped-def]
        s.get(Application, bad.id).station_code = "331123999"  # the platform refuses another station's case

    enrolled.db.write(tamper)
    sync = quick_sync(enrolled, max_attempts=2)
    first = sync.sync_once()
    assert first.uploaded_applications == 1 and first.quarantined == 0
    time.sleep(0.05)
    second = sync.sync_once()
    assert second.quarantined == 1
    problem = next(e for e in second.to_json()["errors"] if e.get("quarantined"))
    assert problem["label"] == f"申请 {bad.tracking_no}" and problem["attempts"] == 2
    assert {a["client_id"] for a in back_office.list_apps(platform.store)} == {good.id}
    assert sync.status().queue.quarantined == 1
    assert sync.store.requeue_quarantined("test") == 1
    state = enrolled.db.read(lambda s: s.scalar(select(OutboxEntry.state).where(OutboxEntry.ref_id == bad.id)))
    assert state == "pending"


@pytest.mark.parametrize("kind", [FaultKind.PORTAL, FaultKind.WRONG_HOST])
def test_captive_portal_and_wrong_host_are_recognised(copied_station: Station, platform: RunningPlatform,
                                                      kind: FaultKind) -> None:
    with FaultProxy(platform.url) as proxy:
        enrol(copied_station, platform)
        copied_station.settings.set("sync.platform_url", proxy.url)
        file_applications(copied_station, 1)
        proxy.random_faults(seed=1, rate=1.0, kinds=[kind])
        report = quick_sync(copied_station).sync_once()
    assert not report.online and report.uploaded == 0
    message = report.to_json()["errors"][0]["message"]
    assert ("登录" in message) if kind is FaultKind.PORTAL else ("不是省级政务服务平台" in message)
    assert back_office.list_apps(platform.store) == []


def test_not_provisioned_says_so(copied_station: Station) -> None:
    report = quick_sync(copied_station).sync_once()
    assert not report.online and "kiosk provision" in report.to_json()["errors"][0]["message"]


def test_a_wrong_kiosk_clock_is_measured_and_does_not_stop_filing(enrolled: Station,
                                                                  platform: RunningPlatform) -> None:
    filed = file_applications(enrolled, 1)
    store = LocalSyncStore(enrolled.db)

    def slow_clock_client() -> PlatformClient:  # the kiosk's clock is two hours behind
        return PlatformClient(platform.url, store.credentials(), clock=lambda: time.time() - 7200)

    report = SyncEngine(store, slow_clock_client).run_once()
    assert report.online and report.uploaded_applications == 1
    assert report.clock_skew_s is not None and abs(report.clock_skew_s - 7200) < 5
    assert [a["client_id"] for a in back_office.list_apps(platform.store)] == [filed[0].id]
