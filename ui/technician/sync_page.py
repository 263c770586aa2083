"""The sync state as a technician reads it: the link, what waits and how much, the clock, the last error, and the
items that keep failing with their reasons. 立即同步 runs one pass on a worker with its progress; 重新排队 puts
quarantined items back once the cause is fixed (kiosk_app checks the permission)."""

from __future__ import annotations

import threading
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QProgressBar, QVBoxLayout, QWidget

from kiosk_app.accounts import Permission, require
from kiosk_app.identity.masking import redact_text
from kiosk_app.syncing.service import StationSync
from sync.engine import SyncReport, SyncStatus
from sync.engine.store import QueueSummary
from ui.shell import UiContext
from ui.technician.staff_page import StaffPage, StatusLine, actions
from ui.widgets import button, card, clear_layout, label

PROGRESS_MS = 400
SKEW_WARN_S = 60.0  # beyond this, signed requests start to be refused: worth telling the technician


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def when_text(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at else "从未"


def skew_text(skew: float | None) -> str:
    if skew is None:
        return "未测量"
    side = "平台比本机快" if skew > 0 else "平台比本机慢"
    text = f"{abs(skew):.1f} 秒（{side}）" if abs(skew) >= 0.05 else "一致"
    return text + ("，请校准本机时间" if abs(skew) > SKEW_WARN_S else "")


def link_text(status: SyncStatus) -> str:
    if not status.provisioned:
        return "未开通平台"
    return {None: "尚未连接过", True: "在线", False: "离线"}[status.online]


def sync_rows(status: SyncStatus) -> list[tuple[str, str]]:
    """The sync state as caption/value pairs (the console summary shows the same words)."""
    q = status.queue
    return [("连接状态", link_text(status)),
            ("待上报", f"{q.pending} 项（{size_text(q.pending_bytes)}）"),
            ("已隔离", f"{q.quarantined} 项" + ("，需排除原因后重新排队" if q.quarantined else "")),
            ("上次成功", when_text(status.last_success)),
            ("上次尝试", when_text(status.last_attempt)),
            ("时钟偏差", skew_text(status.clock_skew_s)),
            ("上次错误", status.last_error or "无")]


def fill_grid(grid: QGridLayout, rows: list[tuple[str, str]], prefix: str) -> None:
    clear_layout(grid)
    for i, (caption, value) in enumerate(rows):
        grid.addWidget(label(caption, "hint", wrap=False), i, 0)
        shown = label(value)
        shown.setObjectName(f"{prefix}_{i}")
        grid.addWidget(shown, i, 1)
    grid.setColumnStretch(1, 1)


class SyncPage(StaffPage):
    name = "sync"
    title = "同步状态"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(32)
        self.outer.addWidget(card(holder))
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(18)
        self.progress.hide()
        self.message = StatusLine()
        self.sync_button = button("立即同步", self.sync_now, primary=True, name="syncNow")
        self.stop_button = button("停止同步", self.stop, name="syncStop")
        self.stop_button.hide()
        self.requeue_button = button("重新排队", self.requeue, name="requeue")
        self.refresh_button = button("刷新", self.refresh, name="syncRefresh")
        self.outer.addWidget(self.progress)
        self.outer.addWidget(self.message)
        self.outer.addWidget(actions(self.sync_button, self.stop_button, self.requeue_button, self.refresh_button))
        problems = QWidget()
        self.problem_box = QVBoxLayout(problems)
        self.problem_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(card(label("有问题的项目", "subtitle"), problems))
        self.outer.addStretch(1)
        self.status: SyncStatus | None = None
        self._pass: StationSync | None = None
        self._cancel = threading.Event()
        self._polling = False
        self._baseline: int | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def enter(self) -> None:
        if not self.running:
            self.message.clear()
        self.refresh()

    def _sync(self) -> StationSync:
        """The window's sync engine when it has one; else a fresh one (the station was enrolled meanwhile)."""
        return self.ctx.sync or StationSync(self.ctx.station)

    def refresh(self) -> None:
        self.run(lambda: self._sync().status(), self._show, lambda exc: self.message.failed(exc, "读取同步状态失败。"))

    def _show(self, status: SyncStatus) -> None:
        self.status = status
        fill_grid(self.grid, sync_rows(status), "syncRow")
        self._show_problems(status.queue)
        self.requeue_button.setEnabled(status.queue.quarantined > 0 and not self.running)

    def _show_problems(self, queue: QueueSummary) -> None:
        clear_layout(self.problem_box)
        if not queue.problems:
            self.problem_box.addWidget(label("没有出错的项目。", "hint"))
            return
        for problem in queue.problems:
            mark = "【已隔离】" if problem.quarantined else "【重试中】"
            text = f"{mark}{problem.label} · 已尝试 {problem.attempts} 次\n原因：{problem.message}"
            self.problem_box.addWidget(label(redact_text(text), "error" if problem.quarantined else "warnText"))

    # ---- one pass ------------------------------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.running:
            return
        station, cancel = self.ctx.station, threading.Event()
        self._cancel = cancel
        self._pass, self._baseline = None, None

        def work() -> SyncReport | None:
            # A pass of its own, not the window's background engine: 停止 stops this pass only, and an engine
            # once stopped cannot be started again.
            sync = StationSync(station)
            self._pass = sync
            if cancel.is_set():
                return None
            return sync.sync_once()

        self._busy(True)
        self.message.hint("正在连接平台……")
        self.run(work, self._synced, self._sync_failed)

    def _busy(self, busy: bool) -> None:
        self.sync_button.setEnabled(not busy)
        self.requeue_button.setEnabled(not busy and bool(self.status and self.status.queue.quarantined))
        self.stop_button.setVisible(busy)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)  # busy until the first count arrives
        if busy:
            self.timer.start(PROGRESS_MS)
        else:
            self.timer.stop()

    def _poll(self) -> None:
        sync = self._pass
        if self._polling or sync is None:
            return
        self._polling = True
        self.run(sync.store.queue_summary, self._progress, lambda _exc: setattr(self, "_polling", False))

    def _progress(self, queue: QueueSummary) -> None:
        self._polling = False
        if not self.running:
            return
        if self._baseline is None:
            self._baseline = queue.pending
        done = max(0, self._baseline - queue.pending)
        if self._baseline:
            self.progress.setRange(0, self._baseline)
            self.progress.setValue(done)
        self.message.hint(f"正在同步：已上报 {done} 项，还有 {queue.pending} 项（{size_text(queue.pending_bytes)}）……")

    def stop(self) -> None:
        self._cancel.set()
        if self._pass is not None:
            self._pass.engine.stop()
        self.message.hint("正在停止，当前这一项传完后结束……")

    def _synced(self, report: SyncReport | None) -> None:
        self._busy(False)
        if report is None:
            self.message.hint("同步已停止。")
        else:
            link_errors = [e for e in report.errors if isinstance(e, str)]
            text = (f"上报 {report.uploaded} 项，收到办件进度 {report.status_updates} 条、事项更新 "
                    f"{report.catalog_items} 个；还有 {report.pending} 项待上报。")
            if link_errors:
                self.message.error(f"同步未完成：{link_errors[0]} {text}")
            elif report.quarantined:
                self.message.error(f"同步完成，但有 {report.quarantined} 项被隔离，请查看下方原因。{text}")
            else:
                self.message.ok(f"同步完成：{text}")
        self._after_change()

    def _sync_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.message.failed(exc, "同步没有完成。")
        self._after_change()

    def _after_change(self) -> None:
        self.refresh()
        if self.ctx.window is not None:
            self.ctx.window.refresh_sync_badge()

    # ---- quarantine --------------------------------------------------------------------------------------------

    def requeue(self) -> None:
        operator = self.operator

        def work() -> int:
            technician = require(operator, Permission.REQUEUE_SYNC)
            return self._sync().store.requeue_quarantined(technician.actor)

        self.requeue_button.setEnabled(False)
        self.message.hint("正在重新排队……")
        self.run(work, self._requeued, self._requeue_failed)

    def _requeued(self, count: int) -> None:
        self.message.ok(f"已把 {count} 项重新排队，下次同步时会再上报。" if count else "没有被隔离的项目。")
        self._after_change()

    def _requeue_failed(self, exc: BaseException) -> None:
        self.message.failed(exc, "重新排队没有成功。")
        self.refresh()

    def wipe(self) -> None:
        if self.running:
            self.stop()  # nothing runs on behalf of a technician who logged out
        self._busy(False)
        self.message.clear()
        self.status = None
        clear_layout(self.grid)
        clear_layout(self.problem_box)
