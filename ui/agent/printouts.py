"""A4 papers of one case (申请表, 授权委托书, 材料清单) written as PDF files under the station's `printouts/`.

The agent prints the PDF from there (or hands it to the township by USB). Sending straight to a system printer
(`ui.documents.print_document`) waits for a station setting naming the A4 printer; until one exists, a PDF is
the one output that works on every station. Runs on a worker: rendering is slow and touches the disk.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Final

from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.queries import application_detail
from kiosk_app.documents import A4Document, application_form, authorisation_letter, material_checklist
from kiosk_app.errors import InvalidInput
from kiosk_app.station import Station
from ui.documents import render_pdf

PRINTOUTS: Final = {"form": "申请表", "letter": "授权委托书", "checklist": "材料清单"}
FOLDER: Final = "printouts"
_UNSAFE: Final = re.compile(r"[^0-9A-Za-z_-]")


def printout_folder(station: Station) -> Path:
    return station.home / FOLDER


def write_printout(station: Station, operator: Operator | None, application_id: str, kind: str) -> Path:
    """Render paper `kind` of the application to a PDF and return its path. The papers carry clear names and
    numbers (the applicant signs them), so only an operator allowed to print forms gets them."""
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
    name = f"{_UNSAFE.sub('_', str(detail['tracking_no']))}-{PRINTOUTS[kind]}.pdf"
    return render_pdf(document, folder / name)
