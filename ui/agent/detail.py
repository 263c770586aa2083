"""One case in the agent's queue: its facts (masked), materials and status history, and what can be done with it
now: hand the result over (出件), resubmit after 补正, print its A4 papers, reprint the receipt."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.applications.casework import case_detail, reprint_receipt
from kiosk_app.applications.handover import METHODS, POST, RELATIONS, HandedOver, record_handover
from kiosk_app.applications.lifecycle import STATE_LABELS, State
from kiosk_app.receipts.queue import JobOutcome
from ui.agent.correction import CorrectionPage
from ui.agent.navigation import failure_text, show_text, still_here
from ui.agent.printouts import PRINTOUTS, Printout, write_printout
from ui.shell import Page, UiContext
from ui.widgets import button, card, check_row, clear_layout, label, row

SOURCE_LABELS = {"file": "已扫描提交", "elicence": "电子证照免交", "deferred": "容缺待补交"}
CHANNEL_LABELS = {"kiosk": "自助终端", "agent": "代办", "cli": "窗口"}
PRINT_BUTTONS = {"form": "printForm", "letter": "printLetter", "checklist": "printChecklist"}


def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    return f"{(moment.astimezone() if moment.tzinfo else moment):%Y-%m-%d %H:%M}"


def who(actor: str | None) -> str:
    role, _, name = (actor or "").partition(":")
    return {"agent": f"代办员 {name}", "platform": "省平台", "kiosk": "自助终端", "system": "系统"}.get(
        role, actor or "")


class DetailPage(Page):
    name = "detail"
    title = "办件详情"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.application_id: str | None = None
        self.detail: dict[str, Any] | None = None
        self.pending_notice = ""
        self.notice = label("", "okText")
        self.status = label("", "hint")
        self.summary = label("")
        self.reason = label("", "error")
        self.actions_holder = QWidget()
        self.action_grid = QGridLayout(self.actions_holder)
        self.action_grid.setContentsMargins(0, 0, 0, 0)
        self.action_grid.setSpacing(16)
        self.result = label("", "hint")
        self.handover_card = self._handover_form()
        self.handover_card.hide()
        self.materials = label("")
        self.history = label("")
        case = QWidget()
        left = QVBoxLayout(case)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(20)
        for widget in (self.notice, self.status, card(self.summary, self.reason), self.actions_holder, self.result,
                       self.handover_card):
            left.addWidget(widget)
        left.addStretch(1)
        record = QWidget()
        right = QVBoxLayout(record)
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(20)
        right.addWidget(card(label("材料", "subtitle"), self.materials))
        right.addWidget(card(label("办理进度", "subtitle"), self.history))
        right.addStretch(1)
        self.side_by_side(case, record, weights=(3, 2), stretch=1)  # the case and what to do, then its record

    def open(self, application_id: str) -> None:
        self.application_id = application_id
        self.ctx.go(self.name)

    # ---- showing the case ------------------------------------------------------------------------------------

    def enter(self) -> None:
        self._blank()
        window = self.ctx.window
        if window is not None and self.name in window.frames:  # a fresh case starts at its top, notice first
            window.frames[self.name].verticalScrollBar().setValue(0)
        show_text(self.notice, self.pending_notice)
        self.pending_notice = ""
        if self.application_id is None:
            return
        show_text(self.status, "正在读取……")
        station, operator, key = self.ctx.station, self.ctx.operator, self.application_id
        self.ctx.bridge.run(lambda: case_detail(station, operator, key), self._show, self._failed)

    def _show(self, detail: dict[str, Any]) -> None:
        if not still_here(self) or detail["id"] != self.application_id:
            return
        self.detail = detail
        show_text(self.status, "")
        applicant = detail["applicant"]
        state = State(detail["state"])
        lines = [f"受理编号：{detail['tracking_no']}", f"事项：{detail['item_name']}",
                 f"申请人：{applicant.get('name', '')}　{applicant.get('id_number', '')}",
                 f"状态：{STATE_LABELS[state]}（第 {detail['version']} 版）",
                 f"受理方式：{CHANNEL_LABELS.get(detail['channel'], detail['channel'])}　"
                 f"提交时间：{local_time(detail['submitted_at']) or '未提交'}",
                 f"承诺办结：{detail['promised_date'] or '—'}　平台办件号：{detail['case_no'] or '尚未上报'}"]
        if detail["deferred_materials"]:
            lines.append("容缺受理：有材料待补交")
        handed = detail.get("handover")
        if handed is not None:
            post = f"，快递单号 {handed.post_tracking_no}" if handed.post_tracking_no else ""
            lines.append(f"出件：{handed.received_by}（{handed.relation}），{handed.method}{post}，"
                         f"{handed.handed_over_at.astimezone():%Y-%m-%d %H:%M}")
        self.summary.setText("\n".join(lines))
        events = detail["events"]
        if state is State.CORRECTION_REQUESTED:
            reason = next((e["reason"] for e in reversed(events) if e["to"] == state.value and e["reason"]), None)
            show_text(self.reason, f"补正原因：{reason or '平台未写明，请联系承办部门'}")
        self.materials.setText("\n".join(f"· {m['name']}：{SOURCE_LABELS.get(m['source'], m['source'])}"
                                         for m in detail["materials"]) or "无")
        self.history.setText("\n".join(
            f"{local_time(e['at'])}　{STATE_LABELS[State(e['to'])]}　{who(e['actor'])}"
            + (f"　{e['department']}" if e["department"] else "") + (f"：{e['reason']}" if e["reason"] else "")
            for e in events))
        self._show_actions(state, detail["channel"])

    def _show_actions(self, state: State, channel: str) -> None:
        clear_layout(self.action_grid)
        buttons: list[QPushButton] = []
        if state is State.RESULT_READY:
            buttons.append(button("出件", self._start_handover, primary=True, name="startHandover"))
        if state is State.CORRECTION_REQUESTED:
            buttons.append(button("补正材料", self._start_correction, primary=True, name="startCorrection"))
        if state is not State.DRAFT:
            for kind, text in PRINTOUTS.items():
                if kind != "letter" or channel == "agent":  # a letter of authority exists only for 代办
                    buttons.append(button(f"打印{text}", partial(self._print, kind), name=PRINT_BUTTONS[kind]))
            buttons.append(button("补打回执", self._reprint, name="reprintReceipt"))
        columns = 2
        for i, b in enumerate(buttons):
            self.action_grid.addWidget(b, i // columns, i % columns)

    def _failed(self, exc: BaseException) -> None:
        if still_here(self):
            show_text(self.status, failure_text(exc, "没有读到这件申请，请返回工作台后重试。"))

    # ---- printing --------------------------------------------------------------------------------------------

    def _print(self, kind: str) -> None:
        if self.application_id is None:
            return
        show_text(self.result, f"正在生成{PRINTOUTS[kind]}……")
        station, operator, key = self.ctx.station, self.ctx.operator, self.application_id
        self.ctx.bridge.run(lambda: write_printout(station, operator, key, kind), self._printed, self._print_failed)

    def _printed(self, printout: Printout) -> None:
        if still_here(self):
            show_text(self.result, printout.message)

    def _print_failed(self, exc: BaseException) -> None:
        if still_here(self):
            show_text(self.result, failure_text(exc, "没有生成打印文件，请重试或联系技术人员。"))

    def _reprint(self) -> None:
        if self.application_id is None:
            return
        if not self.ctx.devices.printer_url:
            show_text(self.result, "本机没有设置回执打印机，请联系技术人员。")
            return
        show_text(self.result, "正在补打回执……")
        station, operator, key = self.ctx.station, self.ctx.operator, self.application_id
        self.ctx.bridge.run(lambda: reprint_receipt(station, operator, key), self._reprinted, self._print_failed)

    def _reprinted(self, outcome: JobOutcome) -> None:
        if still_here(self):
            show_text(self.result, "回执已补打。" if outcome.state == "printed"
                                else f"回执没有打印出来：{outcome.error or '请检查打印机后重试。'}")

    # ---- 补正 -------------------------------------------------------------------------------------------------

    def _start_correction(self) -> None:
        window = self.ctx.window
        page = window.page(CorrectionPage.name) if window is not None else None  # built on first use
        if isinstance(page, CorrectionPage) and self.detail is not None:
            page.open(self.detail, on_done=self._noticed)

    def _noticed(self, notice: str) -> None:
        self.pending_notice = notice  # shown when this page is entered again, right after

    # ---- 出件 -------------------------------------------------------------------------------------------------

    def _handover_form(self) -> QWidget:
        self.received_by = QLineEdit()
        self.received_by.setObjectName("receivedBy")
        self.received_by.setPlaceholderText("领取人姓名")
        self.relations = self._choices(RELATIONS, "relation")
        self.methods = self._choices(METHODS, "method")
        self.methods.buttonToggled.connect(lambda _b, _on: self._method_changed())
        self.id_checked = QCheckBox("已核验领取人身份证件（窗口领取必须核验）")
        self.id_checked.setObjectName("idChecked")
        self.post_no = QLineEdit()
        self.post_no.setObjectName("postTrackingNo")
        self.post_no.setPlaceholderText("快递单号")
        self.post_no.hide()
        self.handover_message = label("", "error")
        confirm = button("确认出件", self._hand_over, primary=True, name="confirmHandover")
        return card(label("出件登记", "subtitle"), self.received_by,
                    row(*self.relations.buttons()), row(*self.methods.buttons()),
                    check_row(self.id_checked), self.post_no, self.handover_message,
                    row(label(""), confirm, stretch_first=True))

    def _choices(self, texts: tuple[str, ...], prefix: str) -> QButtonGroup:
        group = QButtonGroup(self)
        for i, text in enumerate(texts):
            b = button(text, name=f"{prefix}_{i}")
            b.setCheckable(True)
            b.setProperty("choice", True)
            b.setChecked(i == 0)
            group.addButton(b, i)
        return group

    def _method_changed(self) -> None:
        self.post_no.setVisible(self.methods.checkedId() == METHODS.index(POST))

    def _start_handover(self) -> None:
        self.handover_card.show()
        # Scrolled into view once the layout has made room for it (the form sits below the case's actions).
        QTimer.singleShot(0, self._reveal_handover)
        show_text(self.handover_message, "")

    def _reveal_handover(self) -> None:
        window = self.ctx.window
        if window is not None and self.name in window.frames and self.handover_card.isVisible():
            window.frames[self.name].ensureWidgetVisible(self.handover_card)

    def _hand_over(self) -> None:
        if self.application_id is None:
            return
        station, operator, key = self.ctx.station, self.ctx.operator, self.application_id
        received_by, relation = self.received_by.text(), RELATIONS[max(0, self.relations.checkedId())]
        method, checked = METHODS[max(0, self.methods.checkedId())], self.id_checked.isChecked()
        post_no = self.post_no.text() if method == POST else None
        show_text(self.handover_message, "正在登记……")
        self.ctx.bridge.run(
            lambda: record_handover(station.db, operator, key, received_by=received_by, relation=relation,
                                    id_checked=checked, method=method, tracking_no_of_post=post_no),
            self._handed_over, self._handover_failed)

    def _handed_over(self, done: HandedOver) -> None:
        if not still_here(self):
            return
        self._reset_handover()
        self.pending_notice = f"已出件：{done.received_by}，{done.method}。"
        self.enter()

    def _handover_failed(self, exc: BaseException) -> None:
        if still_here(self):
            show_text(self.handover_message, failure_text(exc, "出件没有登记成功，请重试。"))

    def _reset_handover(self) -> None:
        self.handover_card.hide()
        self.received_by.clear()
        self.post_no.clear()
        self.id_checked.setChecked(False)
        show_text(self.handover_message, "")
        for group in (self.relations, self.methods):
            first = group.button(0)
            if first is not None:
                first.setChecked(True)

    # ---- wiping ----------------------------------------------------------------------------------------------

    def _blank(self) -> None:
        self.detail = None
        for widget in (self.notice, self.status, self.reason, self.result):
            show_text(widget, "")
        for widget in (self.summary, self.materials, self.history):
            widget.setText("")
        clear_layout(self.action_grid)
        self._reset_handover()

    def clear_personal_data(self) -> None:
        self._blank()
        self.application_id = None
        self.pending_notice = ""
