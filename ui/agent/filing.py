"""Proxy filing (代办): the applicant's card, then the villager's own service, guide, form and scan pages, then
the agent's review (委托书, the applicant's signature on the screen, 容缺) and the result with its papers."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from kiosk_app.applications.signature import SignedFiling, signature_material, submit_signed
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.receipts.queue import JobOutcome
from kiosk_app.receipts.service import print_receipt
from ui.agent.navigation import back_to_queue, failure_text, show_text, still_here
from ui.agent.printouts import PRINTOUTS, Printout, write_printout
from ui.agent.signature import SignaturePad, png_bytes
from ui.shell import Page, UiContext
from ui.villager.finish import PRIVACY_NOTICE
from ui.villager.identify import CardPage
from ui.villager.scan import ScanPage
from ui.widgets import button, card, check_row, grid_of, label, number_card, row

LETTER_TEXT = ("授权委托书：委托人自愿委托本站代办员代为提交申请和材料、接收补正通知、领取结果并转交，代办不收费。"
               "提交后请打印委托书，双方签字存档。")


class AgentCardPage(CardPage):
    """The applicant's card, read like at the kiosk; the agent is the staff, so there is nobody to call."""

    title = "请委托人刷身份证"
    prompt = "请把身份证放在读卡区，不要移动。"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.instruction.setText("请委托人（申请人本人）将身份证平放在读卡区，读卡成功后自动进入选择事项。")
        self.call.hide()


class AgentScanPage(ScanPage):
    """The kiosk's scan page, plus a way on with papers still missing: an agent may accept them later (容缺)
    or let the on-screen signature stand in for the application form."""

    title = "扫描委托人的材料"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.capture_row.addWidget(button("材料暂缺，先去核对（可容缺受理）", self._skip, name="scanSkip"), 1)

    def _skip(self) -> None:
        self.preview.stop()
        self.ctx.go("review")


class AgentReviewPage(Page):
    name = "review"
    title = "核对、委托与签名"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.summary = label("")
        self.letter = QCheckBox("已向委托人说明，委托人同意由代办员代为办理")
        self.letter.setObjectName("consentLetter")
        self.consent = QCheckBox("委托人已知悉并同意个人信息使用说明")
        self.consent.setObjectName("consentPersonal")
        # Check boxes do not wrap, so their texts stay short: a long one would widen its column past the screen.
        self.sharing = QCheckBox("委托人同意平台调取其电子证照，代替纸质材料")
        self.sharing.setObjectName("consentSharing")
        self.missing = label("", "warnText")
        self.allow_missing = QCheckBox("容缺受理：缺少的材料由委托人以后补交")
        self.allow_missing.setObjectName("allowMissing")
        self.pad = SignaturePad()
        self.problem = label("", "error")
        self.submit_button = button("提交代办申请", self._submit, primary=True, name="submit")
        info = QWidget()
        left = QVBoxLayout(info)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(20)
        left.addWidget(card(self.summary))
        # One card for what the applicant agrees to: two cards' margins would push the column past the screen.
        self.sharing_row = check_row(self.sharing)
        left.addWidget(card(label(LETTER_TEXT, "hint"), check_row(self.letter), label(PRIVACY_NOTICE, "hint"),
                            check_row(self.consent), self.sharing_row, spacing=10))
        left.addStretch(1)
        signing = QWidget()
        right = QVBoxLayout(signing)
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(20)
        right.addWidget(card(row(label("请委托人在框内签名：", "subtitle"),
                                 button("重  签", self.pad.clear, name="clearSignature"), stretch_first=True),
                             self.pad))
        self.allow_missing_row = check_row(self.allow_missing)
        right.addWidget(card(self.missing, self.allow_missing_row))
        right.addWidget(self.problem)
        right.addStretch(1)
        self.footer_action(self.submit_button)
        self.side_by_side(info, signing, stretch=1)

    def enter(self) -> None:
        session = self.ctx.session
        show_text(self.problem, "")
        self.submit_button.setEnabled(True)
        if session.identity is None or session.item is None:
            return
        person = f"{mask_name(session.identity.name)}（{mask_id_number(session.identity.id_number)}）"
        scanned = "、".join(p.material_name for p in session.captured.values()) or "无"
        elicences = "、".join(m.name for m in session.elicence_materials()) or "无"
        form = signature_material(session.item, session.captured)
        signed = f"\n屏上签名作为：{form.name}" if form else ""
        self.summary.setText(f"办理事项：{session.item.name}\n委托人：{person}\n已扫描：{scanned}\n"
                             f"电子证照免提交：{elicences}{signed}")
        missing = [m.name for m in session.missing_scans() if form is None or m.code != form.code]
        self.missing.setText(f"还缺少材料：{'、'.join(missing)}" if missing else "必需材料已齐全。")
        self.allow_missing_row.setVisible(bool(missing))
        self.allow_missing.setChecked(False)
        self.consent.setChecked(session.consent_personal_data)
        self.sharing_row.setVisible(session.needs_data_sharing_consent())
        self.sharing.setChecked(session.consent_data_sharing)

    def _submit(self) -> None:
        session = self.ctx.session
        if not self.letter.isChecked():
            show_text(self.problem, "请先向委托人说明授权委托书，并勾选委托人同意。")
            return
        if self.pad.is_empty():
            show_text(self.problem, "请委托人在签名框内签名。")
            return
        session.consent_personal_data = self.consent.isChecked()
        session.consent_data_sharing = self.sharing.isChecked()
        image = self.pad.to_image()  # drawn here; encoded on the worker
        allow = not self.allow_missing_row.isHidden() and self.allow_missing.isChecked()
        station, operator = self.ctx.station, self.ctx.operator
        self.submit_button.setEnabled(False)
        show_text(self.problem, "正在提交……")
        self.ctx.bridge.run(
            lambda: submit_signed(station, session, operator, png_bytes(image), allow_missing=allow),
            self._filed, self._failed)

    def _filed(self, _signed: SignedFiling) -> None:
        if self.ctx.sync is not None:
            self.ctx.sync.nudge()
        if still_here(self):
            self.ctx.go("done")

    def _failed(self, exc: BaseException) -> None:
        self.submit_button.setEnabled(True)
        if still_here(self):
            show_text(self.problem, failure_text(exc, "提交没有成功，请重试或联系技术人员。"))

    def clear_personal_data(self) -> None:
        self.summary.setText("")
        self.missing.setText("")
        show_text(self.problem, "")
        for box in (self.letter, self.consent, self.sharing, self.allow_missing):
            box.setChecked(False)
        self.pad.clear()


class AgentDonePage(Page):
    name = "done"
    title = "代办申请已提交"
    personal = True
    final = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        numbers, self.number, self.details, self.printing = number_card("受理编号")
        self.result = label("", "hint")
        papers = [button(f"打印{text}", partial(self._print, kind), name=f"done_{kind}")
                  for kind, text in PRINTOUTS.items()]
        self.outer.addWidget(numbers)
        self.outer.addWidget(grid_of(papers, 3 if ctx.theme.orientation == "landscape" else 2))
        self.outer.addWidget(self.result)
        self.outer.addStretch(1)
        self.footer_action(button("返回工作台", partial(back_to_queue, ctx), primary=True, name="backToQueue"))

    def enter(self) -> None:
        filed = self.ctx.session.filed
        self.result.setText("")
        if filed is None:
            return
        self.number.setText(filed.tracking_no)
        extra = f"\n容缺材料请委托人在 5 个工作日内补交：{'、'.join(filed.deferred)}" if filed.deferred else ""
        self.details.setText("申请已保存在本机，联网后自动上报。请打印委托书和申请表，由委托人签字后存档。" + extra)
        operator = self.ctx.operator
        if not self.ctx.devices.printer_url or operator is None:
            self.printing.setText("本机未接回执打印机，请记下受理编号，或打印申请表交给委托人。")
            return
        self.printing.setText("正在打印回执……")
        station, actor = self.ctx.station, operator.actor
        self.ctx.bridge.run(lambda: print_receipt(station, filed.id, actor=actor), self._printed, self._print_failed)

    def _printed(self, outcome: JobOutcome) -> None:
        if still_here(self):
            failed = f"{outcome.error or '回执没有打印出来。'} 申请已提交成功，可在办件详情中补打回执。"
            self.printing.setText("回执已打印，请交给委托人。" if outcome.state == "printed" else failed)

    def _print_failed(self, exc: BaseException) -> None:
        if still_here(self):
            self.printing.setText(f"{failure_text(exc, '打印机出了问题。')} 申请已提交成功，可在办件详情中补打回执。")

    def _print(self, kind: str) -> None:
        filed = self.ctx.session.filed
        if filed is None:
            return
        self.result.setText(f"正在生成{PRINTOUTS[kind]}……")
        station, operator = self.ctx.station, self.ctx.operator
        self.ctx.bridge.run(lambda: write_printout(station, operator, filed.id, kind), self._written,
                            self._write_failed)

    def _written(self, printout: Printout) -> None:
        if still_here(self):
            self.result.setText(printout.message)

    def _write_failed(self, exc: BaseException) -> None:
        if still_here(self):
            self.result.setText(failure_text(exc, "没有生成打印文件，请重试或联系技术人员。"))

    def clear_personal_data(self) -> None:
        for widget in (self.number, self.details, self.printing, self.result):
            widget.setText("")
