"""Running ``prepcast night run`` / ``status``: as the institute does, a process of its own
(:func:`run_night`, :func:`night_args` for ``Popen``), or the same command in this process
(:func:`night_here`) where the process is not what a test checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.in_process import prepcast


def night_args(election: Path, keys: Path, state: Path, root: Path, *extra: str,
               registry: Path | None = None, ejercicio: str = "jornada",
               speed: str = "max", until: str | None = None) -> list[str]:
    args = [sys.executable, "-m", "prepcast", "night", "run", "--election", str(election),
            "--keys", str(keys), "--state", str(state), "--publish-root", str(root),
            "--ejercicio", ejercicio, "--speed", speed, "--quiet"]
    if "--ntp" not in extra:
        args += ["--ntp", "off"]
    if registry is not None:
        args += ["--registry", str(registry)]
    if until is not None:
        args += ["--until", until]
    return args + list(extra)


def run_night(*args: Any, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(night_args(*args, **kw), capture_output=True, text=True, timeout=timeout)


def night_here(*args: Any, **kw: Any) -> subprocess.CompletedProcess[str]:
    """``night run`` with the arguments of :func:`night_args`, in this process (its pushing
    process is still one of its own)."""
    return prepcast(*night_args(*args, **kw)[3:])


def status(state: Path) -> dict[str, Any]:
    out = prepcast("night", "status", "--state", str(state), "--json")
    assert out.returncode == 0, out.stderr
    view: dict[str, Any] = json.loads(out.stdout)
    return view


def by_name(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["difusor"]: d for d in view["difusores"]}
