"""A4 documents rendered with Qt: PDF files through QPdfWriter and paper through the station's A4 printer."""

from ui.documents.a4_printer import SystemPrinterOutput, a4_output, print_test_page, send_pdf
from ui.documents.a4_render import (
    A4PrintError,
    DocumentFonts,
    document_fonts,
    document_html,
    ensure_qt_app,
    print_document,
    render_pdf,
)

__all__ = [
    "A4PrintError",
    "DocumentFonts",
    "SystemPrinterOutput",
    "a4_output",
    "document_fonts",
    "document_html",
    "ensure_qt_app",
    "print_document",
    "print_test_page",
    "render_pdf",
    "send_pdf",
]
