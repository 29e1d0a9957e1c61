"""The install a difusor's server gets (docs/difusor-setup.md, "Installing prepcast"): the wheel of
``make dist`` into a fresh virtual environment of the system's Python, every runtime dependency
coming from the wheel's own metadata, and the installed commands run from there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900,
                          **kw)  # type: ignore[call-overload]


def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                  str(dist), str(REPO)])
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("prepcast-*.whl")
    venv = tmp_path / "opt-prepcast"  # /opt/prepcast on a server
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    made = _run([SYSTEM_PYTHON, "-m", "venv", str(venv)], env=env)
    assert made.returncode == 0, made.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    installed = _run([*pip, str(wheel)], env=env)
    assert installed.returncode == 0, installed.stderr
    faster = _run([*pip, "--no-deps", "--upgrade", "maxminddb>=3"], env=env)
    assert faster.returncode == 0, faster.stderr
    prepcast = str(venv / "bin" / "prepcast")
    # nothing of this checkout may leak in: run from elsewhere, with the venv's own interpreter
    where = _run([str(venv / "bin" / "python"), "-c", "import prepcast; print(prepcast.__file__)"],
                 env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    helped = _run([prepcast, "difusor", "run", "--help"], env=env, cwd=tmp_path)
    assert helped.returncode == 0 and "--config" in helped.stdout, helped.stderr
    log = tmp_path / "access.log"
    synth = _run([prepcast, "logs", "synth", "--lines", "500", "--out", str(log)], env=env,
                 cwd=tmp_path)
    assert synth.returncode == 0, synth.stderr
    report = _run([prepcast, "report", "--logs", str(log), "--out", str(tmp_path / "informe")],
                  env=env, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "informe" / "informe.html").read_text(encoding="utf-8")
    assert "DB-IP" in html  # the default geolocation data came with the install
