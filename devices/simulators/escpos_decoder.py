"""ESC/POS bytes -> what the paper shows: text lines with their style, QR payloads, cuts, images.

This is how tests (and the emulator's job list) read receipts, because no independent GB18030-aware verifier
exists (DOMAIN.md). It parses like a printer: text outside Chinese mode is one byte per character (code page
437, the power-on table), inside FS & ... FS . bytes from 0x81 start a two- or four-byte GB18030 code. So a
job that forgets FS & decodes as mojibake, as it would print.

- `lines`: lines ended by LF (or by ESC d with text pending), in order; blank lines an empty TextLine printed
  are kept, feeds (ESC d / ESC J) add none. `styled` holds the same lines with alignment, bold and scale.
- `qr_payloads`: native GS ( k symbols when printed (fn 181 after fn 180), and QR codes found by OpenCV in
  raster images (consecutive GS v 0 bands are joined into one picture first).
- `raster_images`: the number of GS v 0 commands.
- Unknown or truncated commands are skipped and listed in `unknown`, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

ESC: Final = 0x1B
GS: Final = 0x1D
FS: Final = 0x1C
DLE: Final = 0x10
ALIGNS: Final = ("left", "center", "right")

# Parameter byte counts of fixed-length commands that only matter for skipping.
ESC_FIXED: Final = {
    b" ": 1, b"!": 1, b"$": 2, b"%": 1, b"-": 1, b"2": 0, b"3": 1, b"<": 0, b"=": 1, b"?": 1, b"D": -1,
    b"G": 1, b"J": 1, b"K": 1, b"L": 0, b"M": 1, b"R": 1, b"S": 0, b"T": 1, b"U": 1, b"V": 1, b"W": 8,
    b"\\": 2, b"c": 2, b"e": 1, b"i": 0, b"m": 0, b"p": 3, b"r": 1, b"t": 1, b"u": 1, b"v": 0, b"{": 1,
}
GS_FIXED: Final = {
    b"$": 2, b"/": 1, b":": 0, b"B": 1, b"H": 1, b"I": 1, b"L": 2, b"P": 2, b"T": 1, b"W": 2, b"\\": 2,
    b"a": 1, b"b": 1, b"f": 1, b"h": 1, b"r": 1, b"w": 1,
}
FS_FIXED: Final = {b"!": 1, b"-": 1, b"C": 1, b"S": 2, b"W": 1, b"p": 2, b"r": 1, b"v": 1}


@dataclass(frozen=True)
class DecodedLine:
    text: str
    align: str = "left"
    bold: bool = False
    scale: int = 1  # width magnification (GS ! / ESC !)


@dataclass
class DecodedReceipt:
    lines: list[str] = field(default_factory=list)
    styled: list[DecodedLine] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    cuts: int = 0
    raster_images: int = 0
    images: list[npt.NDArray[np.bool_]] = field(default_factory=list)  # joined bands, True = dot
    chinese_mode_used: bool = False
    unknown: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def decode(data: bytes, *, read_raster_qr: bool = True) -> DecodedReceipt:
    return _Decoder(data).run(read_raster_qr)


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0
        self.out = DecodedReceipt()
        self.line = ""
        self.line_style: DecodedLine | None = None
        self.bands: list[npt.NDArray[np.bool_]] = []
        self.stored_qr: bytes | None = None
        self._reset_modes()

    def _reset_modes(self) -> None:
        self.align, self.bold, self.scale, self.chinese = "left", False, 1, False

    # -- reading helpers ---------------------------------------------------------------------------------
    def _take(self, count: int) -> bytes | None:
        """The next `count` bytes, or None (and the rest consumed) when the data ends first."""
        if self.i + count > len(self.data):
            self.out.unknown.append(f"truncated at {self.i}")
            self.i = len(self.data)
            return None
        chunk = self.data[self.i : self.i + count]
        self.i += count
        return chunk

    def _byte(self) -> int | None:
        chunk = self._take(1)
        return None if chunk is None else chunk[0]

    # -- output ------------------------------------------------------------------------------------------
    def _char(self, ch: str) -> None:
        self._end_images()
        if not self.line:
            self.line_style = DecodedLine("", self.align, self.bold, self.scale)
        self.line += ch

    def _end_line(self) -> None:
        self._end_images()
        style = self.line_style or DecodedLine("", self.align, self.bold, self.scale)
        self.out.lines.append(self.line)
        self.out.styled.append(DecodedLine(self.line, style.align, style.bold, style.scale))
        self.line, self.line_style = "", None

    def _end_images(self) -> None:
        """Join the bands received since the last other output into one picture."""
        if not self.bands:
            return
        width = max(band.shape[1] for band in self.bands)
        padded = [np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in self.bands]
        self.out.images.append(np.vstack(padded))
        self.bands = []

    # -- parsing -----------------------------------------------------------------------------------------
    def run(self, read_raster_qr: bool) -> DecodedReceipt:
        while self.i < len(self.data):
            b = self.data[self.i]
            self.i += 1
            if b == 0x0A:
                self._end_line()
            elif b == ESC:
                self._esc()
            elif b == GS:
                self._gs()
            elif b == FS:
                self._fs()
            elif b == DLE:
                self._dle()
            elif b == 0x09:
                self._char(" ")
            elif b == 0x0D:
                continue
            elif b < 0x20 or b == 0x7F:
                self.out.unknown.append(f"control 0x{b:02X} at {self.i - 1}")
            elif self.chinese and 0x81 <= b <= 0xFE:
                self._gb_char(b)
            else:
                self._char(bytes([b]).decode("cp437"))
        if self.line:
            self._end_line()
        self._end_images()
        if read_raster_qr:
            for image in self.out.images:
                self.out.qr_payloads.extend(read_qr_codes(image))
        return self.out

    def _gb_char(self, lead: int) -> None:
        second = self.data[self.i : self.i + 1]
        length = 4 if second and 0x30 <= second[0] <= 0x39 else 2
        code = bytes([lead]) + (self._take(length - 1) or b"")
        self._char(code.decode("gb18030", errors="replace"))

    def _esc(self) -> None:
        cmd = self._take(1)
        if cmd is None:
            return
        if cmd == b"@":
            self._end_images()
            self._reset_modes()
        elif cmd in (b"a", b"E", b"!", b"d"):
            n = self._byte()
            if n is None:
                return
            if cmd == b"a":
                self.align = ALIGNS[n % 48] if n % 48 < 3 else "left"
            elif cmd == b"E":
                self.bold = bool(n & 1)
            elif cmd == b"!":
                self.bold, self.scale = bool(n & 0x08), 2 if n & 0x20 else 1
            else:
                self._feed(n)
        elif cmd == b"J":
            self._take(1)
            self._end_images()
        elif cmd == b"*":
            head = self._take(3)
            if head is not None:
                self._take((head[1] + head[2] * 256) * (3 if head[0] in (32, 33) else 1))
        elif cmd == b"D":
            while (n := self._byte()) not in (0, None):
                pass
        elif cmd in ESC_FIXED:
            self._take(ESC_FIXED[cmd])
        else:
            self.out.unknown.append(f"ESC 0x{cmd[0]:02X}")

    def _feed(self, lines: int) -> None:
        if self.line and lines > 0:
            self._end_line()
        self._end_images()

    def _gs(self) -> None:
        cmd = self._take(1)
        if cmd is None:
            return
        if cmd == b"!":
            n = self._byte()
            if n is not None:
                self.scale = (n >> 4) + 1
        elif cmd == b"V":
            m = self._byte()
            if m is None:
                return
            if m in (65, 66, 97, 98, 103, 104):
                self._take(1)
            if self.line:
                self._end_line()
            self._end_images()
            self.out.cuts += 1
        elif cmd == b"v":
            self._raster()
        elif cmd == b"(":
            head = self._take(3)
            if head is not None:
                body = self._take(head[1] + head[2] * 256)
                if body is not None and head[0:1] == b"k":
                    self._qr_function(body)
        elif cmd == b"8":
            head = self._take(5)
            if head is not None:
                self._take(int.from_bytes(head[1:5], "little"))
        elif cmd == b"k":
            self._barcode()
        elif cmd == b"*":
            head = self._take(2)
            if head is not None:
                self._take(head[0] * head[1] * 8)
        elif cmd in GS_FIXED:
            self._take(GS_FIXED[cmd])
        else:
            self.out.unknown.append(f"GS 0x{cmd[0]:02X}")

    def _raster(self) -> None:
        head = self._take(6)  # '0' m xL xH yL yH
        if head is None:
            return
        width, height = head[2] + head[3] * 256, head[4] + head[5] * 256
        body = self._take(width * height)
        if body is None or head[0] != 0x30:
            self.out.unknown.append("GS v ?")
            return
        if self.line:
            self._end_line()
        self.out.raster_images += 1
        rows = np.frombuffer(body, dtype=np.uint8).reshape(height, width)
        self.bands.append(np.unpackbits(rows, axis=1).astype(np.bool_))

    def _qr_function(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 49:  # cn 49 = QR; PDF417 and others are skipped
            return
        if body[1] == 80:
            self.stored_qr = body[3:]
        elif body[1] == 81 and self.stored_qr is not None:
            if self.line:
                self._end_line()
            self._end_images()
            self.out.qr_payloads.append(self.stored_qr.decode("utf-8", errors="replace"))

    def _barcode(self) -> None:
        m = self._byte()
        if m is None:
            return
        if m <= 6:
            while (n := self._byte()) not in (0, None):
                pass
        else:
            n = self._byte()
            if n is not None:
                self._take(n)

    def _fs(self) -> None:
        cmd = self._take(1)
        if cmd is None:
            return
        if cmd == b"&":
            self.chinese = True
            self.out.chinese_mode_used = True
        elif cmd == b".":
            self.chinese = False
        elif cmd == b"2":
            self._take(74)
        elif cmd == b"(":
            head = self._take(3)
            if head is not None:
                self._take(head[1] + head[2] * 256)
        elif cmd in FS_FIXED:
            self._take(FS_FIXED[cmd])
        else:
            self.out.unknown.append(f"FS 0x{cmd[0]:02X}")

    def _dle(self) -> None:
        cmd = self._take(1)
        if cmd in (b"\x04", b"\x05"):
            self._take(1)
        elif cmd == b"\x14":
            self._take(3)
        else:
            self.out.unknown.append("DLE ?")


def read_qr_codes(image: npt.NDArray[np.bool_]) -> list[str]:
    """QR payloads OpenCV finds in a printed bitmap; [] when OpenCV is missing or finds none."""
    try:
        import cv2
    except ImportError:
        return []
    picture = np.where(image, 0, 255).astype(np.uint8)
    picture = np.pad(picture, 32, constant_values=255)  # the paper around the symbol: a quiet zone
    detector = cv2.QRCodeDetector()
    for zoom in (1, 2, 3):  # OpenCV misses symbols with 2-dot modules at their printed size
        enlarged = picture if zoom == 1 else cv2.resize(picture, None, fx=zoom, fy=zoom,
                                                        interpolation=cv2.INTER_NEAREST)
        text, _, _ = detector.detectAndDecode(enlarged)
        if text:
            return [str(text)]
        ok, texts, _, _ = detector.detectAndDecodeMulti(enlarged)  # finds some the single pass misses
        found = [str(text) for text in texts if text] if ok else []
        if found:
            return found
    return []
