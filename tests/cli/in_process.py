"""``prepcast`` run inside the test's own process, for the tests whose point is a command's
arguments, messages, files and exit status rather than the process itself (signals, locks held
by another process, the interpreter's own exit): what ``python -m prepcast ARGS`` gives (exit
status, standard output, standard error, with logging configured as the command configures it)
without starting an interpreter and importing prepcast again, 0.15–0.5 s of CPU a command.

Commands that are a process on purpose (the night runner stopped by SIGTERM, a second runner
refused by the first one's lock, Ctrl-C, ``python -m prepcast`` itself) stay real processes.
"""

from __future__ import annotations

import io
import logging
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

from prepcast.cli import main


def prepcast(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``prepcast ARGS`` here with ``stdin`` as its standard input; the result has the
    exit status and both outputs, as ``subprocess.run(..., capture_output=True, text=True)``."""
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()  # so that main() sets logging up as in a new process: to this stderr
    saved_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    handlers_of = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}  # night run
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                status = main(list(args))
            except SystemExit as exc:  # argparse: --help, --version, a bad argument
                status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        for signum, handler in handlers_of.items():
            signal.signal(signum, handler)
        sys.stdin = saved_stdin
        root.handlers[:] = handlers
        root.setLevel(level)
    return subprocess.CompletedProcess(["prepcast", *args], status, out.getvalue(), err.getvalue())
