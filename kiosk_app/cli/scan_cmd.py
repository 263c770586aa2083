"""`kiosk devices scan`: scan one material with the document camera (or a file/simulator standing in for it)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from devices.camera.factory import create_camera
from kiosk_app.cli.output import emit
from kiosk_app.errors import InvalidInput
from kiosk_app.materials.scanning import ScanResult, pages_to_pdf, scan_document


def register_scan(verbs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("scan", help="用高拍仪拍一份材料，保存为 JPG 或 PDF", parents=[common])
    p.add_argument("--camera", required=True, metavar="URL",
                   help="高拍仪地址：uvc://0、file://图片、dir://文件夹、video://视频、sim://a4?seed=1")
    p.add_argument("--out", required=True, metavar="FILE", help="输出文件（.jpg 或 .pdf）")
    p.add_argument("--mode", choices=("document", "idcard"), default="document", help="材料类型：文件或身份证")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="等待放好材料的秒数")
    p.add_argument("--manual", action="store_true", help="不等材料放稳，看到就拍")
    p.set_defaults(run=_scan, standalone=True)


def _scan(args: argparse.Namespace) -> None:
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".jpg", ".jpeg", ".pdf"):
        raise InvalidInput("输出文件应以 .jpg 或 .pdf 结尾。", field="out")
    if not out.parent.is_dir():
        raise InvalidInput(f"输出文件夹不存在：{out.parent}", field="out")
    if not 0 < args.timeout <= 600:
        raise InvalidInput("--timeout 应在 0 到 600 秒之间。", field="timeout")
    camera = create_camera(args.camera)
    try:
        camera.open()
        result = scan_document(camera, mode=args.mode, timeout=args.timeout, auto=not args.manual)
    finally:
        camera.close()
    data = pages_to_pdf([result.jpeg]) if suffix == ".pdf" else result.jpeg
    write_atomically(out, data)
    summary = _summary(result, out, len(data))
    emit(args.json, summary, lambda: f"已保存：{out}（{result.width}×{result.height}，{len(data) // 1024} KB）")


def _summary(result: ScanResult, out: Path, size: int) -> dict[str, object]:
    return {"corners": result.corners, "quality": result.quality.to_json(), "path": str(out), "bytes": size}


def write_atomically(path: Path, data: bytes) -> None:
    """Whole file or none: a temp file beside the target, fsynced, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
