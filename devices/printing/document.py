"""A device-neutral print document: what a receipt says, before it becomes ESC/POS bytes or a PNG preview.

One layout source feeds both outputs, so the preview on screen is what the paper shows. Wrapping lives here
too, so the encoder and the preview break lines at exactly the same places: CJK and other wide characters take
two columns, as on a thermal printer's 12x24 / 24x24 font.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextLine:
    """A paragraph; wrapped to the paper. `scale` 2 = double width and height (tracking numbers, titles)."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    scale: int = 1


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""

    char: str = "-"


@dataclass(frozen=True)
class QRCode:
    data: str
    module_size: int = 6  # dots per module (1..16); about 0.75 mm at 203 dpi
    error_correction: str = "M"  # L M Q H


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = True


PrintOp = TextLine | Rule | QRCode | Feed | Cut


@dataclass(frozen=True)
class PrintDocument:
    title: str  # for logs and the job list, never personal data
    ops: tuple[PrintOp, ...]


@dataclass(frozen=True)
class PrinterProfile:
    """What one printer model can do. `columns` counts half-width cells of font A at scale 1."""

    paper_mm: int = 80
    columns: int = 48  # 80 mm: 48; 58 mm: 32
    dots_per_line: int = 576  # printable width in dots at 203 dpi (80 mm: 576, 58 mm: 384)
    chinese: str = "gb18030"  # "gb18030": printer font via FS & ... FS .; "raster": text drawn as an image
    qr: str = "native"  # "native": GS ( k; "raster": the QR drawn as an image
    cutter: bool = True

    @classmethod
    def for_paper(cls, paper_mm: int, **overrides: object) -> PrinterProfile:
        base = cls(58, 32, 384) if paper_mm == 58 else cls()
        return cls(**{**base.__dict__, **overrides})


REPLACEMENT: Final = "□"  # shown for characters the printer cannot print: visible, never silently dropped


def cell_width(ch: str) -> int:
    # In Chinese mode a printer prints every non-ASCII character from its 24x24 font, two cells wide, including
    # the "ambiguous" ones (“ ” … · ① □) that a terminal would draw narrow, and combining marks, which it does
    # not compose.
    return 1 if ch.isascii() else 2


def display_width(text: str) -> int:
    return sum(cell_width(ch) for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break `text` into lines of at most `columns` cells; explicit newlines are kept; never splits a wide
    character; an empty paragraph is one empty line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0
        for ch in paragraph:
            w = cell_width(ch)
            if width + w > columns and line:
                lines.append(line)
                line, width = "", 0
            line += ch
            width += w
        lines.append(line)
    return lines
