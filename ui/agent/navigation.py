"""How the agent's screens hand over to each other, and the two checks every late answer from a worker needs."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QLabel

from ui.shell import Page, UiContext

QUEUE = "queue"
APPOINTMENTS = "appointments"  # 预约管理, opened from the work queue
# Pages of one proxy filing: what they show belongs to the applicant being served and is cleared between two.
FILING_PAGES = ("card", "services", "guide", "form", "scan", "review", "done")
BOOK_FOR = "appointment_for"  # 代约: who the appointment is for, then the villager's own booking steps
BOOKING_PAGES = (BOOK_FOR, "appointment_item", "appointment_day", "appointment_slot", "appointment_confirm",
                 "appointment_booked")


def still_here(page: Page) -> bool:
    """Whether an answer that arrives now may still be shown on `page`: the agent is logged in and the page is
    on screen. Work started before an idle log-out must not paint a case onto the log-in screen's window."""
    window = page.ctx.window
    return page.ctx.operator is not None and window is not None and window.current is page


def failure_text(exc: BaseException, fallback: str) -> str:
    """The plain sentence of an expected failure (KioskError, NotPermitted …), else `fallback`."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else fallback


def show_text(widget: QLabel, text: str) -> None:
    """Set a message label and show it only while it says something: an empty label still takes a line and
    the layout's spacing, which pushes the actions a finger needs below the fold."""
    widget.setText(text)
    widget.setVisible(bool(text))


def end_filing(ctx: UiContext) -> None:
    """Forget the applicant of a proxy filing, finished or abandoned: the session and every filing page (a
    signature left on the pad must never appear under the next applicant's case)."""
    _forget(ctx, FILING_PAGES)


def end_booking(ctx: UiContext) -> None:
    """Forget the villager of a 代约, booked or abandoned: the session and every booking page."""
    _forget(ctx, BOOKING_PAGES)


def _forget(ctx: UiContext, names: Iterable[str]) -> None:
    ctx.session.wipe()
    window = ctx.window
    if window is None:
        return
    for name in names:
        page = window.pages.get(name)  # pages not built yet hold nothing
        if page is not None:
            page.clear_personal_data()


def back_to_queue(ctx: UiContext) -> None:
    """Leave a filing for the work queue (which ends the filing): the agent stays logged in."""
    ctx.go(QUEUE)


def back_to_appointments(ctx: UiContext) -> None:
    """After a 代约: the day list, with only the work queue behind it (not the booking's steps)."""
    window = ctx.window
    assert window is not None
    window.history[:] = [QUEUE]
    window.show_page(APPOINTMENTS, remember=False)


def forget_history(ctx: UiContext) -> None:
    """The queue is the root of a logged-in session: nothing lies 'back' of it except logging out."""
    window = ctx.window
    if window is not None:
        window.history.clear()
        window.back_button.setVisible(False)
