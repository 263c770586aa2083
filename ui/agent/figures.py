"""The day's figures (当日统计): what was filed, by item and by state, how much needed no trip, and how people
rated the service, drawn as horizontal bar charts so long Chinese item names stay readable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QSizePolicy, QWidget

from kiosk_app.evaluations import LEVELS
from kiosk_app.figures import DayFigures, day_figures
from ui.agent.navigation import failure_text, still_here
from ui.shell import Page, UiContext
from ui.theme import BRAND
from ui.widgets import button, card, label, row

CHANNEL_LABELS = {"kiosk": "自助终端", "agent": "代办"}


class BarChart(QWidget):
    """Labelled horizontal bars with their counts; the longest bar spans the room left for bars. `stacked` puts
    each label on its own line above its bar, for long labels (item names) in a narrow chart."""

    BAR_PX = 26
    GAP_PX = 6

    def __init__(self, color: str = BRAND, *, stacked: bool = False) -> None:
        super().__init__()
        self.color = QColor(color)
        self.stacked = stacked
        self.bars: list[tuple[str, int]] = []
        self.empty_text = "暂无数据"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_bars(self, bars: Sequence[tuple[str, int]]) -> None:
        self.bars = list(bars)
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def _row_px(self) -> int:
        text = self.fontMetrics().height()
        return text + self.BAR_PX + 4 if self.stacked else max(text, self.BAR_PX) + 4

    def sizeHint(self) -> QSize:
        return QSize(600, max(1, len(self.bars)) * (self._row_px() + self.GAP_PX))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        ink = QColor("#1d2129")
        if not self.bars:
            painter.setPen(QColor("#5c6370"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.empty_text)
            painter.end()
            return
        width, row_px, text_px = self.width(), self._row_px(), metrics.height()
        count_px = metrics.horizontalAdvance("0000") + 16
        widest = max(metrics.horizontalAdvance(text) for text, _ in self.bars) + 16
        label_px = 0 if self.stacked else min(int(width * 0.42), widest)
        room = max(10, width - label_px - count_px)
        top = max(count for _, count in self.bars) or 1
        for i, (text, count) in enumerate(self.bars):
            y = i * (row_px + self.GAP_PX)
            painter.setPen(ink)
            if self.stacked:
                shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
                painter.drawText(QRectF(0, y, width, text_px), Qt.AlignmentFlag.AlignLeft, shown)
                bar_top = y + text_px + 2
            else:
                shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, label_px - 16)
                painter.drawText(QRectF(0, y, label_px - 16, row_px),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
                bar_top = y + (row_px - self.BAR_PX) // 2
            # A zero still gets a sliver, so "nobody" reads differently from a missing row.
            bar = QRectF(label_px, bar_top, max(4.0, room * count / top), self.BAR_PX)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.color if count else QColor("#d5dbe5"))
            painter.drawRoundedRect(bar, 6, 6)
            painter.setPen(ink)
            painter.drawText(QRectF(bar.right() + 10, bar_top - 10, count_px, self.BAR_PX + 20),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, str(count))
        painter.end()


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


class FiguresPage(Page):
    name = "figures"
    title = "当日统计"
    personal = True  # the agent is logged in here: walking away must log them out

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        landscape = ctx.theme.orientation == "landscape"
        self.status = label("", "hint")
        # Four key numbers as tiles: a big figure and what it means underneath.
        self.filed, self.channels = label("", "bigNumber"), label("", "hint")
        self.zero_visit, self.zero_visit_note = label("", "bigNumber"), label("", "hint")
        self.rating, self.rating_note = label("", "bigNumber"), label("", "hint")
        self.sync, self.sync_note = label("", "bigNumber"), label("", "hint")
        tiles = [card(label(title, "subtitle"), number, note, spacing=4) for title, number, note in (
            ("今日受理", self.filed, self.channels), ("零跑腿占比", self.zero_visit, self.zero_visit_note),
            ("满意率", self.rating, self.rating_note), ("待上报平台", self.sync, self.sync_note))]
        self.by_item = BarChart(stacked=True)
        self.by_state = BarChart("#2f7d6d")
        self.by_level = BarChart("#b35900")
        charts = [card(label(title, "subtitle"), chart, spacing=8) for title, chart in
                  (("按事项", self.by_item), ("按状态", self.by_state), ("好差评", self.by_level))]
        self.outer.addWidget(row(self.status, button("刷新", self.enter, name="refreshFigures"), stretch_first=True))
        self.outer.addWidget(self._grid(tiles, 4 if landscape else 2))
        # Side by side where the screen is wide, stacked where it is tall.
        self.outer.addWidget(self._grid(charts, 3 if landscape else 1))
        self.outer.addStretch(1)

    @staticmethod
    def _grid(cards: list[QFrame], columns: int) -> QWidget:
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(20)
        for i, item in enumerate(cards):
            grid.addWidget(item, i // columns, i % columns, Qt.AlignmentFlag.AlignTop)
        for column in range(columns):
            grid.setColumnStretch(column, 1)
        return holder

    def enter(self) -> None:
        self.status.setText("正在统计……")
        db, operator, today = self.ctx.station.db, self.ctx.operator, date.today()
        self.ctx.bridge.run(lambda: day_figures(db, operator, today), self._show, self._failed)

    def _show(self, figures: DayFigures) -> None:
        if not still_here(self):
            return
        self.status.setText(f"{figures.day:%Y年%m月%d日}（今天）")
        self.filed.setText(f"{figures.filed} 件")
        self.channels.setText(" · ".join(f"{CHANNEL_LABELS.get(k, k)} {n}" for k, n in figures.by_channel.items()))
        self.zero_visit.setText(_percent(figures.zero_visit_share))
        self.zero_visit_note.setText(f"不用跑腿的事项 {figures.zero_visit} 件")
        self.rating.setText(_percent(figures.satisfaction_rate))
        self.rating_note.setText(f"评价 {figures.evaluations} 次（满意及以上）")
        self.sync.setText(f"{figures.pending_sync} 项")
        self.sync_note.setText(f"上报受阻 {figures.quarantined_sync} 项，请联系技术人员" if figures.quarantined_sync
                               else "联网后自动上报")
        self.by_item.set_bars([(c.item_name, c.count) for c in figures.by_item])
        self.by_state.set_bars([(c.label, c.count) for c in figures.by_state])
        self.by_level.set_bars([(LEVELS[level], n) for level, n in sorted(figures.evaluations_by_level.items(),
                                                                        reverse=True)])

    def _failed(self, exc: BaseException) -> None:
        if still_here(self):
            self.status.setText(failure_text(exc, "统计没有完成，请稍后再试。"))

    def clear_personal_data(self) -> None:
        for widget in (self.status, self.filed, self.channels, self.zero_visit, self.zero_visit_note, self.rating,
                       self.rating_note, self.sync, self.sync_note):
            widget.setText("")
        for chart in (self.by_item, self.by_state, self.by_level):
            chart.set_bars([])
