"""NetworkPrinter against the TCP ESC/POS emulator: real sockets, real status bytes, injected faults."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

import devices.printing.transports as transports
from devices.printing.document import Align, Cut, PrintDocument, PrinterProfile, QRCode, Rule, TextLine
from devices.printing.escpos_encoder import encode
from devices.printing.factory import SimulatedPrinter, create_printer
from devices.printing.printer import CoverOpen, PaperOut, PrinterFault, PrinterUnavailable, ReceiptPrinter
from devices.printing.status import ALL_REQUESTS
from devices.printing.transports import MSG_INTERRUPTED, MSG_NO_NETWORK_PRINTER, NetworkPrinter
from devices.simulators.escpos_decoder import decode
from devices.simulators.escpos_printer import EscPosPrinterEmulator, PrinterMode

RECEIPT = PrintDocument("受理回执", (
    TextLine("受理回执", Align.CENTER, bold=True, scale=2),
    Rule(),
    TextLine("事项：城乡居民基本养老保险待遇申领"),
    TextLine("受理编号：ZJ2024-000123"),
    QRCode("https://zwfw.zj.gov.cn/q?case=ZJ2024-000123"),
    Cut(),
))


@pytest.fixture
def emulator() -> Iterator[EscPosPrinterEmulator]:
    with EscPosPrinterEmulator() as emu:
        yield emu


def printer_for(emu: EscPosPrinterEmulator, profile: PrinterProfile | None = None) -> ReceiptPrinter:
    return create_printer(f"tcp://{emu.host}:{emu.port}", profile)


def test_print_and_read_back_text_and_qr(emulator: EscPosPrinterEmulator) -> None:
    printer = printer_for(emulator)
    result = printer.print_document(RECEIPT)
    assert result.status.ok and result.status.known
    assert result.bytes_sent == len(encode(RECEIPT, printer.profile))
    assert emulator.wait_for_jobs(1)
    receipt = decode(emulator.jobs[0])
    assert receipt.lines == ["受理回执", "-" * 48, "事项：城乡居民基本养老保险待遇申领", "受理编号：ZJ2024-000123"]
    assert receipt.qr_payloads == ["https://zwfw.zj.gov.cn/q?case=ZJ2024-000123"]
    assert receipt.cuts == 1
    assert emulator.jobs[0] == encode(RECEIPT, printer.profile)  # status requests are not part of the job
    assert emulator.mechanism.status_queries == 8  # four before, four after


def test_raster_profile_from_the_url(emulator: EscPosPrinterEmulator) -> None:
    printer = create_printer(f"tcp://{emulator.host}:{emulator.port}?paper=58&chinese=raster&qr=raster&cut=0")
    assert printer.profile == PrinterProfile.for_paper(58, chinese="raster", qr="raster", cutter=False)
    printer.print_document(RECEIPT)
    assert emulator.wait_for_jobs(1)
    receipt = decode(emulator.jobs[0])
    assert receipt.qr_payloads == ["https://zwfw.zj.gov.cn/q?case=ZJ2024-000123"]
    assert receipt.cuts == 0 and receipt.raster_images > 4


def test_each_job_is_one_connection(emulator: EscPosPrinterEmulator) -> None:
    printer = printer_for(emulator)
    for _ in range(3):
        printer.print_document(RECEIPT)
    assert emulator.wait_for_jobs(3)
    assert len(emulator.jobs) == 3 and emulator.connections == 3


@pytest.mark.parametrize(("mode", "error", "message"), [
    (PrinterMode.PAPER_OUT, PaperOut, "打印机缺纸，请联系工作人员"),
    (PrinterMode.COVER_OPEN, CoverOpen, "打印机盖未关好，请联系工作人员"),
    (PrinterMode.OFFLINE, PrinterFault, "打印机处于离线状态，请联系工作人员"),
    (PrinterMode.CUTTER_ERROR, PrinterFault, "打印机故障，请联系工作人员"),
])
def test_refused_before_any_byte_is_sent(emulator: EscPosPrinterEmulator, mode: PrinterMode,
                                         error: type[Exception], message: str) -> None:
    emulator.set_mode(mode)
    with pytest.raises(error) as caught:
        printer_for(emulator).print_document(RECEIPT)
    assert str(caught.value).startswith(message)
    assert emulator.wait_idle()
    assert emulator.jobs == []  # only the status requests crossed the wire


@pytest.mark.parametrize(("mode", "error"), [
    (PrinterMode.PAPER_OUT, PaperOut),
    (PrinterMode.COVER_OPEN, CoverOpen),
    (PrinterMode.OFFLINE, PrinterFault),
])
def test_failure_during_the_job_is_an_error_not_a_success(emulator: EscPosPrinterEmulator, mode: PrinterMode,
                                                          error: type[Exception]) -> None:
    emulator.switch_mode_after(40, mode)
    with pytest.raises(error):
        printer_for(emulator).print_document(RECEIPT)
    assert emulator.wait_for_jobs(1)  # the printer took the bytes, yet the job must not count as printed


def test_paper_near_end_still_prints(emulator: EscPosPrinterEmulator) -> None:
    emulator.set_mode(PrinterMode.NEAR_END)
    result = printer_for(emulator).print_document(RECEIPT)
    assert result.status.ok and result.status.paper_near_end


@pytest.mark.parametrize("after", [10, 300])
def test_disconnect_mid_job_is_a_fault(emulator: EscPosPrinterEmulator, after: int) -> None:
    emulator.disconnect_after(after)
    big = PrintDocument("big", (TextLine("受理回执" * 2000), Cut()))
    with pytest.raises(PrinterFault) as caught:
        printer_for(emulator).print_document(big)
    assert caught.value.message == MSG_INTERRUPTED
    assert not isinstance(caught.value, PrinterUnavailable)
    assert emulator.wait_for_jobs(1) and len(emulator.jobs[0]) == after


def test_slow_printer_still_completes(emulator: EscPosPrinterEmulator) -> None:
    emulator.set_slow(True)
    big = PrintDocument("big", (*RECEIPT.ops[:-1], TextLine("浙江省遂昌县妙高街道上江村" * 60), Cut()))
    profile = PrinterProfile(chinese="raster", qr="raster")
    data = encode(big, profile)
    assert len(data) > 70_000  # more than the socket buffers hold: the sender really waits
    result = printer_for(emulator, profile).print_document(big)
    assert result.status.ok and result.bytes_sent == len(data)
    assert emulator.wait_for_jobs(1) and emulator.jobs[0] == data


def test_a_full_buffer_blocks_the_sender_into_a_clear_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production allows minutes for a large job; the kernel may buffer all 4 MB, so both waits are shortened.
    monkeypatch.setattr(transports, "SEND_TIMEOUT", 1.0)
    monkeypatch.setattr(transports, "STATUS_TIMEOUT", 1.0)
    monkeypatch.setattr(transports, "MAX_WAIT", 1.5)
    with EscPosPrinterEmulator(buffer_size=4096) as emu:
        emu.switch_mode_after(100, PrinterMode.PAPER_OUT)
        printer = NetworkPrinter("tcp://emulator", emu.host, emu.port, PrinterProfile())
        started = time.monotonic()
        with pytest.raises(PrinterFault) as caught:
            printer.print_raw(b"\x1b@" + b"A" * 4_000_000)
        assert caught.value.message == MSG_INTERRUPTED
        assert time.monotonic() - started < 5


def test_absent_printer_is_unavailable_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nobody listens there
    printer = create_printer(f"tcp://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(PrinterUnavailable) as caught:
        printer.print_document(RECEIPT)
    assert time.monotonic() - started < 3
    assert caught.value.message == MSG_NO_NETWORK_PRINTER
    with pytest.raises(PrinterUnavailable):
        printer.status()
    with pytest.raises(PrinterUnavailable):
        printer.open()


def test_silent_device_on_the_port_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Something accepts the connection but never answers DLE EOT (not a printer, or a hung one)."""
    monkeypatch.setattr(transports, "STATUS_TIMEOUT", 0.3)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        printer = NetworkPrinter("tcp://silent", "127.0.0.1", server.getsockname()[1], PrinterProfile())
        with pytest.raises(PrinterUnavailable, match="没有回应状态查询"):
            printer.print_document(RECEIPT)


def test_garbage_status_answer_is_a_fault() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer_garbage() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(len(ALL_REQUESTS))
                conn.sendall(b"\xff\x00\xff\x00")
                conn.recv(100)

        threading.Thread(target=answer_garbage, daemon=True).start()
        printer = create_printer(f"tcp://127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(PrinterFault, match="状态回应异常"):
            printer.print_document(RECEIPT)


def test_status_query_without_printing(emulator: EscPosPrinterEmulator) -> None:
    printer = printer_for(emulator)
    printer.open()
    assert printer.status().ok
    emulator.set_mode(PrinterMode.COVER_OPEN)
    status = printer.status()
    assert status.cover_open and not status.online
    assert emulator.wait_idle() and emulator.jobs == []


def test_status_off_for_printers_that_never_answer(emulator: EscPosPrinterEmulator) -> None:
    printer = create_printer(f"tcp://{emulator.host}:{emulator.port}?status=0")
    result = printer.print_document(RECEIPT)
    assert not result.status.known
    assert emulator.mechanism.status_queries == 0


def test_sim_url_starts_and_stops_the_emulator() -> None:
    printer = create_printer("sim://?paper=58")
    assert isinstance(printer, SimulatedPrinter)
    try:
        assert printer.profile.columns == 32
        printer.print_document(RECEIPT)
        [job] = printer.emulator.jobs  # recorded before print_document returned: no waiting needed
        assert decode(job).lines[0] == "受理回执"
    finally:
        printer.close()
    with pytest.raises(PrinterUnavailable):
        printer.print_document(RECEIPT)


def test_sim_url_can_start_in_a_fault_mode() -> None:
    printer = create_printer("sim://paper_out")
    try:
        with pytest.raises(PaperOut):
            printer.print_document(RECEIPT)
    finally:
        printer.close()


def test_status_request_split_across_reads_is_still_answered(emulator: EscPosPrinterEmulator) -> None:
    with socket.create_connection((emulator.host, emulator.port), timeout=2) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(b"AB\x10")
        time.sleep(0.1)
        conn.sendall(b"\x04")
        time.sleep(0.1)
        conn.sendall(b"\x01C\n")
        assert conn.recv(1) == b"\x12"
    assert emulator.wait_for_jobs(1) and emulator.jobs == [b"ABC\n"]
