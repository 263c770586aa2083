"""The `kiosk` command. Expected failures print one plain sentence and exit 1; bugs keep their traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Final

from kiosk_app import __version__
from kiosk_app.cli import (
    apps_cmd,
    catalog_cmd,
    config_cmd,
    demo_cmd,
    devices_cmd,
    logs_cmd,
    receipts_cmd,
    run_cmd,
    sync_cmd,
)
from kiosk_app.config import resolve_home

# Failures a person can act on get one plain sentence and no traceback (bugs keep theirs). Their classes are
# looked up when something is caught: a class whose module was never imported cannot have been raised, and
# importing the camera's module (numpy) only to compare would slow every command, `kiosk run` above all.
_EXPECTED: Final = (("kiosk_app.errors", "KioskError"), ("local_db.errors", "StoreError"),
                    ("devices.identity.reader", "ReaderError"), ("devices.printing.printer", "PrinterError"),
                    ("devices.camera.camera", "CameraError"))


def plain_failure(exc: BaseException) -> str | None:
    """"错误：…" for an expected failure, None for a bug."""
    for module, name in _EXPECTED:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(exc, getattr(loaded, name)):
            return f"错误：{getattr(exc, 'message', exc)}"
    return None


def build_parser() -> argparse.ArgumentParser:
    # `--json` and `--home` are accepted before or after the command words; SUPPRESS keeps a later parser
    # from resetting a value an earlier one set.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="以 JSON 输出数据")
    common.add_argument("--home", default=argparse.SUPPRESS, metavar="DIR",
                        help="数据文件夹（默认取 KIOSK_HOME 或系统数据目录）")
    parser = argparse.ArgumentParser(prog="kiosk", description="乡镇（村）便民服务站与政务自助终端", parents=[common])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    catalog_cmd.register(sub, common)
    apps_cmd.register(sub, common)
    config_cmd.register(sub, common)
    devices_cmd.register(sub, common)
    receipts_cmd.register(sub, common)
    sync_cmd.register(sub, common)
    logs_cmd.register(sub, common)
    run_cmd.register(sub, common)
    demo_cmd.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    args.home = getattr(args, "home", None)
    try:
        if getattr(args, "standalone", False):  # commands that set up their own station (demo)
            code = args.run(args)
        else:
            from kiosk_app.station import Station

            with Station(resolve_home(args.home)) as station:
                code = args.run(station, args)
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except Exception as exc:
        sentence = plain_failure(exc)
        if sentence is None:
            raise
        print(sentence, file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
