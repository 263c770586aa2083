"""`kiosk receipts ...` and `kiosk devices print-test` as real processes on a real data folder, printing to
the `sim://` emulator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from devices.printing.document import PrinterProfile
from kiosk_app.receipts.preview import preview_width
from tests.receipts.conftest import FiledCases

ROOT = Path(__file__).parents[2]


def kiosk(home: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "kiosk_app", "--home", str(home), *args],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == expect, (result.stdout, result.stderr)
    return result


def kiosk_json(home: Path, *args: str, expect: int = 0) -> Any:
    return json.loads(kiosk(home, *args, "--json", expect=expect).stdout)


@pytest.fixture
def home(receipts_template: tuple[Path, FiledCases], tmp_path: Path) -> Path:
    target = tmp_path / "station"
    shutil.copytree(receipts_template[0], target)
    return target


def test_print_refuse_reprint_and_list_jobs(home: Path, cases: FiledCases) -> None:
    tracking = cases.details[cases.kiosk_id]["tracking_no"]
    first = kiosk_json(home, "receipts", "print", tracking, "--printer", "sim://")
    assert first["printed"] is True and first["state"] == "printed" and first["bytes_sent"] > 500
    refused = kiosk(home, "receipts", "print", cases.kiosk_id, "--printer", "sim://", expect=1)
    assert "--reprint" in refused.stderr and tracking in refused.stderr
    human = kiosk(home, "receipts", "print", tracking, "--printer", "sim://?paper=58", "--reprint").stdout
    assert "已打印" in human and "补打" in human
    jobs = kiosk_json(home, "receipts", "jobs")
    assert [(j["state"], j["reprint"], j["tracking_no"]) for j in jobs] == [
        ("printed", True, tracking), ("printed", False, tracking)]
    table = kiosk(home, "receipts", "jobs").stdout
    assert "已打印" in table and "受理回执（补打）" in table


def test_paper_out_exits_1_and_the_failed_job_can_be_retried(home: Path, cases: FiledCases) -> None:
    failed = kiosk_json(home, "receipts", "print", cases.agent_id, "--printer", "sim://paper_out", expect=1)
    assert failed["printed"] is False and "缺纸" in failed["error"]
    jobs = kiosk_json(home, "receipts", "jobs", "--state", "failed")
    assert [j["id"] for j in jobs] == [failed["job_id"]] and "缺纸" in jobs[0]["last_error"]
    kiosk(home, "config", "set", "devices.receipt_printer", "sim://")
    retried = kiosk_json(home, "receipts", "retry", failed["job_id"][:8], "--printer", "sim://")
    assert retried["printed"] is True and retried["attempts"] == 2
    assert kiosk_json(home, "receipts", "jobs", "--state", "failed") == []
    bad = kiosk(home, "receipts", "print", cases.agent_id, "--printer", "lpt://1", expect=1)
    assert "打印机地址应以" in bad.stderr


def test_preview_writes_a_png(home: Path, cases: FiledCases, tmp_path: Path) -> None:
    out = tmp_path / "preview" / "receipt.png"
    info = kiosk_json(home, "receipts", "preview", cases.kiosk_id, "--out", str(out), "--paper", "58")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (info["width"], info["height"])
        assert info["width"] == preview_width(PrinterProfile.for_paper(58))
    missing = kiosk(home, "receipts", "preview", "331123001-20000101-9999", "--out", str(out), expect=1)
    assert "没有找到" in missing.stderr


def test_devices_print_test_uses_the_configured_printer(home: Path) -> None:
    none_set = kiosk(home, "devices", "print-test", expect=1)
    assert "devices.receipt_printer" in none_set.stderr
    kiosk(home, "config", "set", "devices.receipt_printer", "sim://?paper=58")
    outcome = kiosk_json(home, "devices", "print-test")
    assert outcome["printed"] is True and outcome["kind"] == "test_page" and outcome["title"] == "打印机测试页"
    assert "已打印" in kiosk(home, "devices", "print-test", "--printer", "sim://").stdout
