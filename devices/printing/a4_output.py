"""A4 printers by URL: where a station's rendered PDF papers (申请表, 委托书, 材料清单) go to be printed.

    socket://10.0.0.7:9100       raw port (JetDirect / AppSocket), the PDF wrapped in PJL; most office A4
                                 lasers print PDF directly. Options: timeout=seconds, waiteof=0
    ipp://10.0.0.7:631/ipp/print IPP Print-Job over HTTP with document-format application/pdf. timeout=seconds
    dir:///media/usb/打印         the PDF written into a folder (a USB stick, a folder a print server watches)
    system://QUEUE               the OS print system (CUPS, the Windows spooler); `system://` = the default
                                 printer. It needs Qt, so the caller passes the `system` factory (ui/documents)
    sim://                       a raw-port printer emulator on 127.0.0.1, driven by the real socket backend

Every output either delivers the whole file or raises `A4OutputError` with one plain Chinese sentence: a job
that stopped half-way is an error, never a silent success. Over the raw port "whole" means what CUPS's socket
backend means by it: every byte sent, the sending side shut, and the printer closing its side after reading
the lot (`waiteof=0` skips that wait for printers that never close).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from devices.printing import ipp
from devices.printing.printer import PrinterError

UEL: Final = b"\x1b%-12345X"  # Universal Exit Language: ends whatever language the printer was in
CONNECT_TIMEOUT: Final = 5.0
STALL_TIMEOUT: Final = 30.0  # seconds a printer may take no data (or not confirm the end) before we give up
CHUNK: Final = 64 * 1024  # sent one at a time, so the stall timeout measures progress, not the whole file
EXAMPLE: Final = ("socket://192.168.1.60:9100、ipp://192.168.1.60/ipp/print、system://队列名、"
                  "dir:///media/usb、sim://")
SCHEME_OPTIONS: Final = {"socket": frozenset({"timeout", "waiteof"}), "ipp": frozenset({"timeout"}),
                         "dir": frozenset(), "system": frozenset(), "sim": frozenset()}
_PJL_NAME_UNSAFE: Final = re.compile(r'[^\x20-\x7e]|"')
_FILE_UNSAFE: Final = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


class A4OutputError(PrinterError):
    """The paper did not reach the printer (or the folder); `message` is the sentence for the person."""


class A4Output(Protocol):
    url: str
    target: str  # where the paper goes, in words for a message: "网络打印机 192.168.1.60:9100"

    def send(self, pdf: bytes, job_name: str) -> None:
        """Deliver the whole PDF as one job named `job_name`, or raise A4OutputError."""


SystemFactory = Callable[[str | None], A4Output]  # queue name (None: the default printer) -> its output


def require_pdf(pdf: bytes) -> None:
    """A truncated file would print a blank page or an error sheet on the printer: refuse it before sending."""
    if not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-1024:]:
        raise A4OutputError("要打印的文件不是完整的 PDF，请重新生成后再打印。")


# ---------------------------------------------------------------------------------------------- raw port


def pjl_name(job_name: str) -> str:
    """PJL job names are printable 8-bit text without quotes, at most 80 characters, shown on the printer's
    panel in its own character set; plain ASCII is what every printer shows correctly."""
    name = re.sub(r"\s+", " ", _PJL_NAME_UNSAFE.sub("", job_name)).strip(" -_")
    return name[:80] or "kiosk"


def pjl_job(pdf: bytes, job_name: str) -> bytes:
    """The PDF as one PJL job: the printer switches to its PDF interpreter for it and back afterwards."""
    name = pjl_name(job_name).encode("ascii")
    head = UEL + b'@PJL JOB NAME="' + name + b'"\r\n@PJL ENTER LANGUAGE=PDF\r\n'
    tail = UEL + b'@PJL EOJ NAME="' + name + b'"\r\n' + UEL
    return head + pdf + tail


@dataclass(frozen=True)
class PjlJob:
    name: str
    language: str
    data: bytes


def parse_pjl_job(raw: bytes) -> PjlJob:
    """Take one job written by `pjl_job` apart again (the emulator's side of the wire); ValueError if it is not."""
    match = re.match(rb'\x1b%-12345X@PJL JOB NAME="([^"]*)"\r?\n@PJL ENTER LANGUAGE\s*=\s*(\w+)\r?\n', raw)
    if match is None:
        raise ValueError("no PJL job header")
    end = raw.rfind(UEL + b"@PJL EOJ")
    if end < match.end() or not raw.endswith(UEL):
        raise ValueError("no PJL end of job")
    return PjlJob(match[1].decode("latin-1"), match[2].decode("ascii"), raw[match.end() : end])


class SocketOutput:
    """`socket://host:9100`: the PDF in a PJL envelope on the printer's raw port."""

    def __init__(self, url: str, host: str, port: int, *, timeout: float = STALL_TIMEOUT,
                 wait_eof: bool = True) -> None:
        self.url = url
        self.host, self.port = host, port
        self.timeout = timeout
        self.wait_eof = wait_eof
        self.target = f"网络打印机 {host}:{port}"

    def send(self, pdf: bytes, job_name: str) -> None:
        require_pdf(pdf)
        data = pjl_job(pdf, job_name)
        where = f"{self.host}:{self.port}"
        try:
            sock = socket.create_connection((self.host, self.port), timeout=min(CONNECT_TIMEOUT, self.timeout))
        except OSError as exc:
            raise A4OutputError(connect_failure(where, exc), detail=str(exc)) from exc
        with sock:
            sock.settimeout(self.timeout)
            self._send_all(sock, data, where)
            if self.wait_eof:
                self._wait_for_close(sock, where)

    def _send_all(self, sock: socket.socket, data: bytes, where: str) -> None:
        view = memoryview(data)
        sent = 0
        try:
            while sent < len(data):
                sock.sendall(view[sent : sent + CHUNK])
                sent = min(sent + CHUNK, len(data))
                if _closed_by_peer(sock):  # a printer that gave up on the job says so with a close
                    raise ConnectionResetError(errno.ECONNRESET, "printer closed the connection mid-job")
            sock.shutdown(socket.SHUT_WR)  # tells the printer the job is complete
        except TimeoutError as exc:
            raise A4OutputError(f"A4 打印机 {where} 长时间不接收数据，文件只送出了 {_percent(sent, data)}：请检查打印机"
                                "是否卡纸、缺纸或正忙，然后重新打印。", detail=str(exc)) from exc
        except OSError as exc:
            raise A4OutputError(f"A4 打印机 {where} 中途断开了连接，文件只送出了 {_percent(sent, data)}：请检查打印机"
                                "后重新打印。", detail=str(exc)) from exc

    def _wait_for_close(self, sock: socket.socket, where: str) -> None:
        """Read (and drop) back-channel bytes until the printer closes: only then has it read the whole job. A
        reset instead of a close, or a close while our bytes are still unacknowledged, means it dropped bytes it
        never read."""
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                if not sock.recv(4096):
                    break
            if not _all_acknowledged(sock):
                raise ConnectionResetError(errno.ECONNRESET, "closed with bytes unacknowledged")
        except TimeoutError as exc:
            raise A4OutputError(f"文件已送到 A4 打印机 {where}，但打印机没有确认收完：请查看是否打印出来，没有的话重新"
                                "打印。", detail=str(exc)) from exc
        except OSError as exc:
            raise A4OutputError(f"A4 打印机 {where} 没有收完文件就断开了连接：请检查打印机后重新打印。",
                                detail=str(exc)) from exc


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the printer has closed its side; back-channel bytes (PJL status) it sent are dropped."""
    while select.select([sock], [], [], 0)[0]:
        if not sock.recv(4096):
            return True
    return False


def _all_acknowledged(sock: socket.socket, wait: float = 0.5) -> bool:
    """Whether the printer's TCP acknowledged every byte we sent (Linux tells; elsewhere assume so). A printer
    that closed without reading the tail answers it with a reset, never an acknowledgement."""
    if not sys.platform.startswith("linux"):
        return True
    import fcntl
    import termios

    deadline = time.monotonic() + wait
    while True:
        try:
            pending = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
        except OSError:
            return True  # cannot tell: the clean close stands
        if pending == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _percent(sent: int, data: bytes) -> str:
    return f"{sent * 100 // max(1, len(data))}%"


def connect_failure(where: str, exc: BaseException) -> str:
    """Why a connection could not be made, in words that say what to check."""
    if isinstance(exc, TimeoutError):
        return f"连接 A4 打印机 {where} 超时：请检查打印机是否开机、网线是否插好。"
    if isinstance(exc, socket.gaierror):
        return f"找不到 A4 打印机 {where}：请检查打印机地址是否写对。"
    code = getattr(exc, "errno", None)
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return f"A4 打印机 {where} 拒绝连接：请检查打印机是否开机，地址和端口是否正确。"
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN):
        return f"网络不通，连不上 A4 打印机 {where}：请检查网线和本机网络设置。"
    return f"连不上 A4 打印机 {where}：请检查打印机是否开机、网络是否正常。"


# ---------------------------------------------------------------------------------------------- IPP

_IPP_WORDS: Final = {
    0x040A: "这台打印机不能直接打印 PDF 文件：请改用 system:// 系统打印方式，或联系技术人员。",
    0x0411: "打印机无法读取这个 PDF 文件：请重新生成后再打印，仍不行请联系技术人员。",
    0x0408: "文件太大，打印机不接收：请联系技术人员。",
    0x0401: "打印机拒绝了本机的打印任务（需要授权）：请联系技术人员检查打印机的权限设置。",
    0x0402: "打印机要求登录后才能打印：请联系技术人员检查打印机的权限设置。",
    0x0403: "打印机拒绝了本机的打印任务（需要授权）：请联系技术人员检查打印机的权限设置。",
    0x0406: "打印机上没有这个打印队列：请检查 ipp:// 地址中的路径。",
    0x0407: "打印机上没有这个打印队列：请检查 ipp:// 地址中的路径。",
    0x0502: "打印机正忙，暂时不能接收文件：请稍后重新打印。",
    0x0505: "打印机正忙，暂时不能接收文件：请稍后重新打印。",
    0x0507: "打印机正忙，暂时不能接收文件：请稍后重新打印。",
    0x0506: "打印机暂停接收打印任务：请在打印机上恢复后重新打印。",
    0x0504: "打印机报告故障（可能卡纸、缺纸或缺粉）：请检查打印机后重新打印。",
}
_HTTP_WORDS: Final = {
    401: "打印机要求登录后才能打印：请联系技术人员检查打印机的权限设置。",
    403: "打印机拒绝了本机的打印任务：请联系技术人员检查打印机的权限设置。",
    404: "打印机上没有这个打印地址：请检查 ipp:// 地址中的路径。",
    426: "打印机只接受加密连接，本机暂不支持：请改用 socket:// 或 system:// 方式。",
}


def ipp_failure(status: int) -> str:
    words = _IPP_WORDS.get(status)
    if words:
        return words
    if 0x0400 <= status <= 0x04FF:
        return "打印机拒绝了这个打印任务：请联系技术人员。"
    if 0x0500 <= status <= 0x05FF:
        return "打印机出错，没有接收打印任务：请检查打印机后重新打印。"
    return "打印机的回应无法识别，不能确定是否已打印：请查看打印机，必要时重新打印。"


class IppOutput:
    """`ipp://host[:631]/path`: one Print-Job request (HTTP POST of application/ipp) with the PDF."""

    def __init__(self, url: str, host: str, port: int, path: str, *, user: str = "kiosk",
                 timeout: float = STALL_TIMEOUT) -> None:
        self.url = url
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.printer_uri = f"ipp://{netloc}{path}"
        self.http_url = f"http://{netloc}{path}"
        self.user = user
        self.timeout = timeout
        self.where = netloc
        self.target = f"网络打印机 {netloc}（IPP）"

    def send(self, pdf: bytes, job_name: str) -> None:
        import requests  # loaded on first print: settings validation imports this module

        require_pdf(pdf)
        body = ipp.print_job_request(self.printer_uri, pdf, job_name=job_name, user=self.user,
                                     request_id=int.from_bytes(os.urandom(3), "big") + 1)
        try:
            answer = requests.post(self.http_url, data=body, headers={"Content-Type": "application/ipp"},
                                   timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
        except requests.Timeout as exc:
            connected = not isinstance(exc, requests.ConnectTimeout)
            message = (f"A4 打印机 {self.where} 长时间没有回应，不能确定是否已打印：请查看打印机，必要时重新打印。"
                       if connected else connect_failure(self.where, TimeoutError()))
            raise A4OutputError(message, detail=str(exc)) from exc
        except requests.RequestException as exc:
            raise A4OutputError(connect_failure(self.where, _root_os_error(exc)), detail=str(exc)) from exc
        if answer.status_code != 200:
            message = _HTTP_WORDS.get(answer.status_code) or (
                f"打印机的网页服务回应 HTTP {answer.status_code}，没有接收打印任务："
                "请检查 ipp:// 地址，或联系技术人员。")
            raise A4OutputError(message, detail=f"HTTP {answer.status_code} {answer.reason}")
        try:
            reply = ipp.decode_message(answer.content)
        except ipp.IppDecodeError as exc:
            raise A4OutputError("打印机的回应无法识别，不能确定是否已打印：请查看打印机，必要时重新打印。",
                                detail=str(exc)) from exc
        if not ipp.is_successful(reply.code):
            said = reply.text("status-message")
            detail = ipp.status_name(reply.code) + (f": {said}" if said else "")
            raise A4OutputError(ipp_failure(reply.code), detail=detail)


def _root_os_error(exc: BaseException) -> BaseException:
    """The socket error under requests' and urllib3's wrappers, which says whether the host refused, was not
    found, or could not be reached."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and (current.errno or isinstance(current, socket.gaierror | TimeoutError)):
            return current
        stack += [e for e in (current.__cause__, current.__context__, getattr(current, "reason", None),
                              *current.args) if isinstance(e, BaseException)]
    return exc


# ---------------------------------------------------------------------------------------------- folder


def file_name(job_name: str) -> str:
    """The job name as a file name that is legal on Windows and Linux (no separators, no reserved marks)."""
    name = _FILE_UNSAFE.sub("_", job_name).strip(" .")
    return (name or "printout")[:120]


class DirectoryOutput:
    """`dir:///path`: the PDF appears in the folder whole (written beside it, then renamed) or not at all, so a
    print server watching the folder never picks up half a file."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.target = f"文件夹 {folder}"

    def send(self, pdf: bytes, job_name: str) -> None:
        require_pdf(pdf)
        if not self.folder.is_dir():
            raise A4OutputError(f"找不到文件夹 {self.folder}：U 盘或共享文件夹是否已连接？")
        try:
            fd, temp = tempfile.mkstemp(prefix=".", suffix=".pdf.part", dir=self.folder)
        except OSError as exc:
            raise A4OutputError(f"无法写入文件夹 {self.folder}（{exc.strerror or exc}）：请检查文件夹是否可写。",
                                detail=str(exc)) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pdf)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, self._free_path(file_name(job_name)))
        except OSError as exc:
            raise A4OutputError(f"文件没有写完整（{exc.strerror or exc}）：请检查文件夹 {self.folder} 的剩余空间后"
                                "重新打印。", detail=str(exc)) from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)  # gone after a successful rename; a failed write leaves no debris
        _fsync_dir(self.folder)

    def _free_path(self, stem: str) -> Path:
        """A second copy of the same paper gets its own file: the first may still wait to be printed."""
        path = self.folder / f"{stem}.pdf"
        n = 2
        while path.exists():
            path = self.folder / f"{stem}-{n}.pdf"
            n += 1
        return path


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened for fsync there; NTFS journals the rename
        return
    with contextlib.suppress(OSError):  # some USB file systems refuse it; the file itself is already synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------------------- simulator


class A4PrinterEmulator:
    """A raw-port A4 printer on 127.0.0.1 that reads each connection to its end, then closes, as a JetDirect
    port does. `raw` keeps every connection's bytes; `jobs` the PJL jobs parsed from them."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._server.getsockname()[:2]
        self.raw: list[bytes] = []
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="a4-printer-emulator", daemon=True)
        self._stopping = False

    def start(self) -> A4PrinterEmulator:
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stopping:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(STALL_TIMEOUT)
                chunks: list[bytes] = []
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(CHUNK):
                        chunks.append(chunk)
            with self._done:
                self.raw.append(b"".join(chunks))
                self._done.notify_all()

    @property
    def jobs(self) -> list[PjlJob]:
        return [parse_pjl_job(raw) for raw in self.raw]

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        with self._done:
            return self._done.wait_for(lambda: len(self.raw) >= count, timeout)

    def stop(self) -> None:
        self._stopping = True
        self._server.close()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def __enter__(self) -> A4PrinterEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimulatedA4Output:
    """`sim://`: each job goes to a fresh emulator through the real socket backend; `jobs` keeps what arrived."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = "模拟 A4 打印机"
        self.jobs: list[PjlJob] = []

    def send(self, pdf: bytes, job_name: str) -> None:
        with A4PrinterEmulator() as emulator:
            SocketOutput(self.url, emulator.host, emulator.port, timeout=10.0).send(pdf, job_name)
            emulator.wait_for_jobs(1)
            self.jobs += emulator.jobs


# ---------------------------------------------------------------------------------------------- factory


def create_a4_output(url: str, *, user: str = "kiosk", system: SystemFactory | None = None) -> A4Output:
    """The output `url` names. Nothing is opened or sent until `send`, so this also validates a setting.
    `user` is the requesting-user-name for IPP: a staff account or the station, never an applicant."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEME_OPTIONS or not url.strip().lower().startswith(f"{scheme}://"):
        raise A4OutputError(f"不认识的 A4 打印机地址：{url}", detail=f"可用：{EXAMPLE}")
    options = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - SCHEME_OPTIONS[scheme]
    if unknown:
        raise A4OutputError(f"A4 打印机地址中有不认识的选项：{'、'.join(sorted(unknown))}", detail=url)
    timeout = _seconds(options)
    if scheme in ("socket", "ipp"):
        try:
            host, port = parts.hostname, parts.port or (9100 if scheme == "socket" else 631)
        except ValueError as exc:
            raise A4OutputError(f"A4 打印机端口不正确：{url}") from exc
        if not host:
            raise A4OutputError(f"A4 打印机地址缺少主机：{url}（例如 {scheme}://192.168.1.60"
                                f"{':9100' if scheme == 'socket' else '/ipp/print'}）")
        if scheme == "socket":
            wait = options.get("waiteof", "1")
            if wait not in ("0", "1"):
                raise A4OutputError(f"A4 打印机选项 waiteof 只能是 0 或 1：{wait}")
            return SocketOutput(url, host, port, timeout=timeout, wait_eof=wait == "1")
        return IppOutput(url, host, port, parts.path or "/ipp/print", user=user, timeout=timeout)
    if scheme == "dir":
        return DirectoryOutput(url, _folder(url, parts.netloc, unquote(parts.path)))
    if scheme == "system":
        queue = unquote(parts.netloc + parts.path).strip("/") or None
        if system is None:
            raise A4OutputError("系统打印机只能在图形界面中使用：请在工作台打印，或改用 socket:// 地址。")
        return system(queue)
    return SimulatedA4Output(url)


def _seconds(options: dict[str, str]) -> float:
    raw = options.get("timeout")
    if raw is None:
        return STALL_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise A4OutputError(f"A4 打印机选项 timeout 不是数字：{raw}") from None
    if not 0 < value <= 600:
        raise A4OutputError(f"A4 打印机选项 timeout 应在 0 到 600 秒之间：{raw}")
    return value


def _folder(url: str, netloc: str, path: str) -> Path:
    if netloc:  # dir://server/share/folder: a Windows share (UNC path)
        if sys.platform != "win32":
            raise A4OutputError(f"文件夹地址应写成 dir:///文件夹路径（三个斜杠）：{url}")
        return Path(f"//{netloc}{path}")
    if re.match(r"^/[A-Za-z]:", path):  # dir:///D:/打印 on Windows
        path = path[1:]
    if not path.strip("/"):
        raise A4OutputError(f"A4 打印机地址缺少文件夹：{url}（例如 dir:///media/usb）")
    return Path(path)


class _Unchecked:
    """Stands in for the system printer when only the address is checked (no Qt here)."""

    def __init__(self, queue: str | None) -> None:
        self.url = f"system://{queue or ''}"
        self.target = "系统打印机"

    def send(self, pdf: bytes, job_name: str) -> None:
        raise A4OutputError("系统打印机只能在图形界面中使用。")


def a4_url_problem(url: str) -> str | None:
    """Why `url` is not a usable A4 printer address, or None (settings validation: parses, never connects)."""
    if not url.strip():
        return None
    try:
        create_a4_output(url, system=_Unchecked)
    except A4OutputError as exc:
        return exc.message + (f"（{exc.detail}）" if exc.detail.startswith("可用") else "")
    return None
