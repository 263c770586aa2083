"""Each quality check fires on a scene built to fail it, and none fires on a good scene."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from devices.simulators.synthetic_pages import render_scene
from kiosk_app.materials.detection import detect_page
from kiosk_app.materials.quality import QualityReport, assess
from kiosk_app.materials.rectify import warp


def report_for(kind: str = "a4", **params: Any) -> QualityReport:
    scene = render_scene(kind, **{"seed": 3, "size": (2048, 1536), **params})
    quad = detect_page(scene.image)
    assert quad is not None
    page = warp(scene.image, quad, "idcard" if kind.startswith("idcard") else "a4")
    return assess(page, quad, scene.image.shape)


@pytest.mark.parametrize("kind", ["a4", "idcard_front", "idcard_back"])
def test_good_scene_passes_every_check(kind: str) -> None:
    report = report_for(kind)
    assert report.ok, report.to_json()
    assert report.messages == []
    assert set(report.to_json()) == {"blur", "glare", "dark", "cut_off", "too_small"}


@pytest.mark.parametrize(("check", "params", "message"), [
    ("blur", {"blur_sigma": 6.0}, "照片模糊，请保持不动再拍一次"),
    ("glare", {"glare": 0.03}, "有反光，请调整灯光或纸张角度"),
    ("dark", {"darkness": 1.0}, "光线太暗，请打开补光灯"),
    ("cut_off", {"cut_off": True, "scale": 0.5}, "材料超出拍摄范围，请把材料完整放在框内"),
    ("too_small", {"scale": 0.1}, "材料太小，请把材料放在中间并靠近镜头"),
])
def test_each_check_fires_on_its_own_failure(check: str, params: dict[str, Any], message: str) -> None:
    report = report_for(**params)
    verdicts = report.to_json()
    assert verdicts[check]["ok"] is False, verdicts
    assert message in report.messages
    assert not report.ok


def test_blank_sheet_is_not_called_blurry() -> None:
    page = np.full((2339, 1654, 3), 235, np.uint8)
    quad = np.array([[100, 100], [900, 100], [900, 1200], [100, 1200]], np.float32)
    report = assess(page, quad, (1300, 1000, 3))
    assert report.to_json()["blur"]["ok"] is True
