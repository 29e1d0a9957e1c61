"""Ctrl-C during ``prepcast report``: "interrupted", exit 130, whenever the signal comes.

DuckDB turns SIGINT during a query into ``RuntimeError("Query interrupted")``; that used to
reach the user as a traceback with exit 1.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from prepcast.analytics import _db


def test_an_interrupted_query_is_a_keyboard_interrupt() -> None:
    con = _db.connect()
    done = threading.Event()

    def interrupt() -> None:  # again and again: the query may not have started at the first
        while not done.wait(0.1):
            con.interrupt()

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _db.run(con, "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3")
    finally:
        done.set()
        thread.join()
        con.close()


@pytest.mark.parametrize("after", ["parsed", "enriched", "aggregated"])
def test_ctrl_c_at_each_stage_of_the_report(tmp_path: Path, synth_log: Path, mmdb: Path,
                                             after: str) -> None:
    out = tmp_path / "informe"
    proc = subprocess.Popen(
        [sys.executable, "-m", "prepcast", "-v", "report", "--logs", str(synth_log),
         "--out", str(out), "--geoip-db", str(mmdb), "--pdf"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if f" {after} " in line:
            proc.send_signal(signal.SIGINT)  # the next step is a DuckDB query
            break
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.rstrip().endswith("prepcast: interrupted")
    assert not out.exists() and not list(tmp_path.glob(".informe.tmp-*"))


def test_ctrl_c_before_a_command_runs_is_an_interruption_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In the first fraction of a second (importing the command line, parsing the arguments)
    # Ctrl-C gave a KeyboardInterrupt traceback.
    import prepcast.cli
    from prepcast._entry import main

    def interrupted(argv: object = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(prepcast.cli, "main", interrupted)
    assert main() == 130
    assert capsys.readouterr().err == "prepcast: interrupted\n"
