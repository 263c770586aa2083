"""The card photo: 1024 bytes of WLT, which only a licensed vendor library turns into a 102x126 BMP.

We do not ship or imitate that library. `find_wlt_decoder()` looks for one at run time (the environment
variable KIOSK_WLT_LIBRARY names a file or library first, then the usual names on the loader path) and
returns a `decode(wlt) -> bmp bytes` callable, or None; without one the screen says the photo is not
available, and the raw WLT still travels in `CardRecord.photo`.

The two vendor interfaces in use (from integrations; neither is documented publicly):
- Linux libwlt.so / libwlt2bmp.so: ``int unpack(char *wlt, char *bmp, int flag)`` with flag 602, filling a
  38862-byte buffer; returns 1 on success. Some builds write a whole BMP file, others bare pixels; both are
  handled.
- Windows WltRS.dll: ``int GetBmp(char *wlt_path, int interface)`` reads a .wlt file and writes a .bmp beside
  it; returns 1 on success.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

from devices.identity.reader import CardUnreadable

ENV_VAR: Final = "KIOSK_WLT_LIBRARY"
POSIX_NAMES: Final = ("libwlt.so", "libwlt2bmp.so", "wlt")
WINDOWS_NAMES: Final = ("WltRS.dll",)
WLT_SIZE: Final = 1024
WIDTH: Final = 102
HEIGHT: Final = 126
ROW_BYTES: Final = (WIDTH * 3 + 3) & ~3  # BMP rows are padded to 4 bytes: 308
BMP_HEADER_SIZE: Final = 54
BMP_SIZE: Final = BMP_HEADER_SIZE + ROW_BYTES * HEIGHT  # 38862
UNPACK_FLAG: Final = 602
PHOTO_UNAVAILABLE: Final = "身份证照片暂时无法显示"

WltDecoder = Callable[[bytes], bytes]

# Vendor decoders keep global state; one call at a time.
_lock = threading.Lock()


def find_wlt_decoder() -> WltDecoder | None:
    for candidate in _candidates():
        library = _load(candidate)
        if library is None:
            continue
        decoder = _unpack_decoder(library) or _getbmp_decoder(library)
        if decoder is not None:
            return decoder
    return None


def bmp_from_pixels(pixels: bytes) -> bytes:
    """A BMP file around 102x126 24-bit pixels, given bottom-up BGR rows either padded (308) or packed (306)."""
    packed = WIDTH * 3
    if len(pixels) == packed * HEIGHT:
        pixels = b"".join(
            pixels[row * packed : (row + 1) * packed] + bytes(ROW_BYTES - packed) for row in range(HEIGHT)
        )
    if len(pixels) != ROW_BYTES * HEIGHT:
        raise CardUnreadable(PHOTO_UNAVAILABLE, detail=f"decoder returned {len(pixels)} pixel bytes")
    file_header = struct.pack("<2sIHHI", b"BM", BMP_SIZE, 0, 0, BMP_HEADER_SIZE)
    info_header = struct.pack("<IiiHHIIiiII", 40, WIDTH, HEIGHT, 1, 24, 0, len(pixels), 3780, 3780, 0, 0)
    return file_header + info_header + pixels


def _candidates() -> list[str]:
    names: list[str] = []
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        names.append(override)
    for name in WINDOWS_NAMES if sys.platform == "win32" else POSIX_NAMES:
        names.append(name)
        found = ctypes.util.find_library(name.removeprefix("lib").removesuffix(".so").removesuffix(".dll"))
        if found:
            names.append(found)
    return list(dict.fromkeys(names))


def _load(name: str) -> ctypes.CDLL | None:
    # WltRS.dll uses stdcall (WinDLL); WinDLL exists only on Windows, hence the lookup by name.
    loader = getattr(ctypes, "WinDLL", ctypes.CDLL) if sys.platform == "win32" else ctypes.CDLL
    try:
        library: ctypes.CDLL = loader(name)
    except OSError:
        return None
    return library


def _unpack_decoder(library: ctypes.CDLL) -> WltDecoder | None:
    try:
        unpack = library.unpack
    except AttributeError:
        return None
    unpack.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
    unpack.restype = ctypes.c_int

    def decode(wlt: bytes) -> bytes:
        _check_wlt(wlt)
        source = ctypes.create_string_buffer(wlt, WLT_SIZE)
        target = ctypes.create_string_buffer(BMP_SIZE)
        with _lock:
            result = unpack(source, target, UNPACK_FLAG)
        if result != 1:
            raise CardUnreadable(PHOTO_UNAVAILABLE, detail=f"unpack returned {result}")
        raw = target.raw
        if raw.startswith(b"BM"):
            return raw
        return bmp_from_pixels(raw[: ROW_BYTES * HEIGHT])

    return decode


def _getbmp_decoder(library: ctypes.CDLL) -> WltDecoder | None:
    try:
        get_bmp = library.GetBmp
    except AttributeError:
        return None
    get_bmp.argtypes = (ctypes.c_char_p, ctypes.c_int)
    get_bmp.restype = ctypes.c_int

    def decode(wlt: bytes) -> bytes:
        _check_wlt(wlt)
        # The photo is personal data: a private temporary folder, removed straight after.
        with tempfile.TemporaryDirectory(prefix="wlt-") as folder:
            source = Path(folder) / "zp.wlt"
            source.write_bytes(wlt)
            with _lock:
                result = get_bmp(str(source).encode(sys.getfilesystemencoding()), 2)
            target = source.with_suffix(".bmp")
            if result != 1 or not target.exists():
                raise CardUnreadable(PHOTO_UNAVAILABLE, detail=f"GetBmp returned {result}")
            return target.read_bytes()

    return decode


def _check_wlt(wlt: bytes) -> None:
    if len(wlt) != WLT_SIZE:
        raise CardUnreadable(PHOTO_UNAVAILABLE, detail=f"WLT of {len(wlt)} bytes")
