"""`kiosk logs [--level all|warning|error] [--limit N]`: the latest log records, masked, as the console shows them.

For a technician on the machine's shell (or over a remote session) when the screens are not reachable.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit
from kiosk_app.errors import InvalidInput
from kiosk_app.log_reading import LEVELS, MAX_RECORDS, read_log_tail

if TYPE_CHECKING:
    from kiosk_app.station import Station


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("logs", help="查看最近的日志（个人信息已遮蔽）", parents=[common])
    p.add_argument("--level", choices=sorted(LEVELS), default="all", help="只看警告或错误")
    p.add_argument("--limit", type=int, default=100, help=f"最多显示多少条（1–{MAX_RECORDS}）")
    p.set_defaults(run=_logs)


def _logs(station: Station, args: argparse.Namespace) -> None:
    # Heavy imports (diagnostics pulls in the store and sync) load in the handler so `kiosk run` and
    # `kiosk --help` start fast; log_reading above is light.
    from kiosk_app.diagnostics import LOGS_DIR

    if not 1 <= args.limit <= MAX_RECORDS:
        raise InvalidInput(f"--limit 应在 1 到 {MAX_RECORDS} 之间。")
    tail = read_log_tail(station.home / LOGS_DIR, args.level, args.limit)
    emit(args.json, {"records": tail.records, "files": tail.files, "scanned": tail.scanned},
         lambda: "\n".join(tail.records) if tail.records else "没有符合条件的日志记录。")
