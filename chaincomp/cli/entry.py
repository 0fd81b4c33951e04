"""Console-script entry point (``chaincomp`` and ``python -m chaincomp.cli``).

Deliberately light: it installs the signal handlers (:mod:`chaincomp.interrupts`) *before* the
command modules and their heavy dependencies (numpy, numba, rich) are imported, so Ctrl-C or
SIGTERM during start-up ends the process with one line instead of a traceback.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    from chaincomp import interrupts

    interrupts.install()
    try:
        from chaincomp.cli.app import main as app_main
    except KeyboardInterrupt:
        os.write(2, b"chaincomp: interrupted\n")
        sys.exit(130)
    app_main(argv)
