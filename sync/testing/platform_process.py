"""`PlatformProcess`: the reference platform as a real child process, so tests can SIGKILL it mid-write.

It runs `python -m sync.platform_cli serve --port 0 --json` and learns the address from the first stdout line.
A restart takes the same port again, so a station (or a fault proxy) pointed at `.url` reaches the new process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Final

START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 10.0
_REPO_ROOT: Final = Path(__file__).resolve().parents[2]


class PlatformProcessError(RuntimeError):
    pass


class PlatformProcess:
    """Starts in the constructor. `.url`, `.stop()` (SIGTERM, then SIGKILL), `.kill()` (SIGKILL at once),
    `.start()` after either, `.restart()` (stop then start on the same port)."""

    def __init__(self, db_url: str, blob_dir: Path, *, port: int = 0, extra_args: tuple[str, ...] = ()) -> None:
        self.db_url = db_url
        self.blob_dir = blob_dir
        self.port = port
        self.extra_args = extra_args
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self.start()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise PlatformProcessError("the platform process is already running")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "sync.platform_cli", "--db", self.db_url, "serve", "--blobs", str(self.blob_dir),
               "--port", str(self.port), "--json", *self.extra_args]
        # stderr is inherited: the server's log lands wherever the test runner collects this process's output.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
                                cwd=_REPO_ROOT)
        self._proc = proc
        assert proc.stdout is not None
        line = _first_line(proc.stdout, START_TIMEOUT_S)
        if not line:
            self._terminate()
            raise PlatformProcessError(f"the platform process did not start (exit code {proc.poll()})")
        try:
            self.url = str(json.loads(line)["url"])
        except (ValueError, KeyError, TypeError):
            self._terminate()
            raise PlatformProcessError(f"unexpected first line from the platform process: {line!r}") from None
        self.port = int(self.url.rsplit(":", 1)[1])
        # Keep reading so a chatty server can never block on a full pipe.
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True, name=f"platform-stdout:{proc.pid}").start()

    def stop(self) -> None:
        self._terminate()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
            self._proc.wait(timeout=STOP_TIMEOUT_S)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _terminate(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> PlatformProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _first_line(stream: IO[str], timeout_s: float) -> str:
    # readline() blocks with no timeout of its own; a helper thread gives up waiting without killing anything.
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return result[0].strip() if result else ""


def _drain(stream: IO[str]) -> None:
    # Ends at EOF, when the process exits; closing here, not in stop(), avoids closing under a blocked read.
    with stream:
        for _line in stream:
            pass
