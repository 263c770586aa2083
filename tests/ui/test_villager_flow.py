"""The villager's self-service flow end to end on simulated devices: card, camera, printer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox
from sqlalchemy import select

from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.station import Station
from local_db.models import Application, Evaluation
from ui.app import make_context, villager_window
from ui.shell import KioskWindow
from ui.theme import Theme
from ui.tour import (
    click,
    file_by_initials,
    fill_form,
    on_page,
    scan_everything,
    visible_texts,
    wait_until,
)


@pytest.fixture
def window(copied_station: Station, qtbot: object) -> Iterator[KioskWindow]:
    settings = copied_station.settings
    settings.set("devices.id_reader", "sim://she")
    settings.set("devices.camera", "sim://a4?seed=5")
    settings.set("devices.receipt_printer", "sim://")
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    win = villager_window(ctx)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()
    win.deleteLater()  # closed windows would otherwise linger and be restyled by every later test
    ctx.devices.close()
    ctx.bridge.shutdown()


def file_and_submit(window: KioskWindow) -> None:
    """From home to the done page: card, search by initials, guide, form, both scans, consents, submit."""
    file_by_initials(window, "tk", "特困人员救助供养")
    click(window, "startFiling")
    on_page(window, "form")
    fill_form(window)
    click(window, "formNext")
    on_page(window, "scan")
    scan_everything(window)
    click(window, "scanNext")
    on_page(window, "review")
    for box in window.current.findChildren(QCheckBox):
        if box.isVisible():
            box.setChecked(True)
    click(window, "submit")
    on_page(window, "done")


def test_a_villager_files_scans_gets_a_receipt_and_rates(window: KioskWindow, copied_station: Station) -> None:
    file_and_submit(window)
    assert not window.back_button.isVisible()  # no way back to the submitted form
    filed = window.ctx.session.filed
    assert filed is not None and filed.tracking_no in visible_texts(window.current)
    wait_until(lambda: "回执已打印" in window.current.printing.text())  # type: ignore[attr-defined]
    click(window, "toEvaluate")
    on_page(window, "evaluate")
    click(window, "level_5")
    click(window, "sendEvaluation")
    on_page(window, "home", timeout_ms=10_000)

    app = copied_station.db.read(lambda s: s.scalar(select(Application)))
    assert app is not None and app.tracking_no == filed.tracking_no and app.channel == "kiosk"
    assert len([m for m in copied_station.db.read(lambda s: s.get(Application, app.id).materials)  # type: ignore[union-attr]
                if m.source == "file"]) == 2
    rating = copied_station.db.read(lambda s: s.scalar(select(Evaluation)))
    assert rating is not None and rating.level == 5 and rating.application_id == app.id


def test_idle_timeout_wipes_every_trace_of_the_person(window: KioskWindow) -> None:
    file_by_initials(window, "tk", "特困人员救助供养")
    identity = window.ctx.session.identity
    assert identity is not None
    click(window, "startFiling")
    on_page(window, "form")
    texts = " ".join(visible_texts(window))
    assert identity.name in texts or identity.address in texts  # the form shows what the card said
    window.pretend_idle(window.ctx.theme.idle_seconds - 5)
    assert window.overlay.isVisible() and "秒后将返回首页" in window.countdown_text.text()
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "home")
    assert window.ctx.session.empty
    leftovers = " ".join(visible_texts(window))
    secrets = [identity.name, identity.id_number, identity.address, mask_name(identity.name),
               mask_id_number(identity.id_number), identity.phone]
    for secret in filter(None, secrets):
        assert secret not in leftovers


def test_progress_query_shows_only_the_persons_own_applications(window: KioskWindow) -> None:
    click(window, "tileProgress")
    on_page(window, "progress")
    wait_until(lambda: "没有查到" in window.current.status.text())  # type: ignore[attr-defined]


def test_offline_filing_then_sync_updates_the_header(copied_station: Station, qtbot: object,
                                                     tmp_path: Path) -> None:
    from sync.server import back_office
    from sync.server.embedded import RunningPlatform
    from tests.sync.station_fixtures import enrol

    db_url, blobs = f"sqlite:///{tmp_path / 'platform.db'}", tmp_path / "platform-blobs"
    with RunningPlatform(db_url, blobs) as platform:
        enrol(copied_station, platform)
        port = platform.port
    settings = copied_station.settings  # the platform is gone: the station files offline
    settings.set("devices.id_reader", "sim://she")
    settings.set("devices.camera", "sim://a4?seed=5")
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    assert ctx.sync is not None
    window = villager_window(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    try:
        file_and_submit(window)
        assert not ctx.sync.sync_once().online
        window.refresh_sync_badge()
        wait_until(lambda: window.sync_badge.text().startswith("离线 · 待上报 3"))
        with RunningPlatform(db_url, blobs, port=port) as platform:
            assert ctx.sync.sync_once().online
            window.refresh_sync_badge()
            wait_until(lambda: window.sync_badge.text() == "在线 · 待上报 0")
            filed = ctx.session.filed
            assert filed is not None
            assert [a["tracking_no"] for a in back_office.list_apps(platform.store)] == [filed.tracking_no]
    finally:
        ctx.devices.close()
        ctx.bridge.shutdown()
