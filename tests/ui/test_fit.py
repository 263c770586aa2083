"""Every page of every role fits its screen in every variant: the footer (返回, 返回首页 and the page's way
forward) and the page's own minimum width stay within 1920 or 1080 px, in standard and large text. A page wider
than the screen is cut off (pages scroll only up and down), and a footer wider than the screen widens the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication

from kiosk_app.station import Station
from ui.app import make_context, role_window
from ui.screens_demo import VARIANTS, dispose, use_simulators
from ui.theme import Theme


@pytest.mark.parametrize("role", ["villager", "agent", "technician"])
def test_every_page_fits_the_screen(qapp: object, copied_station: Station, role: str) -> None:
    use_simulators(copied_station)
    too_wide: list[str] = []
    for variant, theme in VARIANTS:
        ctx = make_context(copied_station, theme, voice=False)
        window = role_window(ctx, role)
        window.resize(*theme.size)
        window.show()
        try:
            too_wide += overflowing_pages(window, theme, f"{role}-{variant}")
        finally:
            window.close()
            ctx.devices.close()
            ctx.bridge.shutdown()
            dispose(window)
    assert not too_wide


def overflowing_pages(window: object, theme: Theme, label: str) -> list[str]:
    from ui.shell import KioskWindow

    assert isinstance(window, KioskWindow)
    width = theme.size[0]
    found = []
    for name in list(window.page_types):
        page = window.page(name)
        window.stack.setCurrentWidget(window.frames[name])
        window.show_actions_of(page)
        away = name != window.home_name  # as after arriving by steps: 返回上一步 and 返回首页 both shown
        window.back_button.setVisible(away)
        window.home_button.setVisible(away)
        QCoreApplication.processEvents()
        footer, body = window.footer.minimumSizeHint().width(), page.minimumSizeHint().width()
        if footer > width or body > width:
            found.append(f"{label}/{name}: footer {footer} px, page {body} px > {width} px")
    return found
