"""The technician's log-in: the shared staff log-in page, for the technician role, leading to the console. Kept
apart from the console so the window's first screen loads none of the sync or device machinery."""

from __future__ import annotations

from kiosk_app.accounts import Role
from ui.login import LoginPage


class TechnicianLoginPage(LoginPage):
    role = Role.TECHNICIAN
    next_page = "console"
