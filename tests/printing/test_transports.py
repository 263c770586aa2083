"""Printer URLs and the non-network transports: serial (a real pty), device file, CUPS (a stand-in lp), USB."""

from __future__ import annotations

import os
import stat
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printing.document import Cut, PrintDocument, PrinterProfile, TextLine
from devices.printing.escpos_encoder import encode
from devices.printing.factory import create_printer
from devices.printing.printer import PaperOut, PrinterError, PrinterUnavailable
from devices.printing.transports import (
    CupsPrinter,
    FilePrinter,
    NetworkPrinter,
    SerialPrinter,
    UsbPrinter,
)
from devices.simulators.escpos_decoder import decode
from devices.simulators.escpos_printer import PrinterMechanism, PrinterMode

RECEIPT = PrintDocument("受理回执", (TextLine("受理回执"), TextLine("编号 ZJ2024-000123"), Cut()))


# -- URLs -------------------------------------------------------------------------------------------------

def test_url_schemes_pick_their_backends() -> None:
    tcp = create_printer("tcp://10.0.0.5")
    assert isinstance(tcp, NetworkPrinter) and (tcp.host, tcp.port) == ("10.0.0.5", 9100)
    serial = create_printer("serial:///dev/ttyS0?baud=115200&flow=rtscts")
    assert isinstance(serial, SerialPrinter) and (serial.port, serial.baud, serial.flow) == ("/dev/ttyS0", 115200,
                                                                                          "rtscts")
    assert isinstance(create_printer("serial://COM3"), SerialPrinter)
    usb = create_printer("usb://04b8:0e15?in_ep=0x81")
    assert isinstance(usb, UsbPrinter) and (usb.vendor, usb.product, usb.in_ep) == (0x04B8, 0x0E15, 0x81)
    assert isinstance(create_printer("file:///dev/usb/lp0"), FilePrinter)
    cups = create_printer("cups://receipt")
    assert isinstance(cups, CupsPrinter) and cups.queue == "receipt"


def test_profile_options_from_the_query() -> None:
    printer = create_printer("tcp://10.0.0.5:9100?paper=58&chinese=raster&qr=raster&cut=0")
    assert printer.profile == PrinterProfile(58, 32, 384, "raster", "raster", False)
    given = PrinterProfile(chinese="raster")
    assert create_printer("tcp://h", given).profile is given
    assert create_printer("tcp://h?paper=58", given).profile.chinese == "raster"  # the rest of `given` stays
    assert create_printer("file:///tmp/x?columns=42&dots=512").profile.columns == 42


@pytest.mark.parametrize("url", [
    "lpt://1", "tcp://", "tcp://h:notaport", "serial://", "serial:///dev/ttyS0?baud=1234",
    "serial:///dev/ttyS0?flow=xonxoff", "usb://zz:01", "usb://04b8", "file://", "cups://",
    "tcp://h?paper=76", "tcp://h?chinese=big5", "tcp://h?qr=svg", "tcp://h?cut=maybe", "tcp://h?columns=500",
    "tcp://h?dots=577", "tcp://h?timeout=0", "tcp://h?bogus=1", "file:///x?baud=9600", "sim://jammed",
])
def test_bad_urls_are_refused_in_plain_words(url: str) -> None:
    with pytest.raises(PrinterError) as caught:
        create_printer(url)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


# -- serial over a pseudo-terminal --------------------------------------------------------------------------

class PtyPrinter:
    """The emulator's mechanism behind a pty master: what a USB-serial receipt printer looks like."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.mechanism = PrinterMechanism()
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import select

        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            data, answers, _ = self.mechanism.take(chunk, len(self.received))
            self.received += data
            if answers:
                os.write(self.master, answers)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def pty_printer() -> Iterator[PtyPrinter]:
    printer = PtyPrinter()
    yield printer
    printer.close()


def test_serial_printer_prints_and_reads_status(pty_printer: PtyPrinter) -> None:
    printer = create_printer(f"serial://{pty_printer.path}?baud=115200")
    result = printer.print_document(RECEIPT)
    assert result.status.known and result.status.ok
    assert pty_printer.mechanism.status_queries == 8
    assert bytes(pty_printer.received) == encode(RECEIPT, printer.profile)
    assert decode(bytes(pty_printer.received)).lines == ["受理回执", "编号 ZJ2024-000123"]


def test_serial_printer_refuses_without_paper(pty_printer: PtyPrinter) -> None:
    pty_printer.mechanism.set_mode(PrinterMode.PAPER_OUT)
    with pytest.raises(PaperOut):
        create_printer(f"serial://{pty_printer.path}").print_document(RECEIPT)
    assert pty_printer.received == b""


def test_missing_serial_port_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable, match="请检查电源和数据线"):
        create_printer(f"serial://{tmp_path}/ttyUSB9").print_document(RECEIPT)


# -- device file, CUPS, USB -----------------------------------------------------------------------------------

def test_file_printer_writes_the_job_with_unknown_status(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    target.touch()
    printer = create_printer(f"file://{target}?paper=58")
    printer.open()
    result = printer.print_document(RECEIPT)
    assert not result.status.known and result.bytes_sent == target.stat().st_size
    assert target.read_bytes() == encode(RECEIPT, PrinterProfile.for_paper(58))


def test_missing_device_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable):
        create_printer(f"file://{tmp_path}/absent/lp0").print_document(RECEIPT)


def fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int = 0) -> Path:
    """An `lp` that stores its arguments and stdin, so the exact command and bytes can be checked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "lp"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{tmp_path}/args"\n'
        f'cat > "{tmp_path}/job"\n'
        + (f'echo "lp: The printer or class does not exist." >&2\nexit {exit_code}\n' if exit_code else "")
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path


def test_cups_sends_raw_bytes_through_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = fake_lp(tmp_path, monkeypatch)
    printer = create_printer("cups://receipt80")
    result = printer.print_document(RECEIPT)
    assert not result.status.known
    assert (spool / "args").read_text().split() == ["-d", "receipt80", "-o", "raw"]
    assert (spool / "job").read_bytes() == encode(RECEIPT, printer.profile)


def test_cups_queue_missing_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_lp(tmp_path, monkeypatch, exit_code=1)
    with pytest.raises(PrinterUnavailable, match="does not exist"):
        create_printer("cups://nowhere").print_document(RECEIPT)


def test_cups_not_installed_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrinterUnavailable, match="系统打印服务不可用"):
        create_printer("cups://receipt").open()


def test_usb_without_a_device_is_unavailable() -> None:
    # Without pyusb, or with pyusb and no such device: either way a plain message, never a traceback.
    with pytest.raises(PrinterUnavailable, match="请检查电源和USB线"):
        create_printer("usb://ffff:fffe").print_document(RECEIPT)
