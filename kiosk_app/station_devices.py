"""The station's devices as configured: the ID card reader and the document camera, each on its own owning
thread, opened on first use and closed with the station. Screens ask through here, never construct drivers."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kiosk_app.config import Settings
from kiosk_app.errors import KioskError

if TYPE_CHECKING:
    from devices.camera.owner import CameraOwner
    from devices.identity.owner import ReaderOwner

log = logging.getLogger(__name__)


class StationDevices:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._reader: ReaderOwner | None = None
        self._camera: CameraOwner | None = None

    @property
    def reader_url(self) -> str:
        return str(self._settings.get("devices.id_reader") or "")

    @property
    def camera_url(self) -> str:
        return str(self._settings.get("devices.camera") or "")

    @property
    def printer_url(self) -> str:
        return str(self._settings.get("devices.receipt_printer") or "")

    @property
    def a4_printer_url(self) -> str:
        """Empty: A4 papers are PDF files only (no printer); each print connects anew, so nothing is owned."""
        return str(self._settings.get("devices.a4_printer") or "")

    def reader(self) -> ReaderOwner:
        with self._lock:
            if self._reader is None:
                if not self.reader_url:
                    raise KioskError("本机没有设置身份证读卡器，请联系工作人员。")
                # Drivers load on first use: a kiosk's home screen must not wait for serial or OpenCV imports.
                from devices.identity.factory import create_reader
                from devices.identity.owner import ReaderOwner

                self._reader = ReaderOwner(create_reader(self.reader_url))
                self._reader.open()
            return self._reader

    def camera(self) -> CameraOwner:
        with self._lock:
            if self._camera is None:
                if not self.camera_url:
                    raise KioskError("本机没有设置高拍仪，请联系工作人员。")
                from devices.camera.factory import create_camera
                from devices.camera.owner import CameraOwner

                self._camera = CameraOwner(create_camera(self.camera_url))
                self._camera.open()
            return self._camera

    def prepare(self) -> None:
        """Open the card reader and load the camera's driver before anyone needs them (call on a worker): the
        first card page must not wait on the screen's thread for serial ports or OpenCV. A reader that will not
        open now is left for the page, which shows why."""
        if self.reader_url:
            try:
                self.reader()
            except Exception as exc:  # the page asks again and shows the reader's own message
                log.warning("card reader not ready at start: %s", exc)
        if self.camera_url:
            from devices.camera.factory import create_camera  # noqa: F401  (loads OpenCV and the drivers)
            from devices.camera.owner import CameraOwner  # noqa: F401

    def reset(self) -> None:
        """Close devices so the next use reopens them with the current settings (after a technician's change)."""
        self.close()

    def close(self) -> None:
        with self._lock:
            for owner in (self._reader, self._camera):
                if owner is not None:
                    try:
                        owner.close()
                    except Exception:  # closing a broken device must not stop the others
                        log.exception("closing a device failed")
            self._reader = self._camera = None
