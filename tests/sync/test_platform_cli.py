"""`kiosk-platform` as other tools use it: real processes, a real database file, the JSON contract.

The server runs as a child process (`PlatformProcess`) on the same database the commands write to, as in a
pilot where staff run commands beside the running platform; one test kills it with SIGKILL mid-upload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync.platform_cli import main
from sync.protocol.signing import new_private_key, public_key_b64
from sync.server.app import openapi_text
from sync.testing.platform_process import PlatformProcess
from tests.sync.platform_support import STATION_A, SignedDevice, commit_body, put_application, sha

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "sync.platform_cli", *args], capture_output=True, text=True,
                            timeout=60, cwd=REPO)
    assert result.returncode == expect, (result.stdout, result.stderr)
    return result


def cli_json(*args: str) -> Any:
    return json.loads(cli(*args, "--json").stdout)


def run(capsys: pytest.CaptureFixture[str], *args: str, expect: int = 0) -> tuple[str, str]:
    """In-process, for the many calls whose output is for people: a subprocess costs half a second each."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == expect, (out, err)
    return out, err


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('platform-cli') / 'platform.db'}"


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[PlatformProcess]:
    blobs = Path(db_url.removeprefix("sqlite:///")).with_name("platform-blobs")
    with PlatformProcess(db_url, blobs) as process:
        yield process


def enrol_by_cli(server: PlatformProcess, db_url: str, *, options_first: bool) -> SignedDevice:
    if options_first:
        made = json.loads(cli("--db", db_url, "--json", "token", "--station", STATION_A).stdout)
    else:
        made = cli_json("token", "--station", STATION_A, "--db", db_url)
    assert isinstance(made["token"], str) and made["token"]
    key = new_private_key()
    answer = requests.post(f"{server.url}/v1/enrol", json={"token": made["token"], "public_key": public_key_b64(key)},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    return SignedDevice(server.url, answer.json()["device_id"], key, STATION_A)


def test_token_json_contract_with_options_before_or_after(server: PlatformProcess, db_url: str) -> None:
    first = enrol_by_cli(server, db_url, options_first=True)
    second = enrol_by_cli(server, db_url, options_first=False)
    devices = {d["device_id"]: d for d in cli_json("devices", "list", "--db", db_url)}
    assert {first.device_id, second.device_id} <= set(devices)
    assert devices[first.device_id]["station_code"] == STATION_A


def test_apps_list_and_advance(server: PlatformProcess, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    device = enrol_by_cli(server, db_url, options_first=True)
    material = os.urandom(3000)
    body = commit_body(STATION_A, blobs=(sha(material),))
    case_no = put_application(device, body).json()["case_no"]
    rows = {r["client_id"]: r for r in cli_json("apps", "list", "--db", db_url)}
    row = rows[body["client_id"]]
    assert {"client_id", "case_no", "state", "blobs", "station_code", "tracking_no", "item_name", "version",
            "missing_blobs", "departments"} <= row.keys()
    assert (row["case_no"], row["state"], row["blobs"], row["missing_blobs"]) == (
        case_no, "received", [sha(material)], [sha(material)])

    refused = cli("apps", "advance", case_no, "--to", "accepted", "--db", db_url, expect=1)
    assert "材料未到齐" in refused.stderr
    assert "原因" in run(capsys, "--db", db_url, "apps", "advance", case_no, "--to", "rejected", expect=2)[1]
    device.upload(material)
    assert "已受理" in run(capsys, "--db", db_url, "apps", "advance", case_no, "--to", "accepted")[0]
    progress = cli_json("apps", "advance", case_no, "--to", "in_review", "--department", "民政办", "--db", db_url)
    assert progress["event"]["department"] == "民政办" and progress["application"]["state"] == "accepted"
    listing = run(capsys, "apps", "list", "--station", STATION_A, "--db", db_url)[0]
    assert case_no in listing and "已受理" in listing
    events = device.call("GET", "/v1/status?since=0").json()["events"]
    assert [e["state"] for e in events if e["case_no"] == case_no] == ["received", "accepted", "accepted"]


def test_catalog_publish_reaches_stations(server: PlatformProcess, db_url: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    device = enrol_by_cli(server, db_url, options_first=False)
    document = {"format": "zj-service-catalog", "catalog_version": "2026.12.1", "region": "遂昌县",
                "items": [{"code": "C-1", "name": "低保"}, {"code": "C-2", "name": "医保"}]}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    summary = cli_json("catalog", "publish", str(path), "--db", db_url)
    assert (summary["version"], summary["added"], summary["removed"]) == ("2026.12.1", 2, 0)
    page = device.call("GET", "/v1/catalog?since=0").json()
    assert page["version"] == "2026.12.1" and [i["code"] for i in page["items"]] == ["C-1", "C-2"]
    assert "已发布目录 2026.12.1" in run(capsys, "--db", db_url, "catalog", "publish", str(path))[0]


def test_bad_input_exits_2_with_a_plain_message(db_url: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert "站点编码" in cli("token", "--station", "abc", "--db", db_url, expect=2).stderr
    assert "没有找到" in run(capsys, "apps", "advance", "ZJ20990101000001", "--to", "accepted", "--db", db_url,
                            expect=2)[1]
    with pytest.raises(SystemExit) as exited:
        main(["apps", "advance", "X", "--to", "delivered", "--db", db_url])
    assert exited.value.code == 2
    assert "无法读取" in run(capsys, "catalog", "publish", str(tmp_path / "none.json"), "--db", db_url, expect=2)[1]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert "不是有效的 JSON" in run(capsys, "catalog", "publish", str(broken), "--db", db_url, expect=2)[1]
    assert "无法识别" in run(capsys, "--db", "nodriver://", "devices", "list", expect=2)[1]


def test_default_database_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    db_file = tmp_path / "env" / "platform.db"
    monkeypatch.setenv("KIOSK_PLATFORM_DB", f"sqlite:///{db_file}")
    made = json.loads(run(capsys, "token", "--station", STATION_A, "--json")[0])
    assert made["station_code"] == STATION_A and db_file.exists()
    assert "还没有注册的设备" in run(capsys, "devices", "list", "--db", str(db_file))[0]


def test_openapi_command_writes_the_committed_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    cli("openapi", "--out", str(out))
    assert out.read_text(encoding="utf-8") == openapi_text()


def test_platform_killed_mid_upload_resumes_from_what_is_on_disk(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    with PlatformProcess(db_url, tmp_path / "crash-blobs") as process:
        device = enrol_by_cli(process, db_url, options_first=True)
        data = os.urandom(700_000)
        digest = sha(data)
        chunk = 256 * 1024
        assert device.put_chunk(digest, 0, len(data), data[:chunk]).json()["received"] == chunk
        body = commit_body(STATION_A, blobs=(digest,))
        case_no = put_application(device, body).json()["case_no"]
        url = process.url
        process.kill()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/v1/hello", timeout=5)
        process.start()
        assert process.url == url  # same port: stations and proxies pointed at it reach the new process
        state = device.call("POST", "/v1/blobs/query", {"hashes": [digest]}).json()["blobs"][0]
        assert state["received"] == chunk and not state["complete"]
        for offset in range(chunk, len(data), chunk):
            answer = device.put_chunk(digest, offset, len(data), data[offset:offset + chunk])
            assert answer.status_code == 200, answer.text
        assert answer.json()["complete"] is True
        replay = put_application(device, body).json()
        assert (replay["case_no"], replay["missing_blobs"]) == (case_no, [])
        process.restart()
        assert device.call("POST", "/v1/blobs/query", {"hashes": [digest]}).json()["blobs"][0]["complete"]
