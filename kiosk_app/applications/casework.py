"""What a logged-in operator may do with one case: read it, reprint its receipt, resubmit it after 补正.

The lower services (`application_detail`, `print_receipt`, `resubmit_correction`) serve the CLI, where the
person at the shell is the station's technician, and the villager's own kiosk session. A screen acting for a
member of staff comes through here instead, so the role check lives in the application layer and not in which
buttons a screen happens to show. Each call re-reads the account inside the work: an account deactivated after
log-in stops working at once.
"""

from __future__ import annotations

from typing import Any

from kiosk_app.accounts import Operator, Permission, ensure_active, require
from kiosk_app.applications.correction import Resubmitted, resubmit_correction
from kiosk_app.applications.filing import MaterialFile
from kiosk_app.applications.handover import handover_record
from kiosk_app.applications.lifecycle import State
from kiosk_app.applications.queries import application_detail
from kiosk_app.receipts.queue import JobOutcome
from kiosk_app.receipts.service import print_receipt
from kiosk_app.station import Station


def active_operator(station: Station, operator: Operator | None, permission: Permission) -> Operator:
    """The operator, when allowed `permission` and still an active account; else `NotPermitted`."""
    checked = require(operator, permission)
    station.db.read(lambda s: ensure_active(s, checked))
    return checked


def case_detail(station: Station, operator: Operator | None, application_id: str) -> dict[str, Any]:
    """The masked detail of one case, plus who collected it once handed over."""
    agent = active_operator(station, operator, Permission.VIEW_QUEUE)
    detail = application_detail(station.db, application_id)
    if detail["state"] == State.DELIVERED.value:
        detail["handover"] = handover_record(station.db, agent, application_id)
    return detail


def reprint_receipt(station: Station, operator: Operator | None, application_id: str) -> JobOutcome:
    """补打: the receipt again, marked as a reprint."""
    agent = active_operator(station, operator, Permission.PRINT_FORMS)
    return print_receipt(station, application_id, reprint=True, actor=agent.actor)


def resubmit_for_applicant(station: Station, operator: Operator | None, application_id: str,
                           replacements: dict[str, bytes]) -> Resubmitted:
    """补正 by an agent: the re-photographed materials (JPEG by material code) as the case's next version."""
    agent = active_operator(station, operator, Permission.FILE_FOR_OTHERS)
    files = [MaterialFile(code, jpeg, "image/jpeg") for code, jpeg in replacements.items()]
    return resubmit_correction(station.db, station.catalog, application_id, actor=agent.actor, files=files)
