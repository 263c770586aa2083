"""`kiosk config show|set`: the declared settings with their current values."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit, table
from kiosk_app.config import SETTINGS

if TYPE_CHECKING:  # the store loads when a command runs, so `kiosk run` and `kiosk --help` start fast
    from kiosk_app.station import Station


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    config = sub.add_parser("config", help="站点设置", parents=[common])
    verbs = config.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("show", help="显示所有设置", parents=[common])
    p.set_defaults(run=_show)
    p = verbs.add_parser("set", help="修改一项设置", parents=[common])
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(run=_set)


def _show(station: Station, args: argparse.Namespace) -> None:
    values = station.settings.all()
    emit(args.json, values, lambda: table(
        [[spec.key, str(values[spec.key]), spec.description] for spec in SETTINGS], ["设置项", "当前值", "说明"]))


def _set(station: Station, args: argparse.Namespace) -> None:
    value = station.settings.set(args.key, args.value)
    emit(args.json, {"key": args.key, "value": value}, lambda: f"已将 {args.key} 设为 {value}。")
