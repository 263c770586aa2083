"""A4 papers of one case (申请表, 授权委托书, 材料清单): always written as a PDF under the station's `printouts/` (the
durable copy, and the one output that works on every station), then sent to the A4 printer when the setting
`devices.a4_printer` names one. A printer that fails does not make the paper fail: the outcome says what went
wrong and where the PDF is, so the agent can print it later. Runs on a worker: rendering and sending are slow.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from devices.printing.printer import PrinterError
from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.queries import application_detail
from kiosk_app.documents import A4Document, application_form, authorisation_letter, material_checklist
from kiosk_app.errors import InvalidInput, KioskError
from kiosk_app.station import Station
from ui.documents import render_pdf, send_pdf

log = logging.getLogger(__name__)

PRINTOUTS: Final = {"form": "申请表", "letter": "授权委托书", "checklist": "材料清单"}
FOLDER: Final = "printouts"
_UNSAFE: Final = re.compile(r"[^0-9A-Za-z_-]")


@dataclass(frozen=True)
class Printout:
    """What became of one paper: the PDF at `path` always; `printer` says where it was sent, `error` why not."""

    path: Path
    kind: str
    printer: str = ""
    error: str = ""

    @property
    def sent(self) -> bool:
        return bool(self.printer) and not self.error

    @property
    def message(self) -> str:
        """The sentence for the agent's screen."""
        where = f"{FOLDER}/{self.path.name}"
        paper = PRINTOUTS.get(self.kind, "打印件")
        if self.sent:
            return f"{paper}已发送到{self.printer}，请到打印机取件。PDF 副本：{where}"
        if self.error:
            return f"{paper}没有打印出来：{self.error} PDF 已保存在本站数据文件夹：{where}，可稍后重新打印。"
        return f"已生成 PDF，请在本站数据文件夹中打开打印：{where}"


def printout_folder(station: Station) -> Path:
    return station.home / FOLDER


def write_printout(station: Station, operator: Operator | None, application_id: str, kind: str) -> Printout:
    """Render paper `kind` of the application to a PDF, then print it on the station's A4 printer if one is set.
    The papers carry clear names and numbers (the applicant signs them), so only an operator allowed to print
    forms gets them."""
    agent = require(operator, Permission.PRINT_FORMS)
    station.db.read(lambda s: ensure_active(s, agent))
    if kind not in PRINTOUTS:
        raise InvalidInput(f"没有“{kind}”这种打印件。")
    detail = application_detail(station.db, application_id, unmask=True)
    if detail["state"] == "draft":
        raise InvalidInput("草稿尚未提交，不能打印。")
    now = datetime.now()
    document: A4Document
    if kind == "letter":
        document = authorisation_letter(station, detail, agent.display_name, printed_at=now)
    else:
        item = station.catalog.get(detail["item_code"])
        build = application_form if kind == "form" else material_checklist
        document = build(station, detail, item, printed_at=now)
    folder = printout_folder(station)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"无法创建打印文件夹 {folder}（{exc.strerror}），请联系技术人员。") from None
    # The file name carries the tracking number, never the applicant's name: folders get listed and copied.
    tracking_no = _UNSAFE.sub("_", str(detail["tracking_no"]))
    path = render_pdf(document, folder / f"{tracking_no}-{PRINTOUTS[kind]}.pdf")
    url = str(station.settings.get("devices.a4_printer") or "").strip()
    if not url:
        return Printout(path, kind)
    # Print queues and printer panels show the job name: the tracking number, never the applicant's name.
    job_name = f"{tracking_no} {PRINTOUTS[kind]}"
    try:
        return Printout(path, kind, printer=send_pdf(url, document, path, job_name, user=agent.username))
    except (PrinterError, KioskError) as exc:
        log.warning("A4 printout %s not printed on %s: %s", job_name, url, exc)
        return Printout(path, kind, error=exc.message)
    except Exception:  # a bug in sending must not hide that the PDF, the paper's durable copy, exists
        log.exception("sending A4 printout %s to %s failed", job_name, url)
        return Printout(path, kind, error="打印机程序出错（详情已记入日志），请联系技术人员。")
