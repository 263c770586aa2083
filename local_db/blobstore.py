"""Material files, content-addressed by the SHA-256 of their clear bytes, stored encrypted and durably.

`put` returns only after the encrypted file and its folder are fsynced, so the database row that points at a
blob can commit knowing the bytes are on disk. A crash mid-write leaves at most a temp file in `tmp/`, which
never has a final name and is swept by a later start once it is an hour old; a final name always holds a complete file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from local_db.crypto import Cipher
from local_db.errors import BlobMissing, CryptoError, DiskFull, StoreError
from local_db.fsync import fsync_dir

MAX_BLOB_BYTES: Final = 128 * 1024 * 1024
STALE_TEMP_SECONDS: Final = 3600
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_NO_SPACE: Final = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int
    stored_size: int


class BlobStore:
    def __init__(self, root: Path, cipher: Cipher) -> None:
        self.root = root
        self._cipher = cipher
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._sweep_temp_files()

    def path_for(self, sha256: str) -> Path:
        if not _SHA256_RE.match(sha256):
            raise BlobMissing(f"材料编号格式不正确：{sha256[:80]}")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put(self, data: bytes) -> BlobRef:
        if len(data) > MAX_BLOB_BYTES:
            raise StoreError(f"材料文件过大（{len(data) // (1024 * 1024)} MB），单个文件不能超过 128 MB。")
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path_for(sha256)
        if final.exists():
            # Same content already stored (and verified on write); content addressing makes this a no-op.
            return BlobRef(sha256, len(data), final.stat().st_size)
        sealed = self._cipher.encrypt_blob(data, sha256)
        folder_is_new = not final.parent.exists()
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=sha256[:8], suffix=".part")
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(sealed)
                    fh.flush()
                    os.fsync(fh.fileno())
                final.parent.mkdir(exist_ok=True)
                os.replace(tmp, final)
                fsync_dir(final.parent)
                if folder_is_new:
                    fsync_dir(self.root)
            except OSError as exc:
                if exc.errno in _NO_SPACE:
                    raise DiskFull("磁盘空间不足，材料没有保存；请联系技术人员清理磁盘后重试。") from exc
                raise StoreError(f"材料文件写入失败（{exc.strerror}），请联系技术人员。") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return BlobRef(sha256, len(data), len(sealed))

    def put_file(self, path: Path) -> BlobRef:
        try:
            size = path.stat().st_size
            if size > MAX_BLOB_BYTES:
                raise StoreError(f"材料文件过大（{size // (1024 * 1024)} MB），单个文件不能超过 128 MB。")
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"找不到材料文件：{path}") from exc
        except IsADirectoryError as exc:
            raise StoreError(f"材料路径是一个文件夹，不是文件：{path}") from exc
        except PermissionError as exc:
            raise StoreError(f"没有权限读取材料文件：{path}") from exc
        return self.put(data)

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(f"材料文件丢失（{sha256[:12]}…），请重新扫描或联系技术人员。") from exc
        try:
            data = self._cipher.decrypt_blob(sealed, sha256)
        except CryptoError as exc:
            raise BlobMissing(f"材料文件已损坏（{sha256[:12]}…），请重新扫描。") from exc
        if hashlib.sha256(data).hexdigest() != sha256:  # defence in depth; GCM already authenticated it
            raise BlobMissing(f"材料文件校验失败（{sha256[:12]}…），请重新扫描。")
        return data

    def delete(self, sha256: str) -> None:
        """Remove a blob the platform has acknowledged and whose retention ran out (retention job only)."""
        path = self.path_for(sha256)
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def _sweep_temp_files(self) -> None:
        # Another process (the app beside a CLI call) may be writing right now: only old leftovers go.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for leftover in self._tmp.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
