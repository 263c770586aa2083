"""`kiosk-platform`: back-office command line of the reference provincial platform.

The platform server, enrolment tokens and the department commands (`serve`, `token`, `apps list|advance`)
are built with the sync issue; this entry point exists now so packaging and installers have a stable name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__version__ = "0.1.0"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-platform", description="参考省级平台（开发、测试、演示、试点用）")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    build_parser().parse_args(argv)
    build_parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
