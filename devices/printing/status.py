"""Real-time status (DLE EOT n): the requests, the one-byte answers, and what they mean for a job.

Every answer byte has fixed bits (bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0); a byte without them is not a
status answer (noise, a stale Automatic Status Back block, a printer in another emulation) and is reported as
a fault rather than guessed at. Meaningful bits, as in the ESC/POS reference:

    n=1 printer       bit 3 offline
    n=2 offline cause bit 2 cover open, bit 5 stopped by paper end, bit 6 error
    n=3 error cause   bit 3 autocutter error, bit 5 unrecoverable error, bit 6 auto-recoverable (head hot)
    n=4 paper sensor  bits 2-3 paper near end, bits 5-6 paper end
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from devices.printing.printer import CoverOpen, PaperOut, PrinterFault, PrinterStatus

DLE_EOT: Final = b"\x10\x04"


class StatusRequest(IntEnum):
    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


REQUESTS: Final = {n: DLE_EOT + bytes([n]) for n in StatusRequest}
ALL_REQUESTS: Final = b"".join(REQUESTS[n] for n in StatusRequest)  # answered with four bytes, in order
FIXED_MASK: Final = 0x93
FIXED_VALUE: Final = 0x12

OFFLINE: Final = 0x08  # n=1
COVER_OPEN: Final = 0x04  # n=2
PAPER_END_STOP: Final = 0x20  # n=2
ERROR_OCCURRED: Final = 0x40  # n=2
AUTOCUTTER_ERROR: Final = 0x08  # n=3
UNRECOVERABLE_ERROR: Final = 0x20  # n=3
AUTO_RECOVERABLE_ERROR: Final = 0x40  # n=3
PAPER_NEAR_END: Final = 0x0C  # n=4
PAPER_END: Final = 0x60  # n=4

MSG_PAPER_OUT: Final = "打印机缺纸，请联系工作人员"
MSG_COVER_OPEN: Final = "打印机盖未关好，请联系工作人员"
MSG_ERROR: Final = "打印机故障，请联系工作人员"
MSG_OFFLINE: Final = "打印机处于离线状态，请联系工作人员"
MSG_GARBAGE: Final = "打印机状态回应异常，请联系工作人员"
UNKNOWN_STATUS: Final = PrinterStatus(online=True, known=False)  # the bytes went out; nobody can tell more


def check_answer(request: int, value: int) -> int:
    """`value` if it is a well-formed answer to DLE EOT `request`, else PrinterFault."""
    if not 0 <= value <= 0xFF or value & FIXED_MASK != FIXED_VALUE:
        raise PrinterFault(MSG_GARBAGE, detail=f"DLE EOT {request} 回应 0x{value & 0xFFFF:02X}")
    return value


def parse_status(answers: bytes) -> PrinterStatus:
    """The four answers to ALL_REQUESTS (n = 1, 2, 3, 4) as one PrinterStatus."""
    if len(answers) != len(StatusRequest):
        raise PrinterFault(MSG_GARBAGE, detail=f"应有 4 字节状态，收到 {len(answers)} 字节：{answers.hex(' ')}")
    printer, offline, error, paper = (check_answer(n, v) for n, v in zip(StatusRequest, answers, strict=True))
    return PrinterStatus(
        online=not printer & OFFLINE,
        paper_out=bool(offline & PAPER_END_STOP or paper & PAPER_END),
        paper_near_end=bool(paper & PAPER_NEAR_END),
        cover_open=bool(offline & COVER_OPEN),
        error=bool(offline & ERROR_OCCURRED
                   or error & (AUTOCUTTER_ERROR | UNRECOVERABLE_ERROR | AUTO_RECOVERABLE_ERROR)),
    )


def answer_bytes(status: PrinterStatus, *, cutter_error: bool = False, overheated: bool = False) -> bytes:
    """The four answer bytes a printer in `status` sends (the emulator's side of `parse_status`)."""
    printer = FIXED_VALUE | (0 if status.online else OFFLINE)
    offline = FIXED_VALUE | (COVER_OPEN if status.cover_open else 0) | (PAPER_END_STOP if status.paper_out else 0)
    offline |= ERROR_OCCURRED if status.error else 0
    error = FIXED_VALUE
    if status.error:
        error |= AUTOCUTTER_ERROR if cutter_error else AUTO_RECOVERABLE_ERROR if overheated else UNRECOVERABLE_ERROR
    paper = FIXED_VALUE | (PAPER_END if status.paper_out else 0) | (PAPER_NEAR_END if status.paper_near_end else 0)
    return bytes([printer, offline, error, paper])


def raise_for_status(status: PrinterStatus) -> None:
    """The error a person should see for `status`, most actionable cause first; nothing when ok or unknown."""
    if not status.known or status.ok:
        return
    if status.paper_out:
        raise PaperOut(MSG_PAPER_OUT)
    if status.cover_open:
        raise CoverOpen(MSG_COVER_OPEN)
    if status.error:
        raise PrinterFault(MSG_ERROR, detail="切纸刀、打印头或机械错误")
    raise PrinterFault(MSG_OFFLINE)
