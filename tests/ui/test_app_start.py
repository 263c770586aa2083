"""`kiosk run`: the first screen goes up before the station opens, a station that cannot open is said in one
sentence, and SIGTERM (systemctl stop) leaves cleanly. The station's name is peeked at without the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_app.config import early_setting
from kiosk_app.station import Station
from local_db.early_read import DB_FILENAME, peek_setting
from ui.station_link import StationLink, StationServices, services_for


def kiosk_run(home: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kiosk_app", "--home", str(home), "run", "--report-startup",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_home_screen_first_then_the_station_and_sigterm_leaves_cleanly(copied_station: Station) -> None:
    home = copied_station.home
    copied_station.close()
    proc = kiosk_run(home)
    assert proc.stdout is not None
    try:
        shown = proc.stdout.readline().split()
        ready = proc.stdout.readline().split()
        assert shown[0] == "shown" and ready[0] == "ready" and float(shown[1]) <= float(ready[1])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    with Station(home) as station:  # closed cleanly: opens again with its data
        assert station.catalog.search("低保")


def test_a_damaged_store_is_one_plain_sentence(tmp_path: Path) -> None:
    home = tmp_path / "station"
    home.mkdir()
    (home / DB_FILENAME).write_bytes(b"this is not a database at all" * 100)
    proc = kiosk_run(home)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert out.startswith("shown")
    [sentence] = [line for line in err.splitlines() if line.startswith("错误：")]
    assert "Traceback" not in err and len(sentence) < 200


def test_early_name_reads_what_the_store_holds(copied_station: Station) -> None:
    copied_station.settings.set("station.name", "遂昌县上江村代办点")
    assert early_setting(copied_station.home, "station.name") == "遂昌县上江村代办点"
    copied_station.settings.set("station.name", "遂昌县妙高街道便民服务中心")  # the default: not stored
    assert peek_setting(copied_station.home, "station.name") is None
    assert early_setting(copied_station.home, "station.name") == "遂昌县妙高街道便民服务中心"


@pytest.mark.parametrize("content", [None, b"", b"garbage" * 50, b"SQLite format 3\x00" + bytes(200)])
def test_early_read_of_a_missing_or_broken_file_is_the_default(tmp_path: Path, content: bytes | None) -> None:
    if content is not None:
        (tmp_path / DB_FILENAME).write_bytes(content)
    assert peek_setting(tmp_path, "station.name") is None
    assert early_setting(tmp_path, "station.name") == "遂昌县妙高街道便民服务中心"


def test_link_opens_once_and_keeps_an_error(copied_station: Station) -> None:
    calls: list[int] = []

    def opener() -> StationServices:
        calls.append(1)
        return services_for(copied_station)

    link = StationLink("某站", opener=opener)
    assert not link.ready
    assert link.open() is link.open() and calls == [1] and link.ready
    link.open().devices.close()

    def broken() -> StationServices:
        raise OSError("disk gone")

    failing = StationLink("某站", opener=broken)
    for _ in range(2):
        with pytest.raises(OSError, match="disk gone"):
            failing.open()
    assert not failing.ready
