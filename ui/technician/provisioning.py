"""Enrolling the station with the provincial platform (platform address + one-time enrolment code → the station
code the platform assigns), and the station's own name, code and level. kiosk_app does the work and the checks;
a refused value is shown under its field."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QPushButton

from kiosk_app.accounts import Permission, require
from kiosk_app.config import spec_for
from kiosk_app.errors import InvalidInput
from kiosk_app.syncing.service import Provisioned, StationSync, provision
from ui.shell import UiContext
from ui.technician.staff_page import Field, StaffPage, StatusLine, actions, columns
from ui.widgets import button, card, label, row

LEVELS = (("township", "乡镇（街道）便民服务中心"), ("village", "村（社区）代办点"))


class ProvisionPage(StaffPage):
    name = "provision"
    title = "开通平台与站点信息"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.url = Field("省级平台地址", "platformUrl", placeholder="例如 https://zwfw.zj.gov.cn/kiosk")
        self.token = Field("开通码（平台管理员发放，只能用一次）", "enrolToken", placeholder="开通码")
        self.provision_button = button("开通本站", self.start_provision, primary=True, name="provisionRun")
        self.result = StatusLine()
        self.assigned = label("", "subtitle")
        self.assigned.hide()
        platform = card(label("连接省级平台", "subtitle"), self.url, self.token, actions(self.provision_button),
                        self.result, self.assigned)

        self.station_name = Field("站点名称（打印在回执上）", "stationName")
        self.station_code = Field("站点代码（行政区划代码）", "stationCode")
        self.level_buttons: dict[str, QPushButton] = {}
        for value, text in LEVELS:
            choice = button(text, partial(self._pick_level, value), name=f"level_{value}")
            choice.setCheckable(True)
            choice.setProperty("choice", True)
            self.level_buttons[value] = choice
        self.level_message = StatusLine()
        self.save_button = button("保存站点信息", self.save_station, primary=True, name="saveStation")
        self.saved = StatusLine()
        station = card(
            label("本站信息", "subtitle"),
            label("开通后站点代码以平台分配的为准，一般不需要修改。", "hint"),
            self.station_name, self.station_code, label("站点级别", "hint"),
            row(*self.level_buttons.values()), self.level_message, actions(self.save_button), self.saved)
        self.outer.addWidget(columns(ctx, [platform], [station]))
        self.outer.addStretch(1)
        self.level = "township"

    def enter(self) -> None:
        station = self.ctx.station
        self.run(station.settings.all, self._show_settings, self.saved.failed)

    def _show_settings(self, values: dict[str, object]) -> None:
        if not self.url.text():
            self.url.set_text(str(values.get("sync.platform_url") or ""))
        self.station_name.set_text(str(values.get("station.name") or ""))
        self.station_code.set_text(str(values.get("station.code") or ""))
        self._pick_level(str(values.get("station.level") or "township"))

    def _pick_level(self, value: str) -> None:
        self.level = value
        for key, choice in self.level_buttons.items():
            choice.setChecked(key == value)

    # ---- enrolment -----------------------------------------------------------------------------------------------

    def start_provision(self) -> None:
        operator, station = self.operator, self.ctx.station
        url, token = self.url.text(), self.token.text()
        need_sync = self.ctx.sync is None
        self.url.accept()
        self.token.accept()

        def work() -> tuple[Provisioned, StationSync | None]:
            technician = require(operator, Permission.PROVISION)
            done = provision(station, url, token, actor=technician.actor)
            # The window had no sync engine (the station was not enrolled when it opened): give it one now, so
            # the header and the sync page follow the new enrolment.
            return done, StationSync(station) if need_sync else None

        self.provision_button.setEnabled(False)
        self.assigned.hide()
        self.result.hint("正在连接平台并开通，请稍候……")
        self.run(work, self._provisioned, self._provision_failed)

    def _provisioned(self, answer: tuple[Provisioned, StationSync | None]) -> None:
        done, sync = answer
        self.provision_button.setEnabled(True)
        self.token.set_text("")  # the code is spent; leaving it would only invite a confusing second try
        if sync is not None and self.ctx.sync is None:
            self.ctx.sync = sync
        skew = "" if done.clock_skew_s is None else f"本机与平台时间相差 {abs(done.clock_skew_s):.1f} 秒。"
        self.result.ok(f"开通成功：本机已在 {done.platform_url} 登记（设备号 {done.device_id}）。{skew}")
        self.assigned.setText(f"平台分配的站点代码：{done.station_code}")
        self.assigned.show()
        self.station_code.set_text(done.station_code)
        if self.ctx.window is not None:
            self.ctx.window.refresh_sync_badge()

    def _provision_failed(self, exc: BaseException) -> None:
        self.provision_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if isinstance(exc, InvalidInput) and field in ("platform", "token"):
            (self.url if field == "platform" else self.token).refuse(exc.message)
            self.result.error("开通没有进行，请按提示修改后再试。")
        else:
            self.result.failed(exc, "开通没有成功。")

    # ---- station settings ----------------------------------------------------------------------------------------

    def save_station(self) -> None:
        operator, settings = self.operator, self.ctx.station.settings
        values = {"station.name": self.station_name.text(), "station.code": self.station_code.text(),
                  "station.level": self.level}
        fields = {"station.name": self.station_name, "station.code": self.station_code}

        def work() -> dict[str, str]:
            require(operator, Permission.PROVISION)
            refused: dict[str, str] = {}
            if not values["station.name"]:
                refused["station.name"] = "请填写站点名称，它会打印在回执上。"
            for key, raw in values.items():
                try:
                    spec_for(key).parse(raw)
                except InvalidInput as exc:
                    refused.setdefault(key, exc.message)
            if not refused:  # all or nothing: a half-saved station (new code, old level) helps nobody
                for key, raw in values.items():
                    settings.set(key, raw)
            return refused

        for f in fields.values():
            f.accept()
        self.level_message.clear()
        self.saved.hint("正在保存……")
        self.run(work, partial(self._saved, fields, values["station.name"]), self.saved.failed)

    def _saved(self, fields: dict[str, Field], name: str, refused: dict[str, str]) -> None:
        for key, message in refused.items():
            if key in fields:
                fields[key].refuse(message)
            else:
                self.level_message.error(message)
        if refused:
            self.saved.error("没有保存，请按提示修改。")
            return
        self.saved.ok("站点信息已保存。")
        window = self.ctx.window
        if window is not None:
            window.station_label.setText(name)
            window.setWindowTitle(name)

    def wipe(self) -> None:
        self.token.set_text("")
        self.result.clear()
        self.saved.clear()
        self.assigned.setText("")
        self.assigned.hide()
        for f in (self.url, self.token, self.station_name, self.station_code):
            f.accept()
