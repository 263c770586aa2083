"""Exporting the diagnostics bundle for the help desk into the station's `diagnostics` folder, with the device
self-test results of this session. What goes in (and what never does) is kiosk_app's `export_diagnostics`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk_app.diagnostics import export_diagnostics
from ui.shell import UiContext
from ui.technician.devices import DevicesPage
from ui.technician.staff_page import StaffPage, StatusLine, actions
from ui.widgets import button, card, clear_layout, label

FOLDER: Final = "diagnostics"
LISTED: Final = 5


def recent_bundles(folder: Path) -> list[tuple[str, int]]:
    """Name and size of the latest bundles (worker thread: the folder may sit on a slow USB stick)."""
    if not folder.is_dir():
        return []
    found = sorted(folder.glob("diagnostics-*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)[:LISTED]
    return [(p.name, p.stat().st_size) for p in found]


def breakable(path: Path) -> str:
    """A long path has no spaces to wrap at; a zero-width space after each separator lets the label wrap."""
    return str(path).replace("/", "/\u200b").replace("\\", "\\\u200b")


class DiagnosticsPage(StaffPage):
    name = "diagnostics"
    title = "导出诊断包"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.outer.addWidget(card(
            label("诊断包给技术支持排查问题用，包含：设置、软件版本、同步状态、运行日志（身份证号、手机号已遮蔽）、"
                  "设备自测结果、事项库和待上报统计。", "hint"),
            label("不包含：数据库、群众的材料文件和密钥。", "hint")))
        self.tests = label("", "subtitle")
        self.export_button = button("导出诊断包", self.export, primary=True, name="exportDiagnostics")
        self.message = StatusLine()
        self.path = label("", "okText")
        self.path.setObjectName("bundlePath")
        self.outer.addWidget(card(self.tests, actions(self.export_button), self.message, self.path))
        holder = QWidget()
        self.recent_box = QVBoxLayout(holder)
        self.recent_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(card(label("最近导出的诊断包", "subtitle"), holder))
        self.outer.addStretch(1)
        self.exported: Path | None = None

    @property
    def folder(self) -> Path:
        return self.ctx.station.home / FOLDER

    def _device_results(self) -> list[dict[str, Any]]:
        window = self.ctx.window
        page = window.pages.get("devices") if window is not None else None
        return [r.to_json() for r in page.results] if isinstance(page, DevicesPage) else []

    def enter(self) -> None:
        count = len(self._device_results())
        self.tests.setText(f"将带上本次的 {count} 条设备自测记录。" if count
                           else "本次还没有做设备自测；建议先到“设备配置与自测”逐台自测，再导出。")
        self._list_recent()

    def _list_recent(self) -> None:
        self.run(lambda: recent_bundles(self.folder), self._show_recent, self.message.failed)

    def _show_recent(self, bundles: list[tuple[str, int]]) -> None:
        clear_layout(self.recent_box)
        if not bundles:
            self.recent_box.addWidget(label("还没有导出过。", "hint"))
        for name, size in bundles:
            self.recent_box.addWidget(label(f"{name}（{max(1, size // 1024)} KB）", "hint"))

    def export(self) -> None:
        operator, station, folder, results = self.operator, self.ctx.station, self.folder, self._device_results()

        def work() -> tuple[Path, list[tuple[str, int]]]:
            folder.mkdir(parents=True, exist_ok=True)
            path = export_diagnostics(station, operator, folder, device_results=results)
            return path, recent_bundles(folder)

        self.export_button.setEnabled(False)
        self.path.setText("")
        self.message.hint("正在打包……")
        self.run(work, self._exported, self._failed)

    def _exported(self, done: tuple[Path, list[tuple[str, int]]]) -> None:
        path, recent = done
        self.export_button.setEnabled(True)
        self.exported = path
        self.message.ok("诊断包已导出，可拷贝到 U 盘交给技术支持：")
        self.path.setText(breakable(path))
        self._show_recent(recent)

    def _failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.message.failed(exc, "诊断包没有导出。")

    def wipe(self) -> None:
        self.export_button.setEnabled(True)
        self.message.clear()
        self.path.setText("")
        self.exported = None
        clear_layout(self.recent_box)
