"""The icon set: every icon a screen names exists and paints in the colour asked for, unknown names fail plainly,
the tiles carry their pictures, and elderly mode repaints them bigger and darker."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QColor, QIcon, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QPushButton

from kiosk_app.station import Station
from ui.app import make_context, villager_window
from ui.icons import DISABLED_COLOR, ON_PRIMARY_COLOR, PLACEHOLDER, UnknownIcon, decorate, icon, names
from ui.shell import KioskWindow
from ui.technician.pages import SECTIONS
from ui.theme import BRAND, BRAND_DARK, Theme
from ui.tour import click
from ui.villager.choose import EVENT_ICONS, FALLBACK_EVENT_ICON
from ui.widgets import TileButton, button

HOME_TILES = {"tileFile": "file", "tileProgress": "progress", "tileAppointment": "appointment",
              "tileEvaluate": "evaluate", "tileConsult": "consult"}
# Every icon a screen asks for by name (the life events and technician sections come from the modules).
NAMED_BY_SCREENS = {*HOME_TILES.values(), "id_card", "call_staff", "cloud_online", "cloud_offline", "figures",
                    "filing", FALLBACK_EVENT_ICON, *EVENT_ICONS.values(), *(page for page, _text in SECTIONS)}


def painted(image: QImage, color: str) -> int:
    """How many fully opaque pixels of `image` are exactly `color`."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    pixels = np.frombuffer(rgba.constBits(), dtype=np.uint8)[: rgba.sizeInBytes()]
    pixels = pixels.reshape(rgba.height(), rgba.bytesPerLine())[:, : rgba.width() * 4].reshape(-1, 4)
    wanted = QColor(color)
    match = ((pixels[:, 0] == wanted.red()) & (pixels[:, 1] == wanted.green())
             & (pixels[:, 2] == wanted.blue()) & (pixels[:, 3] == 255))
    return int(match.sum())


def render(qicon: QIcon, px: int = 96, mode: QIcon.Mode = QIcon.Mode.Normal) -> QImage:
    return qicon.pixmap(QSize(px, px), mode).toImage()


@pytest.mark.parametrize("name", sorted(NAMED_BY_SCREENS))
def test_every_icon_a_screen_names_paints_in_the_colour_asked(qapp: QApplication, name: str) -> None:
    assert name in names()
    for color in (BRAND, BRAND_DARK, ON_PRIMARY_COLOR):
        image = render(icon(name, color))
        assert image.size() == QSize(96, 96)
        # Bold line art: a fair share of the square is solid stroke in exactly that colour.
        assert painted(image, color) > 96 * 96 // 25, (name, color)


def test_every_drawing_is_a_recolourable_48_px_svg() -> None:
    folder = resources.files("ui.icons")
    for name in names():
        text = folder.joinpath(f"{name}.svg").read_text(encoding="utf-8")
        assert 'viewBox="0 0 48 48"' in text, name
        assert PLACEHOLDER in text, name
        assert "<text" not in text, name  # words belong under the icon, in the UI's own font
        assert QSvgRenderer(QByteArray(text.encode())).isValid(), name


def test_unused_drawings_are_not_shipped() -> None:
    assert set(names()) == NAMED_BY_SCREENS


def test_every_life_event_of_the_bundled_catalogue_has_its_own_icon() -> None:
    data = resources.files("kiosk_app.catalog").joinpath("data/zhejiang_township.json").read_text(encoding="utf-8")
    events = {event for item in json.loads(data)["items"] for event in item.get("life_events", [])}
    assert events and events <= set(EVENT_ICONS)


def test_an_unknown_name_fails_with_a_plain_sentence(qapp: QApplication) -> None:
    with pytest.raises(KeyError) as caught:
        icon("no_such_icon", BRAND)
    assert isinstance(caught.value, UnknownIcon)
    assert str(caught.value).startswith("no icon named 'no_such_icon'")
    with pytest.raises(UnknownIcon):
        icon("../theme", BRAND)  # names are looked up, never used as paths
    with pytest.raises(UnknownIcon):
        TileButton("办事", "no_such_icon")  # a typo on a screen fails when the screen is built


def test_a_colour_that_is_not_one_is_refused(qapp: QApplication) -> None:
    with pytest.raises(ValueError, match="not a colour"):
        icon("file", "blue-ish")


def test_icons_are_cached_by_name_and_colour(qapp: QApplication) -> None:
    assert icon("file", "#1456B8").cacheKey() == icon("file", BRAND).cacheKey()
    assert icon("file", BRAND).cacheKey() != icon("file", BRAND_DARK).cacheKey()


def test_a_disabled_button_shows_its_icon_in_grey(qapp: QApplication) -> None:
    image = render(icon("figures", BRAND), mode=QIcon.Mode.Disabled)
    assert painted(image, DISABLED_COLOR) > 0
    assert painted(image, BRAND) == 0


def test_decorate_draws_white_on_a_primary_button(qapp: QApplication) -> None:
    theme = Theme()
    plain, primary = button("当日统计"), button("代办申请", primary=True)
    decorate(plain, "figures", theme)
    decorate(primary, "filing", theme)
    assert plain.iconSize() == QSize(theme.button_icon_px, theme.button_icon_px)
    assert painted(render(plain.icon()), theme.icon_color) > 0
    assert painted(render(primary.icon()), ON_PRIMARY_COLOR) > 0


def test_the_icons_are_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.svg" in pyproject["tool"]["setuptools"]["package-data"]["ui.icons"]


@pytest.fixture
def window(copied_station: Station, qtbot: object) -> Iterator[KioskWindow]:
    ctx = make_context(copied_station, Theme("landscape"), voice=False)
    win = villager_window(ctx)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()
    win.deleteLater()
    ctx.devices.close()
    ctx.bridge.shutdown()


def tile_icon(window: KioskWindow, name: str) -> tuple[QIcon, QSize]:
    tile = window.findChild(QPushButton, name)
    assert isinstance(tile, TileButton)
    return tile.icon(), tile.iconSize()


def test_home_tiles_carry_their_icons_and_elderly_mode_enlarges_and_darkens_them(window: KioskWindow) -> None:
    for name, drawing in HOME_TILES.items():
        qicon, size = tile_icon(window, name)
        assert not qicon.isNull(), name
        assert window.findChild(QPushButton, name).icon_name == drawing  # type: ignore[union-attr]
        assert size == QSize(72, 72)
        assert painted(render(qicon), BRAND) > 0
    click(window, "elderlyToggle")
    for name in HOME_TILES:
        qicon, size = tile_icon(window, name)
        assert size == QSize(96, 96), name
        assert painted(render(qicon), BRAND_DARK) > 0, name
        assert painted(render(qicon), BRAND) == 0, name


def test_the_header_shows_the_sync_state_as_a_cloud(window: KioskWindow) -> None:
    pixmap = window.sync_icon.pixmap()
    assert not pixmap.isNull()
    assert pixmap.width() == window.ctx.theme.badge_icon_px
