"""Scanning end to end: simulated camera, files, PDF assembly, storage and the `kiosk devices scan` command."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.camera import BadImage
from devices.camera.factory import create_camera
from devices.camera.sources import load_image
from devices.simulators.synthetic_pages import render_scene
from kiosk_app.materials.rectify import MAX_JPEG_BYTES
from kiosk_app.materials.scanning import NO_PAGE, ScanFailed, pages_to_pdf, scan_document, scan_file, store_scan
from local_db.database import Database


def corner_error(found: list[list[float]], truth: np.ndarray) -> float:
    arr = np.array(found, np.float32)
    return min(float(np.linalg.norm(np.roll(arr, k, axis=0) - truth, axis=1).max()) for k in range(4))


def test_scan_with_simulated_camera() -> None:
    camera = create_camera("sim://a4?seed=3")
    camera.open()
    try:
        result = scan_document(camera, mode="document", timeout=10)
    finally:
        camera.close()
    assert result.quality.ok
    assert (result.width, result.height) == (1654, 2339)
    assert result.jpeg[:2] == b"\xff\xd8" and len(result.jpeg) < MAX_JPEG_BYTES
    assert result.thumbnail[:2] == b"\xff\xd8"
    truth = render_scene("a4", seed=3).corners
    assert corner_error(result.corners, truth) < 0.01 * math.hypot(3264, 2448)


def test_idcard_scan_is_card_sized() -> None:
    camera = create_camera("sim://idcard_back?seed=2")
    camera.open()
    try:
        result = scan_document(camera, mode="idcard", auto=False)
    finally:
        camera.close()
    assert (result.width, result.height) == (674, 425)


def test_no_page_raises_scan_failed() -> None:
    camera = create_camera("sim://nopage?seed=1")
    camera.open()
    try:
        with pytest.raises(ScanFailed) as info:
            scan_document(camera, timeout=1.0, max_frames=10)
    finally:
        camera.close()
    assert info.value.message == NO_PAGE


def test_quality_failure_carries_the_report() -> None:
    camera = create_camera("sim://a4?seed=3&blur=6")
    camera.open()
    try:
        with pytest.raises(ScanFailed) as info:
            scan_document(camera, auto=False)
    finally:
        camera.close()
    assert info.value.report is not None and not info.value.report.ok
    assert info.value.message == "照片模糊，请保持不动再拍一次"


def test_scan_file_and_corrupt_file(tmp_path: Path) -> None:
    scene = render_scene("a4", seed=5, size=(3264, 2448), perspective=0.3, rotation_deg=4)
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    result = scan_file(path, "document")
    assert corner_error(result.corners, scene.corners) < 0.005 * math.hypot(3264, 2448)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(BadImage):
        scan_file(bad)


def test_pages_to_pdf_embeds_jpegs_unchanged() -> None:
    pages = []
    for seed in (1, 2):
        camera = create_camera(f"sim://a4?seed={seed}")
        camera.open()
        try:
            pages.append(scan_document(camera, auto=False).jpeg)
        finally:
            camera.close()
    pdf = pages_to_pdf(pages)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 2
    for jpeg in pages:
        assert jpeg in pdf  # DCT stream copied byte for byte: no re-encoding
    assert b"595.27" in pdf and b"841.88" in pdf  # A4 in points
    with pytest.raises(ScanFailed):
        pages_to_pdf([])


def test_store_scan_puts_the_jpeg_in_the_blob_store(db: Database) -> None:
    camera = create_camera("sim://idcard_front?seed=4")
    camera.open()
    try:
        result = scan_document(camera, mode="idcard", auto=False)
    finally:
        camera.close()
    ref = store_scan(db, result)
    assert ref.size == len(result.jpeg)
    assert db.blobs.get(ref.sha256) == result.jpeg


def _kiosk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk_app", "--home", str(tmp_path / "home"), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_scan_json(tmp_path: Path) -> None:
    out = tmp_path / "x.jpg"
    result = _kiosk(tmp_path, "devices", "scan", "--camera", "sim://a4?seed=3", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"corners", "quality", "path", "bytes"}  # the contract; more keys may follow
    assert len(data["corners"]) == 4 and all(len(p) == 2 for p in data["corners"])
    assert corner_error(data["corners"], render_scene("a4", seed=3).corners) < 0.01 * math.hypot(3264, 2448)
    assert set(data["quality"]) == {"blur", "glare", "dark", "cut_off", "too_small"}
    assert all(set(v) == {"value", "threshold", "ok"} for v in data["quality"].values())
    assert data["path"] == str(out) and data["bytes"] == out.stat().st_size
    assert out.read_bytes()[:2] == b"\xff\xd8"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_cli_scan_pdf_and_corrupt_input(tmp_path: Path) -> None:
    pdf = tmp_path / "card.pdf"
    result = _kiosk(tmp_path, "devices", "scan", "--camera", "sim://idcard?seed=1", "--mode", "idcard",
                    "--out", str(pdf))
    assert result.returncode == 0, result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage")
    out = tmp_path / "never.jpg"
    result = _kiosk(tmp_path, "devices", "scan", "--camera", f"file://{bad}", "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith("错误：") and "Traceback" not in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("home",)) == ["bad.jpg", "card.pdf"]


def test_cli_multi_page_pdf_and_id_copy(tmp_path: Path) -> None:
    def scan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk_app", "devices", "scan", *args, "--interval", "0",
                               "--json"], capture_output=True, text=True, timeout=120)

    pdf = tmp_path / "three.pdf"
    multi = scan("--camera", "sim://a4?seed=3", "--pages", "3", "--out", str(pdf))
    assert multi.returncode == 0, multi.stderr
    data = json.loads(multi.stdout)
    assert len(data["pages"]) == 3 and data["bytes"] == pdf.stat().st_size
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 3
    copy = tmp_path / "copy.jpg"
    composed = scan("--camera", "sim://idcard_front?seed=2", "--back-camera", "sim://idcard_back?seed=2",
                    "--mode", "idcopy", "--purpose", "办理最低生活保障申请", "--out", str(copy))
    assert composed.returncode == 0, composed.stderr
    assert len(json.loads(composed.stdout)["pages"]) == 2
    page = load_image(copy)
    assert page.shape[:2] == (2339, 1654)  # A4 at 200 dpi
    refused = scan("--camera", "sim://idcard_front", "--mode", "idcopy", "--out", str(tmp_path / "n.jpg"))
    assert refused.returncode == 1 and "--purpose" in refused.stderr and not (tmp_path / "n.jpg").exists()
