"""`kiosk receipts print|preview|jobs|retry`: receipts (受理回执) from the command line, through the print queue."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.cli.choices import enum_choices
from kiosk_app.cli.output import emit, table
from kiosk_app.errors import KioskError

if TYPE_CHECKING:
    from devices.printing.document import PrinterProfile
    from kiosk_app.receipts.queue import JobOutcome
    from kiosk_app.station import Station

# Heavy imports (the print queue, the store, the printer drivers) load in the handlers so `kiosk run` and
# `kiosk --help` start fast.


class PrintFailed(KioskError):
    """The job ran and the printer refused or failed; the job row already records why."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    receipts = sub.add_parser("receipts", help="受理回执：打印、预览、打印任务", parents=[common])
    verbs = receipts.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("print", help="打印一件申请的受理回执", parents=[common])
    p.add_argument("key", metavar="APP_ID", help="申请 ID 或受理编号")
    add_printer_arguments(p)
    p.add_argument("--reprint", action="store_true", help="补打（回执上注明补打及时间）")
    p.set_defaults(run=_print)
    p = verbs.add_parser("preview", help="把受理回执画成 PNG 图片（不打印）", parents=[common])
    p.add_argument("key", metavar="APP_ID", help="申请 ID 或受理编号")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.png", help="图片保存位置")
    p.add_argument("--paper", type=int, choices=[80, 58], default=80, help="纸宽（毫米），默认 80")
    p.set_defaults(run=_preview)
    p = verbs.add_parser("jobs", help="列出打印任务", parents=[common])
    enum_choices(p.add_argument("--state", help="只看某种状态"), "kiosk_app.receipts.queue", "JobState")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(run=_jobs)
    p = verbs.add_parser("retry", help="重新执行一个失败或排队中的打印任务", parents=[common])
    p.add_argument("job_id", metavar="JOB_ID")
    add_printer_arguments(p, required_note="默认用任务原来的打印机")
    p.set_defaults(run=_retry)


def add_printer_arguments(parser: argparse.ArgumentParser, *, required_note: str = "") -> None:
    note = required_note or "默认取设置 devices.receipt_printer"
    parser.add_argument("--printer", metavar="URL", help=f"打印机地址，如 tcp://10.0.0.5:9100、sim://；{note}")
    parser.add_argument("--paper", type=int, choices=[80, 58], help="纸宽（毫米）；默认按打印机地址或 80")


def profile_from(args: argparse.Namespace) -> PrinterProfile | None:
    from devices.printing.document import PrinterProfile

    return PrinterProfile.for_paper(args.paper) if args.paper else None


def report_outcome(args: argparse.Namespace, outcome: JobOutcome) -> None:
    """Show the outcome; a failed job exits 1 with its reason, after the JSON so tools still see the job."""
    emit(args.json, outcome.to_json(), lambda: (
        f"已打印：{outcome.title}（任务 {outcome.job_id}）。" if outcome.printed
        else f"打印失败：{outcome.error}（任务 {outcome.job_id}）"))
    if not outcome.printed:
        raise PrintFailed(f"{outcome.error}。任务已记为失败；排除故障后可用 kiosk receipts retry "
                          f"{outcome.job_id} 重新打印。")


def _print(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.receipts.queue import recover_interrupted_jobs
    from kiosk_app.receipts.service import print_receipt

    recover_interrupted_jobs(station.db, actor="cli")  # a command start is a start: report crashed jobs first
    outcome = print_receipt(station, args.key, args.printer, reprint=args.reprint, profile=profile_from(args),
                            actor="cli")
    report_outcome(args, outcome)


def _retry(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.receipts.queue import recover_interrupted_jobs
    from kiosk_app.receipts.service import retry_job

    recover_interrupted_jobs(station.db, actor="cli")
    outcome = retry_job(station, args.job_id, args.printer, profile=profile_from(args), actor="cli")
    report_outcome(args, outcome)


def _preview(station: Station, args: argparse.Namespace) -> None:
    from devices.printing.document import PrinterProfile
    from kiosk_app.receipts.service import preview_receipt

    preview = preview_receipt(station, args.key, args.out, PrinterProfile.for_paper(args.paper))
    emit(args.json, preview.to_json(),
         lambda: f"已生成预览：{preview.path}（{preview.width}×{preview.height} 像素，{args.paper} mm 纸）")


def _jobs(station: Station, args: argparse.Namespace) -> None:
    from kiosk_app.receipts.queue import (
        JOB_KIND_LABELS,
        JOB_STATE_LABELS,
        JobKind,
        JobState,
        list_jobs,
        recover_interrupted_jobs,
    )

    recover_interrupted_jobs(station.db, actor="cli")
    jobs = list_jobs(station.db, args.state, limit=args.limit)
    emit(args.json, [j.to_json() for j in jobs], lambda: table(
        [[j.created_at.astimezone().strftime("%m-%d %H:%M"), j.id[:8],
          JOB_KIND_LABELS[JobKind(j.kind)] + ("（补打）" if j.reprint else ""), j.tracking_no or "",
          JOB_STATE_LABELS[JobState(j.state)], str(j.attempts), j.last_error or ""] for j in jobs],
        ["时间", "任务", "类型", "受理编号", "状态", "次数", "原因"]) if jobs else "没有打印任务。")
