"""Paper out of the station's A4 printer (`devices.a4_printer`): the rendered PDF goes to the output its URL names
(socket://, ipp://, dir://, sim:// in devices/printing/a4_output.py), except `system://`, the OS print queue,
which needs Qt's QPrinter and so is adapted here. Called on workers, like rendering itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from devices.printing.a4_output import A4Output, create_a4_output
from kiosk_app.documents import A4Document
from ui.documents.a4_render import print_document, render_pdf


class SystemPrinterOutput:
    """`system://QUEUE` (`system://`: the default printer) through CUPS or the Windows spooler."""

    def __init__(self, document: A4Document, queue: str | None) -> None:
        self.document = document
        self.queue = queue
        self.url = f"system://{queue or ''}"
        self.target = f"系统打印机“{queue}”" if queue else "系统默认打印机"

    def send(self, pdf: bytes, job_name: str) -> None:
        # The PDF bytes are not what goes to the queue: QPrinter lays the same document out again at the printer's
        # resolution and within its hardware margins, which a 300 dpi archive PDF cannot be fitted to without
        # rasterising it. Both come from one A4Document, so the paper says what the archived copy says.
        print_document(self.document, self.queue, job_name=job_name)


def a4_output(url: str, document: A4Document, *, user: str) -> A4Output:
    """The output for `url`; `document` is what a system printer lays out, `user` the staff account asking."""
    return create_a4_output(url, user=user, system=lambda queue: SystemPrinterOutput(document, queue))


def send_pdf(url: str, document: A4Document, pdf: Path, job_name: str, *, user: str) -> str:
    """Send the rendered `pdf` of `document` to the A4 printer at `url`; returns where it went, in words.
    Raises A4OutputError (devices) or A4PrintError (system printer) with a plain sentence."""
    output = a4_output(url, document, user=user)
    output.send(pdf.read_bytes(), job_name)
    return output.target


def print_test_page(url: str, document: A4Document, *, user: str, job_name: str = "A4 test page") -> tuple[str, int]:
    """Render `document` to a throw-away PDF and send it to `url`; returns (where it went, the PDF's size)."""
    with tempfile.TemporaryDirectory(prefix="a4-test-") as folder:
        pdf = render_pdf(document, Path(folder) / "test-page.pdf")
        return send_pdf(url, document, pdf, job_name, user=user), pdf.stat().st_size
