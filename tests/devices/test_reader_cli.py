"""`kiosk devices read-id` and `list` through the real serial backend on the emulator's pseudo-terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from devices.identity.factory import SIM_CARDS, create_reader
from devices.identity.reader import ReaderError
from devices.simulators.sample_cards import DECK
from kiosk_app.errors import InvalidInput
from kiosk_app.identity import CardType
from kiosk_app.identity.from_card import identity_from_card


def kiosk(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk_app", "--home", str(home), *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("card", SIM_CARDS)
def test_every_sample_card_becomes_a_valid_identity(card: str) -> None:
    record = DECK[SIM_CARDS.index(card)]
    identity = identity_from_card(record)
    assert identity.id_number == record.id_number
    assert identity.card_type.value == record.kind.value


def test_a_card_with_a_bad_check_digit_is_refused() -> None:
    record = DECK[0]
    broken = replace(record, id_number=record.id_number[:-1] + ("0" if record.id_number[-1] != "0" else "1"))
    with pytest.raises(InvalidInput, match=r"核验未通过.*校验码"):
        identity_from_card(broken)


def test_read_id_json_contract_masked_and_unmasked(tmp_path: Path) -> None:
    masked = kiosk(tmp_path, "devices", "read-id", "--reader", "sim://she", "--timeout", "10", "--json")
    assert masked.returncode == 0, masked.stderr
    data = json.loads(masked.stdout)
    assert set(data) >= {"name", "sex", "nation", "birth_date", "address", "id_number", "authority",
                         "valid_from", "valid_to", "card_type"}
    assert data["nation"] == "畲" and data["card_type"] == "resident"
    assert DECK[0].id_number not in masked.stdout and DECK[0].name not in masked.stdout
    assert "请将身份证放在读卡区" in masked.stderr
    clear = json.loads(kiosk(tmp_path, "devices", "read-id", "--reader", "sim://she", "--unmask", "--json").stdout)
    assert clear["id_number"] == DECK[0].id_number and clear["name"] == DECK[0].name
    assert clear["birth_date"] == DECK[0].birth_date.isoformat() if DECK[0].birth_date else False


def test_read_id_errors_are_plain(tmp_path: Path) -> None:
    missing = kiosk(tmp_path, "devices", "read-id", "--reader", "samv:///dev/ttyNOPE0", "--timeout", "1")
    assert missing.returncode == 1 and "读卡器" in missing.stderr and "Traceback" not in missing.stderr
    bad = kiosk(tmp_path, "devices", "read-id", "--reader", "ftp://x")
    assert bad.returncode == 1 and "不认识的读卡器地址" in bad.stderr
    unset = kiosk(tmp_path, "devices", "read-id")
    assert unset.returncode == 1 and "没有指定读卡器" in unset.stderr


def test_devices_list_shows_configured_reader(tmp_path: Path) -> None:
    assert kiosk(tmp_path, "config", "set", "devices.id_reader", "samv:///dev/ttyUSB0?baud=115200").returncode == 0
    listed = json.loads(kiosk(tmp_path, "devices", "list", "--json").stdout)
    assert listed["configured"]["devices.id_reader"] == "samv:///dev/ttyUSB0?baud=115200"
    assert isinstance(listed["detected"], list)


@pytest.mark.parametrize("url", ["samv://", "samv:///dev/ttyS0?baud=12", "sim://nobody", "usb://1"])
def test_bad_reader_urls(url: str) -> None:
    with pytest.raises(ReaderError):
        create_reader(url)


def test_identity_card_type_values_match_card_kinds() -> None:
    assert {c.value for c in CardType} >= {r.kind.value for r in DECK}
