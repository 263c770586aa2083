"""Progress query: after a card swipe, the person's own applications only, with state and expected date."""

from __future__ import annotations

from kiosk_app.applications.lifecycle import STATE_LABELS, State
from kiosk_app.applications.queries import ApplicationSummary, list_applications
from ui.shell import Page, UiContext
from ui.widgets import card, clear_layout, label


class ProgressPage(Page):
    name = "progress"
    title = "我的办件进度"
    prompt = "这是您在本站办理的事项和进度。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.status = label("", "hint")
        self.outer.addWidget(self.status)
        self.list_holder = card()
        self.list_box = self.list_holder.layout()
        self.outer.addWidget(self.list_holder)
        self.outer.addStretch(1)

    def enter(self) -> None:
        identity = self.ctx.session.identity
        assert self.list_box is not None
        clear_layout(self.list_box)
        if identity is None:
            return
        self.status.setText("正在查询……")
        number = identity.id_number
        self.ctx.bridge.run(lambda: list_applications(self.ctx.station.db, id_number=number, limit=50), self._show)

    def _show(self, rows: list[ApplicationSummary]) -> None:
        if self.ctx.session.identity is None or self.list_box is None:
            return  # wiped while the query ran
        clear_layout(self.list_box)
        if not rows:
            self.status.setText("在本站没有查到您的办件。在其他地方办理的，请用“浙里办”查询。")
            return
        self.status.setText(f"共 {len(rows)} 件：")
        for r in rows:
            expected = f"，预计 {r.promised_date:%Y年%m月%d日} 前办结" if r.promised_date else ""
            self.list_box.addWidget(label(f"{r.item_name}\n受理编号 {r.tracking_no} · "
                                          f"{STATE_LABELS[State(r.state)]}{expected}"))

    def clear_personal_data(self) -> None:
        self.status.setText("")
        if self.list_box is not None:
            clear_layout(self.list_box)
