"""The device self-tests' work, run on workers and free of Qt: open a reader or camera on its own owning thread for
the address under test, print a test page, judge a still, and keep each outcome as a `DeviceResult` for the
diagnostics bundle. Personal data never enters a result: a card read is reported by its masked name and number
on screen only."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from devices.camera.factory import create_camera
from devices.camera.owner import CameraOwner
from devices.identity.card import CardRecord
from devices.identity.factory import create_reader
from devices.identity.owner import ReaderOwner
from kiosk_app.documents import A4Document, Section, SignatureLine
from kiosk_app.errors import KioskError
from kiosk_app.identity.from_card import identity_from_card
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.materials.quality import QualityReport
from kiosk_app.station_devices import StationDevices

log = logging.getLogger(__name__)
T = TypeVar("T")

OPEN_TIMEOUT_S: Final = 15.0
READ_TIMEOUT_S: Final = 30.0
DEVICE_TITLES: Final = {"devices.id_reader": "身份证读卡器", "devices.ssc_reader": "社保卡读卡器",
                        "devices.camera": "高拍仪", "devices.receipt_printer": "回执打印机",
                        "devices.a4_printer": "A4 打印机"}
# How each quality check reads to a technician, and whether its value must stay at or below the threshold.
_CHECKS: Final = {"blur": ("清晰度", False), "glare": ("反光面积", True), "dark": ("亮度", False),
                  "cut_off": ("离画面边缘", False), "too_small": ("材料占画面", False)}
_PERCENT: Final = frozenset({"glare", "cut_off", "too_small"})


@dataclass(frozen=True)
class DeviceResult:
    device: str  # the setting key: devices.id_reader ...
    url: str
    ok: bool
    message: str  # the sentence shown; never a name or an ID number in full
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return DEVICE_TITLES.get(self.device, self.device)

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "title": self.title, "url": self.url, "ok": self.ok, "message": self.message,
                "at": self.at.isoformat(), "detail": self.detail}


def _wait(future: Future[T], what: str) -> T:
    try:
        return future.result(timeout=OPEN_TIMEOUT_S)
    except FutureTimeout:
        raise KioskError(f"{what}没有响应，请检查连接线和电源后重试。") from None


def close_quietly(owner: ReaderOwner | CameraOwner) -> None:
    """Close a device opened for a test; a device that fails to close must not hide the test's own result."""
    try:
        owner.close()
    except Exception:
        log.warning("closing a device after its self-test failed", exc_info=True)


def open_reader(devices: StationDevices, url: str) -> tuple[ReaderOwner, str]:
    """Open the reader at `url` on its own thread; returns it with its health summary (model, SAM, firmware)."""
    devices.reset()  # the station's own reader lets go of the port first
    owner = ReaderOwner(create_reader(url))
    try:
        _wait(owner.open(), "读卡器")
    except BaseException:
        close_quietly(owner)
        raise
    try:
        health = _wait(owner.health(), "读卡器")
        summary = health.summary + (f"（{health.detail}）" if health.detail else "")
    except Exception as exc:  # a reader that reads cards but not its own status is still worth a read test
        summary = f"设备状态未知：{getattr(exc, 'message', None) or type(exc).__name__}"
    return owner, summary


def masked_card(record: CardRecord) -> str:
    """The card as the self-test may show it: masked name and number, checked like any card at the counter."""
    identity = identity_from_card(record)
    return f"{mask_name(identity.name)}  {mask_id_number(identity.id_number)}"


def open_camera(devices: StationDevices, url: str) -> CameraOwner:
    devices.reset()
    owner = CameraOwner(create_camera(url))
    try:
        _wait(owner.open(), "高拍仪")
    except BaseException:
        close_quietly(owner)
        raise
    return owner


def _value(name: str, value: float) -> str:
    return f"{value * 100:.1f}%" if name in _PERCENT else f"{value:.0f}"


def quality_text(report: QualityReport) -> str:
    """Every check with its measure and limit, so a technician sees how close the camera is to failing."""
    parts = []
    for check in report.checks:
        caption, at_most = _CHECKS.get(check.name, (check.name, False))
        limit = f"{'≤' if at_most else '≥'} {_value(check.name, check.threshold)}"
        parts.append(f"{caption} {_value(check.name, check.value)}（要求 {limit}）{'✓' if check.ok else '✗'}")
    return "；".join(parts)


def quality_json(report: QualityReport | None) -> dict[str, Any]:
    return {} if report is None else {"quality": report.to_json()}


def a4_test_page(station_name: str, url: str, at: datetime) -> A4Document:
    """The A4 printer's test page: Chinese and Latin text to read, and a frame whose four sides show whether the
    paper sits straight and nothing is cut off at the margins. No personal data: it is left on the printer."""
    when = f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"
    return A4Document(
        title="A4 打印机测试页",
        subtitle=station_name,
        sections=(
            Section("打印信息", rows=(("站点", station_name), ("打印时间", when), ("打印机地址", url))),
            Section("中文", paragraphs=("浙江政务服务“最多跑一次”：村里代办，乡镇受理，证照齐全，一次办结。",
                                        "永和九年，岁在癸丑，暮春之初，会于会稽山阴之兰亭，修禊事也。")),
            Section("数字与字母", paragraphs=("0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                           "abcdefghijklmnopqrstuvwxyz")),
            Section("边框", paragraphs=("此方框的四条边应完整、清晰、笔直；缺边或歪斜时，"
                                         "请检查纸张位置和打印机的页边距设置。",), boxed=True),
        ),
        signature_lines=(SignatureLine("检查人"),),
        footer=f"{station_name} · A4 打印机测试页",
    )
