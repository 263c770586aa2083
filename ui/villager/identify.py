"""Swipe the ID card: the reader works on its own thread; this page waits without blocking the screen."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QSize, Qt

from devices.identity.card import CardRecord
from kiosk_app.errors import KioskError
from kiosk_app.identity.from_card import identity_from_card
from ui.icons import decorate, icon
from ui.shell import Page, UiContext
from ui.widgets import button, card, label

READ_TIMEOUT_S = 60.0
NEXT_PAGE = {"file": "services", "progress": "progress", "appointment": "appointment_mine"}  # by ctx.intent


class CardPage(Page):
    name = "card"
    title = "请刷身份证"
    prompt = "请把身份证放在读卡区，不要移动。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        # A picture of the card says "put your ID card here" to someone who does not read the sentence.
        self.picture = label("", "cardPicture", center=True)
        self.instruction = label("请将身份证平放在下方读卡区，听到“嘀”声后再拿开。", "subtitle")
        self.status = label("", "hint")
        self.retry = button("重新读卡", self.enter, primary=True, name="retryCard")
        self.call = button("呼叫工作人员", self._call_staff, name="callStaff")
        self.outer.addWidget(card(self.picture, self.instruction, self.status, self.retry))
        self.outer.addStretch(1)
        self.outer.addWidget(self.call)
        self._reading = False

    def enter(self) -> None:
        self._draw_icons()
        self.status.setObjectName("hint")
        self.status.setText("正在等待身份证……")
        self.retry.hide()
        try:
            reader = self.ctx.devices.reader()
        except KioskError as exc:
            self._failed(exc)
            return
        self._reading = True
        self.ctx.bridge.watch(reader.read_card(READ_TIMEOUT_S), self._read, self._failed)

    def _draw_icons(self) -> None:
        """Drawn on each visit: elderly mode may have been switched on since the page was built."""
        theme = self.ctx.theme
        px = theme.tile_icon_px * 2  # the one picture on the page: larger than a tile's
        self.picture.setPixmap(icon("id_card", theme.icon_color).pixmap(QSize(px, px), self.devicePixelRatioF()))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        decorate(self.call, "call_staff", theme)

    def _read(self, record: CardRecord) -> None:
        self._reading = False
        if self.ctx.window is None or self.ctx.window.current is not self:
            return  # the person left this page meanwhile
        try:
            identity = identity_from_card(record)
        except KioskError as exc:
            self._failed(exc)
            return
        self.ctx.session.start(identity)
        self.ctx.go(NEXT_PAGE.get(self.ctx.intent, "progress"))

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        message = getattr(exc, "message", None) or "读卡没有成功，请重新放一下身份证。"
        self.status.setText(message)
        self.retry.show()
        self.ctx.voice.say(message)

    def _call_staff(self) -> None:
        self.status.setText("已通知工作人员，请在此稍候。")
        self.ctx.voice.say("已通知工作人员，请稍候。")

    def clear_personal_data(self) -> None:
        if self._reading:
            with contextlib.suppress(KioskError):
                self.ctx.devices.reader().cancel()
        self.status.setText("")


