"""`kiosk demo [--headless] [--out DIR] [--screens all|none]`: a fresh station files sample applications with no
network, syncs with an embedded platform on loopback, then shows its screens on simulated devices: headless,
a tour of every screen written out as screenshots (both orientations and elderly mode); otherwise the
villager window to touch."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from kiosk_app.cli.output import emit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", help="演示：模拟设备与内置平台，办理并同步几件申请，再展示各个界面", parents=[common])
    p.add_argument("--headless", action="store_true", help="不打开窗口：自动走一遍各个界面并截图")
    p.add_argument("--out", type=Path, default=Path("demo-output"), metavar="DIR", help="结果写到这个文件夹")
    p.add_argument("--screens", choices=["all", "none"], default="all", help="是否展示界面（none：只跑流程）")
    p.set_defaults(run=_demo, standalone=True)


def _demo(args: argparse.Namespace) -> int:
    # Heavy imports load in the handler so `kiosk run` and `kiosk --help` start fast.
    from kiosk_app.demo import run_demo

    result = run_demo(args.out, Path(args.home) if args.home else None)
    shots: list[str] = []
    if args.screens == "all":
        screens = importlib.import_module("ui.screens_demo")
        if args.headless:
            shots = [str(p) for p in screens.write_screenshots(Path(result["home"]), args.out)]
        else:
            leave_after_qt(screens.open_window(Path(result["home"]), Path(result["out"]) / "platform"))
    result["screenshots"] = shots
    where = f"，界面截图 {len(shots)} 张在 {args.out / 'screens'}" if shots else ""
    emit(args.json, {k: v for k, v in result.items() if k != "summary"},
         lambda: result["summary"] + f"\n结果已写入 {result['out']}（applications.json、platform-applications.json、"
                                     f"searches.json、summary.txt{where}）。")
    if shots:
        leave_after_qt(0)
    return 0


def leave_after_qt(code: int) -> None:
    """End the process once the screens are done and everything is written and flushed.

    PySide6 6.12 can crash while the interpreter tears Qt objects down at exit (a refcount fault in its
    finalizer, after all our work); skipping that teardown keeps the exit code honest for scripts and CI."""
    import logging  # only when leaving: a few ms off every `kiosk` start (the screens have loaded it by now)

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
