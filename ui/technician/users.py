"""Staff accounts: the list, adding an agent (or another technician), resetting a PIN (which also lifts a
lock-out) and deactivating. Everything goes through kiosk_app.accounts with the logged-in technician as the actor;
MANAGE_USERS, the PIN rules and "not the last technician" are enforced there."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from kiosk_app.accounts import (
    ROLE_TITLES,
    Permission,
    Role,
    UserInfo,
    create_user,
    deactivate,
    list_users,
    require,
    set_pin,
)
from kiosk_app.errors import InvalidInput
from ui.shell import UiContext
from ui.technician.staff_page import Field, StaffPage, StatusLine, actions, columns
from ui.widgets import button, card, clear_layout, label, row


def user_line(user: UserInfo, now: datetime) -> str:
    if not user.active:
        state = "已停用"
    elif user.locked_until is not None and user.locked_until > now:
        state = f"已锁定至 {user.locked_until.astimezone():%H:%M}"
    elif not user.has_pin:
        state = "未设置 PIN"
    else:
        state = "正常"
    return f"{user.display_name}（{user.username}）· {ROLE_TITLES[user.role]} · {state}"


class UsersPage(StaffPage):
    name = "users"
    title = "工作人员账号"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        holder = QWidget()
        self.list_box = QVBoxLayout(holder)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_message = StatusLine()
        listing = card(label("本站工作人员（点选一位后可重置 PIN 或停用）", "subtitle"), holder, self.list_message)

        self.selected_text = label("未选中账号。", "hint")
        self.reset_pin = Field("新 PIN 码（6 位数字）", "resetPinValue", secret=True)
        self.reset_button = button("重置 PIN 码", self.reset, name="resetPin")
        self.deactivate_button = button("停用账号", self.deactivate, name="deactivateUser")
        self.action_message = StatusLine()
        chosen = card(label("选中的账号", "subtitle"), self.selected_text, self.reset_pin,
                      actions(self.reset_button, self.deactivate_button), self.action_message)

        self.new_username = Field("用户名（小写字母或数字，如 zhangli）", "newUsername")
        self.new_display = Field("姓名", "newDisplayName")
        self.new_pin = Field("初始 PIN 码（6 位数字，不能是 123456、000000 这类）", "newPin", secret=True)
        self.role_buttons: dict[Role, QPushButton] = {}
        for role in (Role.AGENT, Role.TECHNICIAN):
            choice = button(ROLE_TITLES[role], partial(self._pick_role, role), name=f"role_{role.value}")
            choice.setCheckable(True)
            choice.setProperty("choice", True)
            self.role_buttons[role] = choice
        self.add_button = button("新增账号", self.add, primary=True, name="addUser")
        self.add_message = StatusLine()
        adding = card(label("新增工作人员", "subtitle"), self.new_username, self.new_display, self.new_pin,
                      row(*self.role_buttons.values()), actions(self.add_button), self.add_message)
        self.outer.addWidget(columns(ctx, [listing, chosen], [adding]))
        self.outer.addStretch(1)
        self.users: list[UserInfo] = []
        self.entries: dict[str, QPushButton] = {}
        self.selected: str | None = None
        self.confirming = False
        self.role = Role.AGENT
        self._pick_role(Role.AGENT)
        self._select(None)

    def enter(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        operator, db = self.operator, self.ctx.station.db
        # `require` turns "nobody logged in" into its plain sentence; kiosk_app checks MANAGE_USERS again.
        self.run(lambda: list_users(db, actor=require(operator, Permission.MANAGE_USERS)), self._show,
                 self.list_message.failed)

    def _show(self, users: list[UserInfo]) -> None:
        self.users = users
        clear_layout(self.list_box)
        self.entries.clear()
        now = datetime.now().astimezone()
        for user in users:
            entry = button(user_line(user, now), partial(self._select, user.username), name=f"user_{user.username}")
            entry.setCheckable(True)
            entry.setProperty("choice", True)
            entry.setChecked(user.username == self.selected)
            self.entries[user.username] = entry
            self.list_box.addWidget(entry)
        if self.selected not in {u.username for u in users}:
            self._select(None)

    def _select(self, username: str | None) -> None:
        self.selected = username
        self.confirming = False
        self.deactivate_button.setText("停用账号")
        self.deactivate_button.setProperty("primary", False)
        self.deactivate_button.style().unpolish(self.deactivate_button)
        self.deactivate_button.style().polish(self.deactivate_button)
        for name, entry in self.entries.items():
            entry.setChecked(name == username)
        user = next((u for u in self.users if u.username == username), None)
        self.selected_text.setText(user_line(user, datetime.now().astimezone()) if user else "未选中账号。")
        self.reset_button.setEnabled(user is not None)
        self.deactivate_button.setEnabled(user is not None and user.active)
        self.action_message.clear()
        self.reset_pin.accept()

    def _pick_role(self, role: Role) -> None:
        self.role = role
        for key, choice in self.role_buttons.items():
            choice.setChecked(key == role)

    # ---- actions -------------------------------------------------------------------------------------------------

    def add(self) -> None:
        operator, db = self.operator, self.ctx.station.db
        username, display, pin, role = self.new_username.text(), self.new_display.text(), self.new_pin.text(), self.role
        for f in (self.new_username, self.new_display, self.new_pin):
            f.accept()
        self.add_message.hint("正在新增……")
        self.run(lambda: create_user(db, username, display, role, pin,
                                     actor=require(operator, Permission.MANAGE_USERS)),
                 self._added, self._add_failed)

    def _added(self, user: UserInfo) -> None:
        for f in (self.new_username, self.new_display, self.new_pin):
            f.set_text("")
        self.add_message.ok(f"已新增{ROLE_TITLES[user.role]} {user.display_name}（{user.username}），"
                            "请告知本人用户名和初始 PIN 码。")
        self.refresh()

    def _add_failed(self, exc: BaseException) -> None:
        fields = {"username": self.new_username, "display_name": self.new_display, "pin": self.new_pin}
        field = fields.get(getattr(exc, "field", None) or "") if isinstance(exc, InvalidInput) else None
        self.new_pin.set_text("")
        if field is not None:
            field.refuse(exc.message if isinstance(exc, InvalidInput) else "")
            self.add_message.error("没有新增，请按提示修改。")
        else:
            self.add_message.failed(exc, "没有新增。")

    def reset(self) -> None:
        operator, db, username, pin = self.operator, self.ctx.station.db, self.selected, self.reset_pin.text()
        if username is None:
            return
        self.reset_pin.accept()
        self.action_message.hint("正在重置……")
        self.run(lambda: set_pin(db, username, pin, actor=require(operator, Permission.MANAGE_USERS)),
                 lambda _none: self._reset_done(username), self._reset_failed)

    def _reset_done(self, username: str) -> None:
        self.reset_pin.set_text("")
        self.action_message.ok(f"{username} 的 PIN 码已重置，锁定也已解除。")
        self.refresh()

    def _reset_failed(self, exc: BaseException) -> None:
        self.reset_pin.set_text("")
        if isinstance(exc, InvalidInput) and exc.field == "pin":
            self.reset_pin.refuse(exc.message)
            self.action_message.clear()
        else:
            self.action_message.failed(exc, "PIN 码没有重置。")

    def deactivate(self) -> None:
        operator, db, username = self.operator, self.ctx.station.db, self.selected
        if username is None:
            return
        if not self.confirming:  # a second press confirms: deactivating locks someone out of their work
            self.confirming = True
            self.deactivate_button.setText(f"确认停用 {username}？")
            self.deactivate_button.setProperty("primary", True)
            self.deactivate_button.style().unpolish(self.deactivate_button)
            self.deactivate_button.style().polish(self.deactivate_button)
            self.action_message.hint("再点一次确认停用；停用后该账号不能再登录，已办的件仍记在其名下。")
            return
        self.action_message.hint("正在停用……")
        self.run(lambda: deactivate(db, username, actor=require(operator, Permission.MANAGE_USERS)),
                 lambda _none: self._deactivated(username), self._deactivate_failed)

    def _deactivated(self, username: str) -> None:
        self._select(username)
        self.action_message.ok(f"{username} 已停用。")
        self.refresh()

    def _deactivate_failed(self, exc: BaseException) -> None:
        self._select(self.selected)
        self.action_message.failed(exc, "账号没有停用。")

    def wipe(self) -> None:
        self.users = []
        self.entries.clear()
        clear_layout(self.list_box)
        for f in (self.new_username, self.new_display, self.new_pin):
            f.set_text("")
            f.accept()
        self.reset_pin.set_text("")
        self.add_message.clear()
        self._select(None)
