"""`kiosk devices list|read-id|print-test`: what a technician uses to see and test the readers and printer."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit, table
from kiosk_app.cli.receipts_cmd import add_printer_arguments, profile_from, report_outcome
from kiosk_app.cli.scan_cmd import register_scan
from kiosk_app.config import resolve_home
from kiosk_app.errors import InvalidInput

if TYPE_CHECKING:
    from kiosk_app.station import Station

# Heavy imports (the store, the reader and printer drivers) load in the handlers so `kiosk run` and
# `kiosk --help` start fast.


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    devices = sub.add_parser("devices", help="设备：读卡器、打印机、高拍仪", parents=[common])
    verbs = devices.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("list", help="已配置和已检测到的读卡器", parents=[common])
    p.set_defaults(run=_list, standalone=True)
    p = verbs.add_parser("read-id", help="读一张身份证或社保卡", parents=[common])
    p.add_argument("--reader", metavar="URL", help="读卡器地址，默认取设置 devices.id_reader")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="等待放卡的秒数")
    p.add_argument("--unmask", action="store_true", help="显示完整姓名和证件号（仅限授权人员）")
    p.set_defaults(run=_read_id, standalone=True)
    p = verbs.add_parser("print-test", help="打印一张测试页（中文、二维码、切纸）", parents=[common])
    add_printer_arguments(p)
    p.set_defaults(run=_print_test)
    register_scan(verbs, common)


class _StderrHandler:
    def prompt(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)


def _configured(home: str | None) -> dict[str, str]:
    from kiosk_app.station import Station

    with Station(resolve_home(home)) as station:
        return {key: station.settings.get(key) for key in ("devices.id_reader", "devices.ssc_reader")}


def _list(args: argparse.Namespace) -> None:
    from devices.identity.factory import detect_readers

    configured = _configured(args.home)
    detected = detect_readers()
    data = {"configured": configured,
            "detected": [{"url": d.url, "kind": d.kind, "description": d.description} for d in detected]}

    def human() -> str:
        rows = [[key, url or "（未配置）"] for key, url in configured.items()]
        found = table([[d.url, d.description] for d in detected], ["地址", "说明"]) if detected else "未检测到读卡器。"
        return table(rows, ["设置项", "读卡器"]) + "\n\n检测到的设备：\n" + found

    emit(args.json, data, human)


def _read_id(args: argparse.Namespace) -> None:
    from devices.identity.factory import create_reader
    from devices.identity.owner import ReaderOwner
    from kiosk_app.identity.from_card import identity_from_card

    url = args.reader or _configured(args.home)["devices.id_reader"]
    if not url:
        raise InvalidInput("没有指定读卡器：请用 --reader 指定，或设置 devices.id_reader。")
    if not 0 < args.timeout <= 600:
        raise InvalidInput("--timeout 应在 0 到 600 秒之间。")
    owner = ReaderOwner(create_reader(url, _StderrHandler()))
    try:
        owner.open().result()
        pending = owner.read_card(args.timeout)
        try:
            record = pending.result()
        except KeyboardInterrupt:
            owner.cancel()
            raise
    finally:
        owner.close()
    identity = identity_from_card(record)
    data = identity.to_json_dict(masked=not args.unmask)
    emit(args.json, data, lambda: "\n".join(f"{key}: {value}" for key, value in data.items() if value))


def _print_test(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.receipts.queue import recover_interrupted_jobs
    from kiosk_app.receipts.service import print_test_page

    recover_interrupted_jobs(station.db, actor="cli")
    report_outcome(args, print_test_page(station, args.printer, profile=profile_from(args), actor="cli"))
