"""Synthetic document-camera scenes with ground truth: a page (A4 form or ID-1 card) lying on a desk.

The page is rendered flat with Pillow and Noto CJK (so text, table lines and a red stamp look like a real
government form), warped into the scene with a known homography, then degraded the way real 高拍仪 frames
are: blur, glare from the LED, a hand's shadow, sensor noise, a finger holding the page, a curled edge,
under-exposure, a page sliding out of the frame. The four page corners are returned exactly, so the quad
detector can be measured, not eyeballed. All data on the pages is fictional and marked as a sample.

Corners are in OpenCV's pixel-centre convention (pixel (x, y) has its centre at integer coordinates) and mark
the page's outer edge, clockwise from the page's own top-left corner (where its title is).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SANS_FONT: Final = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SERIF_FONT: Final = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
_SC_INDEX: Final = 2  # Simplified Chinese face inside the Noto CJK collections

KINDS: Final = ("a4", "idcard_front", "idcard_back", "none")
BACKGROUNDS: Final = ("dark", "light", "wood")
A4_MM: Final = (210.0, 297.0)
ID1_MM: Final = (85.6, 54.0)
_PAGE_VARIANTS: Final = 8  # flat pages are cached per (kind, seed % 8): rendering text is the slow part

_SURNAMES: Final = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN: Final = ("建国", "秀英", "志强", "丽华", "海燕", "明", "芳", "小红", "国平", "春梅", "伟", "桂兰")
_TOWNS: Final = ("青山乡", "石门镇", "溪口乡", "白沙镇", "桃源乡", "梅林镇", "竹园乡", "云岭镇")
_BODY: Final = (
    "本人因家庭收入低于当地最低生活保障标准，现申请享受最低生活保障待遇。",
    "家庭成员共同生活，无固定收入来源，主要依靠务农维持基本生活。",
    "本人承诺所提供的家庭收入、财产等情况真实有效，如有虚假愿承担相应责任。",
    "同意有关部门调查核实本人及家庭成员的收入、财产和就业状况。",
    "申请材料包括身份证复印件、户口簿复印件及家庭收入证明各一份。",
    "村（居）民委员会已对申请人家庭情况进行入户调查并张榜公示。",
    "经民主评议，同意上报乡镇人民政府审核，请予审批为盼。",
    "以上情况属实，特此申请。（本表为测试样例，非真实申请材料）",
)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # BGR uint8, (height, width, 3)
    corners: np.ndarray  # (4, 2) float32, clockwise from the page's top-left; all NaN when kind == "none"
    kind: str  # "a4" | "idcard_front" | "idcard_back" | "none"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def has_page(self) -> bool:
        return self.kind != "none"


# ---------------------------------------------------------------------------------------------- flat pages


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_SC_INDEX)


def _fake_id_number(rng: random.Random) -> str:
    # Region 999999 does not exist, so the number can never belong to anyone.
    return f"999999{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _stamp(size: int, text: str, rng: random.Random) -> np.ndarray:
    """An ink-coverage mask (uint8, 0..255) of a round official stamp with text around the upper arc."""
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    c = size / 2
    ring = max(3, size // 28)
    draw.ellipse((ring, ring, size - ring, size - ring), outline=255, width=ring)
    star_r = size * 0.16
    pts = [
        (c + star_r * (1 if i % 2 == 0 else 0.4) * math.sin(i * math.pi / 5),
         c - star_r * (1 if i % 2 == 0 else 0.4) * math.cos(i * math.pi / 5))
        for i in range(10)
    ]
    draw.polygon(pts, fill=255)
    font = _font(SANS_FONT, int(size * 0.13))
    radius = size * 0.36
    span = math.radians(240)
    for i, ch in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)  # 0 = straight up, clockwise positive
        glyph = Image.new("L", (int(size * 0.18), int(size * 0.18)), 0)
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, fill=255, font=font, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BILINEAR)
        x = c + radius * math.sin(angle) - glyph.width / 2
        y = c - radius * math.cos(angle) - glyph.height / 2
        img.paste(255, (int(x), int(y)), glyph)
    mask = np.asarray(img, dtype=np.float32)
    # Real stamps print unevenly: knock out ink in blotches so the red is not a perfect vector shape.
    speckle = np.random.default_rng(rng.randint(0, 2**31)).uniform(0.55, 1.0, (size // 16 + 1, size // 16 + 1))
    mask *= cv2.resize(speckle.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(mask, 0, 255).astype(np.uint8)


def _apply_ink(page: np.ndarray, mask: np.ndarray, x: int, y: int, bgr: tuple[int, int, int]) -> None:
    """Multiply-blend coloured ink (mask = coverage) onto page at (x, y), like ink over printed paper."""
    h, w = mask.shape
    roi = page[y : y + h, x : x + w].astype(np.float32)
    a = (mask.astype(np.float32) / 255.0 * 0.85)[..., None]
    ink = np.array(bgr, dtype=np.float32) / 255.0
    page[y : y + h, x : x + w] = np.clip(roi * (1 - a + a * ink), 0, 255).astype(np.uint8)


def _render_a4(variant: int) -> np.ndarray:
    """An A4 application form at 200 dpi (1654 x 2339), BGR."""
    rng = random.Random(1000 + variant)
    w, h = 1654, 2339
    img = Image.new("RGB", (w, h), (250, 250, 246))
    d = ImageDraw.Draw(img)
    m = 150
    d.text((w / 2, 230), "最低生活保障申请书", fill=(15, 15, 15), font=_font(SERIF_FONT, 76), anchor="mm")
    d.text((w / 2, 320), "（样表 · 测试数据 · 非真实材料）", fill=(60, 60, 60), font=_font(SANS_FONT, 34), anchor="mm")
    name, town = _name(rng), rng.choice(_TOWNS)
    rows = [
        ("申请人姓名", name, "性别", rng.choice("男女")),
        ("公民身份号码", _fake_id_number(rng), "民族", "汉"),
        ("家庭住址", f"浙江省样例县{town}{rng.randint(1, 30)}号", "电话", f"1390000{rng.randint(0, 9999):04d}"),
        ("家庭人口", f"{rng.randint(1, 6)} 人", "月收入", f"{rng.randint(300, 1500)} 元"),
        ("开户银行", "样例农商银行", "账号", f"6200 0000 {rng.randint(0, 9999):04d}"),
    ]
    top, row_h = 420, 110
    cols = [m, m + 300, m + 880, m + 1070, w - m]
    f_cell = _font(SANS_FONT, 38)
    d.rectangle((m, top, w - m, top + row_h * len(rows)), outline=(20, 20, 20), width=5)
    for r, row in enumerate(rows):
        y = top + r * row_h
        if r:
            d.line((m, y, w - m, y), fill=(20, 20, 20), width=3)
        for c, text in enumerate(row):
            d.text((cols[c] + 18, y + row_h / 2), text, fill=(20, 20, 20), font=f_cell, anchor="lm")
    for x in cols[1:-1]:
        d.line((x, top, x, top + row_h * len(rows)), fill=(20, 20, 20), width=3)
    y = top + row_h * len(rows) + 90
    d.text((m, y), "申请理由：", fill=(15, 15, 15), font=_font(SERIF_FONT, 44))
    f_body = _font(SERIF_FONT, 40)
    lines = list(_BODY)
    rng.shuffle(lines)
    for line in lines[: rng.randint(6, 8)]:
        y += 86
        d.text((m + 80, y), line[:32], fill=(25, 25, 25), font=f_body)
        if len(line) > 32:
            y += 70
            d.text((m, y), line[32:], fill=(25, 25, 25), font=f_body)
    y = max(y + 150, 1850)
    d.text((m + 700, y), f"申请人（签字）：{name}", fill=(15, 15, 15), font=f_body)
    d.text((m + 700, y + 90), f"{rng.randint(2023, 2026)} 年 {rng.randint(1, 12)} 月 {rng.randint(1, 28)} 日",
           fill=(15, 15, 15), font=f_body)
    page = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    stamp = _stamp(420, f"样例县{town}人民政府（样章）", rng)
    stamp = cv2.warpAffine(stamp, cv2.getRotationMatrix2D((210, 210), rng.uniform(-25, 25), 1.0), (420, 420))
    _apply_ink(page, stamp, m + 820 + rng.randint(-40, 40), y - 200 + rng.randint(-30, 30), (40, 30, 205))
    return page


def _card_base(rng: random.Random) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A blank ID-1 card at 600 dpi (2022 x 1276): light blue-grey with a guilloche-like wave pattern."""
    w, h = 2022, 1276
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 6.28)
    wave = 0.5 + 0.5 * np.sin(xx / 37.0 + 6 * np.sin(yy / 151.0 + phase)) * np.cos(yy / 53.0)
    base = np.stack([212 + 14 * wave, 228 + 10 * wave, 236 + 8 * wave], axis=-1)  # RGB, pale blue-grey
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    return img, ImageDraw.Draw(img)


def _render_idcard_front(variant: int) -> np.ndarray:
    rng = random.Random(2000 + variant)
    img, d = _card_base(rng)
    label, value = _font(SANS_FONT, 62), _font(SERIF_FONT, 70)
    blue, ink = (60, 100, 150), (20, 20, 20)
    x0, x1 = 140, 360
    d.text((x0, 150), "姓名", fill=blue, font=label)
    d.text((x1, 145), _name(rng), fill=ink, font=value)
    d.text((x0, 290), "性别", fill=blue, font=label)
    d.text((x1, 285), rng.choice("男女"), fill=ink, font=value)
    d.text((x1 + 240, 290), "民族", fill=blue, font=label)
    d.text((x1 + 460, 285), "汉", fill=ink, font=value)
    d.text((x0, 430), "出生", fill=blue, font=label)
    year, month, day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    d.text((x1, 425), f"{year} 年 {month} 月 {day} 日", fill=ink, font=value)
    d.text((x0, 570), "住址", fill=blue, font=label)
    d.text((x1, 565), f"浙江省样例县{rng.choice(_TOWNS)}", fill=ink, font=value)
    d.text((x1, 665), f"样例村{rng.randint(1, 99)}号", fill=ink, font=value)
    d.text((x0, 1040), "公民身份号码", fill=blue, font=label)
    d.text((x0 + 470, 1030), _fake_id_number(rng), fill=ink, font=_font(SANS_FONT, 76))
    # Photo area: a grey head-and-shoulders silhouette, no face (no real person is ever depicted).
    px, py = 1380, 170
    d.rectangle((px, py, px + 500, py + 620), fill=(200, 206, 212))
    d.ellipse((px + 150, py + 110, px + 350, py + 350), fill=(120, 126, 134))
    d.pieslice((px + 40, py + 380, px + 460, py + 800), 180, 360, fill=(120, 126, 134))
    d.text((px + 250, py + 680), "样本", fill=(190, 60, 60), font=_font(SANS_FONT, 80), anchor="mm")
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def _render_idcard_back(variant: int) -> np.ndarray:
    rng = random.Random(3000 + variant)
    img, d = _card_base(rng)
    # A fake emblem: concentric red/gold circles with a star, deliberately not the national emblem.
    ex, ey, er = 300, 330, 190
    d.ellipse((ex - er, ey - er, ex + er, ey + er), fill=(200, 40, 40))
    d.ellipse((ex - er + 30, ey - er + 30, ex + er - 30, ey + er - 30), outline=(235, 190, 60), width=14)
    d.regular_polygon((ex, ey, 80), 5, fill=(235, 190, 60))
    d.text((640, 210), "中华人民共和国", fill=(30, 30, 30), font=_font(SERIF_FONT, 110))
    d.text((640, 400), "居民身份证（样本）", fill=(30, 30, 30), font=_font(SERIF_FONT, 130))
    label, value = _font(SANS_FONT, 62), _font(SERIF_FONT, 66)
    d.text((380, 880), "签发机关", fill=(30, 30, 30), font=label)
    d.text((700, 875), f"样例县公安局（测试{rng.randint(1, 99)}）", fill=(20, 20, 20), font=value)
    y0 = rng.randint(2015, 2024)
    d.text((380, 1030), "有效期限", fill=(30, 30, 30), font=label)
    d.text((700, 1025), f"{y0}.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}-{y0 + 20}.01.01",
           fill=(20, 20, 20), font=value)
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


_RENDERERS: Final = {"a4": _render_a4, "idcard_front": _render_idcard_front, "idcard_back": _render_idcard_back}


@functools.lru_cache(maxsize=3 * _PAGE_VARIANTS)
def flat_page(kind: str, variant: int) -> np.ndarray:
    """The flat (unwarped) page for `kind`, one of 8 variants. Cached: callers must not modify it."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown page kind {kind!r}; expected one of {sorted(_RENDERERS)}")
    page = _RENDERERS[kind](variant % _PAGE_VARIANTS)
    page.setflags(write=False)
    return page


# ---------------------------------------------------------------------------------------------- the scene


def _background(style: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A desk surface, built at 1/8 resolution and upscaled: it only needs low-frequency structure."""
    w, h = size
    sw, sh = max(8, w // 8), max(8, h // 8)
    if style == "wood":
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        grain = np.sin(yy / rng.uniform(2.0, 4.0) + 3 * np.sin(xx / rng.uniform(20, 60)) + rng.uniform(0, 6))
        tone = 0.75 + 0.12 * grain + 0.05 * rng.standard_normal((sh, sw)).astype(np.float32)
        small = np.stack([60 * tone, 105 * tone, 150 * tone], axis=-1)  # BGR brown
    else:
        base = rng.uniform(25, 55) if style == "dark" else rng.uniform(190, 225)
        tint = rng.uniform(-6, 6, 3)
        blotch = cv2.GaussianBlur(rng.standard_normal((sh, sw)).astype(np.float32), (0, 0), 6) * 40
        small = base + tint[None, None, :] + blotch[..., None]
    desk: np.ndarray = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    return desk


def _page_corners(
    aspect: float, size: tuple[int, int], rng: np.random.Generator, *, scale: float, rotation_deg: float,
    perspective: float, cut_off: bool,
) -> tuple[np.ndarray, float]:
    """Scene corners (TL, TR, BR, BL of the page) and the page-area fraction actually used."""
    w, h = size
    area = scale * w * h
    pw, ph = math.sqrt(area * aspect), math.sqrt(area / aspect)
    rect = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]], np.float64)
    # Keystone: a camera not quite above the page makes one side shorter; jitter each corner independently.
    rect += rng.uniform(-1, 1, (4, 2)) * perspective * 0.10 * np.array([pw, ph])
    t = math.radians(rotation_deg)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    pts = rect @ rot.T
    span = pts.max(axis=0) - pts.min(axis=0)
    fit = min(1.0, 0.94 * w / span[0], 0.94 * h / span[1])  # shrink until the page fits with a margin
    pts *= fit
    span *= fit
    lo, hi = -pts.min(axis=0), np.array([w, h]) - pts.max(axis=0)
    margin = 0.02 * np.array([w, h])  # a page laid on a 高拍仪 rarely touches the frame edge
    lo_m, hi_m = lo + margin, hi - margin
    centre = rng.uniform(np.minimum(lo_m, hi_m), np.maximum(lo_m, hi_m))
    if cut_off:
        # Slide the page off one side so that 15-35 % of its extent leaves the frame.
        axis, sign = int(rng.integers(0, 2)), 1 if rng.random() < 0.5 else -1
        out = span[axis] * rng.uniform(0.15, 0.35)
        centre[axis] = hi[axis] + out if sign > 0 else lo[axis] - out
    return (pts + centre).astype(np.float32) - 0.5, scale * fit * fit


def _round_card_corners(scene: np.ndarray, bg: np.ndarray, hom: np.ndarray, pw: int, ph: int) -> None:
    """ID-1 cards have 3.18 mm corner radii: put the desk back where the flat card's square corners were."""
    r = 3.18 / ID1_MM[0] * pw
    for cx, cy, a0 in ((r, r, 180), (pw - r, r, 270), (pw - r, ph - r, 0), (r, ph - r, 90)):
        corner = (0.0 if cx < pw / 2 else float(pw), 0.0 if cy < ph / 2 else float(ph))
        arc = [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a))) for a in range(a0, a0 + 91, 10)]
        poly = np.array([corner, *arc], np.float32).reshape(-1, 1, 2) - 0.5
        dst = cv2.perspectiveTransform(poly, hom).reshape(-1, 2)
        x0, y0 = np.floor(dst.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 3
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, scene.shape[1]), min(y1, scene.shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round((dst - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_8, shift=4)
        np.copyto(scene[y0:y1, x0:x1], bg[y0:y1, x0:x1], where=mask[..., None] > 0)


def _curl_edge(scene: np.ndarray, page: np.ndarray, hom: np.ndarray, amount: float, bottom: bool) -> None:
    """Bow the page's bottom (or top) edge outward and shade it, as a page that will not lie flat does."""
    ph, pw = page.shape[:2]
    band = 0.22 * ph
    lift = amount * 0.035 * ph
    v0 = ph - band if bottom else band
    outer = ph + lift if bottom else -lift
    quad = np.array([[0, v0], [pw, v0], [pw, outer], [0, outer]], np.float32).reshape(-1, 1, 2)
    dst = cv2.perspectiveTransform(quad, hom).reshape(-1, 2)
    x0, y0 = np.maximum(np.floor(dst.min(axis=0)).astype(int) - 2, 0)
    x1 = min(int(np.ceil(dst[:, 0].max())) + 3, scene.shape[1])
    y1 = min(int(np.ceil(dst[:, 1].max())) + 3, scene.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    grid = np.stack([xx, yy], -1).reshape(-1, 1, 2)
    pts = cv2.perspectiveTransform(grid, np.linalg.inv(hom)).reshape((*yy.shape, 2))
    u, v = pts[..., 0], pts[..., 1]
    depth = np.clip((v - v0) / band if bottom else (v0 - v) / band, 0, None)  # 0 at band start, ~1 at the edge
    bow = lift * np.sin(np.pi * np.clip(u / pw, 0, 1)) * depth**2
    v_src = v - bow if bottom else v + bow
    curled = scene[y0:y1, x0:x1].copy()
    cv2.remap(page, u, v_src, cv2.INTER_LINEAR, dst=curled, borderMode=cv2.BORDER_TRANSPARENT)
    shade = 1.0 - 0.25 * amount * np.clip(depth, 0, 1) ** 2
    inside = (v_src >= 0) & (v_src <= ph - 1) & (u >= 0) & (u <= pw - 1)
    curled = np.where(inside[..., None], curled * shade[..., None], curled)
    scene[y0:y1, x0:x1] = np.clip(curled, 0, 255).astype(np.uint8)


def _soft_shadow(scene: np.ndarray, centre: tuple[int, int], axes: tuple[int, int], angle: float) -> None:
    """Darken an ellipse to half brightness with a blurred edge (a finger's shadow under the lamp)."""
    h, w = scene.shape[:2]
    r = max(axes) + 20
    x0, y0, x1, y1 = max(centre[0] - r, 0), max(centre[1] - r, 0), min(centre[0] + r, w), min(centre[1] + r, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.ellipse(mask, (centre[0] - x0, centre[1] - y0), axes, angle, 0, 360, 0.5, -1, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, axes[1] * 0.3))
    roi = scene[y0:y1, x0:x1].astype(np.float32) * (1.0 - mask[..., None])
    scene[y0:y1, x0:x1] = roi.astype(np.uint8)


def _finger(scene: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> None:
    """One or two skin-coloured fingers reaching over a page edge from outside, as when holding it flat."""
    h, w = scene.shape[:2]
    edge = int(rng.integers(0, 4))
    a, b = corners[edge].astype(np.float64), corners[(edge + 1) % 4].astype(np.float64)
    centre = corners.mean(axis=0).astype(np.float64)
    diag = math.hypot(w, h)
    for _ in range(int(rng.integers(1, 3))):
        p = a + (b - a) * rng.uniform(0.25, 0.75)
        inward = centre - p
        inward /= np.linalg.norm(inward) + 1e-9
        length, width = diag * rng.uniform(0.12, 0.18), diag * rng.uniform(0.03, 0.04)
        tip = p + inward * rng.uniform(0.02, 0.05) * diag
        mid = tip - inward * length / 2
        angle = math.degrees(math.atan2(inward[1], inward[0]))
        skin = (int(rng.uniform(120, 150)), int(rng.uniform(155, 180)), int(rng.uniform(200, 230)))
        shadow_off = (inward[::-1] * [1, -1] * width * 0.25 + width * 0.15).astype(int)
        m = tuple(int(v) for v in mid)
        axes = (int(length / 2), int(width / 2))
        _soft_shadow(scene, (m[0] + int(shadow_off[0]), m[1] + int(shadow_off[1])), axes, angle)
        cv2.ellipse(scene, m, axes, angle, 0, 360, skin, -1, cv2.LINE_AA)
        highlight = tuple(min(255, c + 25) for c in skin)
        cv2.ellipse(scene, m, (axes[0], max(1, axes[1] // 3)), angle, 0, 360, highlight, -1, cv2.LINE_AA)
        nail = tip - inward * width * 0.6
        cv2.ellipse(scene, (int(nail[0]), int(nail[1])), (int(width * 0.4), int(width * 0.3)), angle, 0, 360,
                    tuple(min(255, c + 40) for c in skin), -1, cv2.LINE_AA)


def _lighting(size: tuple[int, int], rng: np.random.Generator, *, shadow: float, darkness: float) -> np.ndarray:
    """A per-pixel gain (0..1) at 1/8 resolution: LED vignetting, a soft-edged shadow, global under-exposure."""
    w, h = size
    sw, sh = max(8, w // 8), max(8, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    cx, cy = sw * rng.uniform(0.4, 0.6), sh * rng.uniform(0.4, 0.6)
    r2 = ((xx - cx) / sw) ** 2 + ((yy - cy) / sh) ** 2
    gain = 1.0 - 0.18 * r2  # the lamp is brightest under its head
    if shadow > 0:
        t = rng.uniform(0, 2 * math.pi)
        d = (xx - sw / 2) * math.cos(t) + (yy - sh / 2) * math.sin(t) - rng.uniform(-0.2, 0.2) * sw
        soft = 1 / (1 + np.exp(-d / (0.04 * sw)))  # a half-plane (an arm, the camera head) with a soft edge
        gain *= 1.0 - 0.6 * min(shadow, 1.0) * soft
    gain *= 1.0 - 0.7 * min(darkness, 1.0)
    out: np.ndarray = np.clip(gain, 0, 1).astype(np.float32)
    return out


def _glare(scene: np.ndarray, corners: np.ndarray, amount: float, rng: np.random.Generator) -> None:
    """A saturated specular blob over `amount` of the page area (the LED reflected in glossy paper/laminate)."""
    area = abs(cv2.contourArea(corners.astype(np.float32)))
    radius = math.sqrt(max(amount, 0.0) * area / math.pi)
    if radius < 2:
        return
    wts = rng.dirichlet([2, 2, 2, 2])
    c = (corners * wts[:, None]).sum(axis=0)
    r_out = int(radius * 1.8)
    x0, y0 = int(c[0]) - r_out, int(c[1]) - r_out
    size = 2 * r_out + 1
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - r_out
    d = np.sqrt((xx / 1.3) ** 2 + yy**2) / radius
    blob = np.clip(1.6 - d, 0, 1)  # saturated core out to ~0.6 r, falling off to 1.6 r
    h, w = scene.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
    if sx1 <= sx0 or sy1 <= sy0:
        return
    b = blob[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0][..., None]
    roi = scene[sy0:sy1, sx0:sx1].astype(np.float32)
    scene[sy0:sy1, sx0:sx1] = np.clip(roi + b * 300.0, 0, 255).astype(np.uint8)


_NOISE_PAD: Final = 64


@functools.lru_cache(maxsize=2)
def _noise_field(size: tuple[int, int]) -> np.ndarray:
    """Gaussian sensor noise (sigma 25, int16) a little larger than the frame, generated once per size."""
    grain = np.empty((size[1] + _NOISE_PAD, size[0] + _NOISE_PAD, 3), np.int16)
    cv2.setRNGSeed(12345)
    cv2.randn(grain, np.zeros(3), np.full(3, 25.0))
    grain.setflags(write=False)
    return grain


def render_scene(
    kind: str = "a4",
    *,
    seed: int = 0,
    size: tuple[int, int] = (3264, 2448),
    background: str = "dark",
    perspective: float = 0.0,
    rotation_deg: float = 0.0,
    scale: float = 0.5,
    blur_sigma: float = 0.0,
    glare: float = 0.0,
    shadow: float = 0.0,
    noise: float = 0.0,
    finger: bool = False,
    curl: float = 0.0,
    darkness: float = 0.0,
    cut_off: bool = False,
) -> Scene:
    """A camera-eye view (size = (width, height)) of one page on a desk, with ground-truth corners.

    Deterministic per argument set. `scale` is the page's share of the frame area (shrunk if the page would
    not fit); `perspective` 0..1 is keystone strength; `glare` is the glare blob's share of the page area;
    `shadow`, `noise`, `curl`, `darkness` are strengths 0..1.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; expected one of {KINDS}")
    # The desk depends on the seed only, not the kind, so "none" with the same seed is the same desk before a
    # page is laid on it (the simulator's empty_frames uses that to show a page arriving).
    desk_rng = np.random.default_rng([seed, 7919])
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    if background == "random":
        background = BACKGROUNDS[int(desk_rng.integers(0, len(BACKGROUNDS)))]
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; expected one of {(*BACKGROUNDS, 'random')}")
    params: dict[str, Any] = dict(
        seed=seed, size=size, background=background, perspective=perspective, rotation_deg=rotation_deg,
        scale=scale, blur_sigma=blur_sigma, glare=glare, shadow=shadow, noise=noise, finger=finger, curl=curl,
        darkness=darkness, cut_off=cut_off,
    )
    bg = _background(background, size, desk_rng)
    scene = bg.copy()
    corners = np.full((4, 2), np.nan, np.float32)
    if kind != "none":
        page = flat_page(kind, seed % _PAGE_VARIANTS)
        ph, pw = page.shape[:2]
        corners, params["scale"] = _page_corners(
            pw / ph, size, rng, scale=scale, rotation_deg=rotation_deg, perspective=perspective, cut_off=cut_off
        )
        shrink = math.sqrt(abs(cv2.contourArea(corners)) / (pw * ph))
        if shrink < 0.6:  # warpPerspective does not area-average: pre-shrink so small pages do not alias
            page = cv2.resize(page, (round(pw * shrink * 1.3), round(ph * shrink * 1.3)), interpolation=cv2.INTER_AREA)
            ph, pw = page.shape[:2]
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) - 0.5
        hom = cv2.getPerspectiveTransform(src, corners)
        # BORDER_TRANSPARENT composites for free: only pixels that map inside the page are written.
        cv2.warpPerspective(page, hom, size, dst=scene, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
        if kind.startswith("idcard"):
            _round_card_corners(scene, bg, hom, pw, ph)
        if curl > 0:
            _curl_edge(scene, page, hom, min(curl, 1.0), bottom=bool(rng.random() < 0.5))
        if finger:
            _finger(scene, corners, rng)
        if glare > 0:
            _glare(scene, corners, glare, rng)
    gain = cv2.resize(_lighting(size, rng, shadow=shadow, darkness=darkness), size, interpolation=cv2.INTER_LINEAR)
    gain8 = cv2.cvtColor(np.round(gain * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    scene = cv2.multiply(scene, gain8, scale=1 / 255)
    if blur_sigma > 0:
        scene = cv2.GaussianBlur(scene, (0, 0), blur_sigma)
    if noise > 0:
        # A random window of one cached noise field: drawing 24 M normals per frame would triple render time.
        field_ = _noise_field(size)
        dx, dy = (int(v) for v in rng.integers(0, _NOISE_PAD, 2))
        grain = field_[dy : dy + size[1], dx : dx + size[0]]
        scene = cv2.addWeighted(scene, 1.0, grain, min(noise, 1.0), 0, dtype=cv2.CV_8U)
    return Scene(image=scene, corners=corners, kind=kind, params=params)


def synthetic_set(
    n: int, seed: int = 0, kinds: Sequence[str] = ("a4", "a4", "idcard_front", "idcard_back"),
    size: tuple[int, int] = (3264, 2448),
) -> Iterator[Scene]:
    """`n` scenes with a realistic mix of conditions (mild perspective and rotation, both desk colours,
    some fingers, shadows, curls, blur, noise, light glare), for corner-accuracy tests and benchmarks."""
    for i in range(n):
        r = random.Random(seed * 1_000_003 + i)
        yield render_scene(
            kinds[i % len(kinds)],
            seed=seed * 1_000_003 + i,
            size=size,
            background=BACKGROUNDS[i % len(BACKGROUNDS)],
            perspective=r.uniform(0.0, 0.5),
            rotation_deg=r.uniform(-12, 12) + (180 if r.random() < 0.05 else 0),
            scale=r.uniform(0.3, 0.7),
            blur_sigma=r.uniform(0.5, 1.8) if r.random() < 0.2 else 0.0,
            glare=r.uniform(0.005, 0.03) if r.random() < 0.1 else 0.0,
            shadow=r.uniform(0.2, 0.6) if r.random() < 0.3 else 0.0,
            noise=r.uniform(0.05, 0.3) if r.random() < 0.3 else 0.0,
            finger=r.random() < 0.25,
            curl=r.uniform(0.3, 1.0) if r.random() < 0.2 else 0.0,
            darkness=r.uniform(0.2, 0.5) if r.random() < 0.15 else 0.0,
        )
