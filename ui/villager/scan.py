"""Guided scanning: the live picture from the document camera with the page outline drawn on it
(`ui.camera_view`), the quality messages, take and retake, one material after another."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk_app.materials.scanning import ScanResult, process_capture
from kiosk_app.self_service import CapturedPage
from ui.camera_view import LivePreview, Seen
from ui.shell import Page, UiContext
from ui.widgets import button, clear_layout, label, wrapped


class ScanPage(Page):
    name = "scan"
    title = "扫描材料"
    prompt = "请把材料平放在高拍仪下面，看到绿框后点拍照。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        body = QWidget()
        grid = QGridLayout(body)
        self.list_holder = QWidget()
        self.list_box = QVBoxLayout(self.list_holder)
        self.preview = LivePreview(ctx, self._framed, lambda message: self._say(message, error=True))
        self.message = label("", "hint")
        self.capture_button = button("拍  照", self._capture, primary=True, name="capture")
        self.next_button = button("下一步", self._next, name="scanNext")
        side = QWidget()
        side_box = QVBoxLayout(side)
        side_box.addWidget(label("要扫描的材料：", "subtitle"))
        side_box.addWidget(self.list_holder)
        side_box.addStretch(1)
        if ctx.theme.orientation == "landscape":
            grid.addWidget(side, 0, 0)
            grid.addWidget(self.preview, 0, 1)
            grid.setColumnStretch(1, 1)
        else:  # portrait: the picture takes the height the list does not need
            grid.addWidget(self.preview, 0, 0)
            grid.addWidget(side, 1, 0)
            grid.setRowStretch(0, 1)
            side_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(body, 1)
        self.outer.addWidget(self.message)
        capture_row = QWidget()
        self.capture_row = QHBoxLayout(capture_row)  # an agent's page adds its 容缺 way on beside 拍照
        self.capture_row.setContentsMargins(0, 0, 0, 0)
        self.capture_row.addWidget(self.capture_button, 2)
        self.outer.addWidget(capture_row)
        self.footer_action(self.next_button)
        self.current_code: str | None = None

    # ---- materials list ------------------------------------------------------------------------------------

    def enter(self) -> None:
        self.message.setText("")
        self.message.setObjectName("hint")
        self._select(self._first_missing())
        self._refresh_list()
        self.preview.start()

    def _first_missing(self) -> str | None:
        missing = self.ctx.session.missing_scans()
        materials = self.ctx.session.paper_materials()
        return missing[0].code if missing else (materials[0].code if materials else None)

    def _select(self, code: str | None) -> None:
        self.current_code = code
        self._refresh_list()

    def _refresh_list(self) -> None:
        clear_layout(self.list_box)
        session = self.ctx.session
        for m in session.paper_materials():
            done = m.code in session.captured
            mark = "✓ 已拍" if done else ("必需" if m.required else "可选")
            b = button(f"{wrapped(m.name, 12)}\n{mark}", partial(self._select, m.code), name=f"material_{m.code}")
            b.setProperty("primary", m.code == self.current_code)
            self.list_box.addWidget(b)
        self.next_button.setProperty("primary", not session.missing_scans())
        self.next_button.style().unpolish(self.next_button)
        self.next_button.style().polish(self.next_button)

    # ---- live preview --------------------------------------------------------------------------------------

    @property
    def seen(self) -> Seen | None:
        return self.preview.seen

    def _framed(self, found: bool) -> None:
        self._say("已找到材料，请点拍照。" if found else "没有看到材料，请把材料平放在高拍仪下面。")

    # ---- capture ---------------------------------------------------------------------------------------------

    def _capture(self) -> None:
        if self.current_code is None or self.preview.paused:
            return
        self.preview.paused = True
        self._say("正在拍照，请不要移动材料……")
        camera = self.ctx.devices.camera()
        seen = self.seen
        self.ctx.bridge.run(lambda: process_capture(camera.capture_still().result(), seen, "document"),
                            self._captured, self._capture_failed)

    def _captured(self, result: ScanResult) -> None:
        self.preview.paused = False
        code = self.current_code
        material = next((m for m in self.ctx.session.paper_materials() if m.code == code), None)
        if material is None:
            return
        self.ctx.session.captured[material.code] = CapturedPage(material.code, material.name, result.jpeg,
                                                                result.thumbnail)
        self._say(f"“{material.name}”已拍好。", ok=True)
        self.ctx.voice.say("拍好了。")
        self._select(self._first_missing())

    def _capture_failed(self, exc: BaseException) -> None:
        self.preview.paused = False
        message = getattr(exc, "message", None) or "拍照没有成功，请再拍一次。"
        self._say(message + " 请调整后重拍。", error=True)
        self.ctx.voice.say(message)

    def _next(self) -> None:
        missing = self.ctx.session.missing_scans()
        if missing:
            self._say(f"还需要扫描：{'、'.join(m.name for m in missing)}。", error=True)
            return
        self.preview.stop()
        self.ctx.go("review")

    def _say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.setText(text)
        self.message.setObjectName("error" if error else ("okText" if ok else "hint"))
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def clear_personal_data(self) -> None:
        self.preview.reset()
        self.message.setText("")
        self.current_code = None
        clear_layout(self.list_box)
