"""The window every role runs in: a header that always shows the station and the sync state, one stack of
pages, a footer with 返回 / 返回首页, and the idle timeout that wipes a villager's session.

Pages hold personal data only while on screen: `go_home()` wipes the session and asks every page to clear
its widgets, so nothing the last person showed the machine is left for the next one to see.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.self_service import SelfServiceSession
from ui.bridge import Bridge
from ui.icons import icon
from ui.speech import Voice
from ui.station_link import StationLink
from ui.theme import SYNC_OFFLINE, SYNC_ONLINE, Theme
from ui.widgets import Overlay, button, label

if TYPE_CHECKING:  # the store, accounts and sync (HTTP, crypto) load after the window is up
    from kiosk_app.accounts import Operator
    from kiosk_app.station import Station
    from kiosk_app.station_devices import StationDevices
    from kiosk_app.syncing.service import StationSync
    from sync.engine import SyncStatus

ACTIVITY_EVENTS = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress})
SYNC_REFRESH_MS = 5000


@dataclass
class UiContext:
    link: StationLink
    bridge: Bridge
    theme: Theme
    voice: Voice
    session: SelfServiceSession = field(default_factory=SelfServiceSession)
    window: KioskWindow | None = None
    intent: str = "file"  # what the card swipe is for: "file" (办事) or "progress" (查询进度)
    operator: Operator | None = None  # the logged-in agent or technician (None at a villager kiosk)
    channel: str = "kiosk"  # how filings made through these screens are recorded: kiosk | agent

    # The station opens behind the home screen: these wait for it the first time (see ui.station_link).
    @property
    def station(self) -> Station:
        return self.link.open().station

    @property
    def devices(self) -> StationDevices:
        return self.link.open().devices

    @property
    def sync(self) -> StationSync | None:
        return self.link.open().sync

    @sync.setter
    def sync(self, sync: StationSync | None) -> None:  # the technician has just enrolled the station
        self.link.open().sync = sync

    @property
    def station_name(self) -> str:
        return self.link.name

    def go(self, page: str) -> None:
        assert self.window is not None
        self.window.show_page(page)

    def home(self) -> None:
        assert self.window is not None
        self.window.go_home()


class Page(QWidget):
    """One screen. `prompt` is spoken on entry; pages that show personal data clear it in
    `clear_personal_data`, which the window calls on every wipe."""

    name = ""
    title = ""
    prompt = ""
    personal = False  # shows personal data: the idle timeout applies while it is on screen
    final = False  # a point of no return (after submitting): no way back to the steps before it

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.outer = QVBoxLayout(self)
        margin = 40 if ctx.theme.orientation == "portrait" else 64
        self.outer.setContentsMargins(margin, 32, margin, 24)
        self.outer.setSpacing(24)
        if self.title:
            self.outer.addWidget(label(self.title, "title"))
        self.footer_actions: list[QWidget] = []

    def side_by_side(self, left: QWidget, right: QWidget, *, weights: tuple[int, int] = (1, 1), spacing: int = 32,
                     stretch: int = 0) -> None:
        """Two parts of the page: side by side in landscape (widths by `weights`), one under the other in
        portrait. `stretch` is what the pair (stacked: the lower part) takes of the page's spare height."""
        if self.ctx.theme.orientation == "landscape":
            both = QWidget()
            columns = QHBoxLayout(both)
            columns.setContentsMargins(0, 0, 0, 0)
            columns.setSpacing(spacing)
            columns.addWidget(left, weights[0])
            columns.addWidget(right, weights[1])
            self.outer.addWidget(both, stretch)
        else:
            self.outer.addWidget(left)
            self.outer.addWidget(right, stretch)

    def footer_action(self, widget: QWidget) -> QWidget:
        """Put the page's way forward (下一步, 提交) in the window's footer, beside 返回首页: always on screen,
        however long the page scrolls in large elderly text."""
        self.footer_actions.append(widget)
        return widget

    def enter(self) -> None:
        """Called each time the page is shown."""

    def clear_personal_data(self) -> None:
        """Empty every widget that may hold something of the last person."""


class KioskWindow(QMainWindow):
    def __init__(self, ctx: UiContext, pages: Sequence[type[Page]] | Mapping[str, str], home: str, *,
                 show_footer: bool = True,
                 home_label: str = "返回首页") -> None:
        super().__init__()
        self.ctx = ctx
        ctx.window = self
        self.setWindowTitle(ctx.station_name)
        self.resize(*ctx.theme.size)
        self.pages: dict[str, Page] = {}
        self.home_name = home
        self.history: list[str] = []
        self.home_label = home_label
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.show_footer = show_footer
        self.footer = self._footer()
        self.footer.setVisible(show_footer)
        layout.addWidget(self.footer)
        self.setCentralWidget(root)
        self.frames: dict[str, QScrollArea] = {}
        # Pages are built the first time they are shown: start-up only pays for the home page (and its
        # imports), which is what a cold kiosk has to put on screen fast.
        # A mapping names each page's class as "module:Class", so even its module loads on first use.
        self.page_types: dict[str, type[Page] | str] = (
            dict(pages) if isinstance(pages, Mapping) else {page_type.name: page_type for page_type in pages})
        self.overlay = Overlay(root)
        self.countdown_text = label("", "subtitle", center=True)
        self.overlay.body.addWidget(label("您还在办理吗？", "title", center=True))
        self.overlay.body.addWidget(self.countdown_text)
        self.overlay.body.addWidget(button("继续办理", self.touch, primary=True, name="keepGoing"))
        self._last_activity = time.monotonic()
        self._idle = QTimer(self)
        self._idle.timeout.connect(self._check_idle)
        self._idle.start(1000)
        self._sync_timer = QTimer(self)
        self._sync_timer.timeout.connect(self.refresh_sync_badge)
        self._sync_timer.start(SYNC_REFRESH_MS)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.show_page(home, remember=False)
        self.refresh_sync_badge()

    # ---- frame ---------------------------------------------------------------------------------------------

    def _header(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("header")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(bar)
        row.setContentsMargins(32, 14, 32, 14)
        self.station_label = label(self.ctx.station_name, "stationName")
        self.sync_icon = label("", "syncIcon", wrap=False)  # a cloud with a tick or struck through
        self.sync_badge = label("", "syncBadge", wrap=False)
        self.clock = label(self._clock_text(), "clock", wrap=False)
        row.addWidget(self.station_label, 1)
        row.addWidget(self.sync_icon)
        row.addSpacing(8)
        row.addWidget(self.sync_badge)
        row.addSpacing(32)
        row.addWidget(self.clock)
        return bar

    def _clock_text(self) -> str:
        # A portrait header is narrow: the time alone keeps the station's name on one line.
        return datetime.now().strftime("%H:%M" if self.ctx.theme.orientation == "portrait" else "%Y-%m-%d %H:%M")

    def _footer(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(32, 12, 32, 20)
        self.back_button = button("‹ 返回上一步", self.back, name="back")
        self.home_button = button(self.home_label, self.go_home, name="home")
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.home_button)
        self.action_slot = QHBoxLayout()  # the shown page's footer actions, right of 返回首页
        self.action_slot.setSpacing(20)
        row.addSpacing(40)
        row.addLayout(self.action_slot)
        return bar

    # ---- navigation ----------------------------------------------------------------------------------------

    def page(self, name: str) -> Page:
        """The page called `name`, built on first use."""
        if name not in self.pages:
            page_type = self.page_types[name]
            if isinstance(page_type, str):
                module, _, cls = page_type.partition(":")
                page_type = getattr(importlib.import_module(module), cls)
                assert isinstance(page_type, type) and issubclass(page_type, Page)
            page = page_type(self.ctx)
            # Every page sits in a scroll area, so a long form or large elderly text scrolls instead of
            # pushing the window past the screen.
            frame = QScrollArea()
            frame.setWidgetResizable(True)
            frame.setFrameShape(QFrame.Shape.NoFrame)
            frame.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            frame.setWidget(page)
            self.pages[name] = page
            self.frames[name] = frame
            self.stack.addWidget(frame)
            for action in page.footer_actions:
                self.action_slot.addWidget(action)
                action.hide()
        return self.pages[name]

    def preload(self) -> None:
        """Get every page ready before anyone asks for it: the modules are imported on a worker (the scan page
        brings OpenCV and numpy: a quarter of a second), then the pages are built on the GUI thread one per turn
        of the event loop (a page with many styled widgets takes up to 100 ms to build), so that a first visit
        only shows a page instead of importing and building it while the person waits."""
        modules = sorted({kind.partition(":")[0] for kind in self.page_types.values() if isinstance(kind, str)})
        devices = self.ctx.devices

        def load() -> None:
            for module in modules:
                importlib.import_module(module)
            devices.prepare()

        self.ctx.bridge.run(load, lambda _done: self._build_next([n for n in self.page_types if n not in self.pages]))

    @property
    def preloaded(self) -> bool:
        return all(name in self.pages for name in self.page_types)

    def _build_next(self, names: list[str]) -> None:
        while names and names[0] in self.pages:
            names.pop(0)
        if names:
            self.page(names.pop(0))
            QTimer.singleShot(0, lambda: self._build_next(names))

    @property
    def current(self) -> Page:
        frame = self.stack.currentWidget()
        assert isinstance(frame, QScrollArea)
        page = frame.widget()
        assert isinstance(page, Page)
        return page

    def show_page(self, name: str, *, remember: bool = True) -> None:
        page = self.page(name)
        if page.final:
            self.history.clear()
        elif remember and self.stack.currentWidget() is not None and self.current is not page:
            self.history.append(self.current.name)
        self.stack.setCurrentWidget(self.frames[name])
        self.show_actions_of(page)
        at_home = name == self.home_name
        self.back_button.setVisible(bool(self.history) and not at_home)
        self.home_button.setVisible(not at_home)
        self.overlay.hide()
        page.enter()
        if page.prompt:
            self.ctx.voice.say(page.prompt)
        self.refresh_sync_badge()  # a filing or a sync may have just changed it

    def show_actions_of(self, page: Page) -> None:
        """The footer shows `page`'s actions and no other page's."""
        for other in self.pages.values():
            for action in other.footer_actions:
                action.setVisible(other is page)
        self.footer.setVisible(self.show_footer or bool(page.footer_actions))

    def back(self) -> None:
        if self.history:
            self.show_page(self.history.pop(), remember=False)

    def go_home(self) -> None:
        """Wipe the session and every page's personal data, then show the home page (for staff windows the
        log-in page: leaving, or walking away from the screen, logs the operator out)."""
        self.ctx.session.wipe()
        self.ctx.operator = None
        for page in self.pages.values():
            page.clear_personal_data()
        self.history.clear()
        self.show_page(self.home_name, remember=False)

    def set_elderly(self, elderly: bool) -> None:
        """Switch 适老化 on or off: larger text, stronger contrast, longer timeouts, for this session."""
        self.ctx.theme = replace(self.ctx.theme, elderly=elderly)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(self.ctx.theme.stylesheet())
        self.ctx.voice.say("已切换为大字模式。" if elderly else "已切换为标准字号。")
        toggle = self.findChild(QPushButton, "elderlyToggle")
        if toggle is not None:
            toggle.setText("标准字号" if elderly else "大字模式（适老化）")

    # ---- idle timeout --------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS:
            self._last_activity = time.monotonic()
        return False

    def touch(self) -> None:
        self._last_activity = time.monotonic()
        self.overlay.hide()

    def idle_seconds(self) -> float:
        return time.monotonic() - self._last_activity

    def pretend_idle(self, seconds: float) -> None:
        """Tests and the headless demo: act as if nobody touched the screen for `seconds`."""
        self._last_activity = time.monotonic() - seconds
        self._check_idle()

    def _check_idle(self) -> None:
        self.clock.setText(self._clock_text())
        if not self.current.personal and self.ctx.session.empty:
            self.overlay.hide()
            return
        theme = self.ctx.theme
        left = theme.idle_seconds - self.idle_seconds()
        if left <= 0:
            self.go_home()
        elif left <= theme.countdown_seconds:
            leaving = "自动退出登录" if self.home_name == "login" else "返回首页，并清除您刚才的信息"
            self.countdown_text.setText(f"{int(left) + 1} 秒后将{leaving}。")
            if not self.overlay.isVisible():
                self.overlay.cover()
                self.ctx.voice.say("您还在办理吗？如需继续，请点击继续办理。")
        else:
            self.overlay.hide()

    # ---- sync state ----------------------------------------------------------------------------------------

    def refresh_sync_badge(self) -> None:
        if not self.ctx.link.ready:
            self.sync_badge.setText("正在启动……")
            return
        sync = self.ctx.sync
        if sync is None:
            self.sync_badge.setText("离线模式")
            self._show_sync_icon(False)
            return
        self.ctx.bridge.run(sync.status, self._show_sync, self._sync_unknown)

    def _sync_unknown(self, _exc: BaseException) -> None:
        self.sync_badge.setText("同步状态未知")
        self._show_sync_icon(False)  # not known to be online is, for the person at the screen, offline

    def _show_sync_icon(self, online: bool) -> None:
        # Shape as well as colour tells the state apart: a tick or a stroke through the cloud.
        px = self.ctx.theme.badge_icon_px
        cloud = icon("cloud_online", SYNC_ONLINE) if online else icon("cloud_offline", SYNC_OFFLINE)
        self.sync_icon.setPixmap(cloud.pixmap(QSize(px, px), self.devicePixelRatioF()))

    def _show_sync(self, status: SyncStatus) -> None:
        if not status.provisioned:
            text, online = "未开通平台", False
        else:
            online = bool(status.online)
            text = f"{'在线' if online else '离线'} · 待上报 {status.queue.pending}"
        self.sync_badge.setText(text)
        self._show_sync_icon(online)
        self.sync_badge.setProperty("online", "true" if online else "false")
        self.sync_badge.style().unpolish(self.sync_badge)
        self.sync_badge.style().polish(self.sync_badge)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._idle.stop()
        self._sync_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.go_home()  # nothing personal survives in widgets of a closed window either
        super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.cover()
