"""`SyncEngine`: one pass (`run_once`) pushes the outbox, pulls status and catalogue, and sends a heartbeat;
`run_forever` repeats passes with back-off and comes back at once when the platform is reachable again.

Order inside a pass follows what matters to a villager holding a receipt: applications (small) are committed
first so every filing gets its case number quickly, then material files, then evaluations. A link failure ends
the pass without charging the item; an item the platform keeps refusing is retried with back-off and
quarantined after `max_attempts`, and the rest of the queue goes on.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final, TypeVar

from sync.client import HashMismatch, NotEnrolled, OffsetMismatch, PlatformClient, SyncError
from sync.engine.store import CatalogRefused, ItemProblem, ItemUnavailable, Job, Outcome, RunRecord, SyncStore
from sync.protocol.models import ApplicationCommit, BlobState, CatalogPage, EvaluationUpload, Limits

log = logging.getLogger(__name__)
T = TypeVar("T")
Payload = ApplicationCommit | EvaluationUpload | bytes | None

BACKOFF_BASE_S: Final = 2.0
BACKOFF_CAP_S: Final = 600.0  # about 10 minutes: a village link that comes back is used within that time
PROBE_INTERVAL_S: Final = 15.0  # while backing off, a cheap hello every so often notices the link return
IDLE_INTERVAL_S: Final = 60.0  # nothing to send: still pull status and catalogue this often
ACK_BATCH: Final = 50  # acknowledgements recorded per transaction (redoing unrecorded ones is harmless)
PREPARE_AHEAD: Final = 2  # items read and decrypted ahead of the one on the wire (bounded: scans are large)


def backoff_delay(failures: int, rng: random.Random, *, base: float = BACKOFF_BASE_S,
                  cap: float = BACKOFF_CAP_S) -> float:
    """Exponential with 'equal jitter': never less than half the step, so stations that lost the link together
    do not all come back in the same second, and none retries in a tight loop."""
    step = min(cap, base * 2.0 ** max(0, failures - 1))
    return step / 2 + rng.uniform(0, step / 2)


@dataclass
class SyncReport:
    online: bool = False
    uploaded: int = 0  # items acknowledged by the platform in this pass
    uploaded_applications: int = 0
    uploaded_blobs: int = 0
    uploaded_evaluations: int = 0
    bytes_sent: int = 0
    status_updates: int = 0
    catalog_items: int = 0
    pending: int = 0
    pending_bytes: int = 0
    quarantined: int = 0
    clock_skew_s: float | None = None
    errors: list[ItemProblem | str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "online": self.online, "uploaded": self.uploaded, "uploaded_applications": self.uploaded_applications,
            "uploaded_blobs": self.uploaded_blobs, "uploaded_evaluations": self.uploaded_evaluations,
            "bytes_sent": self.bytes_sent, "status_updates": self.status_updates,
            "catalog_items": self.catalog_items, "pending": self.pending, "pending_bytes": self.pending_bytes,
            "quarantined": self.quarantined, "clock_skew_s": self.clock_skew_s,
            "errors": [e.to_json() if isinstance(e, ItemProblem) else {"message": e} for e in self.errors],
            "seconds": round(self.seconds, 3),
        }


class _LinkLost(Exception):
    def __init__(self, error: SyncError) -> None:
        super().__init__(error.message)
        self.error = error


class SyncEngine:
    def __init__(self, store: SyncStore, client_factory: Callable[[], PlatformClient], *,
                 max_attempts: int = 8, rng: random.Random | None = None,
                 item_backoff_cap_s: float = BACKOFF_CAP_S, link_backoff_base_s: float = BACKOFF_BASE_S,
                 probe_interval_s: float = PROBE_INTERVAL_S, idle_interval_s: float = IDLE_INTERVAL_S) -> None:
        self.store = store
        self._client_factory = client_factory
        self.max_attempts = max_attempts
        self.item_backoff_cap_s = item_backoff_cap_s
        self.link_backoff_base_s = link_backoff_base_s
        self.probe_interval_s = probe_interval_s
        self.idle_interval_s = idle_interval_s
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._limits = Limits()
        self._acks: list[tuple[Job, Outcome]] = []
        self._ack_pool: ThreadPoolExecutor | None = None
        self._ack_futures: list[Future[None]] = []

    # ---- control from other threads -------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def nudge(self) -> None:
        """Something changed (a new filing, the network came up): start the next pass now."""
        self._wake.set()

    # ---- one pass -------------------------------------------------------------------------------------------

    def run_once(self) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        client = self._client_factory()
        error: str | None = None
        try:
            if client.credentials is None:
                raise _LinkLost(_not_provisioned())
            hello = _link(client.hello)
            self._limits = hello.limits
            report.online = True
            report.clock_skew_s = _skew_s(client)
            self._push(client, report)
            report.status_updates = self._pull_status(client)
            report.catalog_items = self._pull_catalog(client, report)
            _link(lambda: client.heartbeat(self.store.heartbeat(_skew_s(client))))
        except _LinkLost as lost:
            error = lost.error.message
            report.online = report.online and not lost.error.link
            report.errors.append(error)
            log.warning("sync pass ended early: %s (%s)", lost.error.code or type(lost.error).__name__, error)
        finally:
            self._flush_acks(wait=True)
            client.close()
        summary = self.store.queue_summary()
        report.pending, report.pending_bytes, report.quarantined = (summary.pending, summary.pending_bytes,
                                                                    summary.quarantined)
        report.errors.extend(summary.problems)
        report.clock_skew_s = _skew_s(client)
        self.store.record_run(RunRecord(datetime.now(UTC), report.online, error is None, error,
                                        report.clock_skew_s))
        report.seconds = time.perf_counter() - started
        return report

    def _push(self, client: PlatformClient, report: SyncReport) -> None:
        tried: set[int] = set()  # one try per item per pass, however short its back-off
        # Reading, decrypting and serialising the next item overlaps the current request on the wire, and
        # acknowledgements are written while the next uploads go out: the link, not the station, sets the pace.
        with ThreadPoolExecutor(1, thread_name_prefix="sync-prepare") as prepare, \
                ThreadPoolExecutor(1, thread_name_prefix="sync-acks") as acks:
            self._ack_pool = acks
            try:
                while not self._stop.is_set():
                    self._flush_acks(wait=True)  # before asking again, or the same jobs would come back
                    jobs = [j for j in self.store.due_jobs(200) if j.id not in tried]
                    if not jobs:
                        return
                    tried.update(j.id for j in jobs)
                    states = self._blob_states(client, [j.ref_id for j in jobs if j.kind == "blob"])
                    self._push_batch(client, jobs, states, prepare, report)
            finally:
                self._flush_acks(wait=True)
                self._ack_pool = None

    def _push_batch(self, client: PlatformClient, jobs: list[Job], states: dict[str, BlobState],
                    prepare: ThreadPoolExecutor, report: SyncReport) -> None:
        upcoming = iter(jobs)
        ahead: deque[tuple[Job, Future[Payload]]] = deque()

        def top_up() -> None:
            while len(ahead) < PREPARE_AHEAD and (job := next(upcoming, None)) is not None:
                ahead.append((job, prepare.submit(self._prepare, job, states.get(job.ref_id))))

        top_up()
        while ahead and not self._stop.is_set():
            job, prepared = ahead.popleft()
            top_up()
            try:
                outcome = self._send(client, job, prepared.result(), states.get(job.ref_id), report)
            except SyncError as exc:
                if exc.link:
                    raise _LinkLost(exc) from None
                self._fail(job, exc.code or exc.message, exc.message)
                continue
            except ItemUnavailable as exc:
                self._fail(job, "unavailable", exc.message)
                continue
            self._acks.append((job, outcome))
            report.uploaded += 1
            if len(self._acks) >= ACK_BATCH:
                self._flush_acks(wait=False)

    def _prepare(self, job: Job, state: BlobState | None) -> Payload:
        if job.kind == "application":
            return self.store.application_commit(job.ref_id)
        if job.kind == "evaluation":
            return self.store.evaluation_upload(job.ref_id)
        if state is not None and state.complete:
            return None  # the platform already holds these bytes: nothing crosses the link
        return self.store.blob_bytes(job.ref_id)

    def _send(self, client: PlatformClient, job: Job, payload: Payload, state: BlobState | None,
              report: SyncReport) -> Outcome:
        if isinstance(payload, ApplicationCommit):
            receipt = client.commit(payload)
            report.uploaded_applications += 1
            return receipt
        if isinstance(payload, EvaluationUpload):
            answer = client.evaluation(payload)
            report.uploaded_evaluations += 1
            return answer
        report.uploaded_blobs += 1
        if payload is None:
            assert state is not None
            return state
        return self._upload_blob(client, job.ref_id, payload, state, report)

    def _blob_states(self, client: PlatformClient, hashes: list[str]) -> dict[str, BlobState]:
        states: dict[str, BlobState] = {}
        step = max(1, self._limits.max_query_hashes)
        for part in (hashes[i:i + step] for i in range(0, len(hashes), step)):
            try:
                answer = client.query_blobs(part)
            except SyncError as exc:
                raise _LinkLost(exc) from None
            states.update((b.sha256, b) for b in answer.blobs)
        return states

    def _upload_blob(self, client: PlatformClient, sha256: str, data: bytes, state: BlobState | None,
                     report: SyncReport) -> BlobState:
        offset = state.received if state is not None and state.size == len(data) else 0
        chunk = max(1, min(self._limits.chunk_bytes, self._limits.max_chunk_bytes))
        restarted = False
        while True:
            piece = data[offset:offset + chunk]
            try:
                answer = client.upload_chunk(sha256, offset, len(data), piece)
            except OffsetMismatch as exc:
                # The platform holds a different amount than we thought (an answer lost after a cut): go on
                # from its figure, which it only reports for bytes it has made durable.
                if not 0 <= exc.received <= len(data):
                    raise
                offset = exc.received
                continue
            except HashMismatch:
                if restarted:
                    raise
                restarted, offset = True, 0
                continue
            report.bytes_sent += len(piece)
            if answer.complete:
                return answer
            if answer.received <= offset:
                raise OffsetMismatch("平台没有接收这一段材料数据。", answer.received)
            offset = answer.received

    def _fail(self, job: Job, code: str, message: str) -> None:
        attempts = job.attempts + 1
        quarantine = attempts >= self.max_attempts
        delay = backoff_delay(attempts, self._rng, cap=self.item_backoff_cap_s)
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        log.warning("sync %s %s failed (attempt %d%s): %s", job.kind, job.ref_id, attempts,
                    ", quarantined" if quarantine else f", retry in {delay:.0f} s", code)
        self.store.job_failed(job, message, retry_at=retry_at, quarantine=quarantine)

    def _flush_acks(self, *, wait: bool) -> None:
        if self._acks:
            batch, self._acks = self._acks, []
            if self._ack_pool is None:
                self.store.jobs_succeeded(batch)
            else:
                self._ack_futures.append(self._ack_pool.submit(self.store.jobs_succeeded, batch))
        if wait:
            futures, self._ack_futures = self._ack_futures, []
            for future in futures:
                future.result()

    def _pull_status(self, client: PlatformClient) -> int:
        applied = 0
        while not self._stop.is_set():
            feed = _link(lambda: client.status(self.store.status_cursor(), self._limits.status_page))
            applied += self.store.apply_status(feed)
            if not feed.more:
                break
        return applied

    def _pull_catalog(self, client: PlatformClient, report: SyncReport) -> int:
        since = self.store.catalog_cursor()
        pages: list[CatalogPage] = []
        while not self._stop.is_set():
            page = _link(partial(client.catalog_page, since, self._limits.catalog_page))
            if page.cursor < since:
                break
            pages.append(page)
            since = page.cursor
            if not page.more:
                break
        if not pages or self._stop.is_set():
            return 0
        if not any(p.items or p.removed for p in pages):
            # Nothing new; and an empty *full* catalogue means a platform nobody has published to yet, which
            # must not retire every service this station offers.
            return 0
        try:
            return self.store.apply_catalog(pages)
        except CatalogRefused as exc:  # an invalid catalogue from the network: keep the old one, say why
            report.errors.append(f"平台下发的服务事项目录有误，已保留原目录：{exc.message}")
            return 0

    # ---- the loop -------------------------------------------------------------------------------------------

    def run_forever(self, on_report: Callable[[SyncReport], None] | None = None) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            report = self.run_once()
            if on_report is not None:
                on_report(report)
            if self._stop.is_set():
                return
            if report.online:
                failures = 0
                self._wake.wait(self.idle_interval_s)
                continue
            failures += 1
            self._wait_for_link(backoff_delay(failures, self._rng, base=self.link_backoff_base_s))

    def _wait_for_link(self, delay: float) -> None:
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, self.probe_interval_s)):
                return
            client = self._client_factory()
            try:
                client.hello()
                return  # the platform answers again: go now rather than at the end of the back-off
            except SyncError:
                pass
            finally:
                client.close()


def _link(call: Callable[[], T]) -> T:
    """Run a request whose failure is not any one item's fault: every error ends the pass."""
    try:
        return call()
    except SyncError as exc:
        raise _LinkLost(exc) from None


def _skew_s(client: PlatformClient) -> float | None:
    return None if client.skew_ms is None else round(client.skew_ms / 1000, 3)


def _not_provisioned() -> SyncError:
    return NotEnrolled("本机尚未在平台登记，请技术人员先完成开通（kiosk provision）。", code="not_provisioned")
