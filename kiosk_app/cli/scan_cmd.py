"""`kiosk devices scan`: scan a material with the document camera (or a file/simulator standing in for it).

Modes: one document page (or `--pages N` into one PDF), an ID card side, or `idcopy`: front and back composed at
true scale on one A4 page with the usage watermark, as stations make 身份证复印件. The output is written once, at
the end, so a failed page leaves no file behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit
from kiosk_app.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

    from kiosk_app.materials.scanning import ScanMode, ScanResult

# Heavy imports (numpy, OpenCV, the camera drivers) load in the handlers so `kiosk run` and `kiosk --help`
# start fast.


def register_scan(verbs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("scan", help="用高拍仪拍一份材料，保存为 JPG 或 PDF", parents=[common])
    p.add_argument("--camera", required=True, metavar="URL",
                   help="高拍仪地址：uvc://0、file://图片、dir://文件夹、video://视频、sim://a4?seed=1")
    p.add_argument("--out", required=True, metavar="FILE", help="输出文件（.jpg 或 .pdf）")
    p.add_argument("--mode", choices=("document", "idcard", "idcopy"), default="document",
                   help="材料类型：文件、身份证单面，或身份证复印件（正反面合成一页）")
    p.add_argument("--pages", type=int, default=1, metavar="N", help="多页文件：连续拍 N 页，合成一个 PDF")
    p.add_argument("--interval", type=float, default=3.0, metavar="S", help="多页或翻面之间留给换纸的秒数")
    p.add_argument("--purpose", metavar="TEXT", help="身份证复印件的用途，印在水印里（--mode idcopy 必填）")
    p.add_argument("--back-camera", metavar="URL", help="身份证背面用另一个来源（默认同一台高拍仪，翻面后拍）")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="等待放好材料的秒数")
    p.add_argument("--manual", action="store_true", help="不等材料放稳，看到就拍")
    p.set_defaults(run=_scan, standalone=True)


def _scan(args: argparse.Namespace) -> None:
    from kiosk_app.materials.id_copy import compose_id_copy
    from kiosk_app.materials.rectify import encode_jpeg
    from kiosk_app.materials.scanning import pages_to_pdf

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".jpg", ".jpeg", ".pdf"):
        raise InvalidInput("输出文件应以 .jpg 或 .pdf 结尾。", field="out")
    if not out.parent.is_dir():
        raise InvalidInput(f"输出文件夹不存在：{out.parent}", field="out")
    if not 0 < args.timeout <= 600:
        raise InvalidInput("--timeout 应在 0 到 600 秒之间。", field="timeout")
    if not 1 <= args.pages <= 50:
        raise InvalidInput("--pages 应在 1 到 50 之间。", field="pages")
    if args.pages > 1 and (suffix != ".pdf" or args.mode != "document"):
        raise InvalidInput("多页扫描只用于文件，并且要保存为 .pdf。", field="pages")
    if args.mode == "idcopy" and not (args.purpose or "").strip():
        raise InvalidInput("身份证复印件需要用 --purpose 写明用途，例如“办理最低生活保障申请”。", field="purpose")
    if not 0 <= args.interval <= 60:
        raise InvalidInput("--interval 应在 0 到 60 秒之间。", field="interval")
    if args.mode == "idcopy":
        sides = [_scan_from(args.camera, args, "idcard", "请将身份证正面朝上放在拍摄区")]
        sides.append(_scan_from(args.back_camera or args.camera, args, "idcard", "请将身份证翻到背面",
                                pause=args.back_camera is None))
        page = compose_id_copy(_decoded(sides[0]), _decoded(sides[1]), purpose=args.purpose, on=date.today())
        jpegs, results = [encode_jpeg(page)], sides
    else:
        results = [_scan_from(args.camera, args, args.mode, f"请放第 {n} 页", pause=n > 1)
                   for n in range(1, args.pages + 1)]
        jpegs = [r.jpeg for r in results]
    data = pages_to_pdf(jpegs) if suffix == ".pdf" else jpegs[0]
    write_atomically(out, data)
    summary = {**_summary(results[0], out, len(data)),
               "pages": [{"corners": r.corners, "quality": r.quality.to_json()} for r in results]}
    emit(args.json, summary, lambda: f"已保存：{out}（{len(jpegs)} 页，{len(data) // 1024} KB）")


def _scan_from(url: str, args: argparse.Namespace, mode: ScanMode, prompt: str, *, pause: bool = False) -> ScanResult:
    """One capture; each gets its own camera session so a later page cannot reuse a stale frame."""
    from devices.camera.factory import create_camera
    from kiosk_app.materials.scanning import scan_document

    if pause and args.interval:
        print(prompt, file=sys.stderr, flush=True)
        time.sleep(args.interval)  # the person swaps the paper or turns the card over
    elif args.pages > 1 or args.mode == "idcopy":
        print(prompt, file=sys.stderr, flush=True)
    camera = create_camera(url)
    try:
        camera.open()
        return scan_document(camera, mode=mode, timeout=args.timeout, auto=not args.manual)
    finally:
        camera.close()


def _decoded(result: ScanResult) -> np.ndarray:
    from devices.camera.sources import load_image

    return load_image(result.jpeg)


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
