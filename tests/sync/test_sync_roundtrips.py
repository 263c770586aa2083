"""Round trips beyond a first filing: 补正 resubmission, 好差评, and the engine's loop noticing the link return."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_app.applications.correction import resubmit_correction
from kiosk_app.applications.filing import MaterialFile
from kiosk_app.applications.lifecycle import IllegalTransition, State
from kiosk_app.errors import InvalidInput
from kiosk_app.evaluations import record_evaluation
from kiosk_app.station import Station
from kiosk_app.syncing.service import StationSync
from local_db.models import Application, Evaluation
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from sync.server.models import Evaluation as PlatformEvaluation
from tests.sync.station_fixtures import enrol, file_applications, photo_bytes


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    with RunningPlatform(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs") as running:
        yield running


@pytest.fixture
def enrolled(copied_station: Station, platform: RunningPlatform) -> Station:
    enrol(copied_station, platform)
    return copied_station


def _sync(station: Station) -> StationSync:
    return StationSync(station, connect_timeout=2, read_timeout=5, item_backoff_cap_s=0.01)


def test_correction_is_resubmitted_as_the_next_version_of_the_same_case(enrolled: Station,
                                                                        platform: RunningPlatform) -> None:
    (filed,) = file_applications(enrolled, 1)
    sync = _sync(enrolled)
    sync.sync_once()
    case_no = back_office.list_apps(platform.store)[0]["case_no"]
    with pytest.raises(IllegalTransition):  # nothing was asked for yet
        resubmit_correction(enrolled.db, enrolled.catalog, filed.id, actor="agent:1",
                            files=[MaterialFile("特困人员救助供养申请书", photo_bytes(9, 5000), "image/jpeg")])
    back_office.advance(platform.store, case_no, "correction_requested", reason="申请书缺少签字")
    sync.sync_once()
    with pytest.raises(InvalidInput):
        resubmit_correction(enrolled.db, enrolled.catalog, filed.id, actor="agent:1")
    new_page = photo_bytes(10, 6000)
    done = resubmit_correction(enrolled.db, enrolled.catalog, filed.id, actor="agent:1",
                               files=[MaterialFile("特困人员救助供养申请书", new_page, "image/jpeg")])
    assert done.version == 2 and done.replaced == ("特困人员救助供养申请书",)
    report = sync.sync_once()
    assert report.uploaded_applications == 1 and report.uploaded_blobs == 1 and report.pending == 0
    (row,) = back_office.list_apps(platform.store)
    assert (row["case_no"], row["version"], row["state"], row["missing_blobs"]) == (case_no, 2, "received", [])
    assert hashlib.sha256(new_page).hexdigest() in row["blobs"]
    local = enrolled.db.read(lambda s: s.get(Application, filed.id))
    assert local is not None and (local.state, local.version) == (State.UPLOADED.value, 2)
    back_office.advance(platform.store, case_no, "accepted")
    sync.sync_once()
    assert enrolled.db.read(lambda s: s.get(Application, filed.id).state) == State.ACCEPTED.value  # type: ignore[union-attr]


def test_an_evaluation_reaches_the_platform_once(enrolled: Station, platform: RunningPlatform) -> None:
    (filed,) = file_applications(enrolled, 1)
    with pytest.raises(InvalidInput):
        record_evaluation(enrolled.db, level=6, channel="kiosk")
    evaluation_id = record_evaluation(enrolled.db, level=5, channel="kiosk", application_id=filed.id,
                                      labels=["办事效率高", "服务热情"], comment="不用跑县城了")
    sync = _sync(enrolled)
    assert sync.sync_once().uploaded_evaluations == 1
    assert sync.sync_once().uploaded_evaluations == 0
    held = platform.store.read(lambda s: [(e.id, e.body["level"]) for e in s.scalars(select(PlatformEvaluation))])
    assert held == [(evaluation_id, 5)]
    assert enrolled.db.read(lambda s: s.get(Evaluation, evaluation_id).synced_at) is not None  # type: ignore[union-attr]


def test_the_worker_goes_at_once_when_the_platform_comes_back(copied_station: Station, tmp_path: Path) -> None:
    db_url, blobs = f"sqlite:///{tmp_path / 'p.db'}", tmp_path / "pb"
    with RunningPlatform(db_url, blobs) as platform:
        enrol(copied_station, platform)
        port = platform.port
    (filed,) = file_applications(copied_station, 1)
    # A long back-off (a minute and more) but a quick probe: the probe, not the back-off, must bring it back.
    sync = StationSync(copied_station, connect_timeout=1, read_timeout=5, link_backoff_base_s=120,
                       probe_interval_s=0.2)
    reports = []
    sync.start(reports.append)
    try:
        deadline = time.monotonic() + 10
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reports and not reports[0].online
        with RunningPlatform(db_url, blobs, port=port) as platform:
            deadline = time.monotonic() + 10
            while not back_office.list_apps(platform.store) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [a["client_id"] for a in back_office.list_apps(platform.store)] == [filed.id]
            sync.stop()
    finally:
        sync.stop()
    assert not sync.running()
