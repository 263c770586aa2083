"""Sync benchmark: the station's engine against plain `requests` uploads of the same bytes, resume cost after
cuts, and time to the first acknowledged filing on a slow line with a backlog of scans.

Run from the repository root:

    .venv/bin/python benchmarks/sync_throughput.py [--apps 1000] [--kib 200] [--json]

What is measured, and why
-------------------------
1. Throughput. A station that was offline for a week comes back with hundreds of filings and thousands of
   scans. `--apps` applications with three scanned materials of `--kib` KiB each (incompressible, like JPEG)
   are filed into a real station, then uploaded by `StationSync.sync_once()` to the reference platform in its
   own process (uvicorn on 127.0.0.1). Baseline, in the same run, to a second fresh platform process: a plain
   `requests.Session` loop that reads each material's file from disk and PUTs it whole, then PUTs each
   application's JSON: no queue, no database, no decryption, no resume bookkeeping (requests are signed, as
   the platform demands; signing costs ~60 µs). Ratio = baseline time / engine time. Target >= 0.8.
2. Resume. 30 applications (90 scans) through the fault proxy with 64 KiB chunks; 20 blob uploads are cut
   at a random point of the request body. Bytes of blob bodies forwarded upstream minus the bytes of the
   blobs = bytes re-sent; divided by the number of cuts. Target: at most one chunk per interrupted blob.
3. First acknowledgement. 50 applications (150 scans, ~30 MB) wait; the line is 1 Mbit/s with 300 ms each
   way (the proxy). The engine starts; time until the platform holds the first application. Baseline: one
   plain signed PUT of the same application over the same line. Target: under 5 s.

A benchmark, not a test: it prints its report and exits 0.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Final

import requests
from sqlalchemy import select

from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.demo import sample_form_values
from kiosk_app.identity import CardType, Identity, make_id_number
from kiosk_app.station import Station
from kiosk_app.syncing.local_store import LocalSyncStore
from kiosk_app.syncing.service import StationSync, provision
from local_db.models import Blob
from sync.protocol.models import API_PREFIX, EnrolRequest, Limits
from sync.protocol.signing import new_private_key, public_key_b64, sign_request
from sync.server import back_office
from sync.server.embedded import RunningPlatform
from sync.server.store import PlatformStore
from sync.testing.fault_proxy import Fault, FaultKind, FaultProxy, Link
from sync.testing.platform_process import PlatformProcess

ITEM: Final = "低保边缘家庭认定"  # three paper materials to scan
STATION_CODE: Final = "331123001"


def _identity(n: int) -> Identity:
    birth, seq = date(1940 + n % 50, 1 + n % 12, 1 + n % 28), n % 999
    return Identity(name="测试" + "甲乙丙丁戊己庚辛"[n % 8], sex="男" if seq % 2 else "女", nation="汉",
                    birth_date=birth, id_number=make_id_number("331123", birth, seq), card_type=CardType.RESIDENT,
                    address="浙江省遂昌县妙高街道上江村1号", authority="遂昌县公安局", valid_from=date(2019, 5, 20),
                    valid_to="长期", phone="13857800123")


def _file(station: Station, apps: int, kib: int, seed: int, keep: Path | None = None) -> list[Path]:
    """File `apps` applications with three scans each; optionally keep the scans as plain files."""
    item = next(station.catalog.get(h.code) for h in station.catalog.search(ITEM, limit=3) if h.name == ITEM)
    needed = [m for m in item.materials if m.required and not m.elicence_type][:3]
    rng = random.Random(seed)
    kept: list[Path] = []
    form = sample_form_values(item)
    for n in range(apps):
        files = []
        for m in needed:
            data = b"\xff\xd8\xff\xe0" + rng.randbytes(kib * 1024 - 4)
            files.append(MaterialFile(m.code, data, "image/jpeg"))
            if keep is not None:
                path = keep / f"{n:05d}-{m.code}.jpg"
                path.write_bytes(data)
                kept.append(path)
        submit_application(station.db, station.catalog, station.filing_context(actor="bench"),
                           item_code=item.code, identity=_identity(seed * 10_000 + n), form_values=form,
                           files=files, allow_missing=True)
    return kept


def _enrol_station(station: Station, store: PlatformStore, url: str) -> None:
    provision(station, url, back_office.create_token(store, STATION_CODE)["token"], device_name="bench")


class PlainUploader:
    """The baseline: signed `requests` PUTs, nothing else."""

    def __init__(self, url: str, store: PlatformStore) -> None:
        self.url = url
        self.key = new_private_key()
        token = back_office.create_token(store, STATION_CODE)["token"]
        body = EnrolRequest(token=token, public_key=public_key_b64(self.key)).model_dump_json().encode()
        answer = requests.post(f"{url}{API_PREFIX}/enrol", data=body, headers={"Content-Type": "application/json"},
                               timeout=30)
        answer.raise_for_status()
        self.device_id = answer.json()["device_id"]
        self.session = requests.Session()

    def put(self, path_and_query: str, data: bytes, content_type: str) -> None:
        headers = sign_request(self.key, self.device_id, "PUT", path_and_query, data, int(time.time() * 1000))
        response = self.session.put(self.url + path_and_query, data=data, timeout=120,
                                    headers={**headers.as_dict(), "Content-Type": content_type})
        response.raise_for_status()


def throughput(work: Path, apps: int, kib: int) -> dict[str, Any]:
    import hashlib

    plain_dir = work / "plain"
    plain_dir.mkdir()
    with Station(work / "station", key_storage="file") as station:
        started = time.perf_counter()
        files = _file(station, apps, kib, seed=1, keep=plain_dir)
        filing_s = time.perf_counter() - started
        store = LocalSyncStore(station.db)
        commits = [store.application_commit(j.ref_id).model_dump_json().encode()
                   for j in store.due_jobs(10**6) if j.kind == "application"]
        total = sum(p.stat().st_size for p in files) + sum(len(c) for c in commits)
        base_url = f"sqlite:///{work / 'baseline.db'}"
        with PlatformProcess(base_url, work / "baseline-blobs") as base, PlatformStore(base_url) as base_store:
            plain = PlainUploader(base.url, base_store)
            started = time.perf_counter()
            for path in files:
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                plain.put(f"{API_PREFIX}/blobs/{digest}?offset=0&size={len(data)}", data, "application/octet-stream")
            for body in commits:
                client_id = json.loads(body)["client_id"]
                plain.put(f"{API_PREFIX}/applications/{client_id}", body, "application/json")
            baseline_s = time.perf_counter() - started
        ours_url = f"sqlite:///{work / 'ours.db'}"
        with PlatformProcess(ours_url, work / "ours-blobs") as ours, PlatformStore(ours_url) as ours_store:
            _enrol_station(station, ours_store, ours.url)
            sync = StationSync(station)
            started = time.perf_counter()
            report = sync.sync_once()
            engine_s = time.perf_counter() - started
            held = len(back_office.list_apps(ours_store))
    return {"applications": apps, "materials": len(files), "bytes": total, "filing_s": round(filing_s, 1),
            "baseline_s": round(baseline_s, 2), "engine_s": round(engine_s, 2),
            "baseline_mb_s": round(total / baseline_s / 1e6, 1), "engine_mb_s": round(total / engine_s / 1e6, 1),
            "ratio": round(baseline_s / engine_s, 3), "platform_holds": held, "pending_after": report.pending}


def resume_after_cuts(work: Path) -> dict[str, Any]:
    chunk = 64 * 1024
    cuts = 20
    with Station(work / "resume-station", key_storage="file") as station, \
            RunningPlatform(f"sqlite:///{work / 'resume.db'}", work / "resume-blobs",
                            limits=Limits(chunk_bytes=chunk)) as platform, FaultProxy(platform.url) as proxy:
        _file(station, 30, 200, seed=2)
        _enrol_station(station, platform.store, proxy.url)
        blob_bytes = station.db.read(lambda s: sum(b.size for b in s.scalars(select(Blob))))
        rng = random.Random(3)
        proxy.schedule(*[Fault(FaultKind.CUT_REQUEST, path_prefix="/v1/blobs/", method="PUT",
                               fraction=rng.uniform(0.05, 0.95)) for _ in range(cuts)])
        sync = StationSync(station, item_backoff_cap_s=0.01)
        passes = 0
        while passes < 100:
            passes += 1
            report = sync.sync_once()
            if report.online and report.pending == 0:
                break
        forwarded = proxy.stats.request_body_bytes("/v1/blobs/", method="PUT")
        applied = proxy.stats.fault_count(FaultKind.CUT_REQUEST)
    resent = forwarded - blob_bytes
    return {"chunk_bytes": chunk, "cuts": applied, "blob_bytes": blob_bytes, "forwarded_bytes": forwarded,
            "resent_bytes": resent, "resent_per_cut": round(resent / max(1, applied)),
            "resent_per_cut_in_chunks": round(resent / max(1, applied) / chunk, 3), "passes": passes}


def first_ack(work: Path) -> dict[str, Any]:
    with Station(work / "slow-station", key_storage="file") as station, \
            RunningPlatform(f"sqlite:///{work / 'slow.db'}", work / "slow-blobs") as platform, \
            FaultProxy(platform.url) as proxy:
        _file(station, 50, 200, seed=4)
        _enrol_station(station, platform.store, proxy.url)
        proxy.link = Link(latency_ms=300, bandwidth_bps=1_000_000)
        store = LocalSyncStore(station.db)
        first_job = next(j for j in store.due_jobs(10) if j.kind == "application")
        commit = store.application_commit(first_job.ref_id)
        sync = StationSync(station, read_timeout=120)
        started = time.perf_counter()
        sync.start()
        while not back_office.list_apps(platform.store):
            time.sleep(0.02)
        ours_s = time.perf_counter() - started
        sync.stop(timeout=60)
        plain = PlainUploader(proxy.url, platform.store)
        body = commit.model_copy(update={"client_id": "00000000-0000-4000-8000-000000000001"}).model_dump_json()
        started = time.perf_counter()
        plain.put(f"{API_PREFIX}/applications/00000000-0000-4000-8000-000000000001", body.encode(),
                  "application/json")
        plain_s = time.perf_counter() - started
        backlog = store.queue_summary()
    return {"link": "1 Mbit/s, 300 ms each way", "backlog_bytes": backlog.pending_bytes,
            "first_ack_s": round(ours_s, 2), "plain_single_commit_s": round(plain_s, 2),
            "ratio": round(ours_s / plain_s, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--kib", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        work = Path(tmp)
        result = {"throughput": throughput(work, args.apps, args.kib), "resume": resume_after_cuts(work),
                  "first_ack": first_ack(work)}
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    t, r, f = result["throughput"], result["resume"], result["first_ack"]
    print(f"throughput: {t['applications']} applications, {t['materials']} materials, {t['bytes'] / 1e6:.0f} MB")
    print(f"  plain requests: {t['baseline_s']} s ({t['baseline_mb_s']} MB/s); engine: {t['engine_s']} s "
          f"({t['engine_mb_s']} MB/s) -> ratio {t['ratio']} (target >= 0.8: "
          f"{'met' if t['ratio'] >= 0.8 else 'NOT met'}); platform holds {t['platform_holds']}")
    print(f"resume: {r['cuts']} cuts, {r['resent_bytes']} bytes re-sent = {r['resent_per_cut']} per cut = "
          f"{r['resent_per_cut_in_chunks']} chunk of {r['chunk_bytes']} (target <= 1: "
          f"{'met' if r['resent_per_cut_in_chunks'] <= 1 else 'NOT met'})")
    print(f"first ack on {f['link']} with {f['backlog_bytes'] / 1e6:.0f} MB waiting: {f['first_ack_s']} s "
          f"(one plain commit: {f['plain_single_commit_s']} s, ratio {f['ratio']}; target < 5 s: "
          f"{'met' if f['first_ack_s'] < 5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
