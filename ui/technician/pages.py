"""The technician console: the way to every maintenance screen, and one summary of the station (enrolled or
not, platform, station, device addresses, sync state) read on a worker."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtWidgets import QGridLayout, QWidget

from kiosk_app.station import Station
from kiosk_app.syncing.service import StationSync
from sync.engine import SyncStatus
from ui.icons import decorate
from ui.shell import UiContext
from ui.technician.device_checks import DEVICE_TITLES
from ui.technician.staff_page import StaffPage, StatusLine, columns
from ui.technician.sync_page import fill_grid, link_text, size_text, when_text
from ui.widgets import card, grid_of, label, tile

LEVEL_TITLES = {"township": "乡镇（街道）", "village": "村（社区）"}
SECTIONS = (("provision", "开通平台\n站点信息"), ("devices", "设备配置\n与自测"), ("sync", "同步状态"),
            ("logs", "运行日志"), ("diagnostics", "导出\n诊断包"), ("users", "工作人员\n账号"))


@dataclass(frozen=True)
class StationSummary:
    settings: dict[str, Any]
    status: SyncStatus


def station_summary(station: Station, sync: StationSync | None) -> StationSummary:
    """Worker thread: the settings and the sync state in one look."""
    return StationSummary(station.settings.all(), (sync or StationSync(station)).status())


def summary_rows(summary: StationSummary) -> list[tuple[str, str]]:
    s, status = summary.settings, summary.status
    level = LEVEL_TITLES.get(str(s.get("station.level")), str(s.get("station.level")))
    rows = [("平台开通", "已开通" if status.provisioned else "未开通，请点“开通平台”"),
            ("平台地址", str(s.get("sync.platform_url") or "（未设置）")),
            ("站点", f"{s.get('station.name')}（{s.get('station.code')}，{level}）")]
    rows += [(title, str(s.get(key) or "（未设置）")) for key, title in DEVICE_TITLES.items()]
    q = status.queue
    sync = f"{link_text(status)} · 待上报 {q.pending} 项（{size_text(q.pending_bytes)}）"
    if q.quarantined:
        sync += f" · 隔离 {q.quarantined} 项"
    rows += [("同步", sync), ("上次同步成功", when_text(status.last_success))]
    return rows


class ConsolePage(StaffPage):
    name = "console"
    title = "技术人员控制台"
    final = True  # no 返回 from here to the log-in page: leaving is 退出登录
    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.welcome = label("", "subtitle")
        self.outer.addWidget(self.welcome)
        tiles = [tile(text, partial(ctx.go, page), name=f"nav_{page}") for page, text in SECTIONS]
        for (page, _text), section in zip(SECTIONS, tiles, strict=True):
            # Each section's icon is named after its page (ui/icons/provision.svg, devices.svg, ...). Beside the
            # text, not above it: the six tiles share the screen with the summary and must not push it off.
            decorate(section, page, ctx.theme)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(32)
        self.message = StatusLine()
        summary = card(label("本站概况", "subtitle"), holder, self.message)
        # Landscape: the ways in beside the summary, so both fit one screen; portrait: one above the other.
        self.outer.addWidget(columns(ctx, [grid_of(tiles, 2)], [summary]))
        self.outer.addStretch(1)
        self.summary: StationSummary | None = None

    def enter(self) -> None:
        operator = self.operator
        self.welcome.setText(f"{operator.display_name}（{operator.username}），您好。" if operator else "")
        station, sync = self.ctx.station, self.ctx.sync
        self.message.hint("正在读取……")
        self.run(lambda: station_summary(station, sync), self._show, self.message.failed)

    def _show(self, summary: StationSummary) -> None:
        self.summary = summary
        self.message.clear()
        fill_grid(self.grid, summary_rows(summary), "summaryRow")

    def wipe(self) -> None:
        self.welcome.setText("")
        self.message.clear()
        self.summary = None
