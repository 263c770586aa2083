"""Devices: the address of the ID reader, the social-security reader, the document camera, the receipt printer and
the A4 printer, the readers found on this machine to pick from, and a live self-test per device with a plain
result. Each test opens the device under test on its own owning thread; the GUI thread only paints. The results
are kept for the diagnostics bundle."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, Final

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from devices.camera.owner import CameraOwner
from devices.identity.card import CardRecord
from devices.identity.factory import DetectedReader, detect_readers
from devices.identity.owner import ReaderOwner
from kiosk_app.accounts import Permission, require
from kiosk_app.materials.detection import Quad
from kiosk_app.materials.scanning import ScanFailed, ScanResult, process_capture
from kiosk_app.receipts.queue import JobOutcome
from kiosk_app.receipts.service import print_test_page
from ui.camera_view import PreviewFrame, analyse_preview
from ui.documents import print_test_page as print_a4_test_page
from ui.shell import UiContext
from ui.technician.device_card import DeviceCard
from ui.technician.device_checks import (
    READ_TIMEOUT_S,
    DeviceResult,
    a4_test_page,
    close_quietly,
    masked_card,
    open_camera,
    open_reader,
    quality_json,
    quality_text,
)
from ui.technician.staff_page import StaffPage, actions, plain_error
from ui.widgets import button, card, clear_layout, label

PREVIEW_MS: Final = 120
SEEN_FRAMES: Final = 4  # the outline held for a few frames: the page lies still, take the still
MAX_FRAMES: Final = 60  # no page seen in ~8 s: take the still anyway, its result says what is wrong
KEPT_RESULTS: Final = 40


class DevicesPage(StaffPage):
    name = "devices"
    title = "设备配置与自测"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.cards = {key: DeviceCard(key, self.save, self.test, self.cancel) for key in
                      ("devices.id_reader", "devices.ssc_reader", "devices.camera", "devices.receipt_printer",
                       "devices.a4_printer")}
        self._detect_part()
        # An A4 printer is reached in more ways than one placeholder can show; an empty address is a choice too.
        self.cards["devices.a4_printer"].add_extra(label(
            "可用地址：socket://IP:9100（网络打印机直连）、ipp://IP/ipp/print、system://队列名（系统打印机，"
            "留空队列名为默认打印机）、dir:///文件夹（U 盘或共享文件夹）。地址留空时只生成 PDF 文件。", "hint"))
        self.preview = QLabel()
        self.preview.setObjectName("devicePreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(560, 420)
        self.preview.setStyleSheet("background: #20252b; border-radius: 12px;")
        self.preview.hide()
        self.cards["devices.camera"].add_extra(self.preview)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(24)
        columns = 2 if ctx.theme.orientation == "landscape" else 1
        for i, device in enumerate(self.cards.values()):
            grid.addWidget(device, i // columns, i % columns)
        self.outer.addWidget(body)
        log_holder = QWidget()
        self.log_box = QVBoxLayout(log_holder)
        self.log_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(card(label("本次自测记录（导出诊断包时一并带上）", "subtitle"), log_holder))
        self.outer.addStretch(1)
        self.results: list[DeviceResult] = []
        self.reader_owner: ReaderOwner | None = None
        self.camera_owner: CameraOwner | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._camera_tick)
        self._frames = self._seen_frames = 0
        self._in_flight = False
        self._seen: tuple[Quad, tuple[int, ...]] | None = None
        self._camera_url = ""
        self._reader_cancelled = False
        self.detecting = False
        self._show_results()

    def _detect_part(self) -> None:
        holder = QWidget()
        self.detected_box = QVBoxLayout(holder)
        self.detected_box.setContentsMargins(0, 0, 0, 0)
        self.cards["devices.id_reader"].add_extra(actions(button("查找已连接的读卡器", self.detect,
                                                                  name="detectReaders")))
        self.cards["devices.id_reader"].add_extra(holder)

    def enter(self) -> None:
        self.run(self.ctx.station.settings.all, self._show_settings, self.cards["devices.id_reader"].result.failed)

    def _show_settings(self, values: dict[str, Any]) -> None:
        for key, device in self.cards.items():
            if not device.busy:
                device.show_saved(str(values.get(key) or ""))

    # ---- addresses -----------------------------------------------------------------------------------------------

    def save(self, device: DeviceCard) -> None:
        operator, settings, devices, url = self.operator, self.ctx.station.settings, self.ctx.devices, device.url

        def work() -> str:
            require(operator, Permission.CONFIGURE_DEVICES)
            value = str(settings.set(device.key, url))
            devices.reset()  # the next use opens the device at the new address
            return value

        device.field.accept()
        device.result.hint("正在保存……")
        self.run(work, partial(self._saved, device), partial(self._save_failed, device))

    def _saved(self, device: DeviceCard, url: str) -> None:
        device.show_saved(url)
        device.result.ok("地址已保存。" if url else "地址已清空，本机不再使用这台设备。")

    def _save_failed(self, device: DeviceCard, exc: BaseException) -> None:
        device.result.clear()
        device.field.refuse(plain_error(exc, "地址没有保存。"))

    def detect(self) -> None:
        clear_layout(self.detected_box)
        self.detected_box.addWidget(label("正在查找……", "hint"))
        self.detecting = True
        self.run(detect_readers, self._show_detected, self._detect_failed)

    def _detect_failed(self, exc: BaseException) -> None:
        self.detecting = False
        clear_layout(self.detected_box)
        self.cards["devices.id_reader"].result.failed(exc, "查找读卡器失败。")

    def _show_detected(self, found: list[DetectedReader]) -> None:
        self.detecting = False
        clear_layout(self.detected_box)
        usable = [d for d in found if d.url]
        for d in found:
            if not d.url:  # an enumeration that failed says so instead of listing nothing
                self.detected_box.addWidget(label(d.description, "error"))
        if not usable:
            self.detected_box.addWidget(label("没有检测到读卡器：请检查 USB 连接线，或填写模拟读卡器 sim://she。",
                                              "hint"))
        for i, d in enumerate(usable):
            target = "社保卡读卡器" if d.kind == "pcsc" else "身份证读卡器"
            self.detected_box.addWidget(button(f"{d.description}\n{d.url} → 用作{target}",
                                               partial(self._pick, d), name=f"detected_{i}"))

    def _pick(self, reader: DetectedReader) -> None:
        # Resident ID cards need the SAM module behind a serial reader; PC/SC readers read social-security cards.
        device = self.cards["devices.ssc_reader" if reader.kind == "pcsc" else "devices.id_reader"]
        device.field.set_text(reader.url)
        device.result.hint("已填入地址，请点“保存地址”，再点“自测”。")

    # ---- self-tests ----------------------------------------------------------------------------------------------

    def test(self, device: DeviceCard) -> None:
        url = device.url
        if not url:
            device.result.error("请先填写设备地址。")
            return
        if any(other.busy for other in self.cards.values()):
            # One test at a time: each test first makes the station's devices let go of their ports.
            device.result.hint("另一项自测正在进行，请等它结束后再试。")
            return
        if device.key == "devices.camera":
            self._test_camera(device, url)
        elif device.key == "devices.receipt_printer":
            self._test_printer(device, url)
        elif device.key == "devices.a4_printer":
            self._test_a4_printer(device, url)
        else:
            self._test_reader(device, url)

    def _record(self, device: DeviceCard, url: str, ok: bool, message: str, *, on_screen: str = "",
                **detail: Any) -> None:
        """Show the outcome and keep it for the bundle; `on_screen` (a masked card holder) is shown, not kept."""
        device.set_busy(False)
        shown = message + on_screen + device.unsaved_note(url)
        if ok:
            device.result.ok(shown)
        else:
            device.result.error(shown)
        self.results.append(DeviceResult(device.key, url, ok, message, detail=detail))
        del self.results[:-KEPT_RESULTS]
        self._show_results()

    def _failed(self, device: DeviceCard, url: str, exc: BaseException) -> None:
        self._record(device, url, False, plain_error(exc, "自测没有完成。"))

    def _show_results(self) -> None:
        clear_layout(self.log_box)
        if not self.results:
            self.log_box.addWidget(label("还没有自测。", "hint"))
        for r in reversed(self.results[-8:]):
            self.log_box.addWidget(label(f"{r.at.astimezone():%H:%M:%S} {r.title}：{'通过' if r.ok else '未通过'}"
                                         f" · {r.message}", "okText" if r.ok else "error"))

    def _test_reader(self, device: DeviceCard, url: str) -> None:
        operator, devices = self.operator, self.ctx.devices

        def work() -> tuple[ReaderOwner, str]:
            require(operator, Permission.CONFIGURE_DEVICES)
            return open_reader(devices, url)

        device.set_busy(True)
        device.result.hint("正在打开读卡器……")
        self.run(work, partial(self._reader_open, device, url), partial(self._failed, device, url))

    def _reader_open(self, device: DeviceCard, url: str, opened: tuple[ReaderOwner, str]) -> None:
        owner, health = opened
        self.reader_owner = owner
        self._reader_cancelled = False
        device.set_busy(True, cancellable=True)
        device.result.hint(f"读卡器已就绪（{health}）。请把测试卡放在读卡区……")
        self.watch(owner.read_card(READ_TIMEOUT_S), partial(self._card_read, device, url, health),
                   partial(self._card_failed, device, url))

    def _release_reader(self) -> None:
        owner, self.reader_owner = self.reader_owner, None
        if owner is not None:
            self.ctx.bridge.run(partial(close_quietly, owner), lambda _none: None)

    def _card_read(self, device: DeviceCard, url: str, health: str, record: CardRecord) -> None:
        self._release_reader()
        try:
            shown = masked_card(record)
        except Exception as exc:  # the reader works; the card itself was refused, which is worth knowing too
            self._record(device, url, False, f"读卡器工作正常，但这张卡未通过核验：{plain_error(exc)}",
                         health=health)
            return
        self._record(device, url, True, "读卡成功", on_screen=f"：{shown}", health=health)

    def _card_failed(self, device: DeviceCard, url: str, exc: BaseException) -> None:
        self._release_reader()
        if self._reader_cancelled:
            device.set_busy(False)
            device.result.hint("自测已取消。")
        else:
            self._failed(device, url, exc)

    def _test_printer(self, device: DeviceCard, url: str) -> None:
        operator, station = self.operator, self.ctx.station

        def work() -> JobOutcome:
            technician = require(operator, Permission.CONFIGURE_DEVICES)
            return print_test_page(station, url, actor=technician.actor)

        device.set_busy(True)
        device.result.hint("正在打印测试页……")
        self.run(work, partial(self._printed, device, url), partial(self._failed, device, url))

    def _printed(self, device: DeviceCard, url: str, outcome: JobOutcome) -> None:
        if outcome.printed:
            self._record(device, url, True, f"测试页已打印（{outcome.bytes_sent} 字节），请查看中文、二维码和切纸。",
                         job=outcome.job_id)
        else:
            self._record(device, url, False, outcome.error or "测试页没有打印出来。", job=outcome.job_id)

    def _test_a4_printer(self, device: DeviceCard, url: str) -> None:
        operator, settings = self.operator, self.ctx.station.settings

        def work() -> tuple[str, int]:
            technician = require(operator, Permission.CONFIGURE_DEVICES)
            page = a4_test_page(str(settings.get("station.name")), url, datetime.now())
            return print_a4_test_page(url, page, user=technician.username)

        device.set_busy(True)
        device.result.hint("正在生成并发送 A4 测试页……")
        self.run(work, partial(self._a4_printed, device, url), partial(self._failed, device, url))

    def _a4_printed(self, device: DeviceCard, url: str, sent: tuple[str, int]) -> None:
        target, size = sent
        self._record(device, url, True, f"测试页已发送到{target}（{max(1, size // 1024)} KB），请查看中文、数字字母"
                                        "和方框是否清晰完整。", target=target, bytes=size)

    # ---- camera: live preview with the outline, then one still --------------------------------------------------

    def _test_camera(self, device: DeviceCard, url: str) -> None:
        operator, devices = self.operator, self.ctx.devices

        def work() -> CameraOwner:
            require(operator, Permission.CONFIGURE_DEVICES)
            return open_camera(devices, url)

        device.set_busy(True)
        device.result.hint("正在打开高拍仪……")
        self.run(work, partial(self._camera_open, device, url), partial(self._failed, device, url))

    def _camera_open(self, device: DeviceCard, url: str, owner: CameraOwner) -> None:
        self.camera_owner, self._camera_url = owner, url
        self._frames = self._seen_frames = 0
        self._in_flight, self._seen = False, None
        device.set_busy(True, cancellable=True)
        device.result.hint("请在高拍仪下放一张 A4 纸……")
        self.preview.show()
        self.timer.start(PREVIEW_MS)

    def _camera_tick(self) -> None:
        owner = self.camera_owner
        if owner is None or self._in_flight:
            return
        if not self.isVisible():  # the technician went to another page: the test ends with nobody watching
            self.cancel(self.cards["devices.camera"])
            return
        self._frames += 1
        self._in_flight = True
        self.run(lambda: analyse_preview(owner.preview_frame().result()), self._camera_frame, self._camera_failed)

    def _camera_frame(self, frame: PreviewFrame) -> None:
        self._in_flight = False
        if self.camera_owner is None or not self.timer.isActive():
            return
        image = QImage(frame.rgb, frame.width, frame.height, frame.width * 3, QImage.Format.Format_RGB888)
        self.preview.setPixmap(QPixmap.fromImage(image.copy()).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        device = self.cards["devices.camera"]
        if frame.seen is not None:
            self._seen, self._seen_frames = frame.seen, self._seen_frames + 1
            device.result.hint("已看到材料（绿框），请保持不动……")
        else:
            device.result.hint("没有看到材料，请把一张 A4 纸平放在高拍仪下面……")
        if self._seen_frames >= SEEN_FRAMES or self._frames >= MAX_FRAMES:
            self._capture()

    def _capture(self) -> None:
        self.timer.stop()
        owner, seen = self.camera_owner, self._seen
        if owner is None:
            return
        self.cards["devices.camera"].cancel_button.hide()
        self.cards["devices.camera"].result.hint("正在拍照并检查画质……")
        self.run(lambda: process_capture(owner.capture_still().result(), seen, "document"), self._captured,
                 self._camera_failed)

    def _captured(self, scan: ScanResult) -> None:
        self._release_camera()
        size = f"{scan.width}×{scan.height}"
        self._record(self.cards["devices.camera"], self._camera_url, True,
                     f"画质合格，材料已裁正（{size}）。{quality_text(scan.quality)}", **quality_json(scan.quality))

    def _camera_failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self._release_camera()
        device = self.cards["devices.camera"]
        if isinstance(exc, ScanFailed):
            details = f" {quality_text(exc.report)}" if exc.report is not None else ""
            self._record(device, self._camera_url, False, f"画质不合格：{exc.message}{details}",
                         **quality_json(exc.report))
        else:
            self._failed(device, self._camera_url, exc)

    def _release_camera(self) -> None:
        self.timer.stop()
        owner, self.camera_owner = self.camera_owner, None
        if owner is not None:
            self.ctx.bridge.run(partial(close_quietly, owner), lambda _none: None)

    def cancel(self, device: DeviceCard) -> None:
        if device.key == "devices.camera":
            self._release_camera()
        elif self.reader_owner is not None:
            self._reader_cancelled = True
            self.reader_owner.cancel()  # the read ends with "cancelled" and releases the reader itself
            return
        device.set_busy(False)
        device.result.hint("自测已取消。")

    def wipe(self) -> None:
        if self.reader_owner is not None:
            self.reader_owner.cancel()
        self._release_reader()
        self._release_camera()
        self.preview.clear()
        self.preview.hide()
        for device in self.cards.values():
            device.set_busy(False)
            device.result.clear()  # a masked name is still somebody's: it goes with the technician
        self.detecting = False
        clear_layout(self.detected_box)
