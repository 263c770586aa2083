"""The agent workbench end to end on simulated devices: log-in and lock-out, proxy filing with the applicant's
signature and 容缺, the queue's buckets, 出件 and 补正 through a case's detail, the day's figures, and the idle
log-out that leaves nothing of anybody on screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from sqlalchemy import select

from kiosk_app.accounts import MAX_FAILURES, Operator, deactivate
from kiosk_app.applications.filing import Filed, MaterialFile, submit_application
from kiosk_app.applications.lifecycle import State
from kiosk_app.applications.queries import application_detail
from kiosk_app.demo import sample_form_values
from kiosk_app.evaluations import record_evaluation
from kiosk_app.identity.masking import mask_id_number, mask_name
from kiosk_app.station import Station
from local_db.models import Application, AuditEvent, Blob
from tests.accounts import AGENT_PIN, TECH_PIN, make_staff
from tests.conftest import make_person
from ui.agent.signature import SignaturePad
from ui.agent.tour import (
    CORRECTION_REASON,
    TO_CORRECTION,
    TO_RESULT_READY,
    choose_item,
    enter_credentials,
    platform_moves,
    press,
    sign,
    tick,
)
from ui.agent.window import agent_window
from ui.app import make_context
from ui.shell import KioskWindow
from ui.theme import Theme
from ui.tour import fill_form, on_page, visible_texts, wait_until

ITEM = "331123-MZ-0006"  # 低保边缘家庭认定: M03 申请书 (signed on screen), M04 and M05 on paper
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


@pytest.fixture
def staff(copied_station: Station) -> tuple[Operator, Operator]:
    return make_staff(copied_station.db)  # (technician "admin", agent "wangli" 王丽)


@pytest.fixture
def window(copied_station: Station, staff: tuple[Operator, Operator], qtbot: object) -> Iterator[KioskWindow]:
    settings = copied_station.settings
    settings.set("devices.id_reader", "sim://she")
    settings.set("devices.camera", "sim://a4?seed=5")
    settings.set("devices.receipt_printer", "sim://")
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    win = agent_window(ctx)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()
    ctx.devices.close()
    ctx.bridge.shutdown()
    # Deleted now, not "later": a window left alive is restyled by every later test's setStyleSheet and keeps
    # its application-wide event filter, which makes the tests after this file slower and slower.
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def text(window: KioskWindow, attribute: str) -> str:
    return str(getattr(window.current, attribute).text())


def log_in(window: KioskWindow, username: str = "wangli", pin: str = AGENT_PIN) -> None:
    enter_credentials(window, username, pin)
    on_page(window, "queue")
    wait_until(lambda: "件" in text(window, "status"))


def login_message(window: KioskWindow) -> str:
    wait_until(lambda: text(window, "message") not in ("", "正在核对……"))
    return text(window, "message")


def file_directly(station: Station, agent: Operator, **person: object) -> Filed:
    """A filing made without the screens (the queue and detail tests start from one)."""
    item = station.catalog.get(ITEM)
    context = station.filing_context(channel="agent", actor=agent.actor, agent_user_id=agent.user_id)
    return submit_application(station.db, station.catalog, context, item_code=ITEM,
                              identity=make_person(**person),  # type: ignore[arg-type]
                              form_values=sample_form_values(item), files=[MaterialFile("M03", JPEG, "image/jpeg"),
                                                                           MaterialFile("M04", JPEG, "image/jpeg")],
                              allow_missing=True)


def test_the_signature_pad_takes_a_finger_and_gives_a_png(qtbot: object) -> None:
    pad = SignaturePad()
    qtbot.addWidget(pad)  # type: ignore[attr-defined]
    pad.resize(600, 300)
    pad.show()
    assert pad.is_empty()
    finger = QTest.createTouchDevice()
    QTest.touchEvent(pad, finger).press(0, QPoint(50, 50), pad).commit()
    assert pad.is_empty()  # a tap is not a signature
    for x, y in ((150, 200), (250, 60), (350, 200)):
        QTest.touchEvent(pad, finger).move(0, QPoint(x, y), pad).commit()
    QTest.touchEvent(pad, finger).release(0, QPoint(350, 200), pad).commit()
    assert not pad.is_empty()
    image = QImage.fromData(pad.to_png())
    assert (image.width(), image.height()) == (1200, 600)  # drawn at twice the pad's size for the archive
    # (100, 125) lies on the first stroke; the corner stays paper-white
    assert image.pixelColor(200, 250).lightness() < 100 and image.pixelColor(1100, 550).lightness() > 240
    pad.clear()
    assert pad.is_empty()


def test_an_agent_logs_in_and_out(window: KioskWindow) -> None:
    log_in(window)
    assert window.ctx.operator is not None and window.ctx.operator.username == "wangli"
    assert "王丽" in text(window, "who") and not window.back_button.isVisible()
    press(window, "home")  # 退出登录
    on_page(window, "login")
    assert window.ctx.operator is None and window.home_button.text() == "退出登录"


def test_five_wrong_pins_lock_the_account_and_the_right_pin_is_refused_while_locked(window: KioskWindow) -> None:
    for attempt in range(MAX_FAILURES):
        enter_credentials(window, "wangli", "135790")
        message = login_message(window)
        if attempt < MAX_FAILURES - 1:
            assert "PIN 码不对" in message
    assert "已锁定" in message
    enter_credentials(window, "wangli", AGENT_PIN)
    assert "已锁定" in login_message(window)
    assert window.current.name == "login" and window.ctx.operator is None


def test_a_technician_cannot_use_the_agent_workbench(window: KioskWindow) -> None:
    enter_credentials(window, "admin", TECH_PIN)
    assert "技术人员" in login_message(window) and "不能在这里登录" in login_message(window)
    assert window.current.name == "login" and window.ctx.operator is None


def test_proxy_filing_with_signature_and_missing_papers_then_hand_over(
        window: KioskWindow, copied_station: Station, staff: tuple[Operator, Operator]) -> None:
    _, agent = staff
    log_in(window)
    press(window, "startProxy")
    on_page(window, "card")
    choose_item(window, "dbby", "低保边缘家庭认定")  # the applicant's card was read on the way
    press(window, "startFiling")
    on_page(window, "form")
    fill_form(window)
    press(window, "formNext")
    on_page(window, "scan")
    session = window.ctx.session
    press(window, "material_M04")
    wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
    press(window, "capture")
    wait_until(lambda: "M04" in session.captured)
    press(window, "scanSkip")
    on_page(window, "review")
    assert "低保边缘家庭认定申请书" in text(window, "summary")  # the signature will stand in for the form

    tick(window, "consentLetter", "consentPersonal", "consentSharing")
    press(window, "submit")
    wait_until(lambda: "签名" in text(window, "problem"))  # nothing signed yet
    sign(window)
    press(window, "submit")
    wait_until(lambda: "容缺" in text(window, "problem"))  # a paper is missing and 容缺 was not chosen
    tick(window, "allowMissing")
    press(window, "submit")
    on_page(window, "done")
    filed = session.filed
    assert filed is not None and filed.tracking_no == text(window, "number")
    assert filed.deferred == ("家庭收入情况声明（承诺书）",)
    wait_until(lambda: "回执已打印" in text(window, "printing"))
    press(window, "done_letter")
    wait_until(lambda: "PDF" in text(window, "result"))
    assert (copied_station.home / "printouts" / f"{filed.tracking_no}-授权委托书.pdf").read_bytes()[:5] == b"%PDF-"

    app = copied_station.db.read(lambda s: s.get(Application, filed.id))
    assert app is not None and app.channel == "agent" and app.agent_user_id == agent.user_id
    materials = copied_station.db.read(lambda s: {m.material_code: (m.source, m.blob_sha256)
                                                  for m in s.get(Application, filed.id).materials})  # type: ignore[union-attr]
    assert materials["M04"][0] == "file" and materials["M05"][0] == "deferred"
    signature = copied_station.db.read(lambda s: s.get(Blob, materials["M03"][1]))
    assert signature is not None and signature.media_type == "image/png"
    audit = copied_station.db.read(lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.signature", AuditEvent.subject_id == filed.id)))
    assert audit is not None and audit.actor == "agent:wangli"

    press(window, "backToQueue")
    on_page(window, "queue")
    assert window.ctx.session.empty
    assert window.pages["review"].pad.is_empty()  # type: ignore[attr-defined]  # no signature for the next one
    press(window, "bucket_pending_sync")
    wait_until(lambda: "待同步" in text(window, "status") and window.current.rows)  # type: ignore[attr-defined]
    assert [r.tracking_no for r in window.current.rows] == [filed.tracking_no]  # type: ignore[attr-defined]
    assert "待同步 1" in window.current.bucket_buttons["pending_sync"].text()  # type: ignore[attr-defined]

    platform_moves(copied_station, filed.id, TO_RESULT_READY)
    press(window, "bucket_result_ready")
    wait_until(lambda: "待出件" in text(window, "status") and window.current.rows)  # type: ignore[attr-defined]
    press(window, "open_0")
    on_page(window, "detail")
    press(window, "startHandover")
    name = application_detail(copied_station.db, filed.id, unmask=True)["applicant"]["name"]
    received = window.current.findChild(QLineEdit, "receivedBy")
    assert received is not None
    received.setText("王某某")  # 本人 must be the applicant: kiosk_app refuses, the screen says why
    tick(window, "idChecked")
    press(window, "confirmHandover")
    wait_until(lambda: "代领人" in text(window, "handover_message"))
    received.setText(name)
    press(window, "confirmHandover")
    wait_until(lambda: "已出件" in text(window, "notice"))
    assert copied_station.db.read(lambda s: s.get(Application, filed.id).state) == State.DELIVERED.value  # type: ignore[union-attr]
    assert name not in " ".join(visible_texts(window.current))  # the detail shows the receiver masked


def test_correction_is_resubmitted_from_the_case_detail(window: KioskWindow, copied_station: Station,
                                                        staff: tuple[Operator, Operator]) -> None:
    filed = file_directly(copied_station, staff[1])
    platform_moves(copied_station, filed.id, TO_CORRECTION, CORRECTION_REASON)
    log_in(window)
    press(window, "bucket_correction")
    wait_until(lambda: "待补正" in text(window, "status") and window.current.rows)  # type: ignore[attr-defined]
    assert window.current.rows[0].reason == CORRECTION_REASON  # type: ignore[attr-defined]
    assert any(CORRECTION_REASON in t for t in visible_texts(window.current))
    press(window, "open_0")
    on_page(window, "detail")
    wait_until(lambda: CORRECTION_REASON in text(window, "reason"))
    press(window, "startCorrection")
    on_page(window, "correction")
    press(window, "fix_M05")
    wait_until(lambda: window.current.seen is not None)  # type: ignore[attr-defined]
    press(window, "correctionCapture")
    wait_until(lambda: "M05" in window.current.replacements)  # type: ignore[attr-defined]
    press(window, "submitCorrection")
    on_page(window, "detail")
    wait_until(lambda: "第 2 版" in text(window, "notice") and "第 2 版" in text(window, "summary"))
    app = copied_station.db.read(lambda s: s.get(Application, filed.id))
    assert app is not None and app.version == 2 and app.state == State.SUBMITTED.value
    assert not app.deferred_materials  # the owed paper is now supplied
    press(window, "reprintReceipt")
    wait_until(lambda: "回执已补打" in text(window, "result"))
    press(window, "printForm")
    wait_until(lambda: "PDF" in text(window, "result"))
    assert (copied_station.home / "printouts" / f"{filed.tracking_no}-申请表.pdf").exists()


def test_the_day_figures_count_todays_filings(window: KioskWindow, copied_station: Station,
                                              staff: tuple[Operator, Operator]) -> None:
    filed = file_directly(copied_station, staff[1])
    file_directly(copied_station, staff[1], name="雷金土", seq=311)
    record_evaluation(copied_station.db, level=5, channel="agent", application_id=filed.id)
    log_in(window)
    press(window, "openFigures")
    on_page(window, "figures")
    wait_until(lambda: "今天" in text(window, "status"))
    assert text(window, "filed") == "2 件" and "代办 2" in text(window, "channels")
    assert text(window, "rating") == "100%" and window.current.by_item.bars == [  # type: ignore[attr-defined]
        ("低保边缘家庭认定", 2)]


def test_a_refusal_from_kiosk_app_is_shown_in_plain_words(window: KioskWindow, copied_station: Station,
                                                          staff: tuple[Operator, Operator]) -> None:
    log_in(window)
    deactivate(copied_station.db, "wangli", actor=staff[0])  # roles and accounts are checked on every job
    press(window, "refreshQueue")
    wait_until(lambda: "已停用" in text(window, "status"))


def test_walking_away_logs_the_agent_out_and_leaves_nothing_on_screen(
        window: KioskWindow, copied_station: Station, staff: tuple[Operator, Operator]) -> None:
    filed = file_directly(copied_station, staff[1])
    person = make_person()
    log_in(window)
    press(window, "open_0")
    on_page(window, "detail")
    wait_until(lambda: filed.tracking_no in text(window, "summary"))
    press(window, "back")
    on_page(window, "queue")
    press(window, "startProxy")
    choose_item(window, "dbby", "低保边缘家庭认定")
    press(window, "startFiling")
    on_page(window, "form")
    identity = window.ctx.session.identity
    assert identity is not None and identity.name in " ".join(visible_texts(window))

    window.pretend_idle(window.ctx.theme.idle_seconds - 5)
    assert window.overlay.isVisible()
    window.pretend_idle(window.ctx.theme.idle_seconds + 1)
    on_page(window, "login")
    assert window.ctx.operator is None and window.ctx.session.empty
    leftovers = " ".join(visible_texts(window))
    secrets = [filed.tracking_no, identity.name, identity.address, mask_name(identity.name),
               mask_id_number(identity.id_number), mask_name(person.name), mask_id_number(person.id_number), "王丽"]
    for secret in secrets:
        assert secret not in leftovers
    pin = window.current.findChild(QLineEdit, "pin")
    assert pin is not None and pin.text() == ""
