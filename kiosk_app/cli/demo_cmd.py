"""`kiosk demo [--headless] [--out DIR]`: a fresh station files sample applications end to end."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk_app.cli.output import emit
from kiosk_app.demo import run_demo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", help="演示：模拟设备与示例数据，完整办理几件申请", parents=[common])
    p.add_argument("--headless", action="store_true", help="不打开界面，只运行流程并写出结果")
    p.add_argument("--out", type=Path, default=Path("demo-output"), metavar="DIR", help="结果写到这个文件夹")
    p.set_defaults(run=_demo, standalone=True)


def _demo(args: argparse.Namespace) -> None:
    # Screens arrive with the UI issue; until then the demo is the headless flow in both modes.
    result = run_demo(args.out, Path(args.home) if args.home else None)
    emit(args.json, {k: v for k, v in result.items() if k != "summary"},
         lambda: result["summary"] + f"\n结果已写入 {result['out']}（applications.json、searches.json、summary.txt）。")
