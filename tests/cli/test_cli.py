"""The `kiosk` command as other tools use it: real processes, a real data folder, the JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk_app.demo import demo_scan, sample_form_values, sample_people
from kiosk_app.station import Station
from tests.conftest import make_person

MEDICAL = "331123-YB-0001"
DIBAO = "331123-MZ-0001"


def kiosk(home: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "kiosk_app", "--home", str(home), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, (result.stdout, result.stderr)
    return result


def kiosk_json(home: Path, *args: str) -> Any:
    return json.loads(kiosk(home, *args, "--json").stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "station"


@pytest.fixture(scope="module")
def applicant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("people") / "identity.json"
    path.write_text(json.dumps(make_person().to_json_dict(), ensure_ascii=False), encoding="utf-8")
    return path


def test_new_folder_starts_with_sample_catalogue(home: Path) -> None:
    info = kiosk_json(home, "catalog", "info")
    assert info["items"] >= 60


@pytest.mark.parametrize(("query", "expected"), [
    ("dibao", DIBAO), ("低保", DIBAO), ("sbk", "331123-RS-0004"), ("yiliao", None), ("YL BX", None),
])
def test_search_json_contract(home: Path, query: str, expected: str | None) -> None:
    hits = kiosk_json(home, "catalog", "search", query, "--limit", "5")
    assert hits and len(hits) <= 5
    assert all({"code", "name", "score"} <= hit.keys() for hit in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    if expected:
        assert hits[0]["code"] == expected


def test_json_flag_accepted_before_the_command(home: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kiosk_app", "--json", "--home", str(home), "catalog",
                             "search", "yiliao"], capture_output=True, text=True, timeout=60)
    assert any("医疗" in hit["name"] for hit in json.loads(result.stdout))


def test_show_lists_materials_with_codes(home: Path) -> None:
    item = kiosk_json(home, "catalog", "show", DIBAO)
    assert item["name"] == "最低生活保障申请"
    assert {"code", "name"} <= item["materials"][0].keys()
    human = kiosk(home, "catalog", "show", DIBAO).stdout
    assert "申请材料" in human and "M03" in human


def test_submit_refuses_missing_materials_then_accepts_deferred(home: Path, applicant: Path,
                                                                  tmp_path: Path) -> None:
    fields = ["--field", "current_address=遂昌县妙高街道上江村18号", "--field", "family_size=3",
              "--field", "monthly_income=1200", "--field", "apply_reason=丈夫病故，无固定收入",
              "--field", "bank_name=浙江遂昌农村商业银行", "--field", "bank_account=6228480329012345678"]
    form_refused = kiosk(home, "apps", "submit", "--item", DIBAO, "--applicant", str(applicant), *fields[:4],
                         expect=1)
    assert "表单有 4 处需要修改" in form_refused.stderr and "银行账号：必须填写" in form_refused.stderr
    refused = kiosk(home, "apps", "submit", "--item", DIBAO, "--applicant", str(applicant), *fields, expect=1)
    assert refused.stderr.startswith("错误：缺少必需材料") and "Traceback" not in refused.stderr
    assert "最低生活保障申请书" in refused.stderr
    assert kiosk_json(home, "apps", "list") == []  # nothing half-filed
    scan = tmp_path / "申请书.png"
    scan.write_bytes(demo_scan(3))
    filed = kiosk_json(home, "apps", "submit", "--item", DIBAO, "--applicant", str(applicant), *fields,
                       "--material", f"M03={scan}", "--allow-missing")
    assert filed["state"] == "submitted" and filed["tracking_no"].startswith("331123001-")
    assert {"id", "tracking_no", "state"} <= filed.keys()
    listed = kiosk_json(home, "apps", "list")
    assert filed["id"] in {a["id"] for a in listed}
    shown = kiosk_json(home, "apps", "show", filed["tracking_no"])
    assert shown["id"] == filed["id"]
    sources = {m["code"]: m["source"] for m in shown["materials"]}
    assert sources["M03"] == "file" and "deferred" in sources.values()
    person = make_person()
    assert person.id_number not in json.dumps(shown, ensure_ascii=False)
    assert person.name not in json.dumps(shown, ensure_ascii=False)
    clear = kiosk_json(home, "apps", "show", filed["id"], "--unmask")
    assert clear["applicant"]["id_number"] == person.id_number


def test_submit_medical_insurance_with_every_material(home: Path, applicant: Path, tmp_path: Path) -> None:
    item = kiosk_json(home, "catalog", "show", MEDICAL)
    args = []
    for n, material in enumerate(item["materials"]):
        path = tmp_path / f"{material['code']}.png"
        path.write_bytes(demo_scan(n))
        args += ["--material", f"{material['name']}={path}"]
    with Station(home) as station:
        form = sample_form_values(station.catalog.get(MEDICAL))
    form_file = tmp_path / "form.json"
    form_file.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    filed = kiosk_json(home, "apps", "submit", "--item", MEDICAL, "--applicant", str(applicant),
                       "--form", str(form_file), *args)
    assert filed["state"] == "submitted"


@pytest.mark.parametrize(("args", "words"), [
    (["catalog", "show", "NO-SUCH-ITEM"], "没有编码为"),
    (["apps", "show", "331123001-20000101-9999"], "没有找到"),
    (["catalog", "search", "x", "--limit", "0"], "--limit"),
    (["config", "set", "station.code", "12ab"], "站点代码"),
    (["config", "set", "no.such", "1"], "没有名为"),
    (["config", "set", "station.name", "  "], "站点名称不能为空"),
])
def test_expected_errors_are_one_plain_sentence(home: Path, args: list[str], words: str) -> None:
    result = kiosk(home, *args, expect=1)
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_identity_file_and_bad_material_are_refused(home: Path, tmp_path: Path, applicant: Path) -> None:
    bad = tmp_path / "bad.json"
    data = make_person().to_json_dict()
    data["id_number"] = data["id_number"][:-1] + ("0" if data["id_number"][-1] != "0" else "1")
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = kiosk(home, "apps", "submit", "--item", DIBAO, "--applicant", str(bad), expect=1)
    assert "校验" in result.stderr or "身份" in result.stderr
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a scan", encoding="utf-8")
    result = kiosk(home, "apps", "submit", "--item", MEDICAL, "--applicant", str(applicant),
                   "--material", f"M01={text_file}", expect=1)
    assert "不是图片或 PDF" in result.stderr


def test_catalogue_import_refusal_keeps_old_catalogue(home: Path, tmp_path: Path) -> None:
    before = kiosk_json(home, "catalog", "info")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "kiosk-catalog", "format_version": 1, "items": [', encoding="utf-8")
    result = kiosk(home, "catalog", "import", str(broken), expect=1)
    assert "不是有效的 JSON" in result.stderr
    assert kiosk_json(home, "catalog", "info") == before


def test_database_that_is_not_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "junk"
    home.mkdir()
    (home / "kiosk.db").write_text("hello", encoding="utf-8")
    result = kiosk(home, "catalog", "info", expect=1)
    assert "不是本系统的数据库" in result.stderr


def test_kiosk_home_environment_variable(tmp_path: Path) -> None:
    home = tmp_path / "from-env"
    result = subprocess.run([sys.executable, "-m", "kiosk_app", "config", "show", "--json"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "KIOSK_HOME": str(home)})
    assert json.loads(result.stdout)["station.code"] == "331123001"
    assert (home / "kiosk.db").exists()


def test_demo_writes_what_it_produced(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "kiosk_app", "demo", "--headless", "--out", str(out),
                             "--screens", "none", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["applications"]) >= 3
    details = json.loads((out / "applications.json").read_text(encoding="utf-8"))
    # Filed offline, synced with the embedded platform, and the departments' decisions came back.
    assert [d["state"] for d in details] == ["result_ready", "correction_requested", "accepted", "uploaded"]
    platform_apps = json.loads((out / "platform-applications.json").read_text(encoding="utf-8"))
    assert sorted(a["client_id"] for a in platform_apps) == sorted(d["id"] for d in details)
    assert all(a["case_no"] and not a["missing_blobs"] for a in platform_apps)
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert all(d["tracking_no"] in summary for d in details)
    for person in sample_people():
        assert person.id_number not in summary and person.name not in summary


def test_logs_command_shows_the_latest_records_masked(tmp_path: Path) -> None:
    home = tmp_path / "station"
    person = make_person()
    logs = home / "logs"
    logs.mkdir(parents=True)
    (logs / "earlier.log").write_text(
        "2026-11-25 08:00:00,001 INFO kiosk: started\n"
        f"2026-11-25 08:00:01,002 ERROR kiosk: filing for {person.id_number} failed\n"
        "Traceback (most recent call last):\n  ValueError: disk\n", encoding="utf-8")
    errors = kiosk_json(home, "logs", "--level", "error")
    [record] = [r for r in errors["records"] if "filing for" in r]
    assert person.id_number not in record and "Traceback" in record and "earlier.log" in errors["files"]
    assert all(" INFO " not in r for r in errors["records"])
    assert any("started" in r for r in kiosk_json(home, "logs", "--limit", "400")["records"])
    assert "--limit" in kiosk(home, "logs", "--limit", "0", expect=1).stderr
