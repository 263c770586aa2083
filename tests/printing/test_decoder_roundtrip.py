"""The decoder on bytes from another producer and on junk; random text through encode -> decode."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.printing.document import REPLACEMENT, Align, PrintDocument, PrinterProfile, TextLine
from devices.printing.escpos_encoder import encode
from devices.printing.printable import printed_width
from devices.simulators.escpos_decoder import decode


def test_reads_python_escpos_native_and_image_qr_codes() -> None:
    """python-escpos is an independent producer: its native and its image QR must both read back."""
    from escpos.printer import Dummy

    printer = Dummy()
    printer.qr("ZJ2024-000123", native=True, size=6)
    printer.qr("https://zwfw.zj.gov.cn/", native=False, size=6)
    printer.cut()
    receipt = decode(printer.output)
    assert receipt.qr_payloads == ["ZJ2024-000123", "https://zwfw.zj.gov.cn/"]
    assert receipt.cuts == 1 and receipt.raster_images >= 1


def test_gb18030_without_fs_ampersand_decodes_as_the_printer_would_show_it() -> None:
    """python-escpos's magic encode sends GB18030 with no FS &: a printer in ASCII mode prints mojibake."""
    receipt = decode(b"\x1b@" + "受理".encode("gb18030") + b"\n")
    assert receipt.lines != ["受理"] and not receipt.chinese_mode_used


def test_four_byte_gb18030_codes_and_mode_switches() -> None:
    data = b"\x1c&" + "㐀€A".encode("gb18030") + b"\n\x1c." + b"B\n"
    assert decode(data).lines == ["㐀€A", "B"]


def test_unknown_and_truncated_commands_are_tolerated() -> None:
    data = (b"\x1b@\x1bqX\x1d\xf0Y\x1c\xeeZ\x01\x1d(\x7a\x02\x00ab" + b"\x1b*\x00\x02\x00\xff\xff"
            + b"\x1dk\x04123\x00" + b"\x1dk\x49\x03abc" + b"ok\n" + b"\x1dv0\x00\x02\x00\x10")
    receipt = decode(data)
    assert receipt.lines == ["XYZok"]
    assert len(receipt.unknown) >= 4  # ESC q, GS F0, FS EE, control 01, truncated image


def test_feeds_flush_pending_text_and_add_no_lines() -> None:
    receipt = decode(b"\x1b@abc\x1bd\x03def\x1bJ\x18\n\x1dVB\x00")
    assert receipt.lines == ["abc", "def"] and receipt.cuts == 1


def test_text_property_joins_lines() -> None:
    assert decode(b"a\nb\n").text == "a\nb"


UNICODE = st.text(st.characters(), max_size=300)
RECEIPT_ALPHABET = "受理回执浙江省遂昌县，。“”—…ABCxyz0123 \n\r\t😀🀄\u00a0\x1b\x10\x04\u0301㐀𠀀"
MIXED = st.text(st.sampled_from(RECEIPT_ALPHABET), max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(UNICODE, MIXED), paper=st.sampled_from([58, 80]), scale=st.sampled_from([1, 2]),
       align=st.sampled_from(list(Align)), bold=st.booleans())
def test_random_text_survives_encode_decode(text: str, paper: int, scale: int, align: Align, bold: bool) -> None:
    profile = PrinterProfile.for_paper(paper)
    receipt = decode(encode(PrintDocument("p", (TextLine(text, align, bold, scale),)), profile))
    assert receipt.unknown == []
    assert all(printed_width(line) <= profile.columns // scale for line in receipt.lines)
    expected = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "")
    printed = "".join(receipt.lines)
    assert len(printed) == len(expected)  # one printed character for every character given
    for given_ch, printed_ch in zip(expected, printed, strict=True):
        if given_ch == "\t":
            assert printed_ch == " "
        elif printed_ch != given_ch:
            assert printed_ch in (REPLACEMENT, " "), (given_ch, printed_ch)
        if "\u4e00" <= given_ch <= "\u9fa5" or "\x20" <= given_ch <= "\x7e":
            assert printed_ch == given_ch  # common Han and printable ASCII are never replaced
        if unicodedata.category(given_ch)[0] == "C" and given_ch != "\t":
            assert printed_ch == REPLACEMENT


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_decoder_never_raises_on_junk(data: bytes) -> None:
    decode(data, read_raster_qr=False)
