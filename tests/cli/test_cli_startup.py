"""`kiosk` builds its parser without loading the store, the camera stack, the sync client or Qt.

Every `kiosk` command, `kiosk run` above all, pays for what the command modules import at their top, so the
heavy libraries load in the handlers. Structural, not timed: it names what was loaded.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = ("import sys, kiosk_app.cli.main as m; m.build_parser(); "
         "print(sorted(k for k in sys.modules if k.split('.')[0] in "
         "{'sqlalchemy','numpy','cv2','PySide6','requests','cryptography','alembic'}))")


def test_building_the_parser_loads_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("argv", "value"), [(["apps", "list"], "in_review"), (["receipts", "jobs"], "failed")])
def test_choices_looked_up_later_still_check_values(argv: list[str], value: str) -> None:
    """`--state` takes its values from the store's enums on first use; it accepts them and refuses others."""
    from kiosk_app.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args([*argv, "--state", value]).state == value
    with pytest.raises(SystemExit) as refused:
        parser.parse_args([*argv, "--state", "bogus"])
    assert refused.value.code == 2
