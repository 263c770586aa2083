"""Choosing a service: life-event tiles or pinyin initials on an on-screen keyboard; then its guide
(conditions, materials with the e-licences that replace paper, time limit, fees, visits)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from ui.icons import decorate
from ui.shell import Page, UiContext
from ui.widgets import LetterKeyboard, button, card, clear_layout, label, wrapped

if TYPE_CHECKING:
    from kiosk_app.catalog.library import ItemView

RESULTS = 6
# The catalogue's life events (生活事项) and their pictures. The catalogue comes from the platform and may
# name an event this list does not know yet: that one gets the folder.
EVENT_ICONS: dict[str, str] = {
    "生育收养": "birth", "户籍办理": "household", "教育培训": "education", "就业创业": "employment",
    "婚姻登记": "marriage", "住房建房": "housing", "养老服务": "elderly_care", "社会救助": "assistance",
    "社会保障": "social_security", "医疗卫生": "medical", "残疾人服务": "disability", "农业农村": "agriculture",
    "市场主体": "business", "退役军人": "veterans", "法律服务": "legal", "公用事业": "utilities",
    "身后事": "memorial",
}
FALLBACK_EVENT_ICON = "folder"


class ServicePage(Page):
    name = "services"
    title = "您要办什么事？"
    prompt = "请点击您要办的事，也可以用拼音首字母查找，比如低保，按 D B。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self._asked = 0  # the latest results asked for; older answers are dropped
        self.events = QWidget()
        self.event_grid = QGridLayout(self.events)
        self.event_grid.setSpacing(16)
        self.query = label("按拼音首字母查找：", "subtitle")
        self.results = QWidget()
        self.results_box = QVBoxLayout(self.results)
        self.results_box.setContentsMargins(0, 0, 0, 0)
        self.keyboard = LetterKeyboard()
        self.keyboard.typed.connect(self._search)
        by_event = QWidget()
        left = QVBoxLayout(by_event)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(label("按生活中的事情找：", "subtitle"))
        left.addWidget(self.events)
        left.addStretch(1)
        by_letters = QWidget()
        right = QVBoxLayout(by_letters)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.query)
        right.addWidget(self.results, 1)
        right.addWidget(self.keyboard)
        # Side by side in landscape: the page must fit 1080 px of height.
        self.side_by_side(by_event, by_letters, weights=(2, 3), spacing=40, stretch=1)

    # Catalogue reads run on a worker (a first search builds the index: tens of milliseconds, more on a big
    # catalogue); only the latest request's answer is shown, so fast typing never paints an older result last.
    def enter(self) -> None:
        self.keyboard.clear()
        clear_layout(self.event_grid)
        self.ctx.bridge.run(self.ctx.station.catalog.life_events, self._show_events)

    def _show_events(self, events: dict[str, list[str]]) -> None:
        clear_layout(self.event_grid)
        columns = 2 if self.ctx.theme.orientation == "landscape" else 3
        for i, (event, codes) in enumerate(sorted(events.items(), key=lambda kv: -len(kv[1]))[:8]):
            event_button = button(wrapped(event, 6), partial(self._show_event, event, codes), name=f"event_{i}")
            decorate(event_button, EVENT_ICONS.get(event, FALLBACK_EVENT_ICON), self.ctx.theme)
            self.event_grid.addWidget(event_button, i // columns, i % columns)

    def _show_event(self, event: str, codes: list[str]) -> None:
        self.query.setText(f"“{event}”相关的事项：")
        catalog = self.ctx.station.catalog
        self._ask(lambda: [(code, catalog.get(code).name) for code in codes[:RESULTS * 2]])

    def _search(self, text: str) -> None:
        self.query.setText(f"按拼音首字母查找：{text.upper()}" if text else "按拼音首字母查找：")
        catalog = self.ctx.station.catalog
        self._ask(lambda: [(hit.code, hit.name) for hit in catalog.search(text, limit=RESULTS)] if text else [])

    def _ask(self, work: Callable[[], list[tuple[str, str]]]) -> None:
        self._asked += 1
        asked = self._asked
        self.ctx.bridge.run(work, lambda items: self._show(items) if asked == self._asked else None)

    def _show(self, items: list[tuple[str, str]]) -> None:
        clear_layout(self.results_box)
        for i, (code, name) in enumerate(items):
            self.results_box.addWidget(button(wrapped(name, 18), partial(self._choose, code), name=f"result_{i}"))
        if not items and self.keyboard.text:
            self.results_box.addWidget(label("没有找到，请换个字母，或点上方的生活事项。", "hint"))
        self.results_box.addStretch(1)

    def _choose(self, code: str) -> None:
        catalog = self.ctx.station.catalog
        self.ctx.bridge.run(lambda: catalog.get(code), self._chosen)

    def _chosen(self, item: ItemView) -> None:
        if self.ctx.window is not None and self.ctx.window.current is self:  # not after an idle wipe
            self.ctx.session.choose(item)
            self.ctx.go("guide")

    def clear_personal_data(self) -> None:
        self.keyboard.clear()


class GuidePage(Page):
    name = "guide"
    title = "办事指南"
    prompt = "请看一下要准备的材料。准备好了，请点开始办理。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.body = QWidget()
        self.body_box = QVBoxLayout(self.body)
        self.body_box.setContentsMargins(0, 0, 0, 0)
        self.outer.addWidget(self.body, 1)
        self.footer_action(button("开始办理", self._start, primary=True, name="startFiling"))

    def enter(self) -> None:
        item = self.ctx.session.item
        clear_layout(self.body_box)
        if item is None:
            return
        fee = item.fee.get("note") or ("不收费" if not item.fee.get("charged") else "收费，详见窗口公示")
        visits = "不用跑（零跑腿）" if item.visits == 0 else f"最多跑 {item.visits} 次"
        facts = label(f"<b>{item.name}</b><br>承诺 {item.promised_limit_days} 个工作日内办结 · {fee} · {visits}")
        facts.setTextFormat(Qt.TextFormat.RichText)
        parts = [facts]
        if item.conditions:
            parts.append(label("办理条件：" + "；".join(item.conditions)))
        lines = []
        for m in item.materials:
            if m.elicence_type:
                mark = "（电子证照，免提交）"
            elif m.required:
                mark = "（需要扫描）"
            else:
                mark = "（如有请提供）"
            lines.append(f"· {m.name}{mark}")
        parts.append(label("需要的材料：<br>" + "<br>".join(lines)))
        self.body_box.addWidget(card(*parts))
        self.body_box.addStretch(1)

    def _start(self) -> None:
        self.ctx.go("form")
