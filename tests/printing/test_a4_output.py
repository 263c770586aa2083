"""A4 printer outputs on real sockets and real folders: the raw port (PJL-wrapped PDF) against listener threads on
127.0.0.1 that behave like good and bad printers, the folder output, the emulator, and address checking."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import devices.printing.a4_output as a4
from devices.printing.a4_output import (
    UEL,
    A4OutputError,
    A4PrinterEmulator,
    DirectoryOutput,
    SimulatedA4Output,
    SocketOutput,
    a4_url_problem,
    create_a4_output,
    parse_pjl_job,
    pjl_name,
)
from kiosk_app.config import spec_for
from kiosk_app.errors import InvalidInput

# A small but well-formed PDF: one empty A4 page. Its exact bytes must arrive, nothing added or cut.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
JOB = "331123001-20261125-0007 申请表"


def big_pdf(megabytes: int) -> bytes:
    """Large enough that the kernel's socket buffers cannot swallow it whole."""
    return b"%PDF-1.4\n" + os.urandom(megabytes * 1024 * 1024) + b"\n%%EOF\n"


class RawPort:
    """One connection on 127.0.0.1, served by a thread the way a printer of `behaviour` would:
    read_all (then close), never_read, close_after (reads `limit` bytes, then closes), keep_open (reads all,
    never closes), status_then_close (answers with PJL status bytes, then reads all and closes)."""

    def __init__(self, behaviour: str, limit: int = 0) -> None:
        self.behaviour, self.limit = behaviour, limit
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if behaviour == "never_read":  # a small window, so the sender stalls soon
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.release = threading.Event()
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        try:
            if self.behaviour == "status_then_close":
                conn.sendall(b'@PJL USTATUS DEVICE\r\nCODE=10001\r\nDISPLAY="Ready"\r\nONLINE=TRUE\r\n\x0c')
            if self.behaviour == "never_read":
                self.release.wait(10)
                return
            while chunk := conn.recv(65536):
                self.received += chunk
                if self.behaviour == "close_after" and len(self.received) >= self.limit:
                    return  # closes with unread bytes waiting: the kernel answers with a reset
            if self.behaviour == "keep_open":
                self.release.wait(10)
        finally:
            conn.close()
            self.finished.set()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.release.set()
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def raw_port(request: pytest.FixtureRequest) -> Iterator[RawPort]:
    behaviour, limit = request.param if isinstance(request.param, tuple) else (request.param, 0)
    port = RawPort(behaviour, limit)
    yield port
    port.close()


@pytest.mark.parametrize("raw_port", ["read_all", "status_then_close"], indirect=True)
def test_the_raw_port_gets_the_exact_pdf_in_a_pjl_envelope(raw_port: RawPort) -> None:
    create_a4_output(raw_port.url).send(PDF, JOB)
    assert raw_port.finished.wait(5)
    head = b'\x1b%-12345X@PJL JOB NAME="331123001-20261125-0007"\r\n@PJL ENTER LANGUAGE=PDF\r\n'
    tail = b'\x1b%-12345X@PJL EOJ NAME="331123001-20261125-0007"\r\n\x1b%-12345X'
    assert raw_port.received == head + PDF + tail
    payload = raw_port.received[len(head) : -len(tail)]
    assert payload.startswith(b"%PDF") and payload.rstrip().endswith(b"%%EOF")


def test_pjl_job_names_stay_printable_ascii_without_quotes() -> None:
    assert pjl_name('张三 "x" 331123001-20261125-0007\n申请表') == "x 331123001-20261125-0007"
    assert pjl_name("申请表") == "kiosk"
    assert len(pjl_name("A" * 200)) == 80
    job = parse_pjl_job(a4.pjl_job(PDF, JOB))
    assert (job.name, job.language, job.data) == ("331123001-20261125-0007", "PDF", PDF)
    with pytest.raises(ValueError):
        parse_pjl_job(a4.pjl_job(PDF, JOB)[:-len(UEL)])


def test_a_refused_port_is_a_plain_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(A4OutputError) as err:
        create_a4_output(f"socket://127.0.0.1:{port}").send(PDF, JOB)
    assert err.value.message == f"A4 打印机 127.0.0.1:{port} 拒绝连接：请检查打印机是否开机，地址和端口是否正确。"


@pytest.mark.parametrize("raw_port", ["never_read"], indirect=True)
def test_a_printer_that_stops_reading_times_out_without_claiming_success(raw_port: RawPort) -> None:
    output = create_a4_output(f"{raw_port.url}?timeout=0.3")
    with pytest.raises(A4OutputError) as err:
        output.send(big_pdf(16), JOB)
    assert "长时间不接收数据" in err.value.message and "重新打印" in err.value.message
    assert "100%" not in err.value.message


@pytest.mark.parametrize("raw_port", [("close_after", 200_000)], indirect=True)
def test_a_printer_that_closes_mid_transfer_is_an_error(raw_port: RawPort) -> None:
    with pytest.raises(A4OutputError) as err:
        create_a4_output(raw_port.url).send(big_pdf(8), JOB)
    assert "断开了连接" in err.value.message and "重新打印" in err.value.message


@pytest.mark.parametrize("raw_port", ["keep_open"], indirect=True)
def test_a_printer_that_never_confirms_the_end_is_reported(raw_port: RawPort) -> None:
    with pytest.raises(A4OutputError) as err:
        create_a4_output(f"{raw_port.url}?timeout=0.5").send(PDF, JOB)
    assert "没有确认收完" in err.value.message
    assert raw_port.received.endswith(UEL)  # everything was sent; only the confirmation is missing


@pytest.mark.parametrize("raw_port", ["keep_open"], indirect=True)
def test_waiteof_0_trusts_printers_that_never_close(raw_port: RawPort) -> None:
    output = create_a4_output(f"{raw_port.url}?waiteof=0")
    assert isinstance(output, SocketOutput) and not output.wait_eof
    output.send(PDF, JOB)


def test_a_truncated_pdf_is_refused_before_anything_is_sent() -> None:
    with A4PrinterEmulator() as emulator:
        output = create_a4_output(f"socket://{emulator.host}:{emulator.port}")
        with pytest.raises(A4OutputError, match="不是完整的 PDF"):
            output.send(PDF[:-8], JOB)
        assert not emulator.wait_for_jobs(1, timeout=0.2)


def test_the_simulator_takes_jobs_through_the_real_socket_backend() -> None:
    output = create_a4_output("sim://")
    assert isinstance(output, SimulatedA4Output)
    output.send(PDF, JOB)
    output.send(PDF, "第二份")
    assert [(j.name, j.data) for j in output.jobs] == [("331123001-20261125-0007", PDF), ("kiosk", PDF)]


# ---------------------------------------------------------------------------------------------- folder


def test_the_folder_output_writes_the_file_whole_then_renames_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def watching_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        source, target = Path(src), Path(dst)
        assert source.parent == target.parent == tmp_path and source.name.startswith(".")
        assert source.read_bytes() == PDF and not target.exists()  # complete before it gets its name
        renames.append((source, target))
        real_replace(src, dst)

    monkeypatch.setattr(a4.os, "replace", watching_replace)
    output = create_a4_output(f"dir://{tmp_path}")
    assert isinstance(output, DirectoryOutput) and output.folder == tmp_path
    output.send(PDF, JOB)
    output.send(PDF, JOB)  # the first copy may still wait for the print server: the second gets its own name
    assert [t.name for _, t in renames] == [f"{JOB}.pdf", f"{JOB}-2.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{JOB}-2.pdf", f"{JOB}.pdf"]
    assert (tmp_path / f"{JOB}.pdf").read_bytes() == PDF


def test_a_failed_folder_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(a4.os, "replace", full_disk)
    with pytest.raises(A4OutputError, match="没有写完整"):
        create_a4_output(f"dir://{tmp_path}").send(PDF, JOB)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_or_unwritable_folder_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(A4OutputError, match="找不到文件夹") as err:
        create_a4_output(f"dir://{tmp_path}/U盘").send(PDF, JOB)
    assert "U 盘" in err.value.message
    if os.geteuid() == 0:  # root writes anywhere a mode allows nothing; sysfs refuses new files even to root
        locked = Path("/sys")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
    with pytest.raises(A4OutputError) as err:
        create_a4_output(f"dir://{locked}").send(PDF, JOB)
    assert err.value.message.startswith(f"无法写入文件夹 {locked}") and "可写" in err.value.message


def test_job_names_become_legal_file_names() -> None:
    assert a4.file_name('a/b\\c:d*e?"f<g>h|i') == "a_b_c_d_e__f_g_h_i"
    assert a4.file_name("..") == "printout"


# ---------------------------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(("url", "expected"), [
    ("", None),
    ("socket://192.168.1.60:9100", None),
    ("socket://192.168.1.60", None),
    ("ipp://192.168.1.60/ipp/print", None),
    ("system://", None),
    ("system://HP_LaserJet", None),
    ("dir:///media/usb", None),
    ("sim://", None),
    ("tcp://192.168.1.60:9100", "不认识的 A4 打印机地址"),
    ("socket://", "缺少主机"),
    ("socket://192.168.1.60:99999", "端口不正确"),
    ("socket://192.168.1.60?timout=3", "不认识的选项：timout"),
    ("socket://192.168.1.60?timeout=abc", "timeout 不是数字"),
    ("socket://192.168.1.60?waiteof=maybe", "waiteof 只能是 0 或 1"),
    ("dir://", "缺少文件夹"),
])
def test_addresses_are_checked_with_plain_messages(url: str, expected: str | None) -> None:
    problem = a4_url_problem(url)
    assert problem is None if expected is None else expected in (problem or "")


def test_the_setting_refuses_a_bad_address_in_plain_words() -> None:
    spec = spec_for("devices.a4_printer")
    assert spec.default == "" and spec.type is str
    assert spec.parse("socket://192.168.1.60:9100") == "socket://192.168.1.60:9100"
    with pytest.raises(InvalidInput) as err:
        spec.parse("lpr://192.168.1.60")
    assert err.value.message.startswith("设置项 devices.a4_printer：不认识的 A4 打印机地址：lpr://192.168.1.60")
    assert "socket://" in err.value.message and err.value.field == "devices.a4_printer"


def test_ipp_addresses_default_to_port_631_and_the_ipp_everywhere_path() -> None:
    output = create_a4_output("ipp://192.168.1.60", user="wangli")
    assert isinstance(output, a4.IppOutput)
    assert output.printer_uri == "ipp://192.168.1.60:631/ipp/print"
    assert output.http_url == "http://192.168.1.60:631/ipp/print" and output.user == "wangli"


def test_system_printers_need_the_qt_side() -> None:
    with pytest.raises(A4OutputError, match="图形界面"):
        create_a4_output("system://HP")
    seen: list[str | None] = []

    def system(queue: str | None) -> a4.A4Output:
        seen.append(queue)
        return SimulatedA4Output("sim://")

    create_a4_output("system://", system=system)
    create_a4_output("system://办公室%20A4", system=system)
    assert seen == [None, "办公室 A4"]
