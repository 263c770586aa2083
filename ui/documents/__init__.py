"""A4 documents rendered with Qt: PDF files through QPdfWriter and paper through the system printer."""

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
    "document_fonts",
    "document_html",
    "ensure_qt_app",
    "print_document",
    "render_pdf",
]
