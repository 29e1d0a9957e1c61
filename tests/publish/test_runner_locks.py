"""One night runner per ``--state``, per ``--publish-root`` and per registry, and a refused
run leaves nothing behind. The runners are processes of their own."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from prepcast.package import init_keys
from prepcast.publish.state import PUBLISH_LOCK
from tests.night.night_run import night_args, run_night


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("locks") / "llaves"
    init_keys(path)
    return path


def _holding(proc: subprocess.Popen[str], lock: Path) -> None:
    """Wait until ``proc`` holds ``lock`` (its pid written in it)."""
    deadline = time.monotonic() + 60
    while not (lock.is_file() and lock.read_text().startswith(f"{proc.pid}\n")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first runner never took its locks"
        time.sleep(0.05)


def test_a_second_runner_on_the_same_publish_root_or_registry_is_refused(
        small_election: Path, keys: Path, tmp_path: Path) -> None:
    """Regression: only ``--state`` was locked, so a second runner with a state of its own
    published into the same ``--publish-root`` and pushed an older cut to the same difusores
    beside the first. Now it is refused before it does anything (exit 2), naming the running
    one's pid and state, and leaves no state or publish root behind."""
    reg = tmp_path / "registry.toml"
    reg.write_text("", encoding="utf-8")
    root, state = tmp_path / "instituto", tmp_path / "estado"
    first = subprocess.Popen(night_args(small_election, keys, state, root, registry=reg,
                                        ejercicio="prueba-1", speed="1.5"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _holding(first, root / PUBLISH_LOCK)
        who = f"a night runner (pid {first.pid}, --state {state.resolve()})"
        # the same publish root, another state (no registry)
        r = run_night(small_election, keys, tmp_path / "estado2", root, ejercicio="prueba-1")
        assert r.returncode == 2, r.stderr
        assert r.stderr == (f"prepcast: {root}: {who} is already publishing in this "
                            "--publish-root; one runner per publish root\n"), r.stderr
        assert not (tmp_path / "estado2").exists()
        # the same registry, another state and another publish root
        r = run_night(small_election, keys, tmp_path / "estado3", tmp_path / "otra",
                      registry=reg, ejercicio="prueba-1")
        assert r.returncode == 2, r.stderr
        assert r.stderr == (f"prepcast: {reg}: {who} is already running with this registry; "
                            "wait for it to end\n"), r.stderr
        assert not (tmp_path / "estado3").exists() and not (tmp_path / "otra").exists()
        assert first.poll() is None  # undisturbed
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(60)
    assert first.returncode == 130, first.stderr.read() if first.stderr else ""


def test_a_refused_run_leaves_no_new_publish_root(small_election: Path, keys: Path,
                                                   tmp_path: Path) -> None:
    """Regression: a run refused for its ejercicio (a state of another ejercicio) left the new
    ``--publish-root`` holding ``pushed.json``, and every later run there was refused as "not
    a publish root and not empty". Now nothing is left, and the folder can be used at once."""
    state = tmp_path / "estado"
    r = run_night(small_election, keys, state, tmp_path / "pub", ejercicio="prueba-1",
                  until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
    r = run_night(small_election, keys, state, tmp_path / "pubx", ejercicio="prueba-2",
                  until="2024-06-02T20:00")
    assert r.returncode == 2, r.stderr
    assert "this state is of ejercicio prueba-1, not prueba-2" in r.stderr
    assert not (tmp_path / "pubx").exists(), list((tmp_path / "pubx").iterdir())
    r = run_night(small_election, keys, tmp_path / "estado2", tmp_path / "pubx",
                  ejercicio="prueba-2", until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
