"""Receipt printers over TCP (port 9100), serial, USB, a device file and CUPS.

Every printer here opens its connection per job and closes it afterwards: network printers commonly serve one
connection at a time and drop idle ones, and a kiosk prints a few receipts an hour, so holding a socket buys
nothing. A job is: status (DLE EOT 1-4) -> refuse early if not ok -> send -> status again -> raise if not ok.
Connections that cannot answer DLE EOT (file, CUPS, and USB printers without an IN endpoint) report
`known=False` and are trusted to have printed.

Failures before the first job byte leaves are `PrinterUnavailable`; a connection lost after that is
`PrinterFault` ("打印中断"), because part of the receipt may be on paper and the person must check it.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import socket
import subprocess
from abc import ABC, abstractmethod
from typing import Any, Final

from devices.printing.document import PrintDocument, PrinterProfile
from devices.printing.escpos_encoder import encode
from devices.printing.printer import PrinterFault, PrinterStatus, PrinterUnavailable, PrintResult
from devices.printing.status import ALL_REQUESTS, UNKNOWN_STATUS, parse_status, raise_for_status

MSG_NO_NETWORK_PRINTER: Final = "打印机没有连接，请检查电源和网线"
MSG_NO_CABLED_PRINTER: Final = "打印机没有连接，请检查电源和数据线"
MSG_INTERRUPTED: Final = "打印中断，请检查小票是否完整，必要时重新打印"
MSG_NO_CUPS: Final = "系统打印服务不可用，请联系技术人员"
STATUS_TIMEOUT: Final = 3.0  # seconds for the four status bytes when the printer is idle
SEND_TIMEOUT: Final = 10.0  # seconds for sending a small job; larger ones get time for their size
PRINT_BYTES_PER_SECOND: Final = 20_000  # a slow printer on raster data; sending and the status after wait on it
MAX_WAIT: Final = 120.0  # no receipt takes longer; a printer that swallowed more is stuck


def time_for(data_length: int, base: float) -> float:
    """Seconds to allow for `data_length` bytes to be taken (and printed) by a slow printer."""
    return min(base + data_length / PRINT_BYTES_PER_SECOND, MAX_WAIT)


class LinkLost(Exception):
    """The connection failed; `detail` says how, in words a technician can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Link(ABC):
    """One open connection to a printer, for one job."""

    @abstractmethod
    def send(self, data: bytes) -> None: ...

    def query_status(self, timeout: float) -> PrinterStatus:
        return UNKNOWN_STATUS

    def close(self) -> None:
        return None


class LinkPrinter(ABC):
    """A ReceiptPrinter whose connection is a Link; subclasses only say how to connect."""

    unavailable_message = MSG_NO_CABLED_PRINTER

    def __init__(self, url: str, profile: PrinterProfile) -> None:
        self.url = url
        self.profile = profile

    @abstractmethod
    def _connect(self) -> Link: ...

    def _open_link(self) -> Link:
        try:
            return self._connect()
        except LinkLost as exc:
            raise PrinterUnavailable(self.unavailable_message, detail=exc.detail) from exc

    def open(self) -> None:
        """Check the printer is reachable (and say why not); jobs connect on their own."""
        self._open_link().close()

    def close(self) -> None:
        return None

    def status(self) -> PrinterStatus:
        link = self._open_link()
        try:
            return link.query_status(STATUS_TIMEOUT)
        except LinkLost as exc:
            raise PrinterUnavailable(self.unavailable_message, detail=exc.detail) from exc
        finally:
            link.close()

    def print_document(self, document: PrintDocument) -> PrintResult:
        return self.print_raw(encode(document, self.profile))

    def print_raw(self, data: bytes) -> PrintResult:
        """Send ready-made ESC/POS bytes (test pages) under the same status checks as a document."""
        link = self._open_link()
        try:
            try:
                before = link.query_status(STATUS_TIMEOUT)
            except LinkLost as exc:
                raise PrinterUnavailable(self.unavailable_message, detail=exc.detail) from exc
            raise_for_status(before)
            try:
                link.send(data)
                after = link.query_status(time_for(len(data), STATUS_TIMEOUT))
            except LinkLost as exc:
                raise PrinterFault(MSG_INTERRUPTED, detail=exc.detail) from exc
            raise_for_status(after)
            return PrintResult(bytes_sent=len(data), status=after)
        finally:
            link.close()


# -- TCP --------------------------------------------------------------------------------------------------

class TcpLink(Link):
    def __init__(self, host: str, port: int, connect_timeout: float, ask_status: bool) -> None:
        self._ask_status = ask_status
        try:
            self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as exc:
            raise LinkLost(f"{host}:{port} {describe_os_error(exc)}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.settimeout(SEND_TIMEOUT)

    def send(self, data: bytes) -> None:
        try:
            self._sock.settimeout(time_for(len(data), SEND_TIMEOUT))  # a total for sendall, not per call
            self._sock.sendall(data)
        except OSError as exc:
            raise LinkLost(describe_os_error(exc)) from exc

    def query_status(self, timeout: float) -> PrinterStatus:
        if not self._ask_status:
            return UNKNOWN_STATUS
        try:
            self._drain()
            self._sock.settimeout(timeout)
            self._sock.sendall(ALL_REQUESTS)
            answers = b""
            while len(answers) < 4:
                chunk = self._sock.recv(4 - len(answers))
                if not chunk:
                    raise LinkLost("打印机断开了连接")
                answers += chunk
        except TimeoutError as exc:
            raise LinkLost("打印机没有回应状态查询") from exc
        except OSError as exc:
            raise LinkLost(describe_os_error(exc)) from exc
        finally:
            self._sock.settimeout(SEND_TIMEOUT)
        return parse_status(answers)

    def _drain(self) -> None:
        """Discard bytes nobody asked for (Automatic Status Back), so answers line up with requests."""
        self._sock.setblocking(False)
        try:
            while True:
                if not self._sock.recv(256):
                    raise LinkLost("打印机断开了连接")
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._sock.close()


class NetworkPrinter(LinkPrinter):
    """`tcp://host:9100`: raw ESC/POS on a socket (JetDirect / AppSocket)."""

    unavailable_message = MSG_NO_NETWORK_PRINTER

    def __init__(self, url: str, host: str, port: int, profile: PrinterProfile, *,
                 connect_timeout: float = 3.0, ask_status: bool = True) -> None:
        super().__init__(url, profile)
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.ask_status = ask_status

    def _connect(self) -> Link:
        return TcpLink(self.host, self.port, self.connect_timeout, self.ask_status)


def describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "超时"
    if isinstance(exc, socket.gaierror):
        return "找不到这个地址"
    code = getattr(exc, "errno", None)
    return {
        errno.ECONNREFUSED: "连接被拒绝",
        errno.ECONNRESET: "连接被重置",
        errno.EPIPE: "连接已断开",
        errno.EHOSTUNREACH: "网络不通",
        errno.ENETUNREACH: "网络不通",
        errno.ENOENT: "设备不存在",
        errno.EACCES: "没有访问权限",
        errno.EBUSY: "设备被占用",
    }.get(code or 0, f"{type(exc).__name__}: {exc}")


# -- serial -----------------------------------------------------------------------------------------------

class SerialLink(Link):
    def __init__(self, port: str, baud: int, flow: str, ask_status: bool) -> None:
        import serial

        self._ask_status = ask_status
        self._baud = baud
        self._error: type[Exception] = serial.SerialException
        try:
            self._port = serial.Serial(port, baud, timeout=STATUS_TIMEOUT, write_timeout=SEND_TIMEOUT,
                                       rtscts=flow == "rtscts", dsrdtr=flow == "dsrdtr")
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkLost(f"{port} {describe_os_error(exc)}") from exc

    def send(self, data: bytes) -> None:
        line_time = len(data) * 10 / self._baud  # 8N1: ten bits per byte; 100 KB at 9600 baud is 104 s
        try:
            self._port.write_timeout = SEND_TIMEOUT + line_time
            self._port.write(data)
            self._port.flush()
        except (self._error, OSError) as exc:
            raise LinkLost(describe_os_error(exc)) from exc

    def query_status(self, timeout: float) -> PrinterStatus:
        if not self._ask_status:
            return UNKNOWN_STATUS
        try:
            self._port.reset_input_buffer()
            self._port.timeout = timeout
            self._port.write(ALL_REQUESTS)
            answers = self._port.read(4)
        except (self._error, OSError) as exc:
            raise LinkLost(describe_os_error(exc)) from exc
        if len(answers) < 4:
            raise LinkLost("打印机没有回应状态查询")
        return parse_status(bytes(answers))

    def close(self) -> None:
        self._port.close()


class SerialPrinter(LinkPrinter):
    """`serial:///dev/ttyS0?baud=9600[&flow=rtscts|dsrdtr]` (or `serial://COM3`)."""

    def __init__(self, url: str, port: str, baud: int, profile: PrinterProfile, *,
                 flow: str = "none", ask_status: bool = True) -> None:
        super().__init__(url, profile)
        self.port, self.baud, self.flow, self.ask_status = port, baud, flow, ask_status

    def _connect(self) -> Link:
        return SerialLink(self.port, self.baud, self.flow, self.ask_status)


# -- USB (python-escpos / pyusb) ----------------------------------------------------------------------------

class UsbLink(Link):
    def __init__(self, vendor: int, product: int, in_ep: int, out_ep: int) -> None:
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise LinkLost("缺少 USB 驱动组件 pyusb")
        # usb_args is passed explicitly: python-escpos's default is one dict shared by every instance.
        self._device: Any = Usb(vendor, product, usb_args={}, timeout=int(SEND_TIMEOUT * 1000),
                                in_ep=in_ep, out_ep=out_ep)
        try:
            self._device.open()
        except Exception as exc:  # DeviceNotFoundError, USBError: the device is not there or not ours
            raise LinkLost(f"USB {vendor:04x}:{product:04x} {exc}") from exc

    def send(self, data: bytes) -> None:
        try:
            self._device._raw(data)
        except Exception as exc:  # pyusb raises USBError / USBTimeoutError
            raise LinkLost(f"USB 写入失败：{exc}") from exc

    def query_status(self, timeout: float) -> PrinterStatus:
        """DLE EOT through the IN endpoint where the printer has one; unknown status otherwise."""
        try:
            self._device._raw(ALL_REQUESTS)
            answers = b""
            for _ in range(8):
                answers += bytes(self._device._read())
                if len(answers) >= 4:
                    break
        except Exception:  # no IN endpoint, not implemented, timeout: the printer cannot tell us
            return UNKNOWN_STATUS
        return parse_status(answers[:4]) if len(answers) >= 4 else UNKNOWN_STATUS

    def close(self) -> None:
        with contextlib.suppress(Exception):  # releasing a vanished device must not hide the job's outcome
            self._device.close()


class UsbPrinter(LinkPrinter):
    """`usb://04b8:0e15[?in_ep=0x82&out_ep=0x01]`."""

    unavailable_message = "打印机没有连接，请检查电源和USB线"

    def __init__(self, url: str, vendor: int, product: int, profile: PrinterProfile, *,
                 in_ep: int = 0x82, out_ep: int = 0x01) -> None:
        super().__init__(url, profile)
        self.vendor, self.product, self.in_ep, self.out_ep = vendor, product, in_ep, out_ep

    def _connect(self) -> Link:
        return UsbLink(self.vendor, self.product, self.in_ep, self.out_ep)


# -- device file ------------------------------------------------------------------------------------------

class FileLink(Link):
    def __init__(self, path: str) -> None:
        try:
            self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise LinkLost(f"{path} {describe_os_error(exc)}") from exc

    def send(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise LinkLost(describe_os_error(exc)) from exc

    def close(self) -> None:
        self._file.close()


class FilePrinter(LinkPrinter):
    """`file:///dev/usb/lp0`: the kernel's printer device (or any file, for captures). Status unknown."""

    def __init__(self, url: str, path: str, profile: PrinterProfile) -> None:
        super().__init__(url, profile)
        self.path = path

    def _connect(self) -> Link:
        return FileLink(self.path)


# -- CUPS -------------------------------------------------------------------------------------------------

class CupsLink(Link):
    def __init__(self, queue: str) -> None:
        self._queue = queue
        self._lp = shutil.which("lp")
        if self._lp is None:
            raise LinkLost("找不到 lp 命令（未安装 CUPS）")

    def send(self, data: bytes) -> None:
        assert self._lp is not None
        try:
            done = subprocess.run([self._lp, "-d", self._queue, "-o", "raw"], input=data, capture_output=True,
                                  timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrinterUnavailable(MSG_NO_CUPS, detail=str(exc)) from exc
        if done.returncode != 0:  # queue missing or disabled: nothing was queued, so nothing printed
            detail = done.stderr.decode("utf-8", "replace").strip() or f"lp 退出码 {done.returncode}"
            raise PrinterUnavailable(MSG_NO_CUPS, detail=f"打印队列 {self._queue}：{detail}")


class CupsPrinter(LinkPrinter):
    """`cups://QUEUE`: raw bytes through `lp -d QUEUE -o raw`. Status unknown (CUPS only queues)."""

    unavailable_message = MSG_NO_CUPS

    def __init__(self, url: str, queue: str, profile: PrinterProfile) -> None:
        super().__init__(url, profile)
        self.queue = queue

    def _connect(self) -> Link:
        return CupsLink(self.queue)
