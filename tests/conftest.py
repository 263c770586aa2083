"""Shared fixtures: real SQLite files on disk in a temporary data folder, never mocks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import devices.printing.factory as factory
from devices.printing.document import PrinterProfile
from devices.printing.printer import ReceiptPrinter
from kiosk_app.identity import CardType, Identity, make_id_number
from kiosk_app.station import Station
from local_db.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "home", key_storage="file")
    yield database
    database.close()


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with Station(tmp_path / "station", key_storage="file") as st:
        yield st


@pytest.fixture(scope="module")
def station_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "station"
    with Station(home, key_storage="file"):
        pass
    return home


@pytest.fixture
def copied_station(station_template: Path, tmp_path: Path) -> Iterator[Station]:
    """Like `station` (real SQLite file, sample catalogue loaded), but copied from a template built once per
    module: opening a copy skips the migrations and the sample import, which dominate many tests' run time."""
    home = tmp_path / "station"
    shutil.copytree(station_template, home)
    with Station(home, key_storage="file") as st:
        yield st


def make_person(name: str = "叶春兰", birth: date = date(1958, 4, 12), seq: int = 122) -> Identity:
    number = make_id_number("331123", birth, seq)
    return Identity(
        name=name,
        sex="男" if seq % 2 else "女",
        nation="汉",
        birth_date=birth,
        id_number=number,
        card_type=CardType.RESIDENT,
        address="浙江省遂昌县妙高街道上江村18号",
        authority="遂昌县公安局",
        valid_from=date(2019, 5, 20),
        valid_to="长期",
        phone="13857800123",
    )


@pytest.fixture
def person() -> Identity:
    return make_person()


@pytest.fixture
def printers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every receipt printer the services create, so a test can read what its emulator received."""
    made: list[Any] = []
    real = factory.create_printer

    def recording(url: str, profile: PrinterProfile | None = None) -> ReceiptPrinter:
        printer = real(url, profile)
        made.append(printer)
        return printer

    monkeypatch.setattr(factory, "create_printer", recording)
    yield made
    for printer in made:
        printer.close()  # idempotent: stops an emulator a failing test left running
