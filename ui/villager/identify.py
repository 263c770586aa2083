"""Swipe the ID card: the reader works on its own thread; this page waits without blocking the screen."""

from __future__ import annotations

import contextlib

from devices.identity.card import CardRecord
from kiosk_app.errors import KioskError
from kiosk_app.identity.from_card import identity_from_card
from ui.shell import Page, UiContext
from ui.widgets import button, card, label

READ_TIMEOUT_S = 60.0


class CardPage(Page):
    name = "card"
    title = "请刷身份证"
    prompt = "请把身份证放在读卡区，不要移动。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.instruction = label("请将身份证平放在下方读卡区，听到“嘀”声后再拿开。", "subtitle")
        self.status = label("", "hint")
        self.retry = button("重新读卡", self.enter, primary=True, name="retryCard")
        self.call = button("呼叫工作人员", self._call_staff, name="callStaff")
        self.outer.addWidget(card(self.instruction, self.status, self.retry))
        self.outer.addStretch(1)
        self.outer.addWidget(self.call)
        self._reading = False

    def enter(self) -> None:
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
        self.ctx.go("services" if self.ctx.intent == "file" else "progress")

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


