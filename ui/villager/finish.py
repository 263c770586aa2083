"""The end of a filing: review and consent, submit, the receipt, and the five-level evaluation (好差评)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox

from kiosk_app.applications.filing import Filed
from kiosk_app.evaluations import LEVELS, record_evaluation
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.receipts.queue import JobOutcome
from kiosk_app.receipts.service import print_receipt
from ui.shell import Page, UiContext
from ui.widgets import button, card, check_row, grid_of, label, number_card, row

PRIVACY_NOTICE = ("个人信息使用说明：您的身份信息、表单和材料只用于办理本事项，加密保存在本机并上报省政务服务平台，"
                  "由承办部门依法使用；本机不会把您的信息用于其他用途，上报成功并过了保存期限后自动删除。")
SHARING_NOTICE = "同意由省政务服务平台调取您的电子证照（如身份证、户口簿），代替纸质材料。"
AUTO_EVALUATE_MS = 12_000
THANKS_MS = 4000
LOW_LABELS = ("等待时间长", "材料要求不清楚", "操作太复杂", "工作人员态度不好", "要跑多次")
HIGH_LABELS = ("办事效率高", "不用跑腿", "操作简单", "服务热情")


class ReviewPage(Page):
    name = "review"
    title = "核对并提交"
    prompt = "请核对信息，阅读个人信息使用说明，同意后点提交。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.summary = label("")
        self.consent = QCheckBox("我已阅读并同意个人信息使用说明")
        self.consent.setObjectName("consentPersonal")
        self.sharing = QCheckBox(SHARING_NOTICE)
        self.sharing.setObjectName("consentSharing")
        self.problem = label("", "error")
        self.submit_button = button("提  交", self._submit, primary=True, name="submit")
        self.outer.addWidget(card(self.summary))
        self.sharing_row = check_row(self.sharing)
        self.outer.addWidget(card(label(PRIVACY_NOTICE, "hint"), check_row(self.consent), self.sharing_row))
        self.outer.addStretch(1)
        self.outer.addWidget(self.problem)
        self.footer_action(self.submit_button)

    def enter(self) -> None:
        session = self.ctx.session
        if session.identity is None or session.item is None:
            return
        who = f"{mask_name(session.identity.name)}（{mask_id_number(session.identity.id_number)}）"
        scanned = "、".join(p.material_name for p in session.captured.values()) or "无"
        elicences = "、".join(m.name for m in session.elicence_materials()) or "无"
        self.summary.setText(f"办理事项：{session.item.name}\n申请人：{who}\n已扫描材料：{scanned}\n"
                             f"电子证照免提交：{elicences}")
        self.consent.setChecked(session.consent_personal_data)
        self.sharing_row.setVisible(session.needs_data_sharing_consent())
        self.sharing.setChecked(session.consent_data_sharing)
        self.problem.setText("")
        self.submit_button.setEnabled(True)

    def _submit(self) -> None:
        session = self.ctx.session
        session.consent_personal_data = self.consent.isChecked()
        session.consent_data_sharing = self.sharing.isChecked()
        blockers = session.blockers()
        if blockers:
            self.problem.setText("；".join(blockers) + "。")
            self.ctx.voice.say(blockers[0])
            return
        self.submit_button.setEnabled(False)
        self.problem.setText("正在提交……")
        self.ctx.bridge.run(lambda: session.submit(self.ctx.station), self._filed, self._failed)

    def _filed(self, _filed: Filed) -> None:
        if self.ctx.sync is not None:
            self.ctx.sync.nudge()
        self.ctx.go("done")

    def _failed(self, exc: BaseException) -> None:
        self.submit_button.setEnabled(True)
        self.problem.setText(getattr(exc, "message", None) or "提交没有成功，请联系工作人员。")

    def clear_personal_data(self) -> None:
        self.summary.setText("")
        self.consent.setChecked(False)
        self.sharing.setChecked(False)
        self.problem.setText("")


class DonePage(Page):
    name = "done"
    title = "提交成功"
    prompt = "提交成功，请取走回执。稍后请为这次服务打分。"
    personal = True
    final = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        numbers, self.number, self.details, self.printing = number_card("您的受理编号")
        self.outer.addWidget(numbers)
        self.outer.addStretch(1)
        self.outer.addWidget(row(button("去评价", self._evaluate, primary=True, name="toEvaluate"),
                                 button("完成，返回首页", self.ctx.home, name="finish")))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._evaluate)

    def enter(self) -> None:
        filed = self.ctx.session.filed
        if filed is None:
            return
        self.number.setText(filed.tracking_no)
        extra = f"；容缺材料请在 5 个工作日内补交：{'、'.join(filed.deferred)}" if filed.deferred else ""
        self.details.setText("申请已保存在本机，联网后自动上报，办理进度可凭身份证在本机查询" + extra)
        if self.ctx.devices.printer_url:
            self.printing.setText("正在打印回执……")
            self.ctx.bridge.run(lambda: print_receipt(self.ctx.station, filed.id, actor="kiosk"),
                                self._printed, self._print_failed)
        else:
            self.printing.setText("本机未接打印机，请记下受理编号，或到窗口打印回执。")
        self.timer.start(AUTO_EVALUATE_MS)

    def _printed(self, outcome: JobOutcome) -> None:
        if outcome.state == "printed":
            self.printing.setText("回执已打印，请从出纸口取走。")
        else:
            self.printing.setText(f"{outcome.error or '回执没有打印出来。'} 申请已经提交成功，回执可到窗口补打。")

    def _print_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", None) or "打印机出了问题。"
        self.printing.setText(f"{message} 申请已经提交成功，回执可到窗口补打。")

    def _evaluate(self) -> None:
        self.timer.stop()
        if self.ctx.window is not None and self.ctx.window.current is self:
            self.ctx.go("evaluate")

    def clear_personal_data(self) -> None:
        self.timer.stop()
        for widget in (self.number, self.details, self.printing):
            widget.setText("")


class EvaluatePage(Page):
    name = "evaluate"
    title = "请为本次服务评价"
    prompt = "请为这次服务打分。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.level: int | None = None
        self.level_buttons = []
        for value, text in LEVELS.items():
            b = button(text, partial(self._choose, value), name=f"level_{value}")
            b.setCheckable(True)
            b.setProperty("choice", True)
            self.level_buttons.append(b)
        portrait = ctx.theme.orientation == "portrait"
        levels = grid_of(self.level_buttons, 3 if portrait else 5)
        self.label_buttons = []
        for i, text in enumerate((*HIGH_LABELS, *LOW_LABELS)):
            b = button(text, name=f"label_{i}")
            b.setCheckable(True)
            b.setProperty("choice", True)
            self.label_buttons.append(b)
        holder = grid_of(self.label_buttons[:len(HIGH_LABELS)], 2 if portrait else 4)
        holder_low = grid_of(self.label_buttons[len(HIGH_LABELS):], 2 if portrait else 5)
        self.status = label("您的评价是匿名的，工作人员看不到是谁评的。", "hint")
        self.send = button("提交评价", self._send, primary=True, name="sendEvaluation")
        self.outer.addWidget(levels)
        self.outer.addWidget(label("满意的地方（可多选）：", "subtitle"))
        self.outer.addWidget(holder)
        self.outer.addWidget(label("不满意的地方（可多选）：", "subtitle"))
        self.outer.addWidget(holder_low)
        self.outer.addWidget(self.status)
        self.outer.addStretch(1)
        self.footer_action(self.send)
        self.done_timer = QTimer(self)
        self.done_timer.setSingleShot(True)
        self.done_timer.timeout.connect(self.ctx.home)

    def enter(self) -> None:
        self._reset()

    def _choose(self, value: int) -> None:
        self.level = value
        for b in self.level_buttons:
            b.setChecked(b.objectName() == f"level_{value}")

    def _send(self) -> None:
        if self.level is None:
            self.status.setText("请先点选一个满意程度。")
            return
        filed = self.ctx.session.filed
        labels = [b.text() for b in self.label_buttons if b.isChecked()]
        level = self.level
        self.send.setEnabled(False)
        self.ctx.bridge.run(lambda: record_evaluation(self.ctx.station.db, level=level, channel="kiosk",
                                                      labels=labels, application_id=filed.id if filed else None),
                            self._sent, self._failed)

    def _sent(self, _evaluation_id: str) -> None:
        self.status.setText("谢谢您的评价！")
        self.ctx.voice.say("谢谢您的评价。")
        self.done_timer.start(THANKS_MS)

    def _failed(self, exc: BaseException) -> None:
        self.send.setEnabled(True)
        self.status.setText(getattr(exc, "message", None) or "评价没有保存成功，请再试一次。")

    def _reset(self) -> None:
        self.level = None
        for b in (*self.level_buttons, *self.label_buttons):
            b.setChecked(False)
        self.send.setEnabled(True)
        self.status.setText("您的评价是匿名的，工作人员看不到是谁评的。")

    def clear_personal_data(self) -> None:
        self.done_timer.stop()
        self._reset()
