"""A real pcscd for PC/SC tests: started, stopped and restarted by the tests themselves.

pcscd loads the vpcd driver from /etc/reader.conf.d/vpcd, which listens on TCP 35963 for a virtual card
(`devices.simulators.vicc`). `PcscdDaemon` runs `pcscd --foreground` (never --auto-exit, which would quit
between tests) as our child, so we reap it: a killed pcscd left as a zombie keeps its pid "alive" and a new
pcscd refuses to start. A pid file in the temp folder marks the daemon as ours, so a run that crashed can
clean up after itself without ever touching a pcscd someone else started.

Test modules wrap `running_pcscd()` in their own fixture (no conftest needed, no fixture imports):

    @pytest.fixture(scope="module")
    def pcscd() -> Iterator[PcscdDaemon]:
        with running_pcscd() as daemon:
            yield daemon
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from smartcard import scard

VPCD_PORT: Final = 35963
VPCD_READER: Final = "Virtual PCD 00 00"
VPCD_POLL_SECONDS: Final = 0.4  # pcscd asks vpcd for presence this often (vpcd has no event thread)
OUR_PID_FILE: Final = Path(tempfile.gettempdir()) / "zj-kiosk-tests-pcscd.pid"
SYSTEM_PID_FILE: Final = Path("/run/pcscd/pcscd.pid")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _is_pcscd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "pcscd"
    except OSError:
        return False


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _reader_listed(name: str) -> bool:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return hresult == scard.SCARD_S_SUCCESS and name in readers
    finally:
        scard.SCardReleaseContext(context)


class PcscdDaemon:
    def __init__(self, binary: str = "pcscd", port: int = VPCD_PORT) -> None:
        found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
        if found is None:
            raise RuntimeError("pcscd is not installed: apt-get install pcscd vsmartcard-vpcd (scripts/setup.sh)")
        self.binary = found
        self.port = port
        self.log_path = Path(tempfile.gettempdir()) / "zj-kiosk-tests-pcscd.log"
        self.log_path.write_bytes(b"")  # one log per daemon object; restarts append to it
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        self._clear_stale()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen([self.binary, "--foreground"], stdout=log, stderr=subprocess.STDOUT)
        OUR_PID_FILE.write_text(str(self._process.pid))
        deadline = time.monotonic() + timeout
        # The port accepting connections means vpcd is loaded; the reader listed means clients can use it.
        while not (_port_accepts(self.port) and _reader_listed(VPCD_READER)):
            if self._process.poll() is not None:
                raise RuntimeError(f"pcscd exited with {self._process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pcscd did not offer {VPCD_READER!r} within {timeout} s; see {self.log_path}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop pcscd (SIGTERM: a clean service stop; SIGKILL: a crash) and reap it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        OUR_PID_FILE.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _clear_stale(self) -> None:
        """Kill a pcscd left by an earlier test run (ours by pid file); refuse to fight anyone else's."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(OUR_PID_FILE.read_text())
            if _alive(pid) and _is_pcscd(pid):
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
        OUR_PID_FILE.unlink(missing_ok=True)
        with contextlib.suppress(OSError, ValueError):
            pid = int(SYSTEM_PID_FILE.read_text())
            if _alive(pid) and _is_pcscd(pid):
                raise RuntimeError(
                    f"another pcscd (pid {pid}) is running and is not ours; stop it (systemctl stop pcscd.socket "
                    "pcscd) so the tests can run their own"
                )


@contextlib.contextmanager
def running_pcscd() -> Iterator[PcscdDaemon]:
    daemon = PcscdDaemon()
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def card_in_reader(name: str = VPCD_READER) -> bool | None:
    """Whether pcscd currently sees a card in `name`; None when pcscd or the reader is not there."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, states = scard.SCardGetStatusChange(context, 0, [(name, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS or not states:
            return None
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def wait_for_card(present: bool, timeout: float = 3.0, name: str = VPCD_READER) -> bool:
    """Wait until pcscd agrees the card is (or is not) there; vpcd is polled about every 0.4 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if card_in_reader(name) is present:
            return True
        time.sleep(0.02)
    return False
