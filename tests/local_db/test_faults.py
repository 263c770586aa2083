"""Real faults against real files: a disk that fills mid-write, and a process killed mid-filing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from kiosk_app.station import Station
from local_db.database import Database
from local_db.models import Application, ApplicationMaterial, CatalogMeta, OutboxEntry, ServiceItem

REPO = Path(__file__).resolve().parents[2]


def _child(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


# The child caps its own file size (RLIMIT_FSIZE): the kernel then fails writes past the cap with EFBIG,
# exactly as a full disk fails them with ENOSPC, without needing a tiny file system or root.
_FULL_DISK_BLOB = """
    import os, resource, signal, sys
    from pathlib import Path
    from local_db.database import Database
    from local_db.errors import DiskFull
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    db = Database(Path(sys.argv[1]), key_storage="file")
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    try:
        db.blobs.put(os.urandom(1_000_000))
    except DiskFull as exc:
        print("DISKFULL", exc.message)
"""


def test_full_disk_while_writing_a_blob(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Database(home, key_storage="file") as db:
        kept = db.blobs.put(b"%PDF-1.4 earlier material")
    result = _child(_FULL_DISK_BLOB, str(home))
    assert "DISKFULL 磁盘空间不足" in result.stdout, result.stderr
    with Database(home, key_storage="file") as db:
        assert db.blobs.get(kept.sha256) == b"%PDF-1.4 earlier material"
        files = [p for p in db.blobs.root.rglob("*") if p.is_file()]
        assert files == [db.blobs.path_for(kept.sha256)]  # no half file under a final name, no temp left


_FULL_DISK_DB = """
    import json, resource, signal, sys
    from pathlib import Path
    from kiosk_app.catalog.synthetic import generate_catalog
    from kiosk_app.station import Station
    from local_db.errors import DiskFull
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    home = Path(sys.argv[1])
    doc = json.dumps(generate_catalog(3000, seed=7), ensure_ascii=False).encode()
    with Station(home, key_storage="file") as station:
        cap = max(p.stat().st_size for p in home.glob("kiosk.db*")) + 64_000
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
        try:
            station.catalog.import_document(doc)
        except DiskFull as exc:
            print("DISKFULL", exc.message)
"""


def test_full_disk_while_writing_the_database_keeps_old_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Station(home, key_storage="file") as station:
        before = station.catalog.info()
    assert before is not None
    result = _child(_FULL_DISK_DB, str(home))
    assert "DISKFULL" in result.stdout, result.stderr
    with Station(home, key_storage="file") as station:
        assert station.catalog.info() == before
        count = station.db.read(lambda s: s.scalar(select(func.count()).select_from(ServiceItem)))
        assert count == before.item_count
        with station.db.read_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


_FILE_FOREVER = """
    import os, sys
    from datetime import date
    from pathlib import Path
    from kiosk_app.applications.filing import MaterialFile, submit_application
    from kiosk_app.demo import sample_form_values
    from kiosk_app.identity import CardType, Identity, make_id_number
    from kiosk_app.station import Station
    with Station(Path(sys.argv[1]), key_storage="file") as station:
        item = station.catalog.get("331123-MZ-0001")
        form = sample_form_values(item)
        n = 0
        while True:
            n += 1
            who = Identity(name="测试" + str(n), sex="男", nation="汉", birth_date=date(1960, 1, 1),
                           id_number=make_id_number("331123", date(1960, 1, 1), (2 * n + 1) % 1000),
                           card_type=CardType.RESIDENT, address="遂昌县某村", phone="13800000000")
            files = [MaterialFile(m.code, b"%PDF-1.4 " + os.urandom(300_000), "application/pdf")
                     for m in item.materials if m.required and not m.elicence_type]
            filed = submit_application(station.db, station.catalog, station.filing_context(),
                                       item_code=item.code, identity=who, form_values=form, files=files)
            print(filed.id, flush=True)
"""


def test_sigkill_mid_filing_loses_nothing_committed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Station(home, key_storage="file").close()  # catalogue loaded before the child starts
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_FILE_FOREVER), str(home)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed: list[str] = []
    deadline = time.monotonic() + 60
    while len(committed) < 6 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(line.strip())
    time.sleep(0.037)  # land the kill somewhere inside the next filing
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    assert len(committed) >= 6, proc.stderr.read() if proc.stderr else ""

    with Station(home, key_storage="file") as station:
        with station.db.read_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        apps = station.db.read(lambda s: {a.id: a.tracking_no for a in s.scalars(select(Application))})
        assert set(committed) <= set(apps)  # everything reported as filed survived
        assert len(set(apps.values())) == len(apps)
        materials = station.db.read(lambda s: list(s.scalars(
            select(ApplicationMaterial).where(ApplicationMaterial.blob_sha256.is_not(None)))))
        assert materials
        for m in materials:  # every row that points at a blob finds it whole
            assert m.blob_sha256 is not None
            assert station.db.blobs.get(m.blob_sha256).startswith(b"%PDF-1.4 ")
        outbox_apps = station.db.read(lambda s: set(s.scalars(
            select(OutboxEntry.ref_id).where(OutboxEntry.kind == "application"))))
        assert outbox_apps == set(apps)
        assert station.db.read(lambda s: s.get(CatalogMeta, 1)) is not None
