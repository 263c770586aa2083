"""PrintDocument -> ESC/POS bytes, written by hand because python-escpos gets Chinese wrong (DOMAIN.md).

Byte-level choices, all deterministic:
- ESC @ first, so every job starts from the power-on modes whatever the previous job left behind.
- Style commands (ESC a, ESC E, GS !) are sent only when they change; GS ! and ESC E act on Han and ASCII
  alike, so FS ! (Kanji-only size) is never needed.
- `chinese="gb18030"`: FS & before the first line holding a multi-byte code, FS . before the next device
  command (QR, image, cut) and at the end, so clones that mis-parse command bytes in Chinese mode stay safe
  and the printer is left in ASCII mode. Text is GB18030 after `printable.layout_lines`.
- `chinese="raster"`: every non-blank line is a bitmap drawn with the Noto CJK mono face (printers without a
  Chinese font); blank lines are a dot feed (ESC J), which costs three bytes instead of an image.
- QR: native GS ( k (model 2, UTF-8 data) or a GS v 0 bitmap from the `qrcode` library, with four modules of
  blank paper above and below. The module size shrinks to fit the paper; a payload that no QR version holds at
  a module of at least MIN_QR_MODULE dots prints as text under QR_TOO_LONG instead.
- Cut: GS V 66 0 (partial) / GS V 65 0 (full), both feeding to the cutter first; without a cutter the paper
  is fed TEAR_FEED_LINES lines so the last line clears the tear bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import qrcode
import qrcode.constants
from qrcode.exceptions import DataOverflowError

from devices.printing.document import (
    Align,
    Cut,
    Feed,
    PrintDocument,
    PrinterProfile,
    QRCode,
    Rule,
    TextLine,
)
from devices.printing.printable import layout_lines, rule_text
from devices.printing.raster import (
    LINE_DOTS,
    REALTIME_PATTERN,
    qr_bitmap,
    raster_commands,
    text_bitmap,
)

ESC: Final = b"\x1b"
GS: Final = b"\x1d"
FS: Final = b"\x1c"
LF: Final = b"\n"
INIT: Final = ESC + b"@"
CHINESE_ON: Final = FS + b"&"
CHINESE_OFF: Final = FS + b"."
CUT_PARTIAL: Final = GS + b"V" + bytes([66, 0])
CUT_FULL: Final = GS + b"V" + bytes([65, 0])
TEAR_FEED_LINES: Final = 4
MAX_SCALE: Final = 8
MIN_QR_MODULE: Final = 2  # below 2 dots (0.25 mm) phone cameras stop reading receipts reliably
QR_QUIET_MODULES: Final = 4
QR_TOO_LONG: Final = "二维码内容过长，已改为文字"
ALIGN_CODES: Final = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}
EC_LEVELS: Final = "LMQH"
_QR_EC: Final = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def encode(document: PrintDocument, profile: PrinterProfile) -> bytes:
    """The complete job for `document` on a printer described by `profile`.

    Never raises for content (any text, any QR payload); raises PrinterError only in raster mode on a machine
    without a CJK font.
    """
    writer = _Writer(profile)
    for op in document.ops:
        if isinstance(op, TextLine):
            writer.text(op)
        elif isinstance(op, Rule):
            writer.text(TextLine(rule_text(op.char, profile.columns)))
        elif isinstance(op, QRCode):
            writer.qr(op)
        elif isinstance(op, Feed):
            writer.feed_lines(op.lines)
        elif isinstance(op, Cut):
            writer.cut(op)
    writer.chinese(False)
    return bytes(writer.out)


class _Writer:
    """The byte buffer plus the printer modes it has set, so each mode command is sent only on change."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self.out = bytearray(INIT)
        self._align = Align.LEFT
        self._bold = False
        self._scale = 1
        self._chinese = False

    # -- modes -------------------------------------------------------------------------------------------
    def align(self, align: Align) -> None:
        if align != self._align:
            self.out += ESC + b"a" + bytes([ALIGN_CODES[align]])
            self._align = align

    def bold(self, bold: bool) -> None:
        if bold != self._bold:
            self.out += ESC + b"E" + bytes([int(bold)])
            self._bold = bold

    def scale(self, scale: int) -> None:
        if scale != self._scale:
            self.out += GS + b"!" + bytes([(scale - 1) << 4 | (scale - 1)])
            self._scale = scale

    def chinese(self, on: bool) -> None:
        if on != self._chinese:
            self.out += CHINESE_ON if on else CHINESE_OFF
            self._chinese = on

    # -- operations ----------------------------------------------------------------------------------------
    def text(self, op: TextLine) -> None:
        scale = min(max(op.scale, 1), MAX_SCALE)
        lines = layout_lines(op.text, self.profile.columns // scale)
        if self.profile.chinese == "raster":
            self._raster_text(lines, op.align, op.bold, scale)
            return
        self.align(op.align)
        self.bold(op.bold)
        self.scale(scale)
        for line in lines:
            if not line.isascii():
                self.chinese(True)
            self.out += line.encode("gb18030") + LF

    def _raster_text(self, lines: list[str], align: Align, bold: bool, scale: int) -> None:
        for line in lines:
            bitmap = text_bitmap(line, self.profile.dots_per_line, align, bold, scale)
            if bitmap is None:
                self.feed_dots(LINE_DOTS * scale)
            else:
                self.image_mode()
                self.out += raster_commands(bitmap)

    def image_mode(self) -> None:
        """Bitmaps carry their own alignment; leave Chinese mode before the command (see module doc)."""
        self.chinese(False)
        self.align(Align.LEFT)

    def feed_lines(self, lines: int) -> None:
        while lines > 0:
            step = min(lines, 255)
            self.out += ESC + b"d" + bytes([step])
            lines -= step

    def feed_dots(self, dots: int) -> None:
        while dots > 0:
            step = min(dots, 255)
            self.out += ESC + b"J" + bytes([step])
            dots -= step

    def cut(self, op: Cut) -> None:
        self.chinese(False)
        if self.profile.cutter:
            self.out += CUT_PARTIAL if op.partial else CUT_FULL
        else:
            self.feed_lines(TEAR_FEED_LINES)

    def qr(self, op: QRCode) -> None:
        level = qr_level(op.error_correction)
        plan = plan_qr(op.data, level, op.module_size, self.profile.dots_per_line)
        if plan is None:
            self.text(TextLine(QR_TOO_LONG, bold=True))
            self.text(TextLine(op.data))
            return
        module = plan.module
        payload = op.data.encode("utf-8")
        quiet = QR_QUIET_MODULES * module
        if self.profile.qr == "native" and not REALTIME_PATTERN.search(payload):
            self.chinese(False)
            self.align(Align.CENTER)
            self.feed_dots(quiet)
            self.out += native_qr(payload, level, module)
            self.feed_dots(quiet)
        else:
            self.image_mode()
            self.feed_dots(quiet)
            self.out += raster_commands(qr_bitmap(plan.matrix(), module, self.profile.dots_per_line))
            self.feed_dots(quiet)


@dataclass(frozen=True)
class QrPlan:
    """A QR symbol's size and the module size that fits the paper. The module matrix is built only on demand:
    native printing needs just the size, and choosing the best of eight masks was most of a receipt's encoding
    time."""

    code: qrcode.QRCode
    module: int

    @property
    def modules(self) -> int:
        return int(self.code.version) * 4 + 17

    def matrix(self) -> list[list[bool]]:
        self.code.make(fit=False)
        return self.code.get_matrix()  # type: ignore[no-any-return]


def plan_qr(data: str, level: str, module_size: int, width_dots: int) -> QrPlan | None:
    """How the QR code will print, or None when the payload cannot print as a QR code (the encoder then prints
    it as text under QR_TOO_LONG). The preview asks the same question."""
    code = qrcode.QRCode(version=None, error_correction=_QR_EC[qr_level(level)], box_size=1, border=0)
    try:
        code.add_data(data.encode("utf-8"))
        code.best_fit()
    except (DataOverflowError, ValueError):
        return None
    modules = int(code.version) * 4 + 17
    module = min(max(module_size, 1), 16, width_dots // (modules + 2 * QR_QUIET_MODULES))
    if module < MIN_QR_MODULE:
        return None
    return QrPlan(code, module)


def qr_level(level: str) -> str:
    """One of L M Q H; anything else is M, the level `QRCode` defaults to."""
    level = level.strip().upper()
    return level if len(level) == 1 and level in EC_LEVELS else "M"


def native_qr(payload: bytes, level: str, module: int) -> bytes:
    """GS ( k: fn 165 model 2, fn 167 module size, fn 169 error correction, fn 180 store, fn 181 print."""
    return (
        _gs_k(65, bytes([50, 0]))
        + _gs_k(67, bytes([module]))
        + _gs_k(69, bytes([48 + EC_LEVELS.index(level)]))
        + _gs_k(80, b"0" + payload)
        + _gs_k(81, b"0")
    )


def _gs_k(fn: int, parameters: bytes) -> bytes:
    size = len(parameters) + 2  # cn and fn count towards pL pH
    return GS + b"(k" + bytes([size & 0xFF, size >> 8, 49, fn]) + parameters
