"""Memory stays bounded: the report of a log past the on-disk threshold peaks under 400 MB, its
own process and the PDF's worker counted together.

(Times are measured by benchmarks/bench_report.py, not here; memory is a ceiling, not a speed.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from prepcast.analytics.report import ON_DISK_BYTES
from prepcast.analytics.synth import write_log
from tests.analytics.memory import tree_pss


@pytest.mark.slow
def test_peak_memory_stays_under_400_mb(tmp_path: Path, mmdb: Path) -> None:
    log = tmp_path / "night.log"
    write_log(log, 450_000, seed=5)
    assert log.stat().st_size > ON_DISK_BYTES  # worked in a DuckDB file, as a real night is
    prepcast = str(Path(sys.executable).with_name("prepcast"))
    child = subprocess.Popen([prepcast, "report", "--logs", str(log), "--out", str(tmp_path / "o"),
                              "--geoip-db", str(mmdb), "--pdf"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = [0], threading.Event()

    def sample() -> None:  # the report and its PDF worker together
        while not done.wait(0.02):
            peak[0] = max(peak[0], tree_pss(child.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        done.set()
        sampler.join()
    assert os.waitstatus_to_exitcode(status) == 0, child.stderr.read() if child.stderr else ""
    assert usage.ru_maxrss * 1024 < 400e6
    assert 0 < peak[0] < 400e6
    assert (tmp_path / "o" / "informe.pdf").is_file()
