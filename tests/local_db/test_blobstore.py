from __future__ import annotations

import hashlib
import os

import pytest

from local_db.database import Database
from local_db.errors import BlobMissing, StoreError


def test_put_get_roundtrip_is_content_addressed_and_encrypted(db: Database) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"scan of a household register " * 100
    ref = db.blobs.put(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    path = db.blobs.path_for(ref.sha256)
    assert path.exists() and path.parent.name == ref.sha256[:2]
    stored = path.read_bytes()
    assert b"household register" not in stored and len(stored) == ref.stored_size > ref.size
    assert db.blobs.get(ref.sha256) == data
    again = db.blobs.put(data)  # same content: same name, no second file
    assert again.sha256 == ref.sha256
    assert len([p for p in db.blobs.root.rglob("*") if p.is_file()]) == 1


def test_altered_blob_file_is_refused(db: Database) -> None:
    ref = db.blobs.put(os.urandom(5000))
    path = db.blobs.path_for(ref.sha256)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BlobMissing, match="已损坏"):
        db.blobs.get(ref.sha256)


def test_missing_blob_and_bad_names_give_plain_errors(db: Database) -> None:
    with pytest.raises(BlobMissing, match="丢失"):
        db.blobs.get("ab" * 32)
    with pytest.raises(BlobMissing, match="格式不正确"):
        db.blobs.get("../../etc/passwd")


def test_oversized_and_unreadable_files_are_refused(db: Database, tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(StoreError, match="找不到"):
        db.blobs.put_file(db.data_dir / "nope.jpg")
    with pytest.raises(StoreError, match="文件夹"):
        db.blobs.put_file(db.data_dir)
