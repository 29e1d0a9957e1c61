"""The ``prepcast`` command's entry point: Ctrl-C while the command line is still being imported
or its arguments parsed (the first fraction of a second, before a command's handler runs) says
"interrupted" too, never a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from prepcast.cli import main as run

        return run()
    except KeyboardInterrupt:
        print("prepcast: interrupted", file=sys.stderr)
        return 130
