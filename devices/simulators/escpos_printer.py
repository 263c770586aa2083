"""A network receipt printer on a TCP socket: the real `NetworkPrinter` talks to it through real sockets.

Behaviour modelled on 9100-port thermal printers:
- One connection at a time (others wait in the listen backlog), served by one background thread.
- A job is the print data of one connection: everything received between accept and close, minus the
  real-time status requests. Connections that only asked for status record no job. (Our printers connect per
  job, so this boundary is exact; an ESC @ inside a connection does not split it.)
- DLE EOT n (n = 1..4) is answered the moment it is read, wherever it appears in the stream, as a real
  printer does even inside image data; the answer reflects the mode at that instant.
- Modes (settable at any time): normal, paper_out, cover_open, offline, cutter_error, near_end. In a
  stopped mode the printer keeps filling its receive buffer (`buffer_size` bytes) and then stops reading, so
  a sender eventually blocks, as on real hardware.
- Faults: `slow` reads small pieces with pauses; `disconnect_after(n)` resets the connection (RST) once n
  print bytes of the current job have arrived; `switch_mode_after(n, mode)` changes mode mid-job.

The machine-level state lives in `PrinterMechanism`, so a serial front end (a pseudo-terminal in tests) can
reuse it.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from enum import StrEnum
from typing import Final

from devices.printing.printer import PrinterStatus
from devices.printing.status import DLE_EOT, answer_bytes

SLOW_CHUNK: Final = 256
SLOW_PAUSE: Final = 0.002
POLL: Final = 0.05


class PrinterMode(StrEnum):
    NORMAL = "normal"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    CUTTER_ERROR = "cutter_error"
    NEAR_END = "near_end"  # still printing; status says paper is running low


_ANSWERS: Final = {
    PrinterMode.NORMAL: answer_bytes(PrinterStatus(online=True)),
    PrinterMode.PAPER_OUT: answer_bytes(PrinterStatus(online=False, paper_out=True, paper_near_end=True)),
    PrinterMode.COVER_OPEN: answer_bytes(PrinterStatus(online=False, cover_open=True)),
    PrinterMode.OFFLINE: answer_bytes(PrinterStatus(online=False)),
    PrinterMode.CUTTER_ERROR: answer_bytes(PrinterStatus(online=False, error=True), cutter_error=True),
    PrinterMode.NEAR_END: answer_bytes(PrinterStatus(online=True, paper_near_end=True)),
}


class PrinterMechanism:
    """Mode, fault triggers and the DLE EOT scanner: bytes in -> (print data, status answers)."""

    def __init__(self) -> None:
        self.mode = PrinterMode.NORMAL
        self.status_queries = 0
        self._carry = b""
        self._switch: tuple[int, PrinterMode] | None = None
        self._lock = threading.Lock()

    def set_mode(self, mode: PrinterMode | str) -> None:
        with self._lock:
            self.mode = PrinterMode(mode)

    def switch_mode_after(self, job_bytes: int, mode: PrinterMode | str) -> None:
        with self._lock:
            self._switch = (job_bytes, PrinterMode(mode))

    def answer(self, request: int) -> bytes:
        with self._lock:
            self.status_queries += 1
            return _ANSWERS[self.mode][request - 1 : request]

    def reset_stream(self) -> bytes:
        """Start a new stream; returns a held-back partial request, which was print data after all."""
        rest, self._carry = self._carry, b""
        return rest

    def take(self, chunk: bytes, job_so_far: int, data_limit: int | None = None) -> tuple[bytes, bytes, bool]:
        """Split `chunk` into print data and the answers owed for the status requests inside it.

        With `data_limit`, stop once the job holds that many bytes: the rest of the chunk (including status
        requests after that point) is never seen, as when the printer dies there. The flag says it stopped.
        """
        buf = self._carry + chunk
        self._carry = b""
        data = bytearray()
        answers = bytearray()
        i = 0
        while i < len(buf):
            if data_limit is not None and job_so_far + len(data) >= data_limit:
                return bytes(data), bytes(answers), True
            if buf[i] == DLE_EOT[0]:
                rest = buf[i : i + 3]
                if len(rest) < 3 and DLE_EOT.startswith(rest[:2]):
                    self._carry = rest  # a request split across two reads
                    break
                if rest[:2] == DLE_EOT and 1 <= rest[2] <= 4:
                    self._after_data(job_so_far + len(data))
                    answers += self.answer(rest[2])
                    i += 3
                    continue
            data.append(buf[i])
            i += 1
        self._after_data(job_so_far + len(data))
        stopped = data_limit is not None and job_so_far + len(data) >= data_limit
        return bytes(data), bytes(answers), stopped

    def _after_data(self, job_bytes: int) -> None:
        with self._lock:
            if self._switch is not None and job_bytes >= self._switch[0]:
                self.mode = self._switch[1]
                self._switch = None


class EscPosPrinterEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, buffer_size: int = 64 * 1024) -> None:
        self.host = host
        self.port = port
        self.buffer_size = buffer_size
        self.mechanism = PrinterMechanism()
        self.jobs: list[bytes] = []
        self.connections = 0
        self.slow = False
        self._disconnect_after: int | None = None
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._serving = False
        self._changed = threading.Condition()

    # -- control ---------------------------------------------------------------------------------------------
    def start(self) -> tuple[str, int]:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(4)
        server.settimeout(POLL)
        self._server = server
        self.host, self.port = server.getsockname()[:2]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"escpos-emulator:{self.port}", daemon=True)
        self._thread.start()
        return self.host, self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> EscPosPrinterEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def mode(self) -> PrinterMode:
        return self.mechanism.mode

    def set_mode(self, mode: PrinterMode | str) -> None:
        self.mechanism.set_mode(mode)

    def switch_mode_after(self, job_bytes: int, mode: PrinterMode | str) -> None:
        self.mechanism.switch_mode_after(job_bytes, mode)

    def disconnect_after(self, job_bytes: int | None) -> None:
        """Reset the connection once `job_bytes` print bytes of a job arrived (None: never)."""
        self._disconnect_after = job_bytes

    def set_slow(self, slow: bool) -> None:
        self.slow = slow

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        """Jobs are recorded when the client closes; wait until `count` of them are."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.jobs) >= count, timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no connection is being served (its job, if any, is recorded)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._serving, timeout)

    # -- serving ---------------------------------------------------------------------------------------------
    def _serve(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._changed:
                self._serving = True
                self.connections += 1
            try:
                self._handle(conn)
            finally:
                with self._changed:
                    self._serving = False
                    self._changed.notify_all()

    def _handle(self, conn: socket.socket) -> None:
        job = bytearray()
        stalled_from: int | None = None  # job size when the mechanism stopped; None while printing
        self.mechanism.reset_stream()
        try:
            while not self._stop.is_set():
                if self.mechanism.mode in (PrinterMode.NORMAL, PrinterMode.NEAR_END):
                    stalled_from = None
                elif stalled_from is None:
                    stalled_from = len(job)
                if stalled_from is not None and len(job) - stalled_from >= self.buffer_size:
                    time.sleep(POLL)  # receive buffer full: stop reading, the sender's window closes
                    continue
                if not select.select([conn], [], [], POLL)[0]:
                    continue
                try:
                    chunk = conn.recv(SLOW_CHUNK if self.slow else 65536)
                except OSError:
                    break
                if not chunk:
                    break
                data, answers, stopped = self.mechanism.take(chunk, len(job), self._disconnect_after)
                job += data
                if answers:
                    conn.sendall(answers)
                if stopped:
                    self.mechanism.reset_stream()
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
                    break
                if self.slow:
                    time.sleep(SLOW_PAUSE)
        finally:
            conn.close()
            job += self.mechanism.reset_stream()
            if job:
                with self._changed:
                    self.jobs.append(bytes(job))
                    self._changed.notify_all()
