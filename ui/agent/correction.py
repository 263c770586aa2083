"""补正: the platform returned a case for correction; the agent re-photographs the materials it asked for under
the document camera (the same live outline and quality gate as the villager's scan page) and resubmits. The case
keeps its number and gets its next version."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk_app.applications.casework import resubmit_for_applicant
from kiosk_app.applications.correction import Resubmitted
from kiosk_app.catalog.library import ItemView, MaterialView
from kiosk_app.materials.scanning import ScanResult, process_capture
from ui.agent.navigation import failure_text, still_here
from ui.camera_view import LivePreview, Seen
from ui.shell import Page, UiContext
from ui.widgets import button, clear_layout, label, wrapped

HOLD_MESSAGE_S = 4.0  # a capture's result stays readable before the live preview's hints take over again


class CorrectionPage(Page):
    name = "correction"
    title = "补正材料"
    prompt = ""
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.application_id: str | None = None
        self.item_code = ""
        self.provided: dict[str, str] = {}  # material code -> how the case holds it now
        self.materials: list[MaterialView] = []
        self.replacements: dict[str, bytes] = {}
        self.current_code: str | None = None
        self.busy = False  # a resubmission is on its way
        self.hold_until = 0.0
        self.on_done: Callable[[str], None] | None = None
        self.case = label("", "subtitle")
        self.reason = label("", "error")
        self.list_holder = QWidget()
        self.list_box = QVBoxLayout(self.list_holder)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.preview = LivePreview(ctx, self._framed, self._camera_failed)
        self.message = label("", "hint")
        side = QWidget()
        side_box = QVBoxLayout(side)
        side_box.setContentsMargins(0, 0, 0, 0)
        side_box.addWidget(label("选择要重拍的材料：", "subtitle"))
        side_box.addWidget(self.list_holder)
        side_box.addStretch(1)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        if ctx.theme.orientation == "landscape":
            grid.addWidget(side, 0, 0)
            grid.addWidget(self.preview, 0, 1)
            grid.setColumnStretch(1, 1)
        else:
            grid.addWidget(self.preview, 0, 0)
            grid.addWidget(side, 1, 0)
            grid.setRowStretch(0, 1)
        self.capture_button = button("拍  照", self._capture, primary=True, name="correctionCapture")
        self.submit_button = button("提交补正", self._submit, name="submitCorrection")
        self.outer.addWidget(self.case)
        self.outer.addWidget(self.reason)
        self.outer.addWidget(body, 1)
        self.outer.addWidget(self.message)
        self.outer.addWidget(self.capture_button)
        self.footer_action(self.submit_button)

    def open(self, detail: dict[str, Any], on_done: Callable[[str], None] | None = None) -> None:
        """Start correcting the case `detail` (as the detail page loaded it); `on_done(notice)` on success,
        just before going back to the page that opened this one."""
        self._blank()
        self.on_done = on_done
        self.application_id = detail["id"]
        self.item_code = detail["item_code"]
        self.provided = {m["code"]: m["source"] for m in detail["materials"]}
        reason = next((e["reason"] for e in reversed(detail["events"])
                       if e["to"] == "correction_requested" and e["reason"]), None)
        self.case.setText(f"{detail['tracking_no']}　{detail['item_name']}")
        self.reason.setText(f"补正原因：{reason or '平台未写明，请联系承办部门'}")
        self.ctx.go(self.name)

    # ---- materials -------------------------------------------------------------------------------------------

    def enter(self) -> None:
        self.message.setText("")
        if not self.item_code:
            return
        catalog, code = self.ctx.station.catalog, self.item_code
        self.ctx.bridge.run(lambda: catalog.get(code), self._item_loaded, self._failed)
        self.preview.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.preview.stop()  # no camera frames for a page nobody sees; entering starts them again
        super().hideEvent(event)

    def _item_loaded(self, item: ItemView) -> None:
        if not still_here(self):
            return
        self.materials = [m for m in item.materials if not m.elicence_type]
        # What the case still owes (容缺) is the likeliest thing the platform wants; start there.
        owed = [m for m in self.materials if self.provided.get(m.code) in (None, "deferred") and m.required]
        first = owed[0] if owed else (self.materials[0] if self.materials else None)
        self._select(first.code if first else None)

    def _select(self, code: str | None) -> None:
        self.current_code = code
        clear_layout(self.list_box)
        for m in self.materials:
            if m.code in self.replacements:
                mark = "✓ 已重拍"
            else:
                mark = {"file": "已提交", "deferred": "容缺待补"}.get(self.provided.get(m.code, ""), "未提交")
            b = button(f"{wrapped(m.name, 12)}\n{mark}", partial(self._select, m.code), name=f"fix_{m.code}")
            b.setProperty("primary", m.code == code)
            self.list_box.addWidget(b)
        self.submit_button.setProperty("primary", bool(self.replacements))
        self.submit_button.style().unpolish(self.submit_button)
        self.submit_button.style().polish(self.submit_button)

    # ---- camera ----------------------------------------------------------------------------------------------

    @property
    def seen(self) -> Seen | None:
        return self.preview.seen

    def _framed(self, found: bool) -> None:
        if still_here(self) and not self.preview.paused and time.monotonic() > self.hold_until:
            self._say("已找到材料，请点拍照。" if found else "没有看到材料，请把材料平放在高拍仪下面。")

    def _camera_failed(self, message: str) -> None:
        if still_here(self):
            self._say(message, error=True)

    def _capture(self) -> None:
        if self.current_code is None or self.busy or self.preview.paused:
            return
        self.preview.paused = True
        self._say("正在拍照，请不要移动材料……")
        camera, seen = self.ctx.devices.camera(), self.preview.seen
        self.ctx.bridge.run(lambda: process_capture(camera.capture_still().result(), seen, "document"),
                            partial(self._captured, self.current_code), self._capture_failed)

    def _captured(self, code: str, result: ScanResult) -> None:
        self.preview.paused = False
        if not still_here(self) or self.application_id is None:
            return
        self.replacements[code] = result.jpeg
        self.hold_until = time.monotonic() + HOLD_MESSAGE_S
        name = next((m.name for m in self.materials if m.code == code), code)
        self._say(f"“{name}”已重拍。可以继续重拍其他材料，或点提交补正。", ok=True)
        self._select(code)

    def _capture_failed(self, exc: BaseException) -> None:
        self.preview.paused = False
        if still_here(self):
            self.hold_until = time.monotonic() + HOLD_MESSAGE_S
            self._say(failure_text(exc, "拍照没有成功。") + " 请调整后重拍。", error=True)

    # ---- submit ----------------------------------------------------------------------------------------------

    def _submit(self) -> None:
        if self.application_id is None:
            return
        if not self.replacements:
            self._say("请先拍下要补正的材料。", error=True)
            return
        self.busy = True
        self.submit_button.setEnabled(False)
        self._say("正在提交补正……")
        station, operator, key, files = self.ctx.station, self.ctx.operator, self.application_id, dict(
            self.replacements)
        self.ctx.bridge.run(lambda: resubmit_for_applicant(station, operator, key, files), self._resubmitted,
                            self._failed)

    def _resubmitted(self, done: Resubmitted) -> None:
        self.busy = False
        self.submit_button.setEnabled(True)
        window = self.ctx.window
        if not still_here(self) or window is None:
            return
        if self.ctx.sync is not None:
            self.ctx.sync.nudge()
        notify = self.on_done
        self._blank()
        if notify is not None:
            notify(f"补正已重新提交（第 {done.version} 版）：{'、'.join(done.replaced)}。联网后自动上报。")
        window.back()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.submit_button.setEnabled(True)
        if still_here(self):
            self._say(failure_text(exc, "补正没有提交成功，请重试。"), error=True)

    def _say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.setText(text)
        self.message.setObjectName("error" if error else ("okText" if ok else "hint"))
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _blank(self) -> None:
        self.preview.reset()
        self.replacements = {}
        self.materials = []
        self.current_code = None
        self.busy = False
        self.on_done = None
        self.message.setText("")
        self.case.setText("")
        self.reason.setText("")
        clear_layout(self.list_box)

    def clear_personal_data(self) -> None:
        self._blank()
        self.application_id = None
        self.item_code = ""
        self.provided = {}
