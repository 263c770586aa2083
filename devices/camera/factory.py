"""Choosing a document camera backend by URL.

    uvc://0                      USB document camera by index (V4L2 on Linux, DirectShow on Windows)
    uvc:///dev/video2            USB document camera by device path (Linux)
    file:///path/photo.jpg       one picture, every frame
    video:///path/clip.mp4       a recorded clip, looping
    dir:///path/frames/          the pictures in a folder, in name order, looping
    sim://[scene]?seed=N&...     synthetic scene: a4 (default), idcard_front, idcard_back, nopage;
                                 optional background=dark|light|wood|random, perspective, rotation, scale,
                                 blur, glare, shadow, noise, curl, darkness (floats), finger=1, cut_off=1,
                                 size=3264x2448, jitter (fraction of diagonal), jpeg (quality, 0 = off),
                                 lose_after=N (CameraLost after N frames), empty_frames=N (the first
                                 N previews show the bare desk, then the page appears)
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from devices.camera.camera import CameraError, DocumentCamera
from devices.camera.sources import FolderCamera, ImageFileCamera, SimulatedCamera, UvcCamera, VideoFileCamera

_SIM_ALIASES: Final = {"": "a4", "nopage": "none", "empty": "none", "idcard": "idcard_front", "card": "idcard_front"}
_SIM_FLOATS: Final = {
    "perspective": "perspective", "rotation": "rotation_deg", "scale": "scale", "blur": "blur_sigma",
    "glare": "glare", "shadow": "shadow", "noise": "noise", "curl": "curl", "darkness": "darkness",
}


def create_camera(url: str) -> DocumentCamera:
    """The backend for `url` (not yet opened). Raises CameraError with a plain message for a bad address."""
    parts = urlsplit(url.strip())
    path = Path(unquote(parts.path)) if parts.path else None
    if parts.scheme == "uvc":
        if parts.netloc.isdigit():
            return UvcCamera(url, int(parts.netloc))
        if not parts.netloc and path is not None:
            return UvcCamera(url, str(path))
        raise CameraError(f"高拍仪地址不正确：{url}（例如 uvc://0）")
    if parts.scheme in ("file", "video", "dir"):
        if path is None or parts.netloc not in ("", "localhost"):
            raise CameraError(f"高拍仪地址缺少文件路径：{url}（例如 {parts.scheme}:///路径）")
        if parts.scheme == "file":
            return ImageFileCamera(url, path)
        if parts.scheme == "video":
            return VideoFileCamera(url, path)
        return FolderCamera(url, path)
    if parts.scheme == "sim":
        return _simulated(url, parts.netloc or parts.path.strip("/"), parse_qs(parts.query))
    raise CameraError(f"不认识的高拍仪地址：{url}（可用 uvc://、file://、video://、dir://、sim://）")


def _simulated(url: str, scene: str, query: dict[str, list[str]]) -> SimulatedCamera:
    def one(key: str) -> str:
        return query[key][-1]

    args: dict[str, object] = {}
    try:
        args["seed"] = int(one("seed")) if "seed" in query else 0
        if "background" in query:
            args["background"] = one("background")
        for key, name in _SIM_FLOATS.items():
            if key in query:
                args[name] = float(one(key))
        for flag in ("finger", "cut_off"):
            if flag in query:
                args[flag] = one(flag).lower() in ("1", "true", "yes", "on")
        if "size" in query:
            w, h = one("size").lower().split("x")
            args["size"] = (int(w), int(h))
        jitter = float(one("jitter")) if "jitter" in query else 0.0025
        jpeg = int(one("jpeg")) if "jpeg" in query else 85
        lose_after = int(one("lose_after")) if "lose_after" in query else None
        empty_frames = int(one("empty_frames")) if "empty_frames" in query else 0
    except ValueError as exc:
        raise CameraError(f"模拟高拍仪参数不正确：{url}", detail=str(exc)) from exc
    return SimulatedCamera(url, _SIM_ALIASES.get(scene, scene), args, jitter=jitter, jpeg_quality=jpeg,
                           lose_after=lose_after, empty_frames=empty_frames)
