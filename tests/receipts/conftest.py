"""Fixtures for receipts: one station with filed applications built once per session and copied per test
(real SQLite files and the real sample catalogue), and a scripted printer for queue edge cases."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devices.printing.document import PrintDocument, PrinterProfile
from devices.printing.printer import PrinterStatus, PrintResult
from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.applications.queries import application_detail
from kiosk_app.demo import demo_scan, sample_form_values, sample_people
from kiosk_app.station import Station
from local_db.models import UserAccount, utcnow

DIBAO = "331123-MZ-0001"  # 最低生活保障申请: M01/M02 e-licences, M03..M05, M07 required paper
AGENT_NAME = "王丽萍"


@dataclass(frozen=True)
class FiledCases:
    kiosk_id: str  # kiosk, one scan, e-licences and 容缺 materials
    agent_id: str  # filed by the agent AGENT_NAME for another villager
    names: tuple[str, ...]  # full names and ID numbers that must never reach paper
    id_numbers: tuple[str, ...]
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # masked detail by application id


def _item_code(station: Station, name: str) -> str:
    for hit in station.catalog.search(name, limit=5):
        if hit.name == name:
            return hit.code
    raise LookupError(name)


@pytest.fixture(scope="session")
def receipts_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FiledCases]:
    home = tmp_path_factory.mktemp("receipts-template") / "station"
    people = sample_people()
    with Station(home, key_storage="file") as station:
        agent_id = station.db.write(lambda s: _add_agent(s))
        dibao = station.catalog.get(DIBAO)
        kiosk = submit_application(
            station.db, station.catalog, station.filing_context(channel="kiosk", actor="kiosk"),
            item_code=DIBAO, identity=people[1], form_values=sample_form_values(dibao),
            files=[MaterialFile("M03", demo_scan(3), "image/png")], allow_missing=True)
        elderly = station.catalog.get(_item_code(station, "老年人优待证"))
        scans = [MaterialFile(m.code, demo_scan(10 + n), "image/png")
                 for n, m in enumerate(elderly.materials) if m.required and not m.elicence_type]
        agent = submit_application(
            station.db, station.catalog,
            station.filing_context(channel="agent", actor="agent:wangliping", agent_user_id=agent_id),
            item_code=elderly.code, identity=people[2], form_values=sample_form_values(elderly), files=scans)
        details = {app_id: application_detail(station.db, app_id) for app_id in (kiosk.id, agent.id)}
    cases = FiledCases(kiosk.id, agent.id, tuple(p.name for p in people), tuple(p.id_number for p in people),
                       details)
    return home, cases


def _add_agent(session: Any) -> int:
    account = UserAccount(username="wangliping", display_name=AGENT_NAME, role="agent", failed_attempts=0,
                          active=True, created_at=utcnow())
    session.add(account)
    session.flush()
    return account.id


@pytest.fixture
def cases(receipts_template: tuple[Path, FiledCases]) -> FiledCases:
    return receipts_template[1]


@pytest.fixture
def station(receipts_template: tuple[Path, FiledCases], tmp_path: Path) -> Iterator[Station]:
    home = tmp_path / "station"
    shutil.copytree(receipts_template[0], home)
    with Station(home, key_storage="file") as st:
        yield st


class ScriptedPrinter:
    """A ReceiptPrinter that does what the test says: for failure modes the simulator cannot stage (a crash
    mid-call, a bug in a transport). End-to-end tests use the real `sim://` printer instead."""

    def __init__(self, *, fail: BaseException | None = None, status: PrinterStatus | None = None,
                 profile: PrinterProfile | None = None) -> None:
        self.url = "tcp://192.0.2.1:9100"
        self.profile = profile or PrinterProfile()
        self.fail = fail
        self._status = status or PrinterStatus(online=True)
        self.documents: list[PrintDocument] = []
        self.opened = 0
        self.closed = 0

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        self.closed += 1

    def status(self) -> PrinterStatus:
        return self._status

    def print_document(self, document: PrintDocument) -> PrintResult:
        if self.fail is not None:
            raise self.fail
        self.documents.append(document)
        return PrintResult(bytes_sent=1234, status=self._status)
