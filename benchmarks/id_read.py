"""Identity reads against their physical floors, both transports in one run.

Resident ID (GA 467 over serial): card present -> CardRecord through the pty emulator at 115200 8N1, against
the wire time of the bytes exchanged (10 bits per byte); target within 1.3x.
Social security card (PC/SC): one full read through pcscd and the virtual card, against the same APDU
sequence transmitted raw through pcscd.

Run from the repository root: `python -m benchmarks.id_read [reads]`. It starts its own pcscd when none runs.
"""

from __future__ import annotations

import sys

from benchmarks import id_read_pcsc, id_read_samv


def main(argv: list[str]) -> int:
    reads = argv[1] if len(argv) > 1 else "20"
    id_read_samv.main(["id_read_samv", reads])
    print()
    sys.argv = ["id_read_pcsc", reads]
    id_read_pcsc.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
