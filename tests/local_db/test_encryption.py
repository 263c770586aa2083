"""A stolen disk shows no personal data: the raw files are grepped for what was stored."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_app.applications.filing import MaterialFile, submit_application
from kiosk_app.demo import demo_scan, sample_form_values
from kiosk_app.identity import Identity
from kiosk_app.station import Station
from local_db.crypto import Cipher
from local_db.database import Database
from local_db.errors import CryptoError
from local_db.models import Applicant, utcnow
from tests.conftest import make_person

MEDICAL_INSURANCE = "331123-YB-0001"


def _raw_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and p.suffix != ".log"]


def test_no_personal_data_in_clear_on_disk(station: Station, person: Identity) -> None:
    item = station.catalog.get(MEDICAL_INSURANCE)
    scan = demo_scan(1) + ("身份证号" + person.id_number).encode()  # the scan itself carries the number
    files = [MaterialFile(m.code, scan if i == 0 else demo_scan(i + 2), "image/png")
             for i, m in enumerate(item.materials)]
    submit_application(station.db, station.catalog, station.filing_context(), item_code=item.code,
                       identity=person, form_values=sample_form_values(item),
                       files=files, allow_missing=True)
    needles = {
        "id number": person.id_number.encode(),
        "name": person.name.encode("utf-8"),
        "address": person.address.encode("utf-8"),
        "phone": (person.phone or "").encode(),
        "id number utf-16": person.id_number.encode("utf-16-le"),
    }
    files_checked = _raw_files(station.home)
    assert any(p.name == "kiosk.db" for p in files_checked)
    assert any("blobs" in p.parts for p in files_checked)
    for path in files_checked:
        data = path.read_bytes()
        for what, needle in needles.items():
            assert needle not in data, f"{what} found in clear in {path}"


def test_key_file_is_private(db: Database) -> None:
    key_file = db.data_dir / "keys" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(key_file.read_bytes()) == 32


def test_lookup_by_id_number_uses_keyed_hash(station: Station, person: Identity) -> None:
    digest = station.db.cipher.lookup_hash(person.id_number, "id_number")
    assert person.id_number not in digest and len(digest) == 64
    other_key = Cipher(b"\x01" * 32).lookup_hash(person.id_number, "id_number")
    assert other_key != digest  # without the station's key the hash cannot be recomputed


def test_wrong_key_cannot_read_personal_fields(tmp_path: Path, person: Identity) -> None:
    home = tmp_path / "home"
    with Station(home, key_storage="file") as station:
        station.db.write(lambda s: s.add(Applicant(
            id="a1", id_lookup="x", identity=person.to_json_dict(), card_type="resident",
            created_at=utcnow(), updated_at=utcnow())))
    (home / "keys" / "master.key").write_bytes(b"\x02" * 32)
    with Database(home, key_storage="file") as db, pytest.raises(CryptoError, match="密钥不匹配"):
        db.read(lambda s: s.scalars(select(Applicant)).one().identity)


def test_ciphertext_moved_between_columns_does_not_open(db: Database, person: Identity) -> None:
    token = db.cipher.encrypt_field("叶春兰", "evaluation.comment")
    with pytest.raises(CryptoError):
        db.cipher.decrypt_field(token, "applicant.identity")
    tampered = bytearray(token)
    tampered[-1] ^= 0x01
    with pytest.raises(CryptoError):
        db.cipher.decrypt_field(bytes(tampered), "evaluation.comment")


def test_tampered_row_is_detected(db: Database) -> None:
    person = make_person()
    db.write(lambda s: s.add(Applicant(id="a1", id_lookup="x", identity=person.to_json_dict(),
                                       card_type="resident", created_at=utcnow(), updated_at=utcnow())))
    sealed = db.cipher.encrypt_field('{"name":"someone else"}', "evaluation.comment")
    with db.write_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE applicant SET identity = ?", (sealed,))
    with pytest.raises(CryptoError):
        db.read(lambda s: s.scalars(select(Applicant)).one().identity)
