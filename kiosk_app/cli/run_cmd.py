"""`kiosk run [--role villager|agent|technician] [--fullscreen] [--portrait] [--elderly]`: open the screens.

The screens live in `ui`, above this package; they are loaded by name only when asked for, so every other
command (and the whole of kiosk_app) still runs on a machine without Qt's display libraries.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from kiosk_app.cli.demo_cmd import leave_after_qt
from kiosk_app.config import resolve_home

ROLES = ("villager", "agent", "technician")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", help="打开界面：群众自助、代办员工作台或技术人员控制台", parents=[common])
    p.add_argument("--role", choices=ROLES, default="villager", help="界面角色（默认 villager：群众自助）")
    p.add_argument("--fullscreen", action="store_true", help="全屏、无窗口边框（自助终端模式）")
    p.add_argument("--portrait", action="store_true", help="竖屏布局（1080x1920）")
    p.add_argument("--elderly", action="store_true", help="启动即为大字模式（适老化）")
    p.add_argument("--report-startup", action="store_true",
                   help="打印启动耗时：首页显示（shown 秒）与数据就绪（ready 秒）")
    # The screens open the station themselves, after their first screen is up (a kiosk boots faster).
    p.set_defaults(run=_run, standalone=True)


def _run(args: argparse.Namespace) -> int:
    from kiosk_app.cli.main import plain_failure

    screens = importlib.import_module("ui.app")
    home: Path = resolve_home(args.home)
    try:
        code: int = screens.run(home, role=args.role, fullscreen=args.fullscreen,
                                orientation="portrait" if args.portrait else "landscape", elderly=args.elderly,
                                report_startup=args.report_startup)
    except Exception as exc:  # the station would not open: said plainly, then out past Qt's teardown
        sentence = plain_failure(exc)
        if sentence is None:
            raise
        print(sentence, file=sys.stderr)
        code = 1
    leave_after_qt(code)
    return code
