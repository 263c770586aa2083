"""Log-in for station staff: user name and a six-digit PIN on an on-screen keypad. The checks, the lock-out
after repeated failures and the role rules are kiosk_app's (`accounts.log_in`); this page only asks and shows."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QWidget

from kiosk_app.accounts import ROLE_TITLES, Operator, Role, log_in
from ui.shell import Page, UiContext
from ui.widgets import button, card, label


class LoginPage(Page):
    """`role`: which role this window is for; `next_page`: where a successful log-in goes."""

    name = "login"
    title = "工作人员登录"
    role: Role = Role.AGENT
    next_page = "queue"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("用户名")
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(6)
        self.pin.setPlaceholderText("6 位 PIN 码")
        self.message = label("", "error")
        pad = QWidget()
        grid = QGridLayout(pad)
        for i, digit in enumerate("123456789"):
            key = button(digit, partial(self._digit, digit), name=f"pin_{digit}")
            key.setProperty("key", True)
            grid.addWidget(key, i // 3, i % 3)
        grid.addWidget(button("清除", self.pin.clear, name="pin_clear"), 3, 0)
        zero = button("0", partial(self._digit, "0"), name="pin_0")
        zero.setProperty("key", True)
        grid.addWidget(zero, 3, 1)
        grid.addWidget(button("登录", self.submit, primary=True, name="login"), 3, 2)
        fields = card(label(f"{ROLE_TITLES[self.role]}请登录", "subtitle"), self.username, self.pin, self.message)
        if ctx.theme.orientation == "landscape":  # side by side: in large text, stacked, 登录 left the screen
            both = QWidget()
            columns = QHBoxLayout(both)
            columns.setContentsMargins(0, 0, 0, 0)
            columns.setSpacing(40)
            columns.addWidget(fields, 1, Qt.AlignmentFlag.AlignTop)
            columns.addWidget(pad, 1)
            self.outer.addWidget(both)
        else:
            self.outer.addWidget(fields)
            self.outer.addWidget(pad)
        self.outer.addStretch(1)

    def enter(self) -> None:
        self.ctx.operator = None
        self.pin.clear()
        self.message.setText("")

    def _digit(self, digit: str) -> None:
        if len(self.pin.text()) < 6:
            self.pin.setText(self.pin.text() + digit)

    def submit(self) -> None:
        username, pin = self.username.text(), self.pin.text()
        self.pin.clear()
        self.message.setText("正在核对……")
        self.ctx.bridge.run(lambda: log_in(self.ctx.station.db, username, pin), self._logged_in, self._refused)

    def _logged_in(self, operator: Operator) -> None:
        if operator.role != self.role:
            self.message.setText(f"该账号是{ROLE_TITLES[operator.role]}，不能在这里登录。")
            return
        self.ctx.operator = operator
        self.message.setText("")
        self.ctx.go(self.next_page)

    def _refused(self, exc: BaseException) -> None:
        self.message.setText(getattr(exc, "message", None) or "登录没有成功，请重试。")

    def clear_personal_data(self) -> None:
        self.pin.clear()
        self.message.setText("")
