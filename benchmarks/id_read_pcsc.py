"""How much a full social security card read through PcscReader costs over the bare APDU round trips.

Run from the repository root: ``python -m benchmarks.id_read_pcsc [reads]`` (uses a running pcscd that offers
"Virtual PCD 00 00", else starts and stops its own, which needs root like the tests).

Measured in the same run, on the same virtual card, with the card already inserted:

* ``full_read_ms``: `PcscReader.read_card` end to end: context check, monitor hook-up, presence check, connect
  (power-up through vpcd), transaction, the whole APDU sequence with 61xx/6Cxx handling, parsing, disconnect.
* ``raw_transmit_ms``: the identical APDU sequence (recorded off the card during one full read) replayed with
  bare ``SCardTransmit`` on one connection held open through the same pcscd + vpcd + virtual card. This is the
  honest floor: the transport is what it is, so the ratio shows what the reader's own logic (connect,
  monitor, parsing, fallbacks) adds on top of it. The ratio uses this floor.
* ``socket_floor_ms``: the same APDUs framed straight to the virtual card over TCP, no pcscd: how much of the
  floor is pcscd and how much is the simulated card itself.
* ``card_model_ms``: the card model answering the APDUs in-process (no I/O at all).

Real readers are slower per APDU (a T=1 exchange at 9600-115200 baud costs milliseconds), so on hardware the
ratio moves towards 1; here it isolates our overhead.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Final

from smartcard import scard

from devices.identity.pcsc.backend import PcscReader, stop_card_monitor
from devices.simulators.vicc import SAMPLE_PEOPLE, VirtualSocialSecurityCard, VpcdClient
from tests.devices.pcscd_daemon import VPCD_READER, PcscdDaemon, card_in_reader, wait_for_card

TIMEOUT: Final = 5.0


def _raw_transmit_seconds(sequence: list[bytes], reads: int) -> float:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    try:
        hresult, card, protocol = scard.SCardConnect(
            context, VPCD_READER, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        pci = scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        commands = [list(apdu) for apdu in sequence]
        started = time.perf_counter()
        for _ in range(reads):
            for command in commands:
                hresult, _response = scard.SCardTransmit(card, pci, command)
                assert hresult == scard.SCARD_S_SUCCESS
        elapsed = time.perf_counter() - started
        scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD)
        return elapsed / reads
    finally:
        scard.SCardReleaseContext(context)


def _recv_frame(sock: socket.socket) -> bytes:
    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("virtual card closed the connection")
            data += chunk
        return data

    return exactly(int.from_bytes(exactly(2), "big"))


def _socket_floor_seconds(sequence: list[bytes], reads: int) -> float:
    """Play vpcd ourselves on a spare port: frame each APDU to a fresh virtual card and wait for the answer."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = VpcdClient(VirtualSocialSecurityCard(SAMPLE_PEOPLE[0]), port=server.getsockname()[1])
        client.start()
        client.insert()
        try:
            conn, _ = server.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                started = time.perf_counter()
                for _ in range(reads):
                    for apdu in sequence:
                        conn.sendall(len(apdu).to_bytes(2, "big") + apdu)
                        _recv_frame(conn)
                return (time.perf_counter() - started) / reads
        finally:
            client.stop()


def _card_model_seconds(sequence: list[bytes], reads: int) -> float:
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0])
    started = time.perf_counter()
    for _ in range(reads):
        card.reset()
        for apdu in sequence:
            card.answer(apdu)
    return (time.perf_counter() - started) / reads


def run(reads: int = 20) -> dict[str, float]:
    own_daemon: PcscdDaemon | None = None
    if card_in_reader() is None:  # no pcscd offering the virtual reader: bring our own
        own_daemon = PcscdDaemon()
        own_daemon.start()
    card = VirtualSocialSecurityCard(SAMPLE_PEOPLE[0])
    client = VpcdClient(card)
    client.start()
    try:
        client.insert()
        if not wait_for_card(True):
            raise RuntimeError("pcscd did not see the virtual card")
        reader = PcscReader(VPCD_READER)
        reader.open()
        reader.read_card(TIMEOUT)  # warm-up: pyscard's monitor thread, first power-up
        card.log.clear()
        reader.read_card(TIMEOUT)
        sequence = list(card.log)
        started = time.perf_counter()
        for _ in range(reads):
            reader.read_card(TIMEOUT)
        full = (time.perf_counter() - started) / reads
        reader.close()
        raw = _raw_transmit_seconds(sequence, reads)
    finally:
        client.stop()
        stop_card_monitor()  # so pyscard's thread ends quietly rather than when pcscd goes away
        if own_daemon is not None:
            own_daemon.stop()
    socket_floor = _socket_floor_seconds(sequence, reads)
    model = _card_model_seconds(sequence, reads)
    return {
        "reads": float(reads),
        "apdus_per_read": float(len(sequence)),
        "full_read_ms": full * 1000,
        "raw_transmit_ms": raw * 1000,
        "socket_floor_ms": socket_floor * 1000,
        "card_model_ms": model * 1000,
        "ratio_full_to_raw": full / raw,
    }


def main() -> None:
    reads = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    results = run(reads)
    print(f"social security card read through pcscd, {reads} reads, {results['apdus_per_read']:.0f} APDUs each")
    for key in ("full_read_ms", "raw_transmit_ms", "socket_floor_ms", "card_model_ms"):
        print(f"  {key:<18} {results[key]:8.3f} ms per read")
    print(f"  ratio full / raw   {results['ratio_full_to_raw']:8.2f}x")


if __name__ == "__main__":
    main()
