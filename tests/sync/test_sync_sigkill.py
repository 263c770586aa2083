"""SIGKILL the sync process at random moments while twenty filings upload through a faulty, slow line.

After the kills and a final clean pass, the platform must hold every application exactly once with every
material intact, and the station's records must agree with it. `KIOSK_LONG_TESTS=1` runs 50 kills.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk_app.station import Station
from local_db.models import OutboxEntry
from sync.protocol.models import Limits
from sync.server.embedded import RunningPlatform
from sync.testing.fault_proxy import FaultKind, FaultProxy, Link
from tests.sync.station_fixtures import enrol, file_applications
from tests.sync.test_sync_faults import assert_exactly_once, sync_until_done

KILLS = 50 if os.environ.get("KIOSK_LONG_TESTS") == "1" else 5
CHUNK = 16 * 1024


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    with RunningPlatform(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs",
                         limits=Limits(chunk_bytes=CHUNK)) as running:
        yield running


def _acknowledged(station: Station) -> int:
    return station.db.read(lambda s: s.scalar(select(func.count()).select_from(OutboxEntry)
                                              .where(OutboxEntry.state == "done"))) or 0


def test_sigkill_mid_sync_loses_nothing_and_duplicates_nothing(copied_station: Station, platform: RunningPlatform,
                                                               tmp_path: Path) -> None:
    rng = random.Random(20261125)
    with FaultProxy(platform.url) as proxy:
        enrol(copied_station, platform, proxy.url)
        filed = file_applications(copied_station, 20, material_bytes=40 * 1024)
        proxy.link = Link(latency_ms=5, bandwidth_bps=4_000_000)  # 1.6 MB of scans take a few seconds
        proxy.random_faults(seed=11, rate=0.08, max_seconds=0.2,
                            kinds=[k for k in FaultKind if k not in (FaultKind.PASS, FaultKind.HANG)])
        env = {**os.environ, "KIOSK_HOME": str(copied_station.home)}
        kills = 0
        progress: list[int] = []
        for _ in range(KILLS):
            child = subprocess.Popen([sys.executable, "-m", "kiosk_app", "sync"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # The CLI takes about a second to start; kill somewhere between then and the end of the uploads.
            time.sleep(rng.uniform(0.6, 3.0))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
            _, err = child.communicate(timeout=30)
            assert b"Traceback" not in err, err.decode(errors="replace")
            progress.append(_acknowledged(copied_station))
        assert kills >= KILLS - 1
        print("acknowledged items after each kill:", progress)
        assert progress[0] < 60  # the first kill fell before the work was done (20 filings + 40 scans)
        proxy.clear()
        proxy.link = Link()
        sync_until_done(copied_station)
    assert_exactly_once(copied_station, platform, tmp_path, {f.id for f in filed})
