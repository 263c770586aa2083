"""身份证复印件: true scale on A4 and the usage stamp."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from devices.simulators.synthetic_pages import flat_page
from kiosk_app.errors import InvalidInput
from kiosk_app.materials.id_copy import compose_id_copy, watermark_text


def _card_box(page: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of everything that is not paper white or the light stamp."""
    ink = page.min(axis=2) < 200
    rows, cols = np.nonzero(ink)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def test_card_is_true_scale_on_a4() -> None:
    front = np.full((500, 800, 3), 40, np.uint8)  # dark stand-ins so the card's extent is unambiguous
    back = np.full((500, 800, 3), 60, np.uint8)
    page = compose_id_copy(front, back, purpose="社保卡申领", on=date(2026, 3, 5))
    assert page.shape == (2339, 1654, 3)
    x0, y0, x1, y1 = _card_box(page)
    card_width = x1 - x0 + 1
    assert abs(card_width / page.shape[1] - 85.6 / 210) < 0.01 * (85.6 / 210)
    # Front and back stacked: the inked height is two card heights plus the gap.
    assert y1 - y0 + 1 > 2 * 425
    assert abs((x0 + x1) / 2 - page.shape[1] / 2) <= 1  # centred


def test_watermark_is_present_over_the_card_and_the_paper() -> None:
    front, back = flat_page("idcard_front", 0), flat_page("idcard_back", 0)
    plain = compose_id_copy(front, back, purpose="低保申请", on=date(2026, 3, 5))
    margin = plain[2000:2300, 100:1500]  # below the cards: paper, only the stamp can be there
    grey = (margin.min(axis=2) < 250) & (margin.min(axis=2) > 100)
    assert 0.01 < grey.mean() < 0.5
    assert watermark_text("低保申请", date(2026, 3, 5)) == "仅供办理低保申请使用 2026年3月5日"


def test_purpose_is_required() -> None:
    card = np.zeros((425, 674, 3), np.uint8)
    with pytest.raises(InvalidInput):
        compose_id_copy(card, card, purpose="  ", on=date(2026, 1, 1))
