"""One night runner per ``--state``, per ``--publish-root`` and per registry, and a refused
run leaves nothing behind. The runners holding and refused locks are processes of their own;
the runs one after another run in this process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import prepcast.publish.locks as locks
from prepcast.errors import InputError
from prepcast.package import init_keys
from prepcast.publish.state import LOCK_FILE, PUBLISH_LOCK, lock_publish_root, lock_state
from tests.cli.in_process import prepcast
from tests.night.night_run import night_args, night_here, run_night, status


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


_HOLD = """
import sys, time
from pathlib import Path
from prepcast.publish.state import lock_publish_root, lock_state
state, root = Path(sys.argv[1]), Path(sys.argv[2])
fds = lock_state(state, "runner A"), lock_publish_root(root, "runner A")
print("held", flush=True)
time.sleep(120)
"""


def test_a_runner_refused_at_the_lock_leaves_the_running_ones_locks(
        small_election: Path, keys: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a runner that found no --state and no --publish-root, then lost the race for
    their locks to another runner starting at the same instant, was refused and "left nothing
    behind" by removing what it took for its own: the running runner's ``runner.lock``, its
    state folder and the publish root's lock. A third runner then took both locks and ran beside
    the first. Now a refused runner removes only what it created, and only while holding its
    lock: the running runner's folders and lock files stay, and a third runner is refused."""
    state, root = tmp_path / "estado", tmp_path / "instituto"
    real = locks.lock_state
    first: list[subprocess.Popen[str]] = []

    def racing(directory: Path, holder: str = "") -> int:
        # the other runner takes both locks just after this one created the folders
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(state), str(root)],
                                stdout=subprocess.PIPE, text=True)
        first.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        return real(directory, holder)

    monkeypatch.setattr(locks, "lock_state", racing)
    try:
        r = night_here(small_election, keys, state, root, ejercicio="prueba-1")
        assert r.returncode == 2, r.stderr
        assert "runner A is already using this --state" in r.stderr, r.stderr
        assert (state / LOCK_FILE).read_text() == f"{first[0].pid}\nrunner A\n"
        assert (root / PUBLISH_LOCK).read_text() == f"{first[0].pid}\nrunner A\n"
        with pytest.raises(InputError, match="runner A is already using this --state"):
            lock_state(state, "runner C")
        with pytest.raises(InputError, match="runner A is already publishing"):
            lock_publish_root(root, "runner C")
        assert first[0].poll() is None
    finally:
        for proc in first:
            proc.kill()
            proc.wait()


def test_a_refused_run_leaves_no_new_publish_root(small_election: Path, keys: Path,
                                                   tmp_path: Path) -> None:
    """Regression: a run refused for its ejercicio (a state of another ejercicio) left the new
    ``--publish-root`` holding ``pushed.json``, and every later run there was refused as "not
    a publish root and not empty". Now nothing is left, and the folder can be used at once."""
    state = tmp_path / "estado"
    r = night_here(small_election, keys, state, tmp_path / "pub", ejercicio="prueba-1",
                   until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
    r = night_here(small_election, keys, state, tmp_path / "pubx", ejercicio="prueba-2",
                   until="2024-06-02T20:00")
    assert r.returncode == 2, r.stderr
    assert "this state is of ejercicio prueba-1, not prueba-2" in r.stderr
    assert not (tmp_path / "pubx").exists(), list((tmp_path / "pubx").iterdir())
    r = night_here(small_election, keys, tmp_path / "estado2", tmp_path / "pubx",
                   ejercicio="prueba-2", until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("broken", ["a line cut short", "a superscript sección",
                                    "a superscript sección in the catalog"])
def test_a_national_election_with_a_broken_feed_is_refused_leaving_nothing(
        national_election: Path, keys: Path, tmp_path: Path, broken: str) -> None:
    """Regression: a national election's feeds are read by the runner, after its locks (on
    columns, once); a feed that does not read was refused with one message, but the new
    ``--publish-root`` was left behind (its ``releases/`` not made yet stopped the clean-up);
    a sección written ``²`` (a digit to ``str.isdigit``, not to ``int``) was a traceback that
    left the runner's lock files behind."""
    import shutil

    election = tmp_path / "e"
    shutil.copytree(national_election, election)
    name = "casillas.csv" if "catalog" in broken else "capturas/PRES.csv"
    feed = election / name
    lines = feed.read_text(encoding="utf-8").splitlines(keepends=True)
    if broken == "a line cut short":
        lines[4] = 'garbage,"unclosed\n'
    else:
        header = lines[0].rstrip("\n").split(",")
        fields = lines[4].rstrip("\n").split(",")
        fields[header.index("SECCION")] = "\u00b2"
        lines[4] = ",".join(fields) + "\n"
    feed.write_text("".join(lines), encoding="utf-8")
    state, root = tmp_path / "estado", tmp_path / "pub"
    r = night_here(election, keys, state, root, ejercicio="prueba-1", until="2024-06-02T20:00")
    assert r.returncode == 2, r.stderr
    assert f"{name.split('/')[-1]}:5" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not root.exists(), list(root.iterdir())
    assert not state.exists(), list(state.iterdir())


def _published(state: Path) -> int:
    try:
        doc = json.loads((state / "night.json").read_bytes())
    except (OSError, ValueError):
        return 0
    return max((int(n) for n, c in doc["cuts"].items() if "publish" in c["steps"]), default=0)


def _wait_published(proc: subprocess.Popen[str], state: Path, number: int) -> None:
    deadline = time.monotonic() + 90
    while _published(state) < number:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"cut {number} never published"
        time.sleep(0.05)


@pytest.mark.waits
def test_a_registry_broken_during_the_night_is_said_at_every_cut(
        small_election: Path, keys: Path, tmp_path: Path) -> None:
    """Regression: a registry broken by hand during the night (a typo while editing) was
    silently ignored: the cuts went out with the last good registry and nothing said so, in the
    output, the state or `night status`. Now every cut says it (stderr, the state's log,
    `night status`) naming the file and the error, until the registry reads again."""
    reg = tmp_path / "registry.toml"
    reg.write_text("", encoding="utf-8")
    root, state = tmp_path / "instituto", tmp_path / "estado"
    proc = subprocess.Popen(night_args(small_election, keys, state, root, registry=reg,
                                       ejercicio="prueba-1", speed="300",
                                       until="2024-06-02T21:40"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_published(proc, state, 1)
        reg.write_text("concurrency = 22201x\n", encoding="utf-8")
        broken = _published(state) + 1  # or the next, when that one began before the edit
        _wait_published(proc, state, broken + 2)
        view = status(state)
        assert view["registro_ilegible"]["archivo"] == str(reg), view
        assert view["registro_ilegible"]["desde_corte"] in (broken, broken + 1), view
        broken = view["registro_ilegible"]["desde_corte"]
        shown = prepcast("night", "status", "--state", str(state)).stdout
        assert f"AVISO: el registro {reg} no se puede leer desde el corte {broken}" in \
            " ".join(shown.split()), shown
        reg.write_text("", encoding="utf-8")
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    said = [line for line in err.splitlines() if "no se puede leer" in line]
    assert len(said) >= 2 and all(str(reg) in line and "se envía con el último registro válido"
                                  in line for line in said), err
    notes = [e["text"] for e in json.loads((state / "night.json").read_bytes())["log"]]
    assert any(f"el registro {reg} no se puede leer" in n for n in notes), notes
    assert any(f"el registro {reg} se lee de nuevo" in n for n in notes), notes
    assert "registro_ilegible" not in json.loads((state / "night.json").read_bytes())
