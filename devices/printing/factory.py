"""Choosing a receipt printer by URL.

    tcp://10.0.0.5:9100            network printer, raw port (default 9100)
    serial:///dev/ttyS0?baud=9600  serial printer (also serial://COM3); flow=rtscts|dsrdtr
    usb://04b8:0e15                USB printer by vendor:product (hex) via python-escpos/pyusb; in_ep, out_ep
    file:///dev/usb/lp0            the kernel printer device, or any file (captures); status unknown
    cups://QUEUE                   a raw CUPS queue through `lp -o raw`; status unknown
    sim://[mode]                   the ESC/POS emulator on 127.0.0.1, driven by the real tcp backend

Printer profile options in the query, for every scheme: paper=58|80, chinese=gb18030|raster,
qr=native|raster, cut=0|1, columns=N, dots=N. tcp and serial also take status=0 for printers that never answer
DLE EOT (status then unknown), tcp takes timeout=seconds (connect). Unknown options are refused, so a typo in
the configuration is seen at once instead of silently printing with defaults.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from devices.printing.document import PrinterProfile
from devices.printing.printer import PrinterError, PrinterStatus, PrintResult, ReceiptPrinter
from devices.printing.transports import (
    CupsPrinter,
    FilePrinter,
    NetworkPrinter,
    SerialPrinter,
    UsbPrinter,
)

PROFILE_OPTIONS: Final = frozenset({"paper", "chinese", "qr", "cut", "columns", "dots"})
SCHEME_OPTIONS: Final = {
    "tcp": frozenset({"status", "timeout"}),
    "serial": frozenset({"baud", "flow", "status"}),
    "usb": frozenset({"in_ep", "out_ep"}),
    "file": frozenset(),
    "cups": frozenset(),
    "sim": frozenset(),
}
BAUD_RATES: Final = (9600, 19200, 38400, 57600, 115200)
EXAMPLE: Final = "tcp://10.0.0.5:9100、serial:///dev/ttyS0?baud=9600、usb://04b8:0e15、file:///dev/usb/lp0、cups://队列名、sim://"


def create_printer(url: str, profile: PrinterProfile | None = None) -> ReceiptPrinter:
    """The printer `url` names, with `profile` (default: 80 mm) adjusted by the URL's query options."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEME_OPTIONS:
        raise PrinterError(f"不认识的打印机地址：{url}", detail=f"可用：{EXAMPLE}")
    options = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - PROFILE_OPTIONS - SCHEME_OPTIONS[scheme]
    if unknown:
        raise PrinterError(f"打印机地址中有不认识的选项：{'、'.join(sorted(unknown))}", detail=url)
    prof = profile_from_options(options, profile or PrinterProfile())
    target = unquote(parts.netloc + parts.path)
    if scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port or 9100
        except ValueError as exc:
            raise PrinterError(f"打印机端口不正确：{url}") from exc
        if not host:
            raise PrinterError(f"打印机地址缺少主机：{url}（例如 tcp://10.0.0.5:9100）")
        return NetworkPrinter(url, host, port, prof, connect_timeout=_number(options, "timeout", 3.0),
                              ask_status=_flag(options, "status", True))
    if scheme == "serial":
        if not target:
            raise PrinterError(f"打印机地址缺少串口：{url}（例如 serial:///dev/ttyS0?baud=9600）")
        baud = options.get("baud", "9600")
        if not baud.isdigit() or int(baud) not in BAUD_RATES:
            raise PrinterError(f"打印机波特率不正确：{baud}", detail=f"可用：{'、'.join(map(str, BAUD_RATES))}")
        flow = options.get("flow", "none")
        if flow not in ("none", "rtscts", "dsrdtr"):
            raise PrinterError(f"打印机流控方式不正确：{flow}", detail="可用：none、rtscts、dsrdtr")
        return SerialPrinter(url, target, int(baud), prof, flow=flow, ask_status=_flag(options, "status", True))
    if scheme == "usb":
        vendor, _, product = parts.netloc.partition(":")
        try:
            ids = int(vendor, 16), int(product, 16)
            endpoints = int(options.get("in_ep", "0x82"), 0), int(options.get("out_ep", "0x01"), 0)
        except ValueError as exc:
            raise PrinterError(f"USB 打印机地址不正确：{url}（例如 usb://04b8:0e15）") from exc
        return UsbPrinter(url, *ids, prof, in_ep=endpoints[0], out_ep=endpoints[1])
    if scheme == "file":
        if not parts.path:
            raise PrinterError(f"打印机地址缺少文件路径：{url}（例如 file:///dev/usb/lp0）")
        return FilePrinter(url, unquote(parts.path), prof)
    if scheme == "cups":
        if not target.strip("/"):
            raise PrinterError(f"打印机地址缺少打印队列名：{url}（例如 cups://receipt）")
        return CupsPrinter(url, target.strip("/"), prof)
    return SimulatedPrinter(url, prof, target.strip("/") or "normal")


def profile_from_options(options: dict[str, str], base: PrinterProfile) -> PrinterProfile:
    if "paper" in options:
        paper = options["paper"].removesuffix("mm")
        if paper not in ("58", "80"):
            raise PrinterError(f"纸宽只能是 58 或 80：{options['paper']}")
        base = PrinterProfile.for_paper(int(paper), chinese=base.chinese, qr=base.qr, cutter=base.cutter)
    changes: dict[str, object] = {}
    if "chinese" in options:
        if options["chinese"] not in ("gb18030", "raster"):
            raise PrinterError(f"中文打印方式只能是 gb18030 或 raster：{options['chinese']}")
        changes["chinese"] = options["chinese"]
    if "qr" in options:
        if options["qr"] not in ("native", "raster"):
            raise PrinterError(f"二维码打印方式只能是 native 或 raster：{options['qr']}")
        changes["qr"] = options["qr"]
    if "cut" in options:
        changes["cutter"] = _flag(options, "cut", True)
    for key, field, low, high in (("columns", "columns", 16, 96), ("dots", "dots_per_line", 128, 1024)):
        if key in options:
            value = options[key]
            if not value.isdigit() or not low <= int(value) <= high or (key == "dots" and int(value) % 8):
                raise PrinterError(f"打印机选项 {key} 不正确：{value}")
            changes[field] = int(value)
    return PrinterProfile(**{**base.__dict__, **changes}) if changes else base


def _flag(options: dict[str, str], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise PrinterError(f"打印机选项 {key} 只能是 0 或 1：{value}")
    return value in ("1", "true", "yes")


def _number(options: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(options.get(key, default))
    except ValueError as exc:
        raise PrinterError(f"打印机选项 {key} 不是数字：{options[key]}") from exc
    if not 0 < value <= 60:
        raise PrinterError(f"打印机选项 {key} 超出范围：{value}")
    return value


class SimulatedPrinter(NetworkPrinter):
    """`sim://[mode]`: the emulator, started now, behind the real tcp backend; `close()` stops it."""

    def __init__(self, url: str, profile: PrinterProfile, mode: str = "normal") -> None:
        from devices.simulators.escpos_printer import EscPosPrinterEmulator, PrinterMode

        if mode not in set(PrinterMode):
            raise PrinterError(f"模拟打印机没有 {mode} 状态", detail=f"可用：{'、'.join(PrinterMode)}")
        self.emulator = EscPosPrinterEmulator()
        self.emulator.set_mode(mode)
        host, port = self.emulator.start()
        super().__init__(url, host, port, profile)

    @property
    def target(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def print_raw(self, data: bytes) -> PrintResult:
        """As over tcp, then wait until the emulator has filed the connection, so `emulator.jobs` is complete
        when this returns (the emulator records a job only when it sees the connection close)."""
        try:
            return super().print_raw(data)
        finally:
            self.emulator.wait_idle(timeout=2.0)

    def status(self) -> PrinterStatus:
        try:
            return super().status()
        finally:
            self.emulator.wait_idle(timeout=2.0)

    def close(self) -> None:
        self.emulator.stop()
