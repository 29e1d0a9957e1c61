"""`prepcast push` end to end against the test sshd: progress, summary, exit status, state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prepcast.distribution.state import DeliveryState
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import Sshd, entry

pytestmark = pytest.mark.server


def test_push_command_sends_two_cuts_and_names_the_failing_difusor(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    good, other = sshd.add_user(), sshd.add_user()
    bad = entry(sshd, other, "sin-llave", key_file=str(good.key_file))
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, good, "buena"), bad]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    state = tmp_path / "deliveries.sqlite"
    r = subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry",
                        str(tmp_path / "registry.toml"), "--package", str(p1), "--package", str(p2),
                        "--trust", str(keydir / "root.pub"), "--state", str(state), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 4, r.stderr
    assert "1 difusores failed: sin-llave" in r.stderr
    assert "authentication failed" in r.stderr and "Traceback" not in r.stderr
    assert os.readlink(good.www / "current") == "releases/jornada-0002"
    results = [(d.cut, d.phase, d.result) for d in DeliveryState(state).deliveries("buena")]
    assert results == [(1, "stage", "ok"), (1, "activate", "ok"), (2, "stage", "ok"),
                       (2, "activate", "ok")]


def test_difusor_run_refuses_a_bad_config(tmp_path: Path) -> None:
    conf = tmp_path / "d.toml"
    conf.write_text('root = "www"\nkeep_releases = 1\n[sftp]\nport = 2222\n')
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "run", "--config", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for field in ("inbox: required", "trusted_root: required", "keep_releases:",
                  "sftp.host_key: required"):
        assert field in r.stderr, field


def test_push_command_fails_when_the_daemon_refuses_the_cut(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Issue 9 item 2: a daemon that takes a cut in and goes on serving another one makes
    `prepcast push` fail for that difusor (exit 4), never report ok."""
    import asyncio
    import threading

    from prepcast.difusor.config import DaemonConfig
    from prepcast.difusor.daemon import Daemon

    user = sshd.add_user()
    daemon = Daemon(DaemonConfig(root=tmp_path / "www", inbox=user.www,
                                 trusted_root=keydir / "root.pub", name="diario",
                                 event_log=tmp_path / "events.jsonl", syslog=False,
                                 poll_interval=0.05))
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(daemon.run(),), daemon=True)
    runner.start()
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "diario",
                                                                 mode="daemon")]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    state = tmp_path / "deliveries.sqlite"

    def push(pkg: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry",
                               str(tmp_path / "registry.toml"), "--package", str(pkg),
                               "--trust", str(keydir / "root.pub"), "--state", str(state),
                               "--quiet"], capture_output=True, text=True)

    try:
        ok = push(p2)
        assert ok.returncode == 0, ok.stderr
        refused = push(p1)   # older than what the daemon serves: it refuses it
    finally:
        loop.call_soon_threadsafe(daemon.stop)
        runner.join(10)
    assert refused.returncode == 4, refused.stderr
    assert "1 difusores failed: diario" in refused.stderr
    assert "did not activate" in refused.stdout + refused.stderr
    live = daemon.store.live_cut()
    assert live is not None and live.tag == "jornada-0002"
    last = DeliveryState(state).last_refusal("diario")
    assert last is not None and last.cut == 1


def _push(tmp_path: Path, keydir: Path, *pkgs: Path, state: Path | None = None,
          ) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "prepcast", "push", "--registry", str(tmp_path / "registry.toml"),
           "--trust", str(keydir / "root.pub"), "--quiet",
           "--state", str(state or tmp_path / "deliveries.sqlite")]
    for pkg in pkgs:
        cmd += ["--package", str(pkg)]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_push_refuses_a_package_that_fails_verification_before_sending_anything(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: a tampered file, an expired package, another institute's key: exit 3,
    one line per failure, nothing on the difusor, no delivery state written."""
    from datetime import UTC, datetime, timedelta

    from tests.distribution.dist_packages import make_keys

    user = sshd.add_user()
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "sol")]))
    good = make_package(tmp_path / "good", keydir, 1)
    tampered = make_package(tmp_path / "tampered", keydir, 2, previous=good)
    data = next((tampered / "data").rglob("*.json"))
    data.write_bytes(data.read_bytes().replace(b"2", b"7"))
    expired = make_package(tmp_path / "expired", keydir, 3, previous=good,
                           expires=datetime.now(UTC) - timedelta(hours=1))
    other = make_package(tmp_path / "other", make_keys(tmp_path / "otherkeys").parent, 1)
    for bad, says in ((tampered, "sha256 does not match the manifest"),
                      (expired, "expired at"), (other, "")):
        r = _push(tmp_path, keydir, good, bad)
        assert r.returncode == 3, (bad, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and says in r.stderr, r.stderr
        assert f"{bad}: refused, nothing sent" in r.stderr
        assert list(user.www.iterdir()) == [], "sent before the package was verified"
        assert not (tmp_path / "deliveries.sqlite").exists()
    assert _push(tmp_path, keydir, good).returncode == 0
    assert os.readlink(user.www / "current") == "releases/jornada-0001"


def test_push_answers_a_bad_state_file_with_one_line(keydir: Path, tmp_path: Path) -> None:
    """Regression: a --state that is not SQLite (exit 2) or cannot be created (exit 1)."""
    (tmp_path / "registry.toml").write_text(registry_toml([]))
    pkg = make_package(tmp_path / "p1", keydir, 1)
    not_sqlite = tmp_path / "casillas.csv"
    not_sqlite.write_text("clave,seccion\n" * 100)
    r = _push(tmp_path, keydir, pkg, state=not_sqlite)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == (f"prepcast: {not_sqlite}: not a delivery state (--state): "
                                "file is not a database")
    assert not_sqlite.read_text() == "clave,seccion\n" * 100
    r = _push(tmp_path, keydir, pkg, state=tmp_path / "nope" / "deliveries.sqlite")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "cannot open the delivery state" in r.stderr


def test_ctrl_c_during_a_push_says_only_interrupted(sshd: Sshd, keydir: Path,
                                                    tmp_path: Path) -> None:
    """Regression: SIGINT mid-transfer printed asyncio's never-retrieved task tracebacks."""
    import signal
    import time

    users = [sshd.add_user() for _ in range(3)]
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}") for i, u in enumerate(users)]))
    pkg = make_package(tmp_path / "big", keydir, 1, big=120_000_000)
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "push", "--registry",
                             str(tmp_path / "registry.toml"), "--trust", str(keydir / "root.pub"),
                             "--package", str(pkg), "--state", str(tmp_path / "d.sqlite"),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((u.www / "releases").exists() and any((u.www / "releases").iterdir())
                  for u in users):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert err == "prepcast: interrupted\n", err
    assert not any((u.www / "current").exists() for u in users)


def test_push_says_when_there_is_nothing_to_do_or_it_waits(sshd: Sshd, keydir: Path,
                                                           tmp_path: Path) -> None:
    """Regression: every difusor blocked gave an empty table; an embargo ahead, silence."""
    from datetime import UTC, datetime, timedelta

    user = sshd.add_user()
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "sol",
                                                                 active=False)]))
    r = _push(tmp_path, keydir, make_package(tmp_path / "p0", keydir, 1))
    assert r.returncode == 0, r.stderr
    assert "no difusor to push to (1 in the registry, none active" in r.stderr
    assert "nothing sent" in r.stderr
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "sol")]))
    pkg = make_package(tmp_path / "p1", keydir, 1,
                       not_before=datetime.now(UTC) + timedelta(seconds=5))
    r = _push(tmp_path, keydir, pkg)
    assert r.returncode == 0, r.stderr
    assert "cut 1: staging now, activating at its embargo" in r.stderr
    assert "detail" in r.stderr and "error" not in r.stderr


@pytest.mark.parametrize("what", ["public", "garbage"])
def test_push_refuses_a_key_file_that_is_not_a_private_key(
        sshd: Sshd, keydir: Path, tmp_path: Path, what: str) -> None:
    """Regression: a key_file holding the public half (or garbage) reached the connection and
    ended in a traceback (``KeyImportError: Invalid private key``), exit 4. Now it is refused
    before connecting anywhere: one line per difusor naming key_file, exit 2."""
    users = [sshd.add_user() for _ in range(2)]
    bad = tmp_path / "llave.pub"
    bad.write_bytes((users[0].key_file.parent / "authorized_keys" / users[0].name).read_bytes()
                    if what == "public" else b"no es una llave\n")
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}", key_file=str(bad)) for i, u in enumerate(users)]))
    r = _push(tmp_path, keydir, make_package(tmp_path / "p1", keydir, 1))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    for i, line in enumerate(lines[:2]):
        assert line.startswith(f"prepcast: {tmp_path / 'registry.toml'}: difusor d{i}: "
                               f"no se pudo leer la llave privada del instituto (key_file) {bad}")
    assert all(list(u.www.iterdir()) == [] for u in users)
    assert not (tmp_path / "deliveries.sqlite").exists()


def test_a_key_file_that_is_not_a_private_key_is_a_typed_error_never_retried(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: the pusher let asyncssh's KeyImportError through as a surprise (traceback in
    the log, retried); now it is KeyUnreadable naming key_file, one attempt, no traceback."""
    import asyncio
    import logging

    from prepcast.distribution.contents import read_package
    from prepcast.distribution.push import Pusher
    from prepcast.distribution.registry import load_registry
    from prepcast.distribution.sftp import SftpPeer
    from prepcast.distribution.transport import KeyUnreadable

    user = sshd.add_user()
    bad = tmp_path / "llave.pub"
    bad.write_text("ssh-ed25519 AAAA no es privada\n")
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "sol",
                                                                 key_file=str(bad))]))
    registry = load_registry(tmp_path / "registry.toml")
    with pytest.raises(KeyUnreadable, match=r"\(key_file\)") as caught:
        asyncio.run(SftpPeer(registry.difusores[0]).connect())
    assert not caught.value.retryable
    state = DeliveryState(tmp_path / "d.sqlite")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("prepcast.distribution").addHandler(handler)

    async def push() -> None:
        pusher = Pusher(registry, state, retry_delay=0)
        try:
            report = await pusher.push(read_package(make_package(tmp_path / "p1", keydir, 1)),
                                       wait_for_embargo=False)
        finally:
            await pusher.close()
        assert report.failed == ["sol"] and "key_file" in (report.staged["sol"].error or "")

    try:
        asyncio.run(push())
    finally:
        logging.getLogger("prepcast.distribution").removeHandler(handler)
    assert [(d.phase, d.result) for d in state.deliveries("sol")] == [("stage", "failed")]
    assert not any(r.exc_info for r in records)


def test_a_close_right_after_authentication_says_what_it_usually_means(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: a chroot sshd will not enter (group-writable) was reported only as
    ``cannot connect: SSH connection closed``; now the message says what such a close after
    authentication usually means and points to `prepcast difusor check --root`."""
    user = sshd.add_user()
    user.chroot.chmod(0o775)   # sshd: "bad ownership or modes for chroot directory"
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "sol")]))
    r = _push(tmp_path, keydir, make_package(tmp_path / "p1", keydir, 1))
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert ("cannot connect: SSH connection closed; el servidor cerró la conexión justo después "
            "de autenticarnos") in r.stderr, r.stderr
    assert "prepcast difusor check --root" in r.stderr


def test_a_folder_that_is_no_package_is_named_once(keydir: Path, tmp_path: Path) -> None:
    """Regression: `push --package eleccion` (a folder, not a package) said `eleccion: eleccion:
    no manifest found`, the folder twice."""
    (tmp_path / "registry.toml").write_text(registry_toml([]))
    folder = tmp_path / "eleccion"
    folder.mkdir()
    r = subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry",
                        str(tmp_path / "registry.toml"), "--package", str(folder),
                        "--trust", str(keydir / "root.pub"), "--state",
                        str(tmp_path / "d.sqlite"), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 3, r.stderr
    assert f"{folder}: no manifest found" in r.stderr, r.stderr
    assert f"{folder}: {folder}:" not in r.stderr, r.stderr
