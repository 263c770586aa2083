"""Choosing a reader backend by URL, and finding readers attached to this machine.

    samv:///dev/ttyUSB0?baud=115200   resident ID SAM reader on a serial port (GA 467)
    pcsc://                           first PC/SC reader (social security cards)
    pcsc://<reader name>              a named PC/SC reader (URL-encoded)
    sim://[card]                      the GA 467 emulator on a pseudo-terminal with the sample deck, read by
                                      the real serial backend (demo, self-test); card = name or deck index
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, quote, unquote, urlsplit

from devices.identity.card import CardRecord
from devices.identity.reader import Health, IdentityReader, ReaderError, ReaderHandler
from devices.simulators.sample_cards import DECK

SIM_CARDS: Final = ("she", "elderly", "young", "hk", "foreign2017", "foreign2023")


def create_reader(url: str, handler: ReaderHandler | None = None) -> IdentityReader:
    parts = urlsplit(url.strip())
    if parts.scheme == "samv":
        from devices.identity.samv.backend import SamvReader

        if not parts.path:
            raise ReaderError(f"读卡器地址缺少串口路径：{url}（例如 samv:///dev/ttyUSB0）")
        baud = parse_qs(parts.query).get("baud", ["115200"])[0]
        if not baud.isdigit() or int(baud) not in (9600, 19200, 38400, 57600, 115200, 230400):
            raise ReaderError(f"读卡器波特率不正确：{baud}")
        return SamvReader(unquote(parts.path), int(baud), handler)
    if parts.scheme == "pcsc":
        from devices.identity.pcsc.backend import PcscReader

        name = unquote(parts.netloc + parts.path).strip("/")
        return PcscReader(name or None, handler)
    if parts.scheme == "sim":
        return SimulatedSamReader(_sim_card(parts.netloc or parts.path.strip("/")), handler)
    raise ReaderError(f"不认识的读卡器地址：{url}（可用 samv://、pcsc://、sim://）")


def _sim_card(name: str) -> int:
    if not name:
        return 0
    if name.isdigit() and int(name) < len(DECK):
        return int(name)
    if name in SIM_CARDS:
        return SIM_CARDS.index(name)
    raise ReaderError(f"模拟读卡器没有名为 {name} 的卡片；可用：{'、'.join(SIM_CARDS)}")


class SimulatedSamReader:
    """The emulator plus the real serial backend: everything but the hardware is the production path."""

    def __init__(self, card: int, handler: ReaderHandler | None = None) -> None:
        from devices.identity.samv.backend import SamvReader
        from devices.simulators.samv_emulator import SamvEmulator

        self.url = f"sim://{SIM_CARDS[card]}"
        self.emulator = SamvEmulator()
        self._card = card
        self._handler = handler
        self._reader: SamvReader | None = None
        self._reader_type = SamvReader

    def _inner(self) -> IdentityReader:
        if self._reader is None:
            raise ReaderError("模拟读卡器尚未打开。")
        return self._reader

    def open(self) -> None:
        path = self.emulator.start()
        self.emulator.insert(self._card)
        self._reader = self._reader_type(path, 115200, self._handler)
        self._reader.open()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self.emulator.stop()

    def read_card(self, timeout: float, cancel: threading.Event | None = None) -> CardRecord:
        # The simulated person puts their card down each time they are asked to (and took it away after the
        # last read), so a kiosk session after another reads again instead of waiting for the card to leave.
        reader = self._inner()
        if self.emulator.connected:
            self.emulator.remove()
            self.emulator.insert(self._card)
        return reader.read_card(timeout, cancel)

    def card_present(self) -> bool:
        return self._inner().card_present()

    def wait_for_removal(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        return self._inner().wait_for_removal(timeout, cancel)

    def health(self) -> Health:
        return self._inner().health()


@dataclass(frozen=True)
class DetectedReader:
    url: str
    kind: str  # samv | pcsc
    description: str


def detect_readers() -> list[DetectedReader]:
    """Serial adapters a SAM reader may sit behind, and PC/SC readers pcscd knows. Never raises."""
    found: list[DetectedReader] = []
    try:
        from serial.tools import list_ports

        for port in list_ports.comports():
            if port.vid is None:  # built-in UARTs without a USB adapter rarely carry a reader
                continue
            found.append(DetectedReader(f"samv://{port.device}", "samv",
                                        f"{port.description} (USB {port.vid:04x}:{port.pid or 0:04x})"))
    except Exception as exc:  # enumeration is best effort; a broken sysfs must not stop the listing
        found.append(DetectedReader("", "samv", f"串口枚举失败：{exc}"))
    try:
        from smartcard.System import readers

        for reader in readers():
            found.append(DetectedReader(f"pcsc://{quote(str(reader))}", "pcsc", str(reader)))
    except Exception:  # no pcscd running: simply no PC/SC readers
        pass
    return found
