"""Real faults between the station and the platform: nothing duplicated, nothing lost, resumes where it was cut."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_app.applications.lifecycle import State
from kiosk_app.station import Station
from kiosk_app.syncing.service import StationSync
from local_db.models import Application, Blob
from sync.protocol.models import Limits
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from sync.testing.fault_proxy import Fault, FaultKind, FaultProxy
from tests.sync.station_fixtures import enrol, file_applications, platform_blob_hashes_ok

CHUNK = 16 * 1024


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    with RunningPlatform(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs",
                         limits=Limits(chunk_bytes=CHUNK)) as running:
        yield running


@pytest.fixture
def proxied(copied_station: Station, platform: RunningPlatform) -> Iterator[tuple[Station, FaultProxy]]:
    with FaultProxy(platform.url) as proxy:
        enrol(copied_station, platform, proxy.url)
        yield copied_station, proxy


def sync_until_done(station: Station, seconds: float = 30.0) -> None:
    """Passes until nothing is pending. Items an earlier (killed) process failed wait out the back-off it set
    (a second or two), so this waits between passes rather than counting them."""
    sync = StationSync(station, connect_timeout=2, read_timeout=3, item_backoff_cap_s=0.01)
    deadline = time.monotonic() + seconds
    while True:
        report = sync.sync_once()
        if report.online and report.pending == 0 and not report.errors:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still pending after {seconds:.0f} s: {report.to_json()}")
        time.sleep(0.2)


def assert_exactly_once(station: Station, platform: RunningPlatform, tmp_path: Path, expected: set[str]) -> None:
    apps = back_office.list_apps(platform.store)
    assert sorted(a["client_id"] for a in apps) == sorted(expected)  # no duplicates, none missing
    assert len({a["case_no"] for a in apps}) == len(apps)
    assert all(not a["missing_blobs"] for a in apps)
    assert platform_blob_hashes_ok(tmp_path / "platform-blobs", [h for a in apps for h in a["blobs"]])
    local = station.db.read(lambda s: {a.id: (a.state, a.case_no) for a in s.scalars(select(Application))})
    assert {cid: (State.UPLOADED.value, a["case_no"]) for a in apps for cid in [a["client_id"]]} == local
    unacknowledged = station.db.read(lambda s: s.scalar(select(Blob).where(Blob.acknowledged_at.is_(None))))
    assert unacknowledged is None


@pytest.mark.parametrize("fault", [
    Fault(FaultKind.ERROR_AFTER_COMMIT, path_prefix="/v1/applications/", status=500),
    Fault(FaultKind.ERROR_AFTER_COMMIT, path_prefix="/v1/applications/", status=503),
    Fault(FaultKind.DROP_AFTER_COMMIT, path_prefix="/v1/applications/"),
    Fault(FaultKind.CUT_RESPONSE, path_prefix="/v1/applications/", after_bytes=40),
    Fault(FaultKind.CORRUPT_RESPONSE, path_prefix="/v1/applications/"),
    Fault(FaultKind.STALE_RESPONSE, path_prefix="/v1/applications/"),
    Fault(FaultKind.CUT_REQUEST, path_prefix="/v1/applications/", fraction=0.5),
    Fault(FaultKind.HANG, path_prefix="/v1/applications/", seconds=4),
], ids=lambda f: f"{f.kind.name}-{f.status}")
def test_a_lost_or_wrong_answer_to_a_commit_never_duplicates(proxied: tuple[Station, FaultProxy],
                                                             platform: RunningPlatform, tmp_path: Path,
                                                             fault: Fault) -> None:
    station, proxy = proxied
    filed = file_applications(station, 3)
    proxy.schedule(fault, fault)  # the first two commits both meet it
    sync_until_done(station)
    assert proxy.stats.fault_count(fault.kind) >= 1
    assert_exactly_once(station, platform, tmp_path, {f.id for f in filed})


@pytest.mark.parametrize("kind", [FaultKind.STALE_RESPONSE, FaultKind.CORRUPT_RESPONSE,
                                  FaultKind.DROP_AFTER_COMMIT, FaultKind.ERROR_AFTER_COMMIT])
def test_reordered_or_lost_answers_on_blob_uploads(proxied: tuple[Station, FaultProxy], platform: RunningPlatform,
                                                   tmp_path: Path, kind: FaultKind) -> None:
    station, proxy = proxied
    filed = file_applications(station, 2)
    proxy.schedule(*[Fault(kind, path_prefix="/v1/blobs/", method="PUT")] * 3)
    sync_until_done(station)
    assert proxy.stats.fault_count(kind) == 3
    assert_exactly_once(station, platform, tmp_path, {f.id for f in filed})


def test_a_cut_upload_resumes_and_resends_at_most_one_chunk(proxied: tuple[Station, FaultProxy],
                                                            platform: RunningPlatform, tmp_path: Path) -> None:
    station, proxy = proxied
    filed = file_applications(station, 2, material_bytes=5 * CHUNK + 123)
    sizes = station.db.read(lambda s: {b.sha256: b.size for b in s.scalars(select(Blob))})
    assert all(size > 3 * CHUNK for size in sizes.values())  # several chunks each, so a cut lands mid-blob
    cuts = [Fault(FaultKind.CUT_REQUEST, path_prefix="/v1/blobs/", method="PUT", fraction=0.6)] * 3
    proxy.schedule(Fault(FaultKind.PASS, path_prefix="/v1/blobs/", method="PUT"), *cuts)
    sync_until_done(station)
    assert proxy.stats.fault_count(FaultKind.CUT_REQUEST) == 3
    forwarded = proxy.stats.request_body_bytes("/v1/blobs/", method="PUT")
    assert sum(sizes.values()) <= forwarded <= sum(sizes.values()) + 3 * CHUNK
    assert_exactly_once(station, platform, tmp_path, {f.id for f in filed})


def test_random_chaos_on_a_slow_line_still_delivers_exactly_once(proxied: tuple[Station, FaultProxy],
                                                                 platform: RunningPlatform, tmp_path: Path) -> None:
    station, proxy = proxied
    filed = file_applications(station, 4)
    proxy.random_faults(seed=7, rate=0.3, max_seconds=0.3,
                        kinds=[k for k in FaultKind if k not in (FaultKind.PASS, FaultKind.HANG)])
    sync = StationSync(station, connect_timeout=2, read_timeout=3, item_backoff_cap_s=0.01, max_attempts=1000)
    for _ in range(60):
        sync.sync_once()
    proxy.clear()
    sync_until_done(station)
    assert sum(proxy.stats.faults.values()) > proxy.stats.faults[FaultKind.PASS]
    assert_exactly_once(station, platform, tmp_path, {f.id for f in filed})
