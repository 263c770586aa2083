"""A virtual social security card behind pcscd's virtual reader (vsmartcard's vpcd driver).

vpcd listens on TCP 127.0.0.1:35963 (slot 0; /etc/reader.conf.d/vpcd). A card is "inserted" while a client is
connected. Every message either way is a 2-byte big-endian length and a payload; a 1-byte payload from vpcd is
a control (0 power off, 1 power on, 2 reset, 4 "send your ATR"), anything longer is a command APDU, answered with
response data + SW1 SW2. vpcd asks for the ATR on every presence poll (about every 0.4 s), so the client must
answer controls promptly even while "inserted and idle".

`VpcdClient` speaks that protocol on a background thread; `VirtualSocialSecurityCard` is the card it answers
for: the 社会保障 application (EF05/EF06 records), a PBOC financial application (PPSE/PSE, GPO, AFL records in
BER-TLV), T=0-style 61xx/6Cxx answers, and fault modes for tests. Everything here is fictional test data.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Final, Protocol

from devices.simulators.sample_cards import id_number

VPCD_HOST: Final = "127.0.0.1"
VPCD_PORT: Final = 35963  # 0x8C7B, slot 0
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4



def _with_tck(atr: bytes) -> bytes:
    """Append TCK, the XOR of every byte after TS; required because the ATR offers T=1."""
    check = 0
    for byte in atr[1:]:
        check ^= byte
    return atr + bytes((check,))


# 3B 88 80 01 + 8 historical bytes + TCK: offers T=0 and T=1.
DEFAULT_ATR: Final = _with_tck(bytes((0x3B, 0x88, 0x80, 0x01)) + b"ZJSSC300")

SSC_AID: Final = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
BANK_AID: Final = bytes.fromhex("A000000333010101")
PPSE: Final = b"2PAY.SYS.DDF01"
PSE: Final = b"1PAY.SYS.DDF01"
PDOL: Final = bytes.fromhex("9F7A01" "9F0206" "5F2A02")  # 9 bytes of terminal data asked for in GPO
AFL: Final = bytes.fromhex("08010200" "10010100")  # SFI 1 records 1-2, SFI 2 record 1


@dataclass(frozen=True)
class SamplePerson:
    name: str
    sex: str  # 男/女, consistent with the ID number's sequence parity
    nation_code: str  # GB/T 3304
    birth_date: date
    id_number: str
    birthplace: str  # GB/T 2260 division code
    card_no: str  # 社保卡卡号, 9 characters
    issued: date
    expires: date
    card_version: str = "3.00"


def _person(name: str, nation: str, area: str, birth: date, seq: int, card_no: str, issued: date) -> SamplePerson:
    return SamplePerson(name, "男" if seq % 2 else "女", nation, birth, id_number(area, birth, seq), area,
                        card_no, issued, issued.replace(year=issued.year + 10))


SAMPLE_PEOPLE: Final = (
    _person("叶春兰", "01", "331123", date(1958, 4, 12), 122, "A33112301", date(2019, 5, 20)),  # 遂昌
    _person("雷金火", "22", "331127", date(1949, 11, 3), 317, "A33112702", date(2021, 3, 8)),  # 景宁, 畲族
    _person("周䶮芳", "01", "330102", date(1990, 7, 21), 208, "A33010203", date(2022, 9, 1)),  # rare character
)


class CardFault(Enum):
    NONE = "none"
    REFUSE_SSC = "refuse_ssc"  # EF06 reads answer 6982, as real cards do without a PSAM-authenticated terminal
    GARBAGE = "garbage"  # from APDU `fault_at` on: random bytes + 9000
    TRUNCATED_TLV = "truncated_tlv"  # every record claims more bytes than it carries
    SLOW = "slow"  # every APDU answer waits `slow_seconds`
    DROP = "drop"  # APDU `fault_at` is never answered: the connection drops (card pulled mid-read)


class VirtualCard(Protocol):
    atr: bytes

    def reset(self) -> None: ...

    def answer(self, apdu: bytes) -> bytes | None:
        """Response data + SW1 SW2, or None to drop the connection without answering."""


def ber_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    n = len(value)
    length = bytes((n,)) if n < 0x80 else bytes((0x81, n)) if n < 0x100 else bytes((0x82,)) + n.to_bytes(2, "big")
    return tag_bytes + length + value


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass
class VirtualSocialSecurityCard:
    person: SamplePerson
    with_ssc_app: bool = True
    with_bank_app: bool = True
    fault: CardFault = CardFault.NONE
    fault_at: int = 3  # 1-based APDU index since power-on where GARBAGE/DROP start
    slow_seconds: float = 0.3
    t0_style: bool = True  # 61xx for SELECT/GPO data, 6Cxx when READ RECORD's Le is not the exact length
    seed: int = 0
    atr: bytes = DEFAULT_ATR
    log: list[bytes] = field(default_factory=list)  # every APDU received, for tests and the benchmark

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.reset()
        p = self.person
        name = p.name.encode("gb18030")
        # Public so tests can model odd cards (a zero expiry, an impossible birth date) by editing one value.
        self.ssc_records = {
            0x01: bytes.fromhex((p.birthplace + "D15600000500" + p.id_number[6:17] + "0" * 32)[:32]),
            0x02: b"3",
            0x03: p.card_version.encode("ascii"),
            0x05: _bcd(f"{p.issued:%Y%m%d}"),
            0x06: _bcd(f"{p.expires:%Y%m%d}"),
            0x07: p.card_no.encode("ascii"),
            0x08: p.id_number.encode("ascii"),
            0x09: name + bytes(30 - len(name)),  # fixed 30-byte field, zero padded
            0x0A: b"1" if p.sex == "男" else b"2",
            0x0B: _bcd(p.nation_code),
            0x0C: _bcd(p.birthplace),
            0x0D: _bcd(f"{p.birth_date:%Y%m%d}"),
        }
        holder = ber_tlv(0x5F20, name.ljust(26, b" ")) + ber_tlv(0x9F61, p.id_number.encode("ascii"))
        self.bank_records = {
            (1, 1): ber_tlv(0x70, holder + ber_tlv(0x9F62, b"\x00")),
            # A fictional PAN and expiry: present because real cards have them, never read by the kiosk.
            (1, 2): ber_tlv(0x70, ber_tlv(0x5A, bytes.fromhex("6200000000000000001F")) + ber_tlv(0x5F24, b"5\x121")),
            (2, 1): ber_tlv(0x70, ber_tlv(0x8C, bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F3704"))),
        }
        entry = ber_tlv(0x61, ber_tlv(0x4F, BANK_AID) + ber_tlv(0x50, b"PBOC DEBIT") + ber_tlv(0x87, b"\x01"))
        self._ppse_fci = ber_tlv(0x6F, ber_tlv(0x84, PPSE) + ber_tlv(0xA5, ber_tlv(0xBF0C, entry)))
        self._pse_fci = ber_tlv(0x6F, ber_tlv(0x84, PSE) + ber_tlv(0xA5, ber_tlv(0x88, b"\x01")))
        self._pse_record = ber_tlv(0x70, entry)
        self._bank_fci = ber_tlv(0x6F, ber_tlv(0x84, BANK_AID) + ber_tlv(
            0xA5, ber_tlv(0x50, b"PBOC DEBIT") + ber_tlv(0x87, b"\x01") + ber_tlv(0x9F38, PDOL)))

    def reset(self) -> None:
        self._app = ""  # "ssc", "ppse", "pse", "bank"
        self._ef = 0
        self._pending = b""
        self._count = 0

    def answer(self, apdu: bytes) -> bytes | None:
        self.log.append(apdu)
        self._count += 1
        if self.fault is CardFault.SLOW:
            time.sleep(self.slow_seconds)
        if self.fault is CardFault.DROP and self._count >= self.fault_at:
            return None
        if self.fault is CardFault.GARBAGE and self._count >= self.fault_at:
            return self._rng.randbytes(self._rng.randrange(0, 40)) + _sw(0x9000)
        return self._process(apdu)

    # --- command handling -------------------------------------------------------------------------------

    def _process(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0]
        elif body:
            data, rest = body[1 : 1 + body[0]], body[1 + body[0] :]
            if len(data) != body[0] or len(rest) > 1:
                return _sw(0x6700)
            le = rest[0] if rest else None
        if cla not in (0x00, 0x80):
            return _sw(0x6E00)
        if ins == 0xC0:
            return self._get_response(le or 256)
        self._pending = b""  # any other command forfeits an unfetched response
        if ins == 0xA4:
            return self._select(p1, data)
        if ins == 0xB2:
            return self._read_record(p1, p2, le)
        if ins == 0xA8 and cla == 0x80:
            return self._gpo(data)
        return _sw(0x6D00)

    def _outgoing(self, data: bytes) -> bytes:
        """Data for a case-4 command: T=0 cards announce it with 61xx and hand it out on GET RESPONSE."""
        if self.t0_style and data:
            self._pending = data
            return _sw(0x6100 | (len(data) % 256))
        return data + _sw(0x9000)

    def _get_response(self, le: int) -> bytes:
        if not self._pending:
            return _sw(0x6985)
        chunk, self._pending = self._pending[:le], self._pending[le:]
        return chunk + (_sw(0x6100 | (len(self._pending) % 256)) if self._pending else _sw(0x9000))

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:
            if data == SSC_AID and self.with_ssc_app:
                self._app, self._ef = "ssc", 0
                return self._outgoing(ber_tlv(0x6F, ber_tlv(0x84, SSC_AID)))
            if self.with_bank_app and data in (PPSE, PSE, BANK_AID):
                self._app = {PPSE: "ppse", PSE: "pse", BANK_AID: "bank"}[data]
                return self._outgoing({PPSE: self._ppse_fci, PSE: self._pse_fci, BANK_AID: self._bank_fci}[data])
            return _sw(0x6A82)
        if p1 in (0x00, 0x02) and len(data) == 2:
            if self._app == "ssc" and data in (b"\xef\x05", b"\xef\x06"):
                self._ef = int.from_bytes(data, "big")
                return _sw(0x9000)
            return _sw(0x6A82)
        return _sw(0x6A86)

    def _read_record(self, number: int, p2: int, le: int | None) -> bytes:
        if p2 & 0x07 != 0x04:
            return _sw(0x6A86)
        sfi = p2 >> 3
        if sfi == 0 and self._app == "ssc" and self._ef:
            if self.fault is CardFault.REFUSE_SSC and self._ef == 0xEF06:
                return _sw(0x6982)
            wanted = range(0x01, 0x08) if self._ef == 0xEF05 else range(0x08, 0x0E)
            value = self.ssc_records.get(number) if number in wanted else None
            if value is None:
                return _sw(0x6A83)
            record = bytes((number, len(value))) + value
        elif self._app == "pse" and sfi == 1:
            if number != 1:
                return _sw(0x6A83)
            record = self._pse_record
        elif self._app == "bank":
            found = self.bank_records.get((sfi, number))
            if found is None:
                return _sw(0x6A83)
            record = found
        else:
            return _sw(0x6985)
        if self.fault is CardFault.TRUNCATED_TLV:
            record = record[: max(2, len(record) - 5)]
        if self.t0_style and le != len(record) % 256:
            return _sw(0x6C00 | (len(record) % 256))
        return record + _sw(0x9000)

    def _gpo(self, data: bytes) -> bytes:
        if self._app != "bank":
            return _sw(0x6985)
        if data[:2] != bytes((0x83, 9)) or len(data) != 11:
            return _sw(0x6700)
        return self._outgoing(ber_tlv(0x77, ber_tlv(0x82, b"\x7c\x00") + ber_tlv(0x94, AFL)))


class VpcdClient:
    """The card side of vpcd: `insert()` connects (card present), `remove()` closes the socket (card gone).

    While inserted, a dropped connection (pcscd restarted) is retried every 50 ms, like a card left in the slot.
    """

    def __init__(self, card: VirtualCard, host: str = VPCD_HOST, port: int = VPCD_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.connections = 0  # how many times vpcd took the card (for tests)
        self._sock: socket.socket | None = None
        self._want_inserted = threading.Event()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="vicc", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._want_inserted.clear()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def insert(self) -> None:
        self._want_inserted.set()

    def remove(self, timeout: float = 2.0) -> None:
        """Pull the card; returns once the socket is closed."""
        self._want_inserted.clear()
        deadline = time.monotonic() + timeout
        while self._connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)

    @property
    def inserted(self) -> bool:
        return self._want_inserted.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def __enter__(self) -> VpcdClient:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _disconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._connected.clear()

    def _quick_ack(self) -> None:
        # vpcd writes the 2-byte length and the payload in two send() calls with Nagle on; our delayed ACK of
        # the first would hold the second back ~40 ms per message. Linux resets QUICKACK, so set it each time.
        if self._sock is not None and hasattr(socket, "TCP_QUICKACK"):
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._disconnect()  # stop() pulls the card too

    def _serve(self) -> None:
        buffer = b""
        while not self._stopping.is_set():
            if not self._want_inserted.is_set():
                self._disconnect()
                self._stopping.wait(0.02)
                continue
            if self._sock is None:
                try:
                    self._sock = socket.create_connection((self.host, self.port), timeout=0.5)
                except OSError:
                    self._stopping.wait(0.05)
                    continue
                self._sock.settimeout(0.05)  # short, so remove() and stop() act within 50 ms
                self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.connections += 1
                self._connected.set()
                buffer = b""
                self.card.reset()
            try:
                self._quick_ack()
                chunk = self._sock.recv(4096)
                self._quick_ack()
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:  # vpcd closed the connection (pcscd stopped); retry while inserted
                self._disconnect()
                continue
            buffer += chunk
            while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
                size = int.from_bytes(buffer[:2], "big")
                message, buffer = buffer[2 : 2 + size], buffer[2 + size :]
                if not self._handle(message):
                    break

    def _handle(self, message: bytes) -> bool:
        """Answer one vpcd message; False when the connection was dropped."""
        reply: bytes | None = None
        if len(message) == 1:
            if message[0] == CTRL_ATR:
                reply = self.card.atr
            elif message[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                self.card.reset()
            if reply is None:
                return True
        else:
            reply = self.card.answer(message)
            if reply is None:  # fault: the card is pulled before it answers
                self._want_inserted.clear()
                self._disconnect()
                return False
        assert self._sock is not None
        try:
            self._sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except OSError:
            self._disconnect()
            return False
        return True
