"""Every camera URL scheme through its real backend, and every way an image file can be bad."""

from __future__ import annotations

import shutil
import struct
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.camera import (
    BadImage,
    CameraError,
    CameraLost,
    CameraUnavailable,
    ImageTooLarge,
    create_camera,
    image_header,
    load_image,
)
from devices.camera.sources import SimulatedCamera


def _pattern(w: int, h: int, value: int = 0) -> np.ndarray:
    """A picture with structure (JPEG of a flat colour hides decoder problems) plus a marker value."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 3) % 256, (yy * 5) % 256, np.full_like(xx, value)], -1).astype(np.uint8)
    return img


def _write(path: Path, img: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), img)
    return path


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims width x height (the pixel data is one empty deflate stream)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------- load_image


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".tif"])
def test_load_image_formats(tmp_path: Path, suffix: str) -> None:
    src = _pattern(64, 48, 77)
    path = _write(tmp_path / f"a{suffix}", src)
    img = load_image(path)
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert image_header(path)[:2] == (64, 48)
    if suffix != ".jpg":
        assert np.array_equal(img, src)
    assert np.array_equal(load_image(path.read_bytes()), img)
    assert np.array_equal(load_image(str(path)), img)


def test_grey_png_comes_out_bgr(tmp_path: Path) -> None:
    path = _write(tmp_path / "g.png", np.full((10, 12), 200, np.uint8))
    assert load_image(path).shape == (10, 12, 3)


def test_zero_byte_file_is_bad(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(BadImage) as info:
        load_image(tmp_path / "empty.jpg")
    assert info.value.message == "图片文件已损坏或格式不支持"
    with pytest.raises(BadImage):
        load_image(b"")


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.3, 0.7, 0.98])
def test_truncated_file_is_bad(tmp_path: Path, suffix: str, keep: float) -> None:
    data = cv2.imencode(suffix, _pattern(320, 240))[1].tobytes()
    with pytest.raises(BadImage):
        load_image(data[: int(len(data) * keep)])


def test_garbage_and_unsupported_formats_are_bad(tmp_path: Path) -> None:
    for data in (b"hello world, not an image", b"GIF89a" + bytes(100), b"\xff\xd8\xff" + bytes(40), bytes(1000)):
        with pytest.raises(BadImage):
            load_image(data)


def test_corrupt_jpeg_body_is_bad() -> None:
    data = bytearray(cv2.imencode(".jpg", _pattern(320, 240))[1].tobytes())
    data[2:40] = b"\x00" * 38  # destroy the headers after SOI
    with pytest.raises(BadImage):
        load_image(bytes(data))


def test_missing_file_is_bad(tmp_path: Path) -> None:
    with pytest.raises(BadImage):
        load_image(tmp_path / "nope.jpg")


def test_huge_png_header_refused_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(20000, 10000))
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge) as info:
        load_image(path)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 5_000_000  # decoding would need 600 MB
    assert info.value.message == "图片过大（200 百万像素），请降低分辨率后重试"
    assert isinstance(info.value, CameraError)


def test_huge_jpeg_header_refused(tmp_path: Path) -> None:
    data = bytearray(cv2.imencode(".jpg", _pattern(16, 16))[1].tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 12000, 12000)  # height, width in the SOF0 segment
    with pytest.raises(ImageTooLarge):
        load_image(bytes(data))


def test_just_under_limit_is_accepted_by_header() -> None:
    assert image_header(_png_header_only(10000, 10000))[:2] == (10000, 10000)


# ---------------------------------------------------------------------------------------------- file://


def test_file_camera(tmp_path: Path) -> None:
    path = _write(tmp_path / "photo.png", _pattern(2000, 1500, 9))
    cam = create_camera(path.as_uri())
    cam.open()
    try:
        still = cam.capture_still()
        assert still.shape == (1500, 2000, 3)
        preview = cam.preview_frame()
        assert preview.shape == (960, 1280, 3)
        assert np.array_equal(cam.capture_still(), still)
        assert cam.modes() == [(2000, 1500, "PNG"), (1280, 960, "PNG")]
    finally:
        cam.close()
    cam.close()  # twice is fine


def test_file_camera_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable):
        create_camera((tmp_path / "missing.jpg").as_uri()).open()
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    with pytest.raises(BadImage):
        create_camera((tmp_path / "bad.jpg").as_uri()).open()
    (tmp_path / "bomb.png").write_bytes(_png_header_only(20000, 10000))
    with pytest.raises(ImageTooLarge):
        create_camera((tmp_path / "bomb.png").as_uri()).open()


def test_preview_before_open_is_a_clear_error(tmp_path: Path) -> None:
    cam = create_camera(_write(tmp_path / "a.png", _pattern(8, 8)).as_uri())
    with pytest.raises(CameraUnavailable):
        cam.preview_frame()


# ---------------------------------------------------------------------------------------------- dir://


def test_dir_camera_order_and_loop(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (10, 2, 1):  # natural order: 1, 2, 10
        _write(folder / f"frame{i}.png", _pattern(40, 30, i))
    (folder / "notes.txt").write_text("ignored")
    cam = create_camera(f"dir://{folder}/")
    cam.open()
    seen = [int(cam.preview_frame()[0, 0, 2]) for _ in range(7)]
    assert seen == [1, 2, 10, 1, 2, 10, 1]
    assert int(cam.capture_still()[0, 0, 2]) == 1  # the still shows what the preview showed
    assert cam.modes() == [(40, 30, "PNG")]
    cam.close()


def test_dir_camera_vanishing_is_camera_lost(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        _write(folder / f"{i}.jpg", _pattern(40, 30, i))
    cam = create_camera(f"dir://{folder}")
    cam.open()
    cam.preview_frame()
    shutil.rmtree(folder)
    with pytest.raises(CameraLost) as info:
        cam.preview_frame()
    assert info.value.message == "高拍仪连接中断，请重新插好后再试"


def test_dir_camera_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable):
        create_camera(f"dir://{tmp_path}/missing").open()
    with pytest.raises(CameraUnavailable):
        create_camera(f"dir://{tmp_path}").open()  # exists but holds no images


def test_dir_camera_corrupt_frame_is_bad(tmp_path: Path) -> None:
    _write(tmp_path / "1.png", _pattern(40, 30))
    (tmp_path / "2.png").write_bytes(b"")
    cam = create_camera(f"dir://{tmp_path}")
    cam.open()
    cam.preview_frame()
    with pytest.raises(BadImage):
        cam.preview_frame()


# ---------------------------------------------------------------------------------------------- video://


def _write_clip(path: Path, frames: int, size: tuple[int, int] = (1600, 1200)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, size)
    assert writer.isOpened()
    for i in range(frames):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:] = (i * 40, 255 - i * 40, 128)  # MJPG keeps flat colours, so each frame is identifiable
        writer.write(frame)
    writer.release()
    return path


def test_video_camera_in_order_and_loops(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "clip.avi", 4)
    cam = create_camera(f"video://{clip}")
    cam.open()  # reads the first frame already
    first = cam.capture_still()
    assert first.shape == (1200, 1600, 3)
    blues = [round(cam.preview_frame()[5, 5, 0] / 40) for _ in range(7)]
    assert blues == [1, 2, 3, 0, 1, 2, 3]
    assert cam.preview_frame().shape == (960, 1280, 3)
    assert round(cam.capture_still()[5, 5, 0] / 40) == 0  # current frame at full size
    assert cam.modes()[0] == (1600, 1200, "MJPG")
    cam.close()


def test_video_camera_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable):
        create_camera(f"video://{tmp_path}/missing.avi").open()
    (tmp_path / "junk.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI junk" * 10)
    with pytest.raises(BadImage):
        create_camera(f"video://{tmp_path}/junk.avi").open()


def test_video_deleted_mid_stream_is_camera_lost(tmp_path: Path) -> None:
    clip = _write_clip(tmp_path / "clip.avi", 2, (64, 48))
    cam = create_camera(f"video://{clip}")
    cam.open()
    clip.unlink()
    with pytest.raises(CameraLost):
        for _ in range(5):  # frames already buffered may still arrive; the loop back must fail
            cam.preview_frame()


# ---------------------------------------------------------------------------------------------- uvc://


def test_uvc_absent_is_unavailable_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(CameraUnavailable) as info:
        create_camera("uvc://99").open()
    assert time.perf_counter() - start < 3.0
    assert info.value.message == "未找到高拍仪，请检查USB连接"
    with pytest.raises(CameraUnavailable):
        create_camera("uvc:///dev/video-does-not-exist").open()


# ---------------------------------------------------------------------------------------------- sim://


def test_sim_camera_preview_still_and_jitter() -> None:
    cam = create_camera("sim://a4?seed=3&background=light")
    assert isinstance(cam, SimulatedCamera)
    cam.open()
    p1 = cam.preview_frame()
    c1 = cam.last_corners.copy()
    p2 = cam.preview_frame()
    c2 = cam.last_corners.copy()
    assert p1.shape == (960, 1280, 3) and p1.dtype == np.uint8
    diag = float(np.hypot(1280, 960))
    moved = np.linalg.norm(c1 - c2, axis=1)
    assert moved.max() > 0 and moved.max() < 0.006 * diag  # two frames, each within 0.3 % of the truth
    assert not np.array_equal(p1, p2)
    still = cam.capture_still()
    assert still.shape == (2448, 3264, 3)
    assert cam.last_corners.min() > 0 and cam.last_corners[:, 0].max() < 3264
    assert cam.modes()[0] == (3264, 2448, "SIM")
    cam.close()


def test_sim_camera_scenes_and_options() -> None:
    cam = create_camera("sim://nopage?size=800x600&jpeg=0")
    cam.open()
    assert cam.preview_frame().shape == (600, 800, 3)
    assert isinstance(cam, SimulatedCamera) and np.isnan(cam.last_corners).all()
    card = create_camera("sim://idcard_back?seed=1&finger=1&glare=0.02&size=1280x960")
    card.open()
    assert card.capture_still().shape == (960, 1280, 3)
    with pytest.raises(CameraError):
        create_camera("sim://a4?seed=x")
    with pytest.raises(CameraUnavailable):
        create_camera("sim://passport")


def test_sim_camera_lose_after() -> None:
    cam = create_camera("sim://a4?size=640x480&lose_after=2")
    cam.open()
    cam.preview_frame()
    cam.preview_frame()
    with pytest.raises(CameraLost):
        cam.preview_frame()


def test_unknown_scheme_and_bad_addresses() -> None:
    for url in ("http://camera", "uvc://abc", "file://", ""):
        with pytest.raises(CameraError):
            create_camera(url)


def test_sim_camera_empty_frames_then_page() -> None:
    cam = create_camera("sim://a4?seed=2&size=800x600&empty_frames=3&jpeg=0")
    assert isinstance(cam, SimulatedCamera)
    cam.open()
    empties = [cam.preview_frame() for _ in range(3)]
    assert np.isnan(cam.last_corners).all()
    page = cam.preview_frame()
    assert not np.isnan(cam.last_corners).any()
    # Same desk before and after: only the page area changed.
    changed = np.abs(page.astype(int) - empties[0].astype(int)).max(axis=2) > 30
    mask = np.zeros(changed.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(cam.last_corners).astype(np.int32), 1)
    assert changed[mask == 0].mean() < 0.02 and changed[mask == 1].mean() > 0.3


# ---------------------------------------------------------------------------------------------- uvc:// logic


class _FakeCapture:
    """Stands in for cv2.VideoCapture: accepts some sizes, only in MJPG, and can be 'unplugged'."""

    accepted: ClassVar[set[tuple[int, int]]] = {(3264, 2448), (1920, 1080), (1280, 720)}
    unplugged = False

    def __init__(self, device: object, api: int) -> None:
        self.calls: list[tuple[int, float]] = []
        self.size = (640, 480)
        self.fourcc = 0
        _FakeCapture.last = self  # type: ignore[attr-defined]

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        self.calls.append((prop, value))
        if prop == cv2.CAP_PROP_FOURCC:
            self.fourcc = int(value)
        elif prop == cv2.CAP_PROP_FRAME_WIDTH:
            self.pending_w = int(value)
        elif prop == cv2.CAP_PROP_FRAME_HEIGHT:
            wanted = (self.pending_w, int(value))
            if self.fourcc == cv2.VideoWriter.fourcc(*"MJPG") and wanted in self.accepted:
                self.size = wanted
        return True

    def get(self, prop: int) -> float:
        return float(self.size[0] if prop == cv2.CAP_PROP_FRAME_WIDTH else self.size[1])

    def read(self) -> tuple[bool, np.ndarray | None]:
        if _FakeCapture.unplugged:
            return False, None
        return True, np.zeros((self.size[1], self.size[0], 3), np.uint8)

    def release(self) -> None:
        pass


def test_uvc_mjpg_before_size_probe_and_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "VideoCapture", _FakeCapture)
    _FakeCapture.unplugged = False
    cam = create_camera("uvc://0")
    cam.open()
    fake: _FakeCapture = _FakeCapture.last  # type: ignore[attr-defined]
    props = [p for p, _ in fake.calls]
    # Every size request is preceded by a FOURCC request (otherwise drivers negotiate YUYV at low fps).
    for i, prop in enumerate(props):
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            assert props[i - 1] == cv2.CAP_PROP_FOURCC
    assert cam.modes() == [(3264, 2448, "MJPG"), (1920, 1080, "MJPG"), (1280, 720, "MJPG")]
    assert cam.preview_frame().shape == (720, 1280, 3)
    assert cam.capture_still().shape == (2448, 3264, 3)
    assert cam.preview_frame().shape == (720, 1280, 3)  # back to the preview mode after the still
    _FakeCapture.unplugged = True
    with pytest.raises(CameraLost):
        cam.preview_frame()
    cam.close()


def test_uvc_never_delivering_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "VideoCapture", _FakeCapture)
    _FakeCapture.unplugged = True
    cam = create_camera("uvc://1")
    cam.open()
    start = time.perf_counter()
    with pytest.raises(CameraUnavailable):
        cam.preview_frame(timeout=0.2)
    assert time.perf_counter() - start < 1.0
    _FakeCapture.unplugged = False


# ---------------------------------------------------------------------------------------------- fuzzing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_load_image_mutations_only_raise_camera_errors(data: st.DataObject) -> None:
    """Any damage to a real JPEG/PNG gives a decoded BGR image or a CameraError, never another exception."""
    raw = bytearray(_FUZZ_BASE[data.draw(st.sampled_from(sorted(_FUZZ_BASE)))])
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        img = load_image(bytes(raw[:cut]))
    except CameraError:
        return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


_FUZZ_BASE = {ext: cv2.imencode(ext, _pattern(48, 32, 5))[1].tobytes() for ext in (".jpg", ".png", ".bmp")}


def test_bmp_header_past_opencv_limits_is_a_bad_image() -> None:
    """A 1 x 2,000,000 BMP is under the megapixel cap but trips an OpenCV assertion instead of a None result."""
    width, height = 1, 2_000_000
    row = 4  # 3 bytes of BGR padded to 4
    header = (b"BM" + struct.pack("<IHHI", 54 + row * height, 0, 0, 54)
              + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height, 2835, 2835, 0, 0))
    with pytest.raises(BadImage):
        load_image(header + b"\x00" * (row * height))
