"""The one stylesheet, sized for touch: 1920x1080 landscape or 1080x1920 portrait, and an elderly mode (适老化)
with larger text, stronger contrast and slower timeouts. Sizes are set here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Orientation = Literal["landscape", "portrait"]

BRAND: Final = "#1456b8"  # Zhejiang government service blue
BRAND_DARK: Final = "#0b3d91"
OK: Final = "#1a7f37"
WARN: Final = "#b35900"
BAD: Final = "#b42318"
SYNC_ONLINE: Final = "#d8ffe0"  # the header's sync state, text and cloud icon alike
SYNC_OFFLINE: Final = "#ffe0b3"


@dataclass(frozen=True)
class Theme:
    orientation: Orientation = "landscape"
    elderly: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return (1920, 1080) if self.orientation == "landscape" else (1080, 1920)

    @property
    def body_pt(self) -> int:
        return 26 if self.elderly else 20

    @property
    def title_pt(self) -> int:
        return 40 if self.elderly else 32

    @property
    def tap_px(self) -> int:
        """Smallest height of anything a finger must hit (at least 60 px, more for older hands)."""
        return 96 if self.elderly else 72

    @property
    def tile_icon_px(self) -> int:
        """The picture on a big tile: large enough to recognise without reading the word under it."""
        return 96 if self.elderly else 72

    @property
    def button_icon_px(self) -> int:
        """An icon beside the text of a navigation button: well above the text's height, within the button's."""
        return 60 if self.elderly else 48

    @property
    def badge_icon_px(self) -> int:
        """The sync-state cloud in the header, a little taller than the header's text."""
        return 44 if self.elderly else 36

    @property
    def icon_color(self) -> str:
        """Icons on white take the buttons' text colour in elderly mode (the strongest contrast the theme
        has), the brand blue otherwise."""
        return BRAND_DARK if self.elderly else BRAND

    @property
    def idle_seconds(self) -> int:
        return 180 if self.elderly else 90

    @property
    def countdown_seconds(self) -> int:
        return 30 if self.elderly else 15

    @property
    def text(self) -> str:
        return "#000000" if self.elderly else "#1d2129"

    @property
    def muted(self) -> str:
        return "#303030" if self.elderly else "#5c6370"

    def stylesheet(self) -> str:
        body, title, tap, icon = self.body_pt, self.title_pt, self.tap_px, self.tile_icon_px
        border = 3 if self.elderly else 2
        return f"""
QWidget {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif;
          font-size: {body}pt; color: {self.text}; }}
QMainWindow, #page {{ background: #f4f7fb; }}
#header {{ background: {BRAND}; }}
#header QLabel {{ color: white; font-size: {body}pt; }}
#header #stationName {{ font-size: {body + 4}pt; font-weight: bold; }}
#syncBadge[online="true"] {{ color: {SYNC_ONLINE}; }}
#syncBadge[online="false"] {{ color: {SYNC_OFFLINE}; }}
#title {{ font-size: {title}pt; font-weight: bold; color: {BRAND_DARK}; }}
#subtitle {{ font-size: {body + 2}pt; color: {self.muted}; }}
#hint {{ font-size: {body}pt; color: {self.muted}; }}
#bigNumber {{ font-size: {title + 8}pt; font-weight: bold; color: {BRAND_DARK}; }}
#error {{ color: {BAD}; font-weight: bold; }}
#okText {{ color: {OK}; font-weight: bold; }}
#warnText {{ color: {WARN}; font-weight: bold; }}
QPushButton {{ min-height: {tap}px; padding: 8px 28px; border-radius: 12px; border: {border}px solid {BRAND};
              background: white; color: {BRAND_DARK}; font-size: {body + 2}pt; }}
QPushButton:pressed {{ background: #dbe7fb; }}
QPushButton:disabled {{ color: #8a8f98; border-color: #b8bec8; background: #eef0f3; }}
QPushButton[primary="true"] {{ background: {BRAND}; color: white; font-weight: bold; }}
QPushButton[primary="true"]:pressed {{ background: {BRAND_DARK}; }}
QPushButton[tile="true"] {{ min-height: {tap * 2}px; font-size: {title - 2}pt; font-weight: bold;
              border-radius: 20px; background: white;
              qproperty-iconSize: {icon}px {icon}px; qproperty-iconColor: {self.icon_color}; }}
QPushButton[key="true"] {{ min-height: {tap}px; min-width: {min(tap, 76)}px; padding: 0; font-size: {body + 4}pt; }}
QPushButton[choice="true"]:checked {{ background: {BRAND}; color: white; }}
QLineEdit, QComboBox, QSpinBox, QDateEdit {{ min-height: {tap}px; padding: 0 14px; border: {border}px solid #9aa4b2;
              border-radius: 10px; background: white; }}
QLineEdit:focus {{ border-color: {BRAND}; }}
QCheckBox {{ spacing: 16px; }}
QCheckBox::indicator {{ width: {tap // 2}px; height: {tap // 2}px; }}
QListWidget {{ border: none; background: transparent; }}
QListWidget::item {{ min-height: {tap}px; padding: 8px 16px; margin: 4px 0; background: white;
              border: 1px solid #d5dbe5; border-radius: 10px; }}
QListWidget::item:selected {{ background: #dbe7fb; color: {self.text}; }}
QScrollBar:vertical {{ width: 28px; }}
#card {{ background: white; border: 1px solid #d5dbe5; border-radius: 16px; }}
#overlay {{ background: rgba(0, 0, 0, 150); }}
#overlayBox {{ background: white; border-radius: 20px; }}
"""
