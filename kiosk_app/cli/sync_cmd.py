"""`kiosk provision` and `kiosk sync`: enrolling the station with the platform and running the sync engine."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from kiosk_app.cli.output import emit, table

if TYPE_CHECKING:
    from kiosk_app.station import Station
    from sync.engine import SyncReport, SyncStatus

# Heavy imports (the sync engine: requests, cryptography, the store) load in the handlers so `kiosk run` and
# `kiosk --help` start fast.


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("provision", help="在省级平台开通本站点（登记本机）", parents=[common])
    p.add_argument("--platform", required=True, metavar="URL", help="平台地址，如 https://gov.example/")
    p.add_argument("--token", required=True, help="平台发放的一次性开通码")
    p.add_argument("--name", help="本机名称（默认取计算机名）")
    p.set_defaults(run=_provision)
    p = sub.add_parser("sync", help="与省级平台同步（上报申请与材料、取回办理进度与服务目录）", parents=[common])
    p.add_argument("--once", action="store_true", help="同步一轮后退出（默认持续运行，断网时自动重试）")
    p.add_argument("--status", action="store_true", help="只显示同步状态，不联网")
    p.add_argument("--requeue", action="store_true", help="把已隔离的条目放回队列重新上报")
    p.add_argument("--max-attempts", type=int, default=8, metavar="N", help="同一条目失败 N 次后隔离（默认 8）")
    p.set_defaults(run=_sync)


def _provision(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.syncing.service import provision

    done = provision(station, args.platform, args.token, device_name=args.name)
    off = done.clock_skew_s
    skew = f"，本机时钟与平台相差 {off:+.1f} 秒" if off is not None and abs(off) >= 2 else ""
    emit(args.json, done.to_json(),
         lambda: f"开通成功：站点 {done.station_code}，设备编号 {done.device_id}，平台 {done.platform_url}{skew}。")


def _sync(station: Station, args: argparse.Namespace) -> int:
    from kiosk_app.syncing.service import StationSync, sync_status_json

    service = StationSync(station, max_attempts=max(1, args.max_attempts))
    if args.requeue:
        count = service.store.requeue_quarantined("cli")
        if not args.json:
            print(f"已把 {count} 个隔离条目放回队列。")
    if args.status:
        status = service.status()
        emit(args.json, sync_status_json(status), lambda: _status_text(status))
        return 0
    if args.once:
        report = service.sync_once()
        emit(args.json, report.to_json(), lambda: _report_text(report))
        return 0 if report.online else 1

    def show(report: SyncReport) -> None:
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
        else:
            print(_report_text(report), flush=True)

    try:
        service.start(show)
        while service.running():
            service.wait(1.0)
    finally:
        service.stop()
    return 0


def _report_text(report: SyncReport) -> str:
    head = "已连上平台" if report.online else "连不上平台，稍后自动重试"
    lines = [f"{head}：上报 {report.uploaded_applications} 件申请、{report.uploaded_blobs} 份材料"
             f"（{report.bytes_sent / 1024:.0f} KB）、{report.uploaded_evaluations} 条评价；取回进度 "
             f"{report.status_updates} 条，目录 {report.catalog_items} 项；待上报 {report.pending} 项"
             f"（{report.pending_bytes / 1024 / 1024:.1f} MB），已隔离 {report.quarantined} 项。"]
    if report.clock_skew_s is not None and abs(report.clock_skew_s) >= 2:
        lines.append(f"注意：本机时钟与平台相差 {report.clock_skew_s:+.1f} 秒，请校准时间（不影响上报）。")
    for error in report.to_json()["errors"]:
        label = f"{error['label']}：" if "label" in error else ""
        lines.append(f"  ! {label}{error['message']}")
    return "\n".join(lines)


def _status_text(status: SyncStatus) -> str:
    if not status.provisioned:
        return "本站点尚未开通，请先运行 kiosk provision --platform URL --token 开通码。"
    online = {True: "在线", False: "离线", None: "尚未同步"}[status.online]
    q = status.queue
    success = status.last_success.astimezone().strftime("%Y-%m-%d %H:%M:%S") if status.last_success else "无"
    lines = [f"状态：{online}；待上报 {q.pending} 项（{q.pending_bytes / 1024 / 1024:.1f} MB）；"
             f"已隔离 {q.quarantined} 项", f"上次成功：{success}"]
    if status.last_error:
        lines.append(f"上次错误：{status.last_error}")
    if q.problems:
        lines.append(table([[p.label, str(p.attempts), "已隔离" if p.quarantined else "重试中", p.message]
                            for p in q.problems], ["条目", "次数", "状态", "原因"]))
    return "\n".join(lines)



