"""The diagnostics bundle from a real station folder: what is in it, what never is, and who may export it."""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_app.accounts import NotPermitted, Operator
from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.diagnostics import DiagnosticsFailed, export_diagnostics
from kiosk_app.station import Station
from kiosk_app.syncing.service import StationSync, sync_status_json
from local_db.database import head_revision
from local_db.models import AuditEvent
from tests.accounts import make_staff
from tests.conftest import make_person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


@pytest.fixture
def station(copied_station: Station) -> Station:
    return copied_station


@pytest.fixture
def technician(station: Station) -> Operator:
    return make_staff(station.db)[0]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def test_bundle_contents(station: Station, technician: Operator, tmp_path: Path) -> None:
    person = make_person()
    submit_application(station.db, station.catalog, station.filing_context(), item_code="331123-RS-0005",
                       identity=person, form_values={"reason": "遗失补领"},
                       files=[MaterialFile("M03", PNG, "image/png")])
    station.settings.set("station.name", "遂昌县妙高街道上江村代办点")
    devices = [{"device": "id_reader", "url": "sim://", "ok": True, "message": "读卡成功",
                "identity": {"name": person.name, "id_number": person.id_number}},
               {"device": "receipt_printer", "url": "tcp://10.0.0.5:9100", "ok": False, "message": "打印机缺纸"}]

    path = export_diagnostics(station, technician, tmp_path / "bundle.zip", device_results=devices)
    assert path == tmp_path / "bundle.zip"
    files = members(path)
    assert {"manifest.json", "config.json", "versions.json", "sync.json", "devices.json", "catalog.json",
            "queue.json", "logs/kiosk.log"} <= set(files)

    config = json.loads(files["config.json"])
    assert config == station.settings.all() and config["station.name"] == "遂昌县妙高街道上江村代办点"
    versions = json.loads(files["versions.json"])
    assert versions["app"] and versions["python"] and versions["platform"]
    assert versions["schema_revision"] == head_revision() and "qt" in versions
    assert json.loads(files["sync.json"]) == sync_status_json(StationSync(station).status())
    assert json.loads(files["queue.json"]) == {"application": {"pending": 1}, "blob": {"pending": 1}}
    catalog = json.loads(files["catalog.json"])
    info = station.catalog.info()
    assert info is not None and catalog == {"version": info.version, "region": info.region,
                                            "item_count": info.item_count}
    got_devices = json.loads(files["devices.json"])
    assert got_devices[1] == devices[1] and got_devices[0]["identity"] == "***"
    assert json.loads(files["manifest.json"])["exported_by"] == "admin"

    events = station.db.read(lambda s: list(s.scalars(select(AuditEvent)
                                                      .where(AuditEvent.action == "diagnostics.export"))))
    assert len(events) == 1 and events[0].actor == "technician:admin"


def test_no_database_blobs_keys_or_id_numbers(station: Station, technician: Operator, tmp_path: Path) -> None:
    person = make_person("林国栋", seq=131)
    submit_application(station.db, station.catalog, station.filing_context(), item_code="331123-RS-0005",
                       identity=person, form_values={"reason": "遗失补领"},
                       files=[MaterialFile("M03", PNG, "image/png")])
    logs = station.home / "logs"
    # An old rotated log written before masking (or by another tool) with full numbers in it.
    raw_id = person.id_number
    lower_x = "33112319580412122x"
    old_lines = [f"2026-03-01 ERROR reader card {raw_id} read", f"身份证号{lower_x}，电话13857800123", "plain line"]
    (logs / "kiosk.log.1").write_text("".join(line + "\n" for line in old_lines), encoding="utf-8")
    (logs / "old").mkdir()
    (logs / "old" / "reader.log").write_bytes(f"frame for {raw_id} \xff\n".encode("utf-8", "surrogateescape")
                                              + b"\xff\xfe broken bytes\n")
    (logs / "db-link.log").symlink_to(station.db.path)  # a link must not smuggle the database in
    (logs / "keys").symlink_to(station.home / "keys", target_is_directory=True)
    logging.getLogger("kiosk_app.test").warning("applicant %s at the window", raw_id)  # masked by the handler

    usb = tmp_path / "usb"
    usb.mkdir()
    path = export_diagnostics(station, technician, usb, device_results=[{"note": f"card {raw_id}"}])
    assert path.parent == usb and path.name.startswith("diagnostics-331123001-") and path.suffix == ".zip"
    files = members(path)
    names = set(files)
    assert {"logs/kiosk.log", "logs/kiosk.log.1", "logs/old/reader.log"} <= names
    assert not any(n.endswith((".db", ".key")) or "kiosk.db" in n or "blob" in n or "keys" in n for n in names)
    assert "logs/db-link.log" not in names

    key = (station.home / "keys" / "master.key").read_bytes()
    db_head = station.db.path.read_bytes()[:100]
    for name, data in files.items():
        text = data.decode("utf-8")
        assert not FULL_ID.search(text), name
        assert raw_id not in text and lower_x not in text
        assert key not in data and db_head not in data
    old = files["logs/kiosk.log.1"].decode()
    assert f"{raw_id[:4]}{'*' * 10}{raw_id[-4:]}" in old and "3311**********122x" in old
    assert "138****0123" in old and old.endswith("plain line\n")
    assert "\ufffd broken bytes" in files["logs/old/reader.log"].decode()
    assert f"card {raw_id[:4]}" in files["devices.json"].decode()


def test_export_needs_the_permission(station: Station, technician: Operator, tmp_path: Path) -> None:
    agent = make_staff(station.db, agent="zhaomin")[1]
    usb = tmp_path / "usb"
    usb.mkdir()
    for who in (agent, None):
        with pytest.raises(NotPermitted, match="导出诊断包"):
            export_diagnostics(station, who, usb / "x.zip")
    assert list(usb.iterdir()) == []


def test_missing_folder_is_a_plain_error(station: Station, technician: Operator, tmp_path: Path) -> None:
    with pytest.raises(DiagnosticsFailed, match="不存在"):
        export_diagnostics(station, technician, tmp_path / "no-usb-stick" / "bundle.zip")
    usb = tmp_path / "usb"
    usb.mkdir()
    path = export_diagnostics(station, technician, usb / "bundle")  # ".zip" is added
    assert path.name == "bundle.zip" and zipfile.is_zipfile(path)
    assert [p.name for p in usb.iterdir()] == ["bundle.zip"]  # no temporary file left behind
