"""The technician window: log-in first (the home page, so 退出登录 or the idle timeout logs out), then the
console and its maintenance screens."""

from __future__ import annotations

from typing import Final

from ui.app import application
from ui.shell import KioskWindow, UiContext

# Page name -> "module:Class", as for the villager window: a screen's module (OpenCV for the camera test, the
# sync client, ...) loads when the screen is first shown, so the log-in page comes up at once.
TECHNICIAN_PAGES: Final[dict[str, str]] = {
    "login": "ui.technician.login:TechnicianLoginPage",
    "console": "ui.technician.pages:ConsolePage",
    "provision": "ui.technician.provisioning:ProvisionPage",
    "devices": "ui.technician.devices:DevicesPage",
    "sync": "ui.technician.sync_page:SyncPage",
    "logs": "ui.technician.logs:LogsPage",
    "diagnostics": "ui.technician.diagnostics:DiagnosticsPage",
    "users": "ui.technician.users:UsersPage",
}


def technician_window(ctx: UiContext) -> KioskWindow:
    application().setStyleSheet(ctx.theme.stylesheet())
    return KioskWindow(ctx, TECHNICIAN_PAGES, "login", home_label="退出登录")
