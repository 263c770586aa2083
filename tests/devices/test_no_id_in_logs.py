"""Drivers never write a full ID number or name into the log, on success or on failure paths."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest

from devices.identity.pcsc.backend import PcscReader, stop_card_monitor
from devices.identity.reader import ReaderError
from devices.identity.samv.backend import SamvReader
from devices.simulators.sample_cards import DECK
from devices.simulators.samv_emulator import Fault, SamvEmulator
from devices.simulators.vicc import SAMPLE_PEOPLE, CardFault, VirtualSocialSecurityCard, VpcdClient
from tests.devices.pcscd_daemon import VPCD_READER, running_pcscd, wait_for_card

pytestmark = [pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def _assert_clean(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for secret in secrets:
        assert secret not in text


def test_sam_reader_logs_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with SamvEmulator(pacing=False) as emulator:
        reader = SamvReader(emulator.start())
        reader.open()
        try:
            for index in range(len(DECK)):
                emulator.insert(index)
                assert reader.read_card(5).id_number == DECK[index].id_number
                emulator.remove()
                reader.wait_for_removal(2)
            emulator.insert(0)
            emulator.set_fault(Fault.BAD_CHECKSUM, count=2)
            reader.read_card(5)
        finally:
            reader.close()
    assert caplog.records  # the driver does log; it just logs no one's identity
    _assert_clean(caplog, [c.id_number for c in DECK] + [c.name for c in DECK])


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    with running_pcscd():
        yield
        stop_card_monitor()


def test_pcsc_reader_logs_no_personal_data(pcscd: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    person = SAMPLE_PEOPLE[0]
    for fault in (CardFault.NONE, CardFault.REFUSE_SSC, CardFault.TRUNCATED_TLV):
        client = VpcdClient(VirtualSocialSecurityCard(person, fault=fault))
        client.start()
        reader = PcscReader(VPCD_READER)
        reader.open()
        try:
            client.insert()
            wait_for_card(True)
            with contextlib.suppress(ReaderError):  # a refused or broken card is fine; what it logs is the point
                reader.read_card(5)
        finally:
            reader.close()
            client.stop()
    _assert_clean(caplog, [person.id_number, person.name])
