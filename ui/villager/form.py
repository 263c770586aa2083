"""The application form, generated from the item's field definitions and pre-filled from the card.

Choices are big buttons; numbers, dates and phone numbers are typed (a numeric on-screen keypad on a kiosk
through the platform's input method); every problem is shown under its own field at once, in plain words.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLineEdit, QPushButton, QWidget

from kiosk_app.applications.forms import FormInvalid
from kiosk_app.catalog.library import FieldView
from kiosk_app.identity.masking import mask_id_number
from ui.shell import Page, UiContext
from ui.widgets import button, clear_layout, grid_of, label, row

_PLACEHOLDERS = {"phone": "手机号码，11 位", "date": "例如 2024-05-01", "integer": "整数", "decimal": "金额或数字",
                 "id_number": "18 位身份证号码", "bank_account": "银行卡号"}


class FormPage(Page):
    name = "form"
    title = "填写申请信息"
    prompt = "身份证上的信息已经帮您填好了，请补充其余内容，然后点下一步。"
    personal = True

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setVerticalSpacing(10)
        self.grid.setHorizontalSpacing(24)
        self.summary = label("", "error")
        self.outer.addWidget(self.body)
        self.outer.addWidget(self.summary)
        self.outer.addStretch(1)
        self.footer_action(button("下一步", self._next, primary=True, name="formNext"))
        self.inputs: dict[str, QLineEdit | QButtonGroup] = {}
        self.errors: dict[str, Any] = {}
        self.booleans: set[str] = set()

    def enter(self) -> None:
        clear_layout(self.grid)
        self.inputs.clear()
        self.booleans.clear()
        self.errors.clear()
        self.summary.setText("")
        item = self.ctx.session.item
        if item is None:
            return
        values = self.ctx.session.form_values
        # Portrait leaves no room for a label column (in large text it wrapped one character a line and pushed
        # the inputs off the screen): there each label sits above its input.
        stacked = self.ctx.theme.orientation == "portrait"
        for r, field in enumerate(item.form_fields):
            mark = "（必填）" if field.required else ""
            caption = label(f"{field.label}{mark}", wrap=True)
            error = label("", "error")
            error.hide()
            self.errors[field.key] = error
            if stacked:
                self.grid.addWidget(caption, r * 3, 0)
                self.grid.addWidget(self._input(field, values.get(field.key)), r * 3 + 1, 0)
                self.grid.addWidget(error, r * 3 + 2, 0)
            else:
                self.grid.addWidget(caption, r * 2, 0)
                self.grid.addWidget(self._input(field, values.get(field.key)), r * 2, 1)
                self.grid.addWidget(error, r * 2 + 1, 1)
        self.grid.setColumnStretch(0 if stacked else 1, 1)

    def _input(self, field: FieldView, value: Any) -> QWidget:
        if field.prefill == "id_number" and value:
            # Read from the card, so it cannot be mistyped; shown masked, since others can see a kiosk screen.
            return label(f"{mask_id_number(str(value))}（已从身份证读取）", "hint")
        choices = list(field.rules.get("choices") or [])
        if field.type == "boolean":
            self.booleans.add(field.key)
            choices = ["是", "否"]
            value = {True: "是", False: "否"}.get(value, value)
        if field.type in ("choice", "boolean") and choices:
            group = QButtonGroup(self)
            buttons = []
            for i, choice in enumerate(choices):
                b = button(choice, name=f"field_{field.key}_{i}")
                b.setCheckable(True)
                b.setProperty("choice", True)
                b.setChecked(choice == value)
                group.addButton(b, i)
                buttons.append(b)
            self.inputs[field.key] = group
            # Many choices (a list of banks) wrap onto rows instead of running off the screen; portrait has room
            # for two short ones side by side, or one long one.
            if self.ctx.theme.orientation == "portrait":
                return grid_of(buttons, 1 if max(len(c) for c in choices) > 6 else 2)
            return row(*buttons) if len(buttons) <= 3 else grid_of(buttons, 3)
        edit = QLineEdit("" if value is None else str(value))
        edit.setObjectName(f"field_{field.key}")
        edit.setPlaceholderText(field.help or _PLACEHOLDERS.get(field.type, ""))
        if field.type in ("phone", "integer", "decimal", "bank_account", "id_number", "date"):
            edit.setInputMethodHints(edit.inputMethodHints().ImhFormattedNumbersOnly)
        edit.textEdited.connect(partial(self._edited, field.key))
        self.inputs[field.key] = edit
        return edit

    def _edited(self, key: str, _text: str) -> None:
        self.errors[key].hide()

    def collect(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, widget in self.inputs.items():
            if isinstance(widget, QLineEdit):
                values[key] = widget.text().strip()
            else:
                checked = widget.checkedButton()
                if isinstance(checked, QPushButton):
                    text = checked.text()
                    values[key] = (text == "是") if key in self.booleans else text
        return values

    def _next(self) -> None:
        session = self.ctx.session
        session.form_values = self.collect()
        try:
            session.form_values = session.check_form()
        except FormInvalid as exc:
            for key, problem in exc.problems.items():
                if key in self.errors:
                    self.errors[key].setText(problem)
                    self.errors[key].show()
            self.summary.setText(f"有 {len(exc.problems)} 处需要修改，请看红字。")
            self.ctx.voice.say("有内容需要修改，请看红色的提示。")
            return
        self.ctx.go("scan" if session.paper_materials() else "review")

    def clear_personal_data(self) -> None:
        clear_layout(self.grid)
        self.inputs.clear()
        self.errors.clear()
        self.summary.setText("")
