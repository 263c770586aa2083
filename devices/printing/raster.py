"""Bitmaps for the printer: text lines drawn with a CJK font, QR symbols, and their GS v 0 commands.

Bitmaps are boolean arrays (True = a printed dot), rows top to bottom. Alignment is drawn into the bitmap as
leading blank columns instead of relying on ESC a, which some clones ignore for raster images; trailing blank
columns are cut off to keep jobs small.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from devices.printing.document import Align
from devices.printing.printer import PrinterError

Bitmap = npt.NDArray[np.bool_]

GS: Final = b"\x1d"
MAX_BAND_ROWS: Final = 255  # some printers cap GS v 0 at a few hundred rows; yH = 0 is safe everywhere
CELL_DOTS: Final = 12  # font A half-width cell at 203 dpi; full-width glyphs are 24 x 24
LINE_DOTS: Final = 30  # one text line including spacing, as the printer's default line pitch
# A 0x10 byte followed by one of these is taken as a real-time command (DLE EOT / DLE ENQ / DLE DC4) even
# inside image data, and the printer would answer a status byte nobody asked for.
REALTIME_PATTERN: Final = re.compile(rb"\x10(?=[\x04\x05\x14])")

MONO_FACE: Final = "Noto Sans Mono CJK SC"  # half-width ASCII, full-width Han: the printer's own grid
FONT_FILES: Final = {
    False: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "C:/Windows/Fonts/NotoSansCJK-Regular.ttc",
        "C:/Windows/Fonts/msyh.ttc",
    ),
    True: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        "C:/Windows/Fonts/NotoSansCJK-Bold.ttc",
        "C:/Windows/Fonts/msyhbd.ttc",
    ),
}


@lru_cache(maxsize=32)
def cjk_font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """The mono CJK face at `size` pixels; a bold request falls back to the regular file if needed."""
    for path in (*FONT_FILES[bold], *FONT_FILES[False]):
        if not Path(path).is_file():
            continue
        fallback: ImageFont.FreeTypeFont | None = None
        for index in range(16):
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            fallback = fallback or font
            if font.getname()[0] == MONO_FACE:
                return font
        if fallback is not None:
            return fallback
    raise PrinterError("找不到中文字体，无法以图像方式打印中文，请联系技术人员",
                       detail="需要 Noto Sans CJK 字体")


def text_bitmap(line: str, width_dots: int, align: Align, bold: bool, scale: int) -> Bitmap | None:
    """One printed line as a bitmap `LINE_DOTS * scale` rows high, or None for a blank line."""
    if not line.strip():
        return None
    font = cjk_font(2 * CELL_DOTS * scale, bold)
    height = LINE_DOTS * scale
    text_width = min(int(np.ceil(font.getlength(line))), width_dots)
    x = {Align.LEFT: 0, Align.CENTER: (width_dots - text_width) // 2, Align.RIGHT: width_dots - text_width}[align]
    canvas = Image.new("L", (width_dots, height), 0)
    ImageDraw.Draw(canvas).text((x, height // 2), line, fill=255, font=font, anchor="lm")
    return trim_right(np.asarray(canvas) >= 128)


def qr_bitmap(matrix: list[list[bool]], module: int, width_dots: int) -> Bitmap:
    """A QR symbol (without quiet zone) scaled to `module` dots per module, centred on the paper."""
    symbol = np.kron(np.array(matrix, dtype=np.bool_), np.ones((module, module), dtype=np.bool_))
    left = max((width_dots - symbol.shape[1]) // 2, 0)
    bitmap = np.zeros((symbol.shape[0], left + symbol.shape[1]), dtype=np.bool_)
    bitmap[:, left:] = symbol
    return bitmap


def trim_right(bitmap: Bitmap) -> Bitmap | None:
    columns = np.flatnonzero(bitmap.any(axis=0))
    if columns.size == 0:
        return None
    return bitmap[:, : int(columns[-1]) + 1]


def raster_commands(bitmap: Bitmap) -> bytes:
    """GS v 0 (normal density) in bands of at most MAX_BAND_ROWS rows; width padded to whole bytes."""
    packed = np.packbits(bitmap, axis=1)  # MSB first = leftmost dot, zero-padded to a multiple of 8
    width_bytes = packed.shape[1]
    out = bytearray()
    for top in range(0, packed.shape[0], MAX_BAND_ROWS):
        band = packed[top : top + MAX_BAND_ROWS]
        rows = band.shape[0]
        out += GS + b"v0\x00" + bytes([width_bytes & 0xFF, width_bytes >> 8, rows & 0xFF, rows >> 8])
        out += defuse_realtime(band.tobytes())
    return bytes(out)


def defuse_realtime(data: bytes) -> bytes:
    """Drop the single dot (0x10 = one dot) that would complete a real-time command sequence in image data;
    one missing dot is invisible on a glyph or a QR module, a spurious status byte is not harmless."""
    return REALTIME_PATTERN.sub(b"\x00", data)
