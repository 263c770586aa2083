"""One device on the devices page: its address (editable, saved through Settings), 保存 / 自测 / 取消, and the
plain result of the last self-test. The page decides what a test does; the card only holds the widgets."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from ui.technician.device_checks import DEVICE_TITLES
from ui.technician.staff_page import Field, StatusLine, actions
from ui.widgets import button, label

# What a technician types for each kind; the simulators are listed so a bench set-up can be tested too.
EXAMPLES = {"devices.id_reader": "例如 samv:///dev/ttyUSB0，模拟：sim://she",
            "devices.ssc_reader": "例如 pcsc://，模拟：sim://elderly",
            "devices.camera": "例如 uvc://0，模拟：sim://a4",
            "devices.receipt_printer": "例如 tcp://192.168.1.50:9100，模拟：sim://",
            "devices.a4_printer": "例如 socket://192.168.1.60:9100，模拟：sim://"}
# The button that starts a self-test says what it does where "自测" alone would not.
TEST_BUTTONS = {"devices.a4_printer": "打印测试页"}


class DeviceCard(QFrame):
    def __init__(self, key: str, on_save: Callable[[DeviceCard], None], on_test: Callable[[DeviceCard], None],
                 on_cancel: Callable[[DeviceCard], None] | None = None) -> None:
        super().__init__()
        self.setObjectName("card")
        self.key = key
        self.short = key.removeprefix("devices.")
        self.saved_url = ""
        box = QVBoxLayout(self)
        box.setContentsMargins(28, 24, 28, 24)
        box.setSpacing(12)
        box.addWidget(label(DEVICE_TITLES[key], "subtitle"))
        self.field = Field("设备地址", f"url_{self.short}", placeholder=EXAMPLES[key])
        box.addWidget(self.field)
        self.save_button = button("保存地址", lambda: on_save(self), name=f"save_{self.short}")
        self.test_button = button(TEST_BUTTONS.get(key, "自测"), lambda: on_test(self), primary=True,
                                  name=f"test_{self.short}")
        self.cancel_button = button("取消", lambda: on_cancel(self) if on_cancel else None,
                                    name=f"cancel_{self.short}")
        self.cancel_button.hide()
        box.addWidget(actions(self.save_button, self.test_button, self.cancel_button))
        self.extra = QVBoxLayout()  # device-specific parts: the detected readers, the camera preview
        self.extra.setContentsMargins(0, 0, 0, 0)
        box.addLayout(self.extra)
        self.result = StatusLine()
        box.addWidget(self.result)
        box.addStretch(1)  # beside a taller card, keep this one's content at the top
        self.busy = False

    @property
    def url(self) -> str:
        return self.field.text()

    def show_saved(self, url: str) -> None:
        self.saved_url = url
        self.field.set_text(url)
        self.field.accept()

    def set_busy(self, busy: bool, *, cancellable: bool = False) -> None:
        self.busy = busy
        self.test_button.setEnabled(not busy)
        self.save_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy and cancellable)

    def add_extra(self, widget: QWidget) -> None:
        self.extra.addWidget(widget)

    def unsaved_note(self, url: str) -> str:
        return "" if url == self.saved_url else "（此地址尚未保存）"
