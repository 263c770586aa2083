"""Shared set-up for sync tests: a reference platform on loopback, and stations provisioned against it."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from pathlib import Path

from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.catalog.library import ItemView
from kiosk_app.demo import demo_scan, sample_form_values
from kiosk_app.station import Station
from kiosk_app.syncing.service import provision
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from tests.conftest import make_person

ITEM_WITH_SCANS = "特困人员救助供养"  # two paper materials to scan


def item_named(station: Station, name: str) -> ItemView:
    for hit in station.catalog.search(name, limit=5):
        if hit.name == name:
            return station.catalog.get(hit.code)
    raise LookupError(name)


def enrol(station: Station, platform: RunningPlatform, url: str | None = None) -> None:
    token = back_office.create_token(platform.store, station.settings.get("station.code"))["token"]
    provision(station, url or platform.url, token, device_name="test-kiosk")


def photo_bytes(seed: int, size: int) -> bytes:
    """Incompressible bytes behind a JPEG signature: the size of a real scan without the cost of making one."""
    return b"\xff\xd8\xff\xe0" + random.Random(seed).randbytes(size - 4)


def file_applications(station: Station, count: int, *, seed: int = 0, material_bytes: int | None = None,
                      item_name: str = ITEM_WITH_SCANS) -> list[Filed]:
    """`count` applications, each with its required paper materials scanned (distinct bytes per page):
    small PNG scans, or `material_bytes`-sized photos."""
    item = item_named(station, item_name)
    needed = [m for m in item.materials if m.required and not m.elicence_type]
    filed = []
    for n in range(count):
        person = make_person(birth=date(1950 + (seed + n) % 40, 1 + n % 12, 1 + n % 28), seq=100 + n)
        files = [MaterialFile(m.code, demo_scan(seed * 1000 + n * 10 + i), "image/png") if material_bytes is None
                 else MaterialFile(m.code, photo_bytes(seed * 1000 + n * 10 + i, material_bytes), "image/jpeg")
                 for i, m in enumerate(needed)]
        filed.append(submit_application(station.db, station.catalog,
                                        station.filing_context(channel="kiosk", actor="test"),
                                        item_code=item.code, identity=person, form_values=sample_form_values(item),
                                        files=files))
    return filed


def platform_blob_hashes_ok(blob_dir: Path, hashes: list[str]) -> bool:
    """Every blob the platform claims is complete is on its disk with exactly that content."""
    found = {p.name: p for p in blob_dir.rglob("*") if p.is_file() and len(p.name) == 64}
    return all(h in found and hashlib.sha256(found[h].read_bytes()).hexdigest() == h for h in hashes)
