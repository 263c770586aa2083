"""A PNG that looks like the thermal paper: what the agent sees on screen before (or instead of) printing.

The picture follows the printer's model, not a typesetter's: a grid of 12x24-dot cells (every GB18030
multi-byte character takes two), 30-dot line pitch, lines broken by `printable.layout_lines` exactly as the
ESC/POS encoder breaks them, scale 2 doubling both directions, QR codes with the encoder's module size and
quiet zone (the QR matrix itself comes from the encoder's `plan_qr`). Text is drawn with the raster module's
monospaced Noto Sans Mono CJK face, each character on its own cell, as the printer places it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from PIL import Image, ImageDraw

from devices.printing.document import Align, Cut, Feed, PrintDocument, PrinterProfile, QRCode, Rule, TextLine
from devices.printing.escpos_encoder import MAX_SCALE, QR_QUIET_MODULES, QR_TOO_LONG, plan_qr, qr_level
from devices.printing.printable import layout_lines, printed_width, rule_text
from devices.printing.raster import CELL_DOTS, LINE_DOTS, cjk_font

DOTS_PER_MM: Final = 203 / 25.4
MIN_MARGIN: Final = 16
TOP_MARGIN: Final = 24
INK: Final = 0
PAPER: Final = 255
CUT_MARK: Final = 110  # grey: the cut is where the paper ends, not something printed

Painter = Callable[[ImageDraw.ImageDraw, Image.Image, int], None]
Modules = tuple[tuple[bool, ...], ...]


def preview_width(profile: PrinterProfile) -> int:
    """The whole paper strip: the printable dots plus the unprintable margins of a roll that wide."""
    paper_dots = round(profile.paper_mm * DOTS_PER_MM)
    return profile.dots_per_line + 2 * max((paper_dots - profile.dots_per_line) // 2, MIN_MARGIN)


def render_png(document: PrintDocument, profile: PrinterProfile) -> bytes:
    image = render_image(document, profile)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)  # previews are shown once; speed beats a few KB
    return out.getvalue()


def render_image(document: PrintDocument, profile: PrinterProfile) -> Image.Image:
    rows = list(_layout(document, profile))
    height = (rows[-1].bottom if rows else TOP_MARGIN) + LINE_DOTS
    image = Image.new("L", (preview_width(profile), height), PAPER)
    draw = ImageDraw.Draw(image)
    for row in rows:
        if row.paint is not None:
            row.paint(draw, image, row.top)
    return image


def text_rows(document: PrintDocument, profile: PrinterProfile) -> list[str]:
    """The text of each printed row, top to bottom, as the preview lays it out (rules included): what a test
    compares with the rows decoded from the encoder's bytes."""
    return [row.text for row in _layout(document, profile) if row.text is not None]


@dataclass(frozen=True)
class _Row:
    top: int
    bottom: int
    paint: Painter | None
    text: str | None = None


def _layout(document: PrintDocument, profile: PrinterProfile) -> Iterator[_Row]:
    left = (preview_width(profile) - profile.dots_per_line) // 2
    cell = profile.dots_per_line // profile.columns if profile.columns else CELL_DOTS
    y = TOP_MARGIN
    for op in document.ops:
        if isinstance(op, TextLine):
            rows = _text_rows(op, profile, left, cell, y)
            yield from rows
            y = rows[-1].bottom
        elif isinstance(op, Rule):
            line = rule_text(op.char, profile.columns)
            yield _Row(y, y + LINE_DOTS, _text_painter(line, left, cell, 1, False), line)
            y += LINE_DOTS
        elif isinstance(op, QRCode):
            planned = _qr_image(op, profile.dots_per_line)
            if planned is None:  # the encoder prints the payload as text instead; so does the preview
                for fallback in (TextLine(QR_TOO_LONG, bold=True), TextLine(op.data)):
                    rows = _text_rows(fallback, profile, left, cell, y)
                    yield from rows
                    y = rows[-1].bottom
                continue
            qr, quiet = planned
            x = left + max((profile.dots_per_line - qr.width) // 2, 0)
            yield _Row(y, y + qr.height + 2 * quiet, _paste_painter(qr, x, quiet))
            y += qr.height + 2 * quiet
        elif isinstance(op, Feed):
            y += LINE_DOTS * max(op.lines, 0)
            yield _Row(y, y, None)
        elif isinstance(op, Cut):
            yield _Row(y, y + LINE_DOTS, _cut_painter(preview_width(profile), op.partial, LINE_DOTS // 2))
            y += LINE_DOTS


def _text_rows(op: TextLine, profile: PrinterProfile, left: int, cell: int, top: int) -> list[_Row]:
    """One row per printed line (never none: an empty paragraph is one blank line, as on paper)."""
    scale = min(max(op.scale, 1), MAX_SCALE)
    rows: list[_Row] = []
    for line in layout_lines(op.text, profile.columns // scale):
        x = left + _indent(line, op.align, profile.dots_per_line, cell * scale)
        rows.append(_Row(top, top + LINE_DOTS * scale, _text_painter(line, x, cell * scale, scale, op.bold), line))
        top += LINE_DOTS * scale
    return rows


def _indent(line: str, align: Align, dots: int, cell: int) -> int:
    # The printer centres and right-aligns by dots (ESC a), not by whole cells.
    used = printed_width(line) * cell
    if align is Align.CENTER:
        return max((dots - used) // 2, 0)
    if align is Align.RIGHT:
        return max(dots - used, 0)
    return 0


def _text_painter(line: str, x: int, cell: int, scale: int, bold: bool) -> Painter:
    size = 2 * CELL_DOTS * scale
    height = LINE_DOTS * scale

    def paint(_draw: ImageDraw.ImageDraw, image: Image.Image, top: int) -> None:
        # Each character goes onto its own cell from a glyph cache: the printer's grid exactly, and a receipt
        # repeats few characters, so this is several times faster than asking FreeType for every line.
        cursor = x
        for ch in line:
            if not ch.isspace():
                glyph = _glyph(size, bold, ch, height)
                image.paste(INK, (cursor, top, cursor + glyph.width, top + height), glyph)
            cursor += printed_width(ch) * cell

    return paint


def _paste_painter(picture: Image.Image, x: int, quiet: int) -> Painter:
    def paint(_draw: ImageDraw.ImageDraw, image: Image.Image, top: int) -> None:
        image.paste(picture, (x, top + quiet))

    return paint


def _cut_painter(width: int, partial: bool, offset: int) -> Painter:
    def paint(draw: ImageDraw.ImageDraw, _image: Image.Image, top: int) -> None:
        dash, gap = (10, 6) if partial else (16, 4)
        for x in range(0, width, dash + gap):
            draw.line([(x, top + offset), (min(x + dash, width), top + offset)], fill=CUT_MARK, width=2)

    return paint


def _qr_image(op: QRCode, width_dots: int) -> tuple[Image.Image, int] | None:
    """The symbol exactly as the encoder plans it (same matrix, module shrunk to fit the paper, four modules of
    quiet zone above and below), or None where the encoder gives up and prints the payload as text."""
    planned = _planned_qr(op.data, qr_level(op.error_correction), op.module_size, width_dots)
    if planned is None:
        return None
    modules, module = planned
    size = len(modules)
    small = Image.new("L", (size, size), PAPER)
    small.putdata([INK if dark else PAPER for row in modules for dark in row])
    return small.resize((size * module, size * module), Image.Resampling.NEAREST), QR_QUIET_MODULES * module


@lru_cache(maxsize=64)
def _planned_qr(data: str, level: str, module_size: int, width_dots: int) -> tuple[Modules, int] | None:
    # Cached: qrcode's choice of the best of eight masks is most of a preview's cost, and a screen redraws the
    # same receipt often.
    planned = plan_qr(data, level, module_size, width_dots)
    if planned is None:
        return None
    return tuple(tuple(bool(dark) for dark in row) for row in planned.matrix()), planned.module


@lru_cache(maxsize=8192)
def _glyph(size: int, bold: bool, ch: str, height: int) -> Image.Image:
    """Coverage mask of one character, vertically centred in the line pitch like the raster encoder's lines
    ("lm" anchor); as wide as the glyph's advance, so a glyph wider than its cells still shows whole."""
    font = cjk_font(size, bold)
    mask = Image.new("L", (max(1, round(font.getlength(ch))), height), 0)
    ImageDraw.Draw(mask).text((0, height // 2), ch, font=font, fill=255, anchor="lm")
    return mask
