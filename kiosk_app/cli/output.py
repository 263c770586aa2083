"""Printing command results: JSON for tools (`--json`), short Chinese text for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def emit(as_json: bool, data: Any, human: Callable[[], str]) -> None:
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human().rstrip("\n") + "\n")


def table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded by display width (CJK characters take two cells in a terminal)."""
    all_rows = [header, *rows]
    widths = [max(_width(r[i]) for r in all_rows) for i in range(len(header))]
    lines = ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in all_rows]
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
