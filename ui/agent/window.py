"""The agent workbench window (代办员工作台): log-in, work queue, case detail with 出件 and 补正, proxy filing on
the villager's own pages plus the agent's review and signature, and the day's figures.

Leaving (退出登录) or walking away logs the agent out: the window's home is the log-in page, and going home wipes
the applicant's session and every page, as at the kiosk.
"""

from __future__ import annotations

from ui.agent.appointment_booking import BookForPage
from ui.agent.appointments import AppointmentsPage
from ui.agent.correction import CorrectionPage
from ui.agent.detail import DetailPage
from ui.agent.figures import FiguresPage
from ui.agent.filing import AgentCardPage, AgentDonePage, AgentReviewPage, AgentScanPage
from ui.agent.pages import AgentLoginPage, QueuePage
from ui.app import application
from ui.shell import KioskWindow, Page, UiContext
from ui.villager.appointment import BookedPage, ChooseDayPage, ChooseItemPage, ChooseSlotPage, ConfirmPage
from ui.villager.choose import GuidePage, ServicePage
from ui.villager.form import FormPage

# The villager's pages keep their names ("services", "guide", "form", "scan", "review", "done"), so their own
# navigation lands on the agent's versions of scan, review and done. 代约 starts on the agent's page of who the
# booking is for, which then hosts the villager's own booking steps (item, day, slot, confirm, booked).
AGENT_PAGES: list[type[Page]] = [AgentLoginPage, QueuePage, DetailPage, CorrectionPage, AgentCardPage, ServicePage,
                                 GuidePage, FormPage, AgentScanPage, AgentReviewPage, AgentDonePage, FiguresPage,
                                 AppointmentsPage, BookForPage, ChooseItemPage, ChooseDayPage, ChooseSlotPage,
                                 ConfirmPage, BookedPage]


def agent_window(ctx: UiContext) -> KioskWindow:
    ctx.channel = "agent"
    application().setStyleSheet(ctx.theme.stylesheet())
    return KioskWindow(ctx, AGENT_PAGES, AgentLoginPage.name, home_label="退出登录")
