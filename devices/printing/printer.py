"""The receipt printer contract: one small Protocol, its status, and its errors with plain messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from devices.printing.document import PrintDocument, PrinterProfile


class PrinterError(Exception):
    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message if not detail else f"{message}（{detail}）")
        self.message = message
        self.detail = detail


class PrinterUnavailable(PrinterError):
    """Cannot reach the printer at all (unplugged, wrong address, switched off)."""


class PaperOut(PrinterError):
    """"打印机缺纸，请联系工作人员"."""


class CoverOpen(PrinterError):
    """"打印机盖未关好，请联系工作人员"."""


class PrinterFault(PrinterError):
    """Offline, cutter jam, overheated, or the job was cut off mid-way."""


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper_out: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    error: bool = False  # cutter, mechanical or unrecoverable error
    known: bool = True  # False when the connection cannot answer DLE EOT (file, CUPS): status unknown

    @property
    def ok(self) -> bool:
        return self.online and not (self.paper_out or self.cover_open or self.error)


@dataclass(frozen=True)
class PrintResult:
    bytes_sent: int
    status: PrinterStatus


class ReceiptPrinter(Protocol):
    url: str
    profile: PrinterProfile

    def open(self) -> None: ...

    def close(self) -> None: ...

    def status(self) -> PrinterStatus:
        """Real-time status (DLE EOT) where the connection allows; `known=False` otherwise."""

    def print_raw(self, data: bytes) -> PrintResult:
        """Send ready-made ESC/POS bytes (test pages) with the same status checks as `print_document`."""

    def print_document(self, document: PrintDocument) -> PrintResult:
        """Encode and send; return only when the bytes were accepted AND the status afterwards is good.

        Raises PaperOut / CoverOpen / PrinterFault / PrinterUnavailable otherwise, so a job is never marked
        printed on a printer that swallowed the bytes with no paper in it.
        """
