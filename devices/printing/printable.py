"""What a GB18030 receipt printer can really print, and how wide it prints it.

Two facts of Chinese thermal printers that `document.wrap` alone does not capture:

- The printer's font holds the two-byte GB18030 area (GB2312/GBK: Han, CJK punctuation, Latin with pinyin
  tones, Greek, Cyrillic, box drawing, ...) and CJK Extension A (four-byte, but part of the mandatory
  GB18030-2000 font). Other four-byte codes (emoji, most symbols, supplementary-plane Han) print as blank or
  garbage, and control characters would be taken as commands. Each of those becomes REPLACEMENT, one for one,
  so what the printer cannot show is visible and nothing is silently dropped.
- In Chinese mode every multi-byte code prints as a full-width 24-dot glyph, including characters Unicode
  calls "ambiguous" width (“ ” … — · × ℃ ① □), which `cell_width` counts as one column. `layout_lines`
  therefore splits again any line `wrap` left too wide for the paper, so a line never spills over on paper.

The PNG preview should call `layout_lines` too, so screen and paper break lines at the same places.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final

from devices.printing.document import REPLACEMENT, display_width, wrap

EXTENSION_A: Final = range(0x3400, 0x4DC0)  # CJK Unified Ideographs Extension A, in the GB18030 font


@lru_cache(maxsize=8192)
def printable_char(ch: str) -> str:
    """`ch` if a GB18030 printer prints it, " " for a tab or a space it lacks, else REPLACEMENT."""
    if ch == "\t":
        return " "
    category = unicodedata.category(ch)
    if category[0] == "C" or category in ("Zl", "Zp"):  # controls, format, surrogates, private use, unassigned
        return REPLACEMENT
    try:
        encoded = ch.encode("gb18030")
    except UnicodeEncodeError:
        return REPLACEMENT
    if len(encoded) <= 2 or ord(ch) in EXTENSION_A:
        return ch
    return " " if category == "Zs" else REPLACEMENT  # e.g. no-break space: a space, not a box


def printable_text(text: str) -> str:
    """Line breaks normalised to "\\n" (kept), every other character mapped by `printable_char`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch == "\n" else printable_char(ch) for ch in text)


def printed_width(text: str) -> int:
    """Columns on paper: ASCII takes one (12 dots), every GB multi-byte code two (see document.cell_width)."""
    return display_width(text)


def layout_lines(text: str, columns: int) -> list[str]:
    """The lines a paragraph prints as: made printable, then wrapped by `document.wrap`."""
    return wrap(printable_text(text), max(columns, 2))  # a full-width character must fit somewhere


def rule_text(char: str, columns: int) -> str:
    """A separator exactly as wide as the paper, whatever the width of its character."""
    ch = printable_char(char[0]) if char and char[0] not in "\r\n" else "-"
    return ch * (columns // printed_width(ch))
