"""`kiosk provision` and `kiosk sync` as other tools call them: subprocesses, JSON on stdout, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk_app.station import Station
from sync.testing.platform_process import PlatformProcess
from tests.sync.station_fixtures import file_applications


def run(*args: str, home: Path, program: str = "kiosk_app") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", program, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KIOSK_HOME": str(home)})


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[PlatformProcess]:
    with PlatformProcess(f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs") as process:
        yield process


def test_provision_then_sync_from_the_command_line(copied_station: Station, platform: PlatformProcess,
                                                   tmp_path: Path) -> None:
    home = copied_station.home
    db = f"sqlite:///{tmp_path / 'platform.db'}"
    token = as_json(run("token", "--station", "331123001", "--db", db, "--json", home=home,
                        program="sync.platform_cli"))["token"]
    filed = file_applications(copied_station, 2)

    not_yet = run("sync", "--once", "--json", home=home)
    assert not_yet.returncode == 1 and "provision" in json.loads(not_yet.stdout)["errors"][0]["message"]

    bad = run("provision", "--platform", platform.url, "--token", "331123001-not-a-token", home=home)
    assert bad.returncode == 1 and "开通失败" in bad.stderr and "Traceback" not in bad.stderr

    done = as_json(run("provision", "--platform", platform.url, "--token", token, "--json", home=home))
    assert done["station_code"] == "331123001" and done["device_id"]
    again = run("provision", "--platform", platform.url, "--token", token, home=home)
    assert again.returncode == 1  # a one-time token

    report = as_json(run("sync", "--once", "--json", home=home))
    assert {"uploaded", "pending", "quarantined", "errors"} <= set(report)
    assert report["uploaded"] == 2 + 4 and report["pending"] == 0 and report["errors"] == []

    apps = as_json(run("apps", "list", "--db", db, "--json", home=home, program="sync.platform_cli"))
    assert sorted(a["client_id"] for a in apps) == sorted(f.id for f in filed)
    assert all({"client_id", "case_no", "state", "blobs"} <= set(a) for a in apps)
    as_json(run("apps", "advance", apps[0]["case_no"], "--to", "accepted", "--db", db, "--json", home=home,
                program="sync.platform_cli"))
    assert as_json(run("sync", "--once", "--json", home=home))["status_updates"] == 1

    status = as_json(run("sync", "--status", "--json", home=home))
    assert status["provisioned"] and status["online"] and status["pending"] == 0
    text = run("sync", "--status", home=home)
    assert "在线" in text.stdout


def test_sync_once_when_the_platform_is_down_exits_1_with_the_reason(copied_station: Station,
                                                                    platform: PlatformProcess,
                                                                    tmp_path: Path) -> None:
    home = copied_station.home
    token = as_json(run("token", "--station", "331123001", "--db", f"sqlite:///{tmp_path / 'platform.db'}",
                        "--json", home=home, program="sync.platform_cli"))["token"]
    as_json(run("provision", "--platform", platform.url, "--token", token, "--json", home=home))
    file_applications(copied_station, 1)
    platform.stop()
    down = run("sync", "--once", home=home)
    assert down.returncode == 1 and "连不上平台" in down.stdout
