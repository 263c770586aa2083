"""A reduced copy of the demo's screenshots for the repository's docs: `python -m ui.gallery SHOTS_DIR DOCS_DIR`.

Full-size screenshots come from `kiosk demo --headless` (demo-output/screens/); this writes quarter-size copies
to DOCS_DIR/screens/ and DOCS_DIR/screens.md listing them by role and variant, so the README can show every
screen without putting megabytes of PNG into the repository.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from PIL import Image

SCALE = 0.25
VARIANT_TITLES = {"landscape": "横屏 1920x1080", "portrait": "竖屏 1080x1920",
                  "landscape-elderly": "横屏 · 大字模式", "portrait-elderly": "竖屏 · 大字模式"}


def write_gallery(shots_dir: Path, docs_dir: Path) -> Path:
    out = docs_dir / "screens"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    groups: dict[str, list[str]] = defaultdict(list)
    for shot in sorted(shots_dir.glob("*.png")):
        with Image.open(shot) as image:
            small = image.resize((round(image.width * SCALE), round(image.height * SCALE)), Image.Resampling.LANCZOS)
            # 64 colours are plenty for flat UI colours and text, and keep the docs a few megabytes lighter.
            small.convert("RGB").quantize(colors=64).save(out / shot.name, optimize=True)
        role, _, rest = shot.stem.partition("-")  # names are ROLE-VARIANT-NN-page
        variant = next((v for v in sorted(VARIANT_TITLES, key=len, reverse=True) if rest.startswith(f"{v}-")), "")
        groups[f"{role}|{variant}"].append(shot.name)
    lines = ["# Screenshots", "",
             "Written by `kiosk demo --headless` (full size in `demo-output/screens/`), reduced to a quarter by",
             "`python -m ui.gallery demo-output/screens docs`. Every screen of every role, in landscape, portrait",
             "and elderly mode.", ""]
    for key in sorted(groups):
        role, variant = key.split("|")
        lines += [f"## {role} — {VARIANT_TITLES.get(variant, variant)}", ""]
        lines += [f"![{name}](screens/{name})" for name in groups[key]]
        lines.append("")
    page = docs_dir / "screens.md"
    page.write_text("\n".join(lines), encoding="utf-8")
    return page


if __name__ == "__main__":
    print(write_gallery(Path(sys.argv[1]), Path(sys.argv[2])))
