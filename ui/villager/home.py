"""The villager's home: five big tiles, the elderly-mode switch, and the 咨询投诉 information page."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from ui.shell import Page, UiContext
from ui.widgets import button, card, label, tile


class HomePage(Page):
    name = "home"
    prompt = "您好，请点击您要办理的事情。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        station = self.ctx.station_name  # known before the station has opened
        self.outer.addWidget(label(f"欢迎来到{station}", "title", center=True))
        self.outer.addWidget(label("刷身份证即可办理，不用填写身份信息", "subtitle", center=True))
        grid_holder = QWidget()
        grid = QGridLayout(grid_holder)
        grid.setSpacing(28)
        tiles = [
            tile("办  事", lambda: self._swipe("file"), name="tileFile", icon_name="file"),
            tile("查询进度", lambda: self._swipe("progress"), name="tileProgress", icon_name="progress"),
            tile("预  约", lambda: self.ctx.go("appointment"), name="tileAppointment", icon_name="appointment"),
            tile("评  价", lambda: self.ctx.go("evaluate"), name="tileEvaluate", icon_name="evaluate"),
            tile("咨询投诉", lambda: self.ctx.go("consult"), name="tileConsult", icon_name="consult"),
        ]
        columns = 3 if self.ctx.theme.orientation == "landscape" else 2
        for i, widget in enumerate(tiles):
            grid.addWidget(widget, i // columns, i % columns)
        self.outer.addWidget(grid_holder, 1)
        self.elderly = button("大字模式（适老化）" if not self.ctx.theme.elderly else "标准字号",
                              self._toggle_elderly, name="elderlyToggle")
        self.outer.addWidget(self.elderly)

    def _swipe(self, intent: str) -> None:
        self.ctx.intent = intent
        self.ctx.go("card")

    def _toggle_elderly(self) -> None:
        assert self.ctx.window is not None
        self.ctx.window.set_elderly(not self.ctx.theme.elderly)


class ConsultPage(Page):
    name = "consult"
    title = "咨询与投诉"
    prompt = "咨询和投诉，请拨打屏幕上的电话。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        hotline = self.ctx.station.settings.get("receipt.hotline")
        self.outer.addWidget(card(
            label(f"政务服务便民热线：{hotline}", "bigNumber"),
            label("办事不满意、等太久、被要求多跑，都可以投诉；您的个人信息会被保密。", "subtitle"),
            label("也可以在首页点“评价”，给这次服务打分。"),
        ))
        self.outer.addStretch(1)
