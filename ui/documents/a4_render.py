"""A4 documents on paper: `A4Document` -> HTML -> QTextDocument, painted page by page onto a QPdfWriter (a PDF
file) or a QPrinter (the system printer: CUPS on Linux, the spooler on Windows).

Pages are painted by hand rather than with `QTextDocument.print` so every page gets the footer with
"第 N 页 共 M 页". The CJK fonts are registered from files, so a PDF made on a kiosk with odd fontconfig
defaults looks the same as one made on a developer's machine. Rendering needs a QGuiApplication (see
`ensure_qt_app`) but no window, and may run on a worker thread: QPdfWriter, QPrinter and QTextDocument are
usable off the GUI thread as long as no dialog is shown.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Final

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QRawFont,
    QTextBlock,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QApplication

from kiosk_app.documents.content import A4Document, Section, SignatureLine, Table
from kiosk_app.errors import KioskError

__all__ = ["A4PrintError", "DocumentFonts", "document_fonts", "document_html", "ensure_qt_app", "print_document",
           "render_pdf"]

log = logging.getLogger(__name__)

PDF_DPI: Final = 300
# 20 mm at the sides and top, as official forms use; the bottom margin is smaller because the footer band
# (page numbers) sits inside the printable area above it.
MARGINS_MM: Final = QMarginsF(20, 18, 20, 12)
FOOTER_BAND_MM: Final = 10.0
BODY_PT: Final = 10.5  # 五号, the size of body text on official forms
TITLE_PT: Final = 18.0  # 小二, as form titles use
HEADING_PT: Final = 12.0  # 小四
SMALL_PT: Final = 9.0
FOOTER_PT: Final = 8.0
# A label/value pair this narrow (in half-width columns) shares its grid row with the next short pair.
_SHORT_LABEL: Final = 14
_SHORT_VALUE: Final = 26


class A4PrintError(KioskError):
    """A document could not be written or printed; `message` is one plain Chinese sentence for the person.

    A `KioskError`, so the screens' and the CLI's one handler for expected failures shows it as it is."""


def ensure_qt_app() -> QGuiApplication:
    """The running QGuiApplication, or a new one (the offscreen platform is enough) when there is none.

    Qt wants its application object made on the main thread: call this at start-up (the CLI, a test, the
    screens' own QApplication already counts) before rendering on a worker thread."""
    existing = QCoreApplication.instance()
    if existing is None:
        # A full QApplication, not just a GUI one: screens opened later in the same process need widgets,
        # and Qt allows one application object per process.
        return QApplication(sys.argv[:1] or ["kiosk"])
    if not isinstance(existing, QGuiApplication):
        # Fonts and painting need a GUI application; a bare QCoreApplication cannot be upgraded in place.
        raise A4PrintError("当前程序没有图形界面组件，无法生成 A4 文档，请联系技术人员。")
    return existing


# ---------------------------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class DocumentFonts:
    serif: str  # body text (宋体-like)
    sans: str  # titles and headings (黑体-like)
    embedded_files: tuple[str, ...]  # the files registered; empty means system fallbacks were used


def _font_dirs() -> list[Path]:
    dirs = [Path("/usr/share/fonts/opentype/noto"),  # Debian, Ubuntu, UOS, Kylin (fonts-noto-cjk)
            Path("/usr/share/fonts/noto-cjk"),  # Arch
            Path("/usr/share/fonts/google-noto-cjk")]  # Fedora
    dirs.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
    return dirs


# (regular, bold) file names per role, best first; the bold file matters because synthetic bold smears CJK.
_SERIF_FILES: Final = (("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc"), ("simsun.ttc", ""))
_SANS_FILES: Final = (("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"), ("msyh.ttc", "msyhbd.ttc"),
                      ("simhei.ttf", ""))
_FALLBACK_SERIF: Final = "Noto Serif CJK SC"
_FALLBACK_SANS: Final = "Noto Sans CJK SC"
_fonts_lock = threading.Lock()
_fonts: DocumentFonts | None = None


def document_fonts() -> DocumentFonts:
    """Register the CJK font files once per process and name the families to use (Simplified Chinese faces)."""
    global _fonts
    with _fonts_lock:
        if _fonts is None:
            ensure_qt_app()
            registered: list[str] = []
            serif = _register_first(_SERIF_FILES, registered)
            sans = _register_first(_SANS_FILES, registered)
            if serif is None or sans is None:
                log.warning("CJK font files not found in %s; falling back to system fonts",
                            ", ".join(map(str, _font_dirs())))
            _fonts = DocumentFonts(serif or sans or _FALLBACK_SERIF, sans or serif or _FALLBACK_SANS,
                                   tuple(registered))
        return _fonts


def _register_first(candidates: Iterable[tuple[str, str]], registered: list[str]) -> str | None:
    for regular, bold in candidates:
        for folder in _font_dirs():
            path = folder / regular
            if not path.is_file():
                continue
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                continue
            registered.append(str(path))
            if bold and (folder / bold).is_file() and QFontDatabase.addApplicationFont(str(folder / bold)) >= 0:
                registered.append(str(folder / bold))
            return _simplified_family(QFontDatabase.applicationFontFamilies(font_id))
    return None


def _simplified_family(families: list[str]) -> str | None:
    # Noto CJK collections hold JP/KR/SC/TC/HK faces; the SC face draws mainland glyph shapes (e.g. 骨, 直).
    for family in families:
        if family.endswith(" SC"):
            return family
    return families[0] if families else None


# ---------------------------------------------------------------------------------------------- HTML


def _text(value: str) -> str:
    """Escape a value from a person or the catalogue; keep its line breaks."""
    return html.escape(value, quote=True).replace("\n", "<br/>")


def _css_family(family: str) -> str:
    return "'" + family.replace("'", "").replace('"', "").replace(";", "") + "'"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_short(label: str, value: str, short_value: int) -> bool:
    return _width(label) <= _SHORT_LABEL and _width(value) <= short_value and "\n" not in value


def _grid_rows(rows: tuple[tuple[str, str], ...], short_value: int) -> Iterator[list[tuple[str, str]]]:
    """Pair short label/value rows two to a line, as paper forms do; long values get a line of their own."""
    pending: list[tuple[str, str]] = []
    for label, value in rows:
        if _is_short(label, value, short_value):
            pending.append((label, value))
            if len(pending) == 2:
                yield pending
                pending = []
            continue
        if pending:
            yield pending
            pending = []
        yield [(label, value)]
    if pending:
        yield pending


_TABLE: Final = ('<table border="1" cellspacing="0" cellpadding="{pad}" width="100%" '
                 'style="border-collapse: collapse; border-color: #000000; border-style: solid;">')
# Margins, padding and borders in Qt rich text are px of 1/96 inch, scaled to the device; pt works for fonts only.
_SPACER: Final = '<p style="font-size: 4pt; margin-top: 6px; margin-bottom: 0;"></p>'
_KEEP_ANCHOR: Final = "keep-with-signatures"
_LABEL_CELL: Final = '<td width="{w}%" align="center" valign="middle" bgcolor="#efefef">{text}</td>'


def _form_grid(rows: tuple[tuple[str, str], ...]) -> str:
    # Long labels ("家庭成员中是否有残疾人或重病患者") get a wider label column so they wrap to two lines, not four.
    wide_labels = max(_width(label) for label, _ in rows) > _SHORT_LABEL
    label_w = 22 if wide_labels else 17
    value_w = 50 - label_w
    out = [_TABLE.format(pad=3)]
    for line in _grid_rows(rows, short_value=_SHORT_VALUE - 6 if wide_labels else _SHORT_VALUE):
        out.append("<tr>")
        if len(line) == 2:
            for label, value in line:
                out.append(_LABEL_CELL.format(w=label_w, text=_text(label)))
                out.append(f'<td width="{value_w}%" valign="middle">{_text(value)}</td>')
        else:  # a long value, or a short one without a partner: the value spans the rest of the row
            label, value = line[0]
            out.append(_LABEL_CELL.format(w=label_w, text=_text(label)))
            out.append(f'<td colspan="3" valign="middle">{_text(value)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _table(table: Table) -> str:
    widths = table.column_widths or ()
    out = [_TABLE.format(pad=4), "<thead><tr>"]
    for n, header in enumerate(table.headers):
        width = f' width="{widths[n]}%"' if widths else ""
        out.append(f'<th{width} align="center" bgcolor="#efefef">{_text(header)}</th>')
    out.append("</tr></thead>")
    for row in table.rows:
        out.append("<tr>")
        for n, cell in enumerate(row):
            align = "left" if n == 1 or _width(cell) > 12 else "center"  # names read left, codes sit centred
            out.append(f'<td align="{align}" valign="middle">{_text(cell)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _section(section: Section, fonts: DocumentFonts, *, keep_with_signatures: bool = False) -> str:
    """One section; `keep_with_signatures` marks where the block that must share a page with them begins."""
    out = []
    keep = f'<a name="{_KEEP_ANCHOR}"></a>' if keep_with_signatures else ""
    if section.heading:
        out.append(f'<p style="font-family: {_css_family(fonts.sans)}; font-size: {HEADING_PT}pt; '
                   f'font-weight: bold; margin-top: 16px; margin-bottom: 6px;">{keep}{_text(section.heading)}</p>')
        keep = ""
    else:
        out.append(_SPACER)  # a section without a heading still must not touch the table above it
    if section.rows:
        out.append(_form_grid(section.rows))
        if section.paragraphs or section.table is not None:
            out.append(_SPACER)  # keeps what follows off the grid's bottom border
    # Two ideographic spaces are the Chinese first-line indent (CSS text-indent is not scaled to the printer);
    # pre-wrap stops Qt from collapsing them as it does other white space.
    paragraphs = "".join(
        '<p style="line-height: 150%; margin-top: 2px; margin-bottom: 2px; white-space: pre-wrap;">'
        f"{keep if n == len(section.paragraphs) - 1 else ''}\u3000\u3000{_text(p)}</p>"
        for n, p in enumerate(section.paragraphs))
    if paragraphs and section.boxed:
        out.append('<table border="1.5" cellspacing="0" cellpadding="8" width="100%" '
                   'style="border-collapse: collapse; border-color: #000000; border-style: solid;">'
                   f"<tr><td>{paragraphs}</td></tr></table>")
    elif paragraphs:
        out.append(paragraphs)
    if section.table is not None:
        out.append(_table(section.table))
    for note in section.notes:
        out.append(f'<p style="font-size: {SMALL_PT}pt; margin-top: 5px; color: #333333;">{_text(note)}</p>')
    return "".join(out)


def _signatures(lines: tuple[SignatureLine, ...]) -> str:
    if not lines:
        return ""
    blank = "_" * 18
    out = ['<table border="0" cellspacing="0" cellpadding="0" width="100%" style="margin-top: 8px;">']
    for line in lines:
        date_cell = "日期：______年____月____日" if line.with_date else ""
        # The top padding is the room a hand needs to sign or press a fingerprint above the line.
        out.append(f'<tr><td width="58%" style="padding-top: 16px;">{_text(line.role)}：{blank}</td>'
                   f'<td width="42%" align="right" style="padding-top: 16px;">{date_cell}</td></tr>')
    out.append("</table>")
    return "".join(out)


def document_html(doc: A4Document, fonts: DocumentFonts | None = None) -> str:
    """The HTML the page is laid out from; also usable for an on-screen preview (QTextBrowser)."""
    fonts = fonts or document_fonts()
    parts = [f'<html><body style="font-family: {_css_family(fonts.serif)}; font-size: {BODY_PT}pt;">']
    if doc.reference:
        parts.append(f'<p align="right" style="font-size: {SMALL_PT}pt; margin-bottom: 0;">'
                     f"{_text(doc.reference)}</p>")
    parts.append(f'<p align="center" style="font-family: {_css_family(fonts.sans)}; font-size: {TITLE_PT}pt; '
                 f'font-weight: bold; margin-top: 8px; margin-bottom: 6px;">{_text(doc.title)}</p>')
    if doc.subtitle:
        parts.append(f'<p align="center" style="font-size: {BODY_PT}pt; margin-bottom: 8px;">'
                     f"{_text(doc.subtitle)}</p>")
    last = len(doc.sections) - 1
    parts.extend(_section(s, fonts, keep_with_signatures=n == last and bool(doc.signature_lines))
                 for n, s in enumerate(doc.sections))
    parts.append(_signatures(doc.signature_lines))
    parts.append("</body></html>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- painting


def _a4_layout() -> QPageLayout:
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, MARGINS_MM,
                       QPageLayout.Unit.Millimeter)


def _pdf_safe_font(family: str, points: float) -> QFont:
    font = QFont(family)
    font.setPointSizeF(points)
    # In a run with Latin letters ("331123-MZ-0001", an ID number ending in X) Noto CJK's 'locl' swaps the
    # digits for glyphs no cmap entry reaches, so the PDF's text layer reads them as garbage. The SC face draws
    # Simplified Chinese shapes without 'locl', so switching it off changes nothing visible. Rich text formats
    # that only name a family inherit this from the document's default font.
    font.setFeature(QFont.Tag("locl"), 0)
    return font


def _paint(doc: A4Document, device: QPdfWriter | QPrinter, painter: QPainter) -> int:
    """Lay the document out for `device` and paint every page with its footer; returns the page count."""
    fonts = document_fonts()
    dpi = device.resolution()
    paint_rect = device.pageLayout().paintRectPixels(dpi)
    footer_h = FOOTER_BAND_MM / 25.4 * dpi
    body = QSizeF(paint_rect.width(), paint_rect.height() - footer_h)

    text = QTextDocument()
    # Laying out against the device itself makes Qt scale pt sizes, px lengths and borders to its resolution.
    text.documentLayout().setPaintDevice(device)
    text.setDefaultFont(_pdf_safe_font(fonts.serif, BODY_PT))
    text.setDocumentMargin(0)
    text.setPageSize(body)
    text.setHtml(document_html(doc, fonts))
    _keep_signatures_with_last_section(text, body.height())
    pages = max(1, text.pageCount())

    footer_font = _pdf_safe_font(fonts.sans, FOOTER_PT)
    metrics = QFontMetricsF(footer_font, device)
    pen = QPen(Qt.GlobalColor.black)
    pen.setWidthF(dpi / 254)  # 0.1 mm hairline at any resolution
    for page in range(pages):
        if page:
            device.newPage()
        painter.save()
        painter.translate(0, -page * body.height())
        text.drawContents(painter, QRectF(0, page * body.height(), body.width(), body.height()))
        painter.restore()

        band = QRectF(0, body.height(), body.width(), footer_h)
        painter.setPen(pen)
        painter.drawLine(band.topLeft(), band.topRight())
        painter.setFont(footer_font)
        number = f"第 {page + 1} 页 共 {pages} 页"
        number_w = metrics.horizontalAdvance(number)
        footer = metrics.elidedText(doc.footer, Qt.TextElideMode.ElideRight, band.width() - number_w - dpi / 4)
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(band, align | Qt.AlignmentFlag.AlignLeft, footer)
        painter.drawText(band, align | Qt.AlignmentFlag.AlignRight, number)
    return pages


def _keep_signatures_with_last_section(text: QTextDocument, page_height: float) -> None:
    """A signature alone on the last page signs nothing anyone can see: when the last section and the signature
    lines straddle a page break and fit on one page, start that section on a new page."""
    block = text.begin()
    while block.isValid() and not _has_anchor(block, _KEEP_ANCHOR):
        block = block.next()
    if not block.isValid():
        return
    layout = text.documentLayout()
    top = layout.blockBoundingRect(block).top()
    start_page = int(top // page_height)
    end = layout.blockBoundingRect(text.lastBlock()).bottom()
    if start_page < text.pageCount() - 1 and top % page_height > 0 and end - top < page_height:
        fmt = QTextBlockFormat()
        fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        QTextCursor(block).mergeBlockFormat(fmt)


def _has_anchor(block: QTextBlock, name: str) -> bool:
    fragments = block.begin()
    while not fragments.atEnd():
        if name in fragments.fragment().charFormat().anchorNames():
            return True
        fragments += 1
    return False


def render_pdf(doc: A4Document, path: Path) -> Path:
    """Write `doc` as an A4 PDF at `path` (300 dpi, fonts embedded). The file appears whole or not at all."""
    ensure_qt_app()
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    writer = QPdfWriter(str(partial))
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(_a4_layout())
    writer.setTitle(doc.title)
    writer.setCreator("浙江基层便民服务终端")
    painter = QPainter()
    if not painter.begin(writer):
        raise A4PrintError(f"无法写入文件 {path}，请检查磁盘空间和文件夹权限。")
    try:
        try:
            _paint(doc, writer, painter)
        finally:
            ended = painter.end()
        del painter, writer  # QPdfWriter flushes and closes its file when it goes away
        if not ended:
            raise A4PrintError(f"文件 {path} 没有写完整，请检查磁盘空间后重新生成。")
        _repair_text_layer(partial)
        os.replace(partial, path)
    except OSError as exc:
        raise A4PrintError(f"无法保存文件 {path}（{exc.strerror}），请检查磁盘空间和文件夹权限。") from exc
    finally:
        partial.unlink(missing_ok=True)  # nothing left after a successful rename; a failed one leaves no debris
    return path


# ---------------------------------------------------------------------------------------------- text layer

# Noto CJK draws 生 and the Kangxi radical ⽣ with one glyph, and Qt's ToUnicode map names each glyph by its
# lowest code point, so copying or searching a PDF finds "⽣活" and "⺠" where the page shows 生活 and 民: an
# archived form could not be found by the applicant's name. The maps Qt writes are uncompressed text, so each
# radical is swapped in place for the ideograph sharing its glyph; lengths and xref offsets stay as they are.
_RADICALS: Final = range(0x2E80, 0x2FE0)  # CJK Radicals Supplement and Kangxi Radicals
_IDEOGRAPHS: Final = (range(0x3400, 0x4DC0), range(0x4E00, 0xA000))
_TO_UNICODE_REF: Final = re.compile(rb"/ToUnicode (\d+) 0 R")
_UTF16_UNIT: Final = re.compile(rb"<([0-9A-Fa-f]{4})>")
_equivalents_lock = threading.Lock()
_equivalents: dict[int, int] | None = None


def _radical_equivalents() -> dict[int, int]:
    """Radical code point -> the unified ideograph the document fonts draw with the same glyph."""
    global _equivalents
    with _equivalents_lock:
        if _equivalents is None:
            fonts = document_fonts()
            mapping: dict[int, int] = {}
            for family in (fonts.serif, fonts.sans):
                raw = QRawFont.fromFont(QFont(family))
                if not raw.isValid():
                    continue
                ideographs = "".join(map(chr, chain(*_IDEOGRAPHS)))
                by_glyph: dict[int, int] = {}
                for char, glyph in zip(ideographs, raw.glyphIndexesForString(ideographs), strict=True):
                    by_glyph.setdefault(glyph, ord(char))
                radicals = "".join(map(chr, _RADICALS))
                for char, glyph in zip(radicals, raw.glyphIndexesForString(radicals), strict=True):
                    if glyph and glyph in by_glyph:
                        mapping.setdefault(ord(char), by_glyph[glyph])
            for code in _RADICALS:  # Kangxi radicals also have a compatibility form; it covers other fonts
                folded = unicodedata.normalize("NFKC", chr(code))
                if len(folded) == 1 and ord(folded) != code:
                    mapping.setdefault(code, ord(folded))
            _equivalents = mapping
        return _equivalents


def _repair_text_layer(pdf: Path) -> None:
    data = pdf.read_bytes()
    mapping = _radical_equivalents()
    fixed = bytearray(data)
    for number in set(_TO_UNICODE_REF.findall(data)):
        header = re.search(rb"(?m)^" + number + rb" 0 obj\b", data)
        start = data.find(b"stream", header.end()) if header else -1
        end = data.find(b"endstream", start) if start >= 0 else -1
        if end < 0:
            continue
        for unit in _UTF16_UNIT.finditer(data, start, end):
            replacement = mapping.get(int(unit[1], 16))
            if replacement is not None:
                fixed[unit.start(1) : unit.end(1)] = b"%04X" % replacement
    if fixed != data:
        with pdf.open("r+b") as fh:
            fh.write(fixed)
            fh.flush()
            os.fsync(fh.fileno())


def _find_printer(printer_name: str | None) -> QPrinterInfo:
    if printer_name is None:
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            raise A4PrintError("没有设置默认打印机，请在系统中添加 A4 打印机或联系技术人员。")
        return info
    info = QPrinterInfo.printerInfo(printer_name)
    if info.isNull():
        names = "、".join(QPrinterInfo.availablePrinterNames()) or "无"
        raise A4PrintError(f"找不到名为“{printer_name}”的打印机（可用的打印机：{names}），请检查打印机设置。")
    return info


def print_document(doc: A4Document, printer_name: str | None = None, *, copies: int = 1,
                   job_name: str | None = None) -> None:
    """Send `doc` to a system printer (CUPS or the Windows spooler); `None` means the default printer.
    `job_name` is what the print queue lists (the tracking number; never the applicant's name), else the title.

    Returns when the job is handed to the spooler; paper jams and the like are the spooler's to report."""
    ensure_qt_app()
    info = _find_printer(printer_name)
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.NativeFormat)
    printer.setDocName(job_name or doc.title)
    printer.setCopyCount(max(1, copies))
    if not printer.setPageLayout(_a4_layout()):
        # Some drivers reject margins below their hardware minimum; A4 with the driver's margins still prints.
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    painter = QPainter()
    if not painter.begin(printer):
        raise A4PrintError(f"打印机“{info.printerName()}”无法开始打印，请检查打印机是否开机、联网并装好纸。")
    try:
        _paint(doc, printer, painter)
    finally:
        ended = painter.end()
    if not ended or printer.printerState() == QPrinter.PrinterState.Error:
        raise A4PrintError(f"打印机“{info.printerName()}”报告打印失败，请检查打印机后重新打印。")
