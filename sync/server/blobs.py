"""Material files on the platform: resumable chunked uploads into a partial file, verified, then made final.

Durability rule: the `received` count a station is told is never more than what is fsynced on disk. After each
chunk the partial file is fsynced first and only then is its new length written to the database (`durable`);
after a crash, bytes past that length are a torn tail nobody vouched for and are cut off before the next
chunk is written, while a partial file shorter than the record wins (the file is the truth). A complete
file is hashed as a whole and renamed into place atomically, with its folder fsynced, before the row says so.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.protocol.models import BlobState, Limits
from sync.server.errors import PlatformError
from sync.server.models import Blob
from sync.server.store import PlatformStore, utc_now

_READ_BLOCK: Final = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder for fsync; NTFS journals the rename itself
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobFiles:
    """The blob folder: `partial/<sha>.part` while uploading, `<sha[:2]>/<sha>` once verified."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.partial_dir = root / "partial"
        self.partial_dir.mkdir(parents=True, exist_ok=True)

    def partial_path(self, sha256: str) -> Path:
        return self.partial_dir / f"{sha256}.part"

    def final_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def partial_size(self, sha256: str) -> int:
        try:
            return self.partial_path(sha256).stat().st_size
        except FileNotFoundError:
            return 0

    def has_final(self, sha256: str) -> bool:
        return self.final_path(sha256).is_file()

    def write_at(self, sha256: str, offset: int, data: bytes) -> int:
        """Cut the partial file to `offset` (dropping any torn tail), append `data`, fsync; returns the length."""
        path = self.partial_path(sha256)
        created = not path.exists()
        with path.open("r+b" if not created else "w+b") as fh:
            fh.truncate(offset)
            fh.seek(offset)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            length = fh.tell()
        if created:
            _fsync_dir(self.partial_dir)
        return length

    def partial_digest(self, sha256: str) -> str:
        digest = hashlib.sha256()
        with self.partial_path(sha256).open("rb") as fh:
            while block := fh.read(_READ_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    def make_final(self, sha256: str) -> None:
        final = self.final_path(sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(self.partial_path(sha256), final)
        _fsync_dir(final.parent)
        _fsync_dir(self.partial_dir)

    def discard_partial(self, sha256: str) -> None:
        self.partial_path(sha256).unlink(missing_ok=True)


class BlobService:
    """Upload and query of blobs: files plus their rows, one upload at a time per blob."""

    def __init__(self, store: PlatformStore, files: BlobFiles, limits: Limits) -> None:
        self.store = store
        self.files = files
        self.limits = limits
        # Striped by the first hash byte: bounded memory, and two uploads of one blob never interleave.
        self._locks = [threading.Lock() for _ in range(256)]

    def _lock(self, sha256: str) -> threading.Lock:
        return self._locks[int(sha256[:2], 16)]

    def query(self, hashes: list[str]) -> list[BlobState]:
        wanted = list(dict.fromkeys(hashes))
        rows = self.store.read(lambda s: _rows(s, wanted))
        answer = []
        for sha in wanted:
            row = rows.get(sha)
            if row is None:
                answer.append(BlobState(sha256=sha, size=None, received=0, complete=False))
                continue
            size, durable, complete = row
            received = size if complete else min(durable, self.files.partial_size(sha))
            answer.append(BlobState(sha256=sha, size=size, received=received, complete=complete))
        return answer

    def put_chunk(self, sha256: str, offset: int, size: int, data: bytes) -> BlobState:
        with self._lock(sha256):
            return self._put_chunk(sha256, offset, size, data)

    def _put_chunk(self, sha256: str, offset: int, size: int, data: bytes) -> BlobState:
        row = self.store.read(lambda s: _row_values(s, sha256))
        if row is not None and row[2]:
            return BlobState(sha256=sha256, size=row[0], received=row[0], complete=True)
        if self.files.has_final(sha256):
            # Renamed after a verified hash, but the crash came before the row said so.
            final_size = self.files.final_path(sha256).stat().st_size
            self.store.write(lambda s: _mark_complete(s, sha256, final_size))
            return BlobState(sha256=sha256, size=final_size, received=final_size, complete=True)
        if size > self.limits.max_blob_bytes:
            raise PlatformError(413, "too_large", f"材料文件超过平台允许的 {self.limits.max_blob_bytes} 字节。",
                                {"max_blob_bytes": self.limits.max_blob_bytes})
        if len(data) > self.limits.max_chunk_bytes:
            raise PlatformError(413, "too_large", f"单次上传超过平台允许的 {self.limits.max_chunk_bytes} 字节。",
                                {"max_chunk_bytes": self.limits.max_chunk_bytes})
        received = 0 if row is None else min(row[1], self.files.partial_size(sha256))
        if row is not None and row[0] != size and received > 0:
            raise PlatformError(409, "size_mismatch", detail={"size": row[0], "received": received})
        if offset != received:
            raise PlatformError(409, "offset_mismatch", detail={"received": received})
        if offset + len(data) > size:
            raise PlatformError(422, "invalid", "上传的数据超出了声明的文件大小。", {"size": size})
        length = self.files.write_at(sha256, offset, data)
        if length < size:
            self.store.write(lambda s: _record_progress(s, sha256, size, length))
            return BlobState(sha256=sha256, size=size, received=length, complete=False)
        actual = self.files.partial_digest(sha256)
        if actual != sha256:
            self.files.discard_partial(sha256)
            self.store.write(lambda s: _forget(s, sha256))
            raise PlatformError(422, "hash_mismatch", detail={"expected": sha256, "actual": actual})
        self.files.make_final(sha256)
        self.store.write(lambda s: _mark_complete(s, sha256, size))
        return BlobState(sha256=sha256, size=size, received=size, complete=True)


def _rows(session: Session, hashes: list[str]) -> dict[str, tuple[int, int, bool]]:
    if not hashes:
        return {}
    rows = session.scalars(select(Blob).where(Blob.sha256.in_(hashes)))
    return {b.sha256: (b.size, b.durable, b.complete) for b in rows}


def _row_values(session: Session, sha256: str) -> tuple[int, int, bool] | None:
    blob = session.get(Blob, sha256)
    return None if blob is None else (blob.size, blob.durable, blob.complete)


def _record_progress(session: Session, sha256: str, size: int, durable: int) -> None:
    blob = session.get(Blob, sha256)
    if blob is None:
        session.add(Blob(sha256=sha256, size=size, durable=durable, complete=False, created_at=utc_now(),
                         completed_at=None))
    else:
        blob.size = size
        blob.durable = durable


def _mark_complete(session: Session, sha256: str, size: int) -> None:
    _record_progress(session, sha256, size, size)
    blob = session.get(Blob, sha256)
    assert blob is not None
    blob.complete = True
    blob.completed_at = utc_now()


def _forget(session: Session, sha256: str) -> None:
    blob = session.get(Blob, sha256)
    if blob is not None:
        session.delete(blob)


def complete_hashes(session: Session, hashes: list[str]) -> set[str]:
    if not hashes:
        return set()
    return set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(hashes), Blob.complete.is_(True))))
