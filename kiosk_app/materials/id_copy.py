"""身份证复印件: both sides of the card on one A4 page at true size, stamped with what the copy may be used for.

Stations write "仅供办理……使用" and the date across every copy so a copy handed over for one matter cannot be
reused for another (a loan, a SIM card). The stamp is repeated and crosses the card images themselves, since
a stamp on blank paper is simply cut off.
"""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
from PIL import Image, ImageDraw

from devices.printing.raster import cjk_font
from kiosk_app.errors import InvalidInput
from kiosk_app.materials.rectify import A4_PX, ID1_PX

CARD_GAP_PX = 160  # ~2 cm between the sides, as on a photocopier copy
TOP_MARGIN_PX = 300
WATERMARK_GREY = (110, 110, 110)
WATERMARK_ALPHA = 90  # of 255: readable, yet the card's text shows through
WATERMARK_ANGLE = 25.0
MAX_PURPOSE_CHARS = 30


def watermark_text(purpose: str, on: date) -> str:
    return f"仅供办理{purpose}使用 {on.year}年{on.month}月{on.day}日"


def compose_id_copy(front: np.ndarray, back: np.ndarray, *, purpose: str, on: date) -> np.ndarray:
    """A4 page (BGR, 1654x2339 at 200 dpi) with the card's front above its back, both at 85.6x54 mm."""
    purpose = purpose.strip()
    if not purpose:
        raise InvalidInput("请填写复印件的用途，例如“社保卡申领”。", field="purpose")
    if len(purpose) > MAX_PURPOSE_CHARS:
        raise InvalidInput(f"用途太长，请不超过 {MAX_PURPOSE_CHARS} 个字。", field="purpose")
    page_w, page_h = A4_PX
    card_w, card_h = ID1_PX
    page = np.full((page_h, page_w, 3), 255, dtype=np.uint8)
    x = (page_w - card_w) // 2
    for i, side in enumerate((front, back)):
        card = _as_card(side)
        y = TOP_MARGIN_PX + i * (card_h + CARD_GAP_PX)
        page[y: y + card_h, x: x + card_w] = card
    return _stamp(page, watermark_text(purpose, on))


def _as_card(side: np.ndarray) -> np.ndarray:
    """A rectified card side resized to exactly ID-1 at 200 dpi, turned landscape if it came in portrait."""
    if side.ndim == 2:
        side = cv2.cvtColor(side, cv2.COLOR_GRAY2BGR)
    if side.shape[0] > side.shape[1]:
        side = cv2.rotate(side, cv2.ROTATE_90_CLOCKWISE)
    card_w, card_h = ID1_PX
    interpolation = cv2.INTER_AREA if side.shape[1] > card_w else cv2.INTER_CUBIC
    return cv2.resize(side, (card_w, card_h), interpolation=interpolation)


def _stamp(page: np.ndarray, text: str) -> np.ndarray:
    """Repeat `text` diagonally over the whole page in semi-transparent grey."""
    h, w = page.shape[:2]
    font = cjk_font(44, False)
    # Draw on a canvas big enough that the rotated tiling still covers every corner of the page.
    side = int(np.hypot(w, h)) + 200
    layer = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    step_x, step_y = int(right - left) + 120, int(bottom - top) + 150
    for row, y in enumerate(range(0, side, step_y)):
        offset = (row % 2) * step_x // 2  # brick pattern, so no column of the card escapes the stamp
        for x in range(-step_x + offset, side, step_x):
            draw.text((x, y), text, font=font, fill=WATERMARK_ALPHA)
    rotated = layer.rotate(WATERMARK_ANGLE, resample=Image.Resampling.BILINEAR)
    cx, cy = (side - w) // 2, (side - h) // 2
    alpha = np.asarray(rotated.crop((cx, cy, cx + w, cy + h)), dtype=np.float32)[:, :, None] / 255.0
    grey = np.array(WATERMARK_GREY[::-1], dtype=np.float32).reshape(1, 1, 3)
    blended = page.astype(np.float32) * (1.0 - alpha) + grey * alpha
    stamped: np.ndarray = np.clip(blended, 0, 255).astype(np.uint8)
    return stamped
