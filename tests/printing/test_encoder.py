"""The ESC/POS encoder: exact bytes for small documents, wrapping, replacement, QR paths and fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from devices.printing.document import (
    REPLACEMENT,
    Align,
    Cut,
    Feed,
    PrintDocument,
    PrinterProfile,
    QRCode,
    Rule,
    TextLine,
)
from devices.printing.escpos_encoder import QR_TOO_LONG, encode, native_qr
from devices.printing.printable import layout_lines, printable_text, printed_width
from devices.printing.raster import raster_commands
from devices.simulators.escpos_decoder import decode

P80 = PrinterProfile()
P58 = PrinterProfile.for_paper(58)
RECEIPT = "受理回执"
LONG_ITEM = "浙江省丽水市遂昌县妙高街道上江村村民委员会代办：城乡居民基本养老保险待遇申领（含丧葬补助金、抚恤金）" * 2
LONG_ADDRESS = "浙江省丽水市遂昌县妙高街道上江村18号 Building 3, Room 1203（Tel: 0578-8123456）“老年活动中心”旁"


def doc(*ops: TextLine | Rule | QRCode | Feed | Cut) -> PrintDocument:
    return PrintDocument("test", ops)


def test_tiny_document_exact_bytes() -> None:
    assert encode(doc(TextLine(RECEIPT), Cut()), P80) == (
        b"\x1b@"  # ESC @
        + b"\x1c&"  # FS & Chinese mode
        + RECEIPT.encode("gb18030") + b"\n"
        + b"\x1c."  # FS . before the device command
        + b"\x1dVB\x00"  # GS V 66 0: feed to the cutter, partial cut
    )
    assert RECEIPT.encode("gb18030") == bytes.fromhex("cadcc0edbbd8d6b4")


def test_styles_are_sent_once_and_only_on_change() -> None:
    data = encode(doc(TextLine("A", Align.CENTER, bold=True, scale=2), TextLine("B", Align.CENTER, bold=True, scale=2),
                      TextLine("C"), Cut(partial=False)), P80)
    assert data == b"\x1b@\x1ba\x01\x1bE\x01\x1d!\x11A\nB\n\x1ba\x00\x1bE\x00\x1d!\x00C\n\x1dVA\x00"
    styled = decode(data).styled
    assert [(s.text, s.align, s.bold, s.scale) for s in styled] == [
        ("A", "center", True, 2), ("B", "center", True, 2), ("C", "left", False, 1)]


def test_ascii_only_document_never_enters_chinese_mode() -> None:
    data = encode(doc(TextLine("No. 12345"), Feed(3), Cut()), P80)
    assert data == b"\x1b@No. 12345\n\x1bd\x03\x1dVB\x00"


def test_long_feeds_are_split_into_255_line_steps() -> None:
    assert encode(doc(Feed(300), Feed(0)), P80) == b"\x1b@\x1bd\xff\x1bd\x2d"


def test_without_cutter_the_paper_is_fed_past_the_tear_bar() -> None:
    data = encode(doc(TextLine(RECEIPT), Cut()), PrinterProfile(cutter=False))
    assert data.endswith(b"\x1c.\x1bd\x04")
    assert decode(data).cuts == 0


@pytest.mark.parametrize("profile", [P58, P80], ids=["58mm", "80mm"])
@pytest.mark.parametrize("text", [LONG_ITEM, LONG_ADDRESS, "ID " + "1" * 100, "a" * 33 + "字" * 40])
def test_long_text_wraps_within_the_paper(profile: PrinterProfile, text: str) -> None:
    lines = decode(encode(doc(TextLine(text)), profile)).lines
    assert len(lines) > 1
    assert all(printed_width(line) <= profile.columns for line in lines)
    assert "".join(lines) == text  # nothing lost, nothing added
    assert lines == layout_lines(text, profile.columns)


@pytest.mark.parametrize("profile", [P58, P80], ids=["58mm", "80mm"])
def test_double_size_wraps_at_half_the_columns(profile: PrinterProfile) -> None:
    lines = decode(encode(doc(TextLine(LONG_ITEM, scale=2)), profile)).lines
    assert all(printed_width(line) <= profile.columns // 2 for line in lines)
    assert "".join(lines) == LONG_ITEM


def test_ambiguous_width_punctuation_never_overflows_the_line() -> None:
    # “ ” … — □ count one column in Unicode but print as 24-dot glyphs in Chinese mode.
    text = "“…”—" * 20
    lines = decode(encode(doc(TextLine(text)), P58)).lines
    assert all(printed_width(line) <= 32 for line in lines)
    assert "".join(lines) == text


def test_explicit_newlines_and_blank_lines_are_kept() -> None:
    lines = decode(encode(doc(TextLine("第一行\n\n第三行\r\n第四行")), P80)).lines
    assert lines == ["第一行", "", "第三行", "第四行"]


def test_unprintable_characters_become_visible_boxes() -> None:
    text = "叶春兰😀\x1b\x07\u200d𠀀\ue000A\tB\u00a0C"
    lines = decode(encode(doc(TextLine(text)), P80)).lines
    assert lines == ["叶春兰" + REPLACEMENT * 6 + "A B C"]
    assert REPLACEMENT.encode("gb18030") == b"\xa1\xf5"  # itself printable


def test_control_characters_cannot_inject_commands() -> None:
    data = encode(doc(TextLine("\x1dV\x00\x1b@\x10\x04\x01")), P80)
    assert data.count(b"\x1dV") == 0 and b"\x10\x04" not in data
    assert decode(data).cuts == 0


def test_cjk_punctuation_only_string_prints_as_itself() -> None:
    # python-escpos turns this into "?" (DOMAIN.md)
    assert decode(encode(doc(TextLine("，。、；：“”（）")), P80)).lines == ["，。、；：“”（）"]


def test_extension_a_prints_and_supplementary_han_is_boxed() -> None:
    assert printable_text("㐀䶵𠀀") == "㐀䶵" + REPLACEMENT


@pytest.mark.parametrize("profile", [P58, P80], ids=["58mm", "80mm"])
def test_rule_spans_the_paper_for_narrow_and_wide_characters(profile: PrinterProfile) -> None:
    lines = decode(encode(doc(Rule(), Rule("═"), Rule("")), profile)).lines
    assert lines == ["-" * profile.columns, "═" * (profile.columns // 2), "-" * profile.columns]


def test_native_qr_bytes() -> None:
    assert native_qr(b"1234", "M", 6) == (
        b"\x1d(k\x04\x001A2\x00"  # fn 165: model 2
        b"\x1d(k\x03\x001C\x06"  # fn 167: module 6 dots
        b"\x1d(k\x03\x001E1"  # fn 169: level M
        b"\x1d(k\x07\x001P01234"  # fn 180: store
        b"\x1d(k\x03\x001Q0"  # fn 181: print
    )


@pytest.mark.parametrize("qr_mode", ["native", "raster"])
@pytest.mark.parametrize("paper", [58, 80])
def test_qr_round_trip(qr_mode: str, paper: int) -> None:
    payload = "https://zwfw.zj.gov.cn/q?case=ZJ2024-000123&站点=上江村"
    profile = PrinterProfile.for_paper(paper, qr=qr_mode)
    data = encode(doc(TextLine(RECEIPT), QRCode(payload), Cut()), profile)
    receipt = decode(data)
    assert receipt.qr_payloads == [payload]
    assert receipt.lines == [RECEIPT]
    assert receipt.raster_images == (0 if qr_mode == "native" else 1)
    assert (b"\x1d(k" in data) == (qr_mode == "native")
    qr_start = data.index(b"\x1d(k" if qr_mode == "native" else b"\x1dv0")
    assert b"\x1c." in data[:qr_start]  # Chinese mode left before the device command


def test_raster_qr_is_centred_and_fits_the_paper() -> None:
    receipt = decode(encode(doc(QRCode("ZJ2024000123", module_size=6)), PrinterProfile(qr="raster")))
    (image,) = receipt.images
    columns = np.flatnonzero(image.any(axis=0))
    left, right = int(columns[0]), 576 - int(columns[-1]) - 1
    assert abs(left - right) <= 8 and image.shape[1] <= 576


def test_large_qr_shrinks_its_modules_to_fit_58mm() -> None:
    payload = "x" * 1200
    receipt = decode(encode(doc(QRCode(payload, module_size=8)), P58.__class__.for_paper(58, qr="raster")))
    assert receipt.qr_payloads == [payload]
    assert all(image.shape[1] <= 384 for image in receipt.images)


@pytest.mark.parametrize("profile", [P80, PrinterProfile(qr="raster"), PrinterProfile(chinese="raster")])
def test_oversized_qr_payload_falls_back_to_text(profile: PrinterProfile) -> None:
    payload = "受理" * 2000  # 12 000 UTF-8 bytes: beyond any QR version
    data = encode(doc(QRCode(payload, error_correction="H"), Cut()), profile)
    receipt = decode(data)
    assert receipt.qr_payloads == [] and b"\x1d(k" not in data
    if profile.chinese == "gb18030":
        assert receipt.lines[0] == QR_TOO_LONG
        assert "".join(receipt.lines[1:]) == payload
    else:
        assert receipt.raster_images > 10


def test_payload_that_only_fits_at_low_error_correction() -> None:
    payload = "A1b2" * 600  # 2400 bytes: fits at L, not at H
    assert decode(encode(doc(QRCode(payload, error_correction="L")), P80)).qr_payloads == [payload]
    assert decode(encode(doc(QRCode(payload, error_correction="H")), P80)).lines[0] == QR_TOO_LONG


def test_unknown_error_correction_level_defaults_to_m() -> None:
    assert b"\x1d(k\x03\x001E1" in encode(doc(QRCode("abc", error_correction="X")), P80)


def test_qr_payload_with_a_status_request_sequence_is_drawn_instead() -> None:
    data = encode(doc(QRCode("a\x10\x04\x01b")), P80)
    assert b"\x10\x04" not in data and b"\x1dv0" in data


def test_image_data_never_contains_real_time_commands() -> None:
    bitmap = np.unpackbits(np.array([[0x10, 0x04, 0x01, 0x10, 0x05, 0x10, 0x14, 0x10]], dtype=np.uint8),
                           axis=1).astype(bool)
    data = raster_commands(bitmap)
    assert data[:8] == b"\x1dv0\x00\x08\x00\x01\x00"
    assert data[8:] == bytes([0x00, 0x04, 0x01, 0x00, 0x05, 0x00, 0x14, 0x10])


def test_raster_text_mode_draws_lines_as_images() -> None:
    profile = PrinterProfile.for_paper(58, chinese="raster", qr="raster", cutter=False)
    data = encode(doc(TextLine(RECEIPT, Align.CENTER, scale=2), TextLine(""), TextLine(LONG_ADDRESS),
                      QRCode("ZJ2024000123"), Cut()), profile)
    receipt = decode(data)
    address_lines = len(layout_lines(LONG_ADDRESS, 32))
    assert receipt.raster_images == 1 + address_lines + 1
    assert b"\x1c&" not in data and receipt.lines == []
    assert receipt.qr_payloads == ["ZJ2024000123"]
    assert all(image.shape[1] <= 384 and image.shape[1] % 8 == 0 for image in receipt.images)


def test_raster_bands_stay_within_255_rows() -> None:
    data = encode(doc(QRCode("y" * 900, module_size=3)), PrinterProfile(qr="raster"))
    receipt = decode(data)
    assert receipt.raster_images >= 2 and len(receipt.images) == 1
    assert receipt.qr_payloads == ["y" * 900]


def test_encoding_is_deterministic() -> None:
    document = doc(TextLine(LONG_ADDRESS), QRCode("abc"), Rule(), Feed(2), Cut())
    for profile in (P80, PrinterProfile(chinese="raster", qr="raster")):
        assert encode(document, profile) == encode(document, profile)
