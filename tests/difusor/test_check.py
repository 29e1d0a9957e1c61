"""``prepcast difusor check`` on a real setup (two real users, as the guide makes them), broken in
the ways a sysadmin breaks it; and the daemon's own start: one line per problem, naming the file
and the user, and warnings for no syslog and no NTP."""

from __future__ import annotations

import asyncio
import http.server
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

import prepcast
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from tests.difusor.difusor_helpers import FakeNtp, daemon_config, free_port
from tests.difusor.difusor_openssh import SYSTEM_PYTHON, SafeDaemonDifusor

pytestmark = pytest.mark.server


@pytest.fixture
def difusor(keydir: Path) -> Iterator[SafeDaemonDifusor]:
    d = SafeDaemonDifusor(keydir / "root.pub")
    try:
        yield d
    finally:
        d.stop()


def _check(d: SafeDaemonDifusor, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prepcast", "difusor", "check", "--config",
                           str(d.config), "--daemon-user", d.daemon_user, "--sftp-user",
                           d.sftp_user, *extra], capture_output=True, text=True, timeout=60,
                          check=False)


def _errors(r: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in r.stdout.splitlines() if line.startswith("ERROR: ")]


def test_a_setup_as_the_guide_makes_it_passes(difusor: SafeDaemonDifusor) -> None:
    r = _check(difusor, "--no-ntp")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _errors(r) == []
    assert "AVISO: sin [clock] ntp_server" in r.stdout
    assert r.stdout.rstrip().endswith("(revise los avisos).")


def test_each_mistake_is_one_line_saying_what_to_fix(difusor: SafeDaemonDifusor) -> None:
    d = difusor
    shutil.chown(d.www, d.sftp_user, d.sftp_user)      # the bypass of issue 16
    d.logs.rmdir()                                      # the event log's folder never made
    shutil.chown(d.inbox, d.daemon_user, d.daemon_user)  # the institute cannot write its inbox
    d.inbox.chmod(0o2750)
    (d.etc / "root.pub").chmod(0o600)                   # the daemon cannot read the root key
    r = _check(d, "--no-ntp")
    assert r.returncode == 1, r.stdout + r.stderr
    errors = _errors(r)
    assert len(errors) == 5, errors
    text = "\n".join(errors)
    assert f"{d.www}: el usuario SFTP ({d.sftp_user}) puede escribir en lo que se sirve" in text
    assert f"{d.www}: el usuario del daemon ({d.daemon_user}) no puede escribir" in text
    assert f"{d.logs}: no existe la carpeta del registro de eventos" in text
    assert f"{d.inbox}: el usuario SFTP del instituto ({d.sftp_user}) no puede escribir" in text
    assert f"{d.etc / 'root.pub'}: el usuario del daemon ({d.daemon_user}) no puede leer" in text
    assert "Traceback" not in r.stderr


def test_ntp_unreachable_or_off(difusor: SafeDaemonDifusor) -> None:
    d = difusor
    base = d.config.read_text()
    d.config.write_text(base + f'\n[clock]\nntp_server = "127.0.0.1"\nntp_port = {free_port()}\n')
    r = _check(d)
    assert r.returncode == 1 and "sin respuesta NTP no se activa ningún corte" in r.stdout
    ntp = FakeNtp(offset=7.0)
    try:
        d.config.write_text(base + f'\n[clock]\nntp_server = "127.0.0.1"\nntp_port = {ntp.port}\n')
        r = _check(d)
    finally:
        ntp.close()
    assert r.returncode == 1 and re.search(r"el reloj difiere \+[67]\.\d{3} s de 127.0.0.1", r.stdout), r.stdout


def test_the_web_servers_headers(tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    pkg = read_package(packages[0])
    write_delta_archive(pkg, list(pkg.files), tmp_path / "inbox" / f"{pkg.cut_id.tag}.tar")
    asyncio.run(Daemon(load_config(conf)).step())

    def run(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "prepcast", "difusor", "check", "--config",
                               str(conf), "--no-ntp", "--url", url], capture_output=True,
                              text=True, timeout=60, check=False)

    good = EmbeddedServer(tmp_path / "www", port=0)
    good.start()
    try:
        r = run(f"http://127.0.0.1:{good.port}")
    finally:
        good.stop()
    assert not [e for e in _errors(r) if "http://" in e], r.stdout
    # a plain static server: no Cache-Control at all, so a CDN would cache as it likes
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www/current"))
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    try:
        r = run(f"http://127.0.0.1:{plain.server_address[1]}")
    finally:
        plain.shutdown()
    bad = [e for e in _errors(r) if "Cache-Control" in e]
    base = f"http://127.0.0.1:{plain.server_address[1]}"
    for path in ("/json/main.json", "/:", "/db/9999/", "/assets/app"):
        assert any(e.startswith(f"ERROR: {base}{path}") for e in bad), (path, bad)
    assert r.returncode == 1


def test_daemon_start_problems_name_the_file_and_the_user(difusor: SafeDaemonDifusor) -> None:
    d = difusor
    d.logs.chmod(0o755)
    shutil.chown(d.logs, "root", "root")                # the guide had root make it
    key = d.etc / "daemon_host_key"
    shutil.copy(d.host_key_file, key)                   # root's, 0600
    (d.etc / "keys").write_text("")
    d.config.write_text(d.config.read_text() + f'\n[sftp]\nlisten = "127.0.0.1"\nport = 0\n'
                        f'host_key = "{key}"\nauthorized_keys = "{d.etc / "keys"}"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(prepcast.__file__).resolve().parents[1]),
                                          *[p for p in sys.path if p.endswith("site-packages")]])}
    r = subprocess.run([SYSTEM_PYTHON, "-m", "prepcast", "difusor", "run", "--config",
                        str(d.config)], user=d.uid, group=d.gid, extra_groups=[], env=env,
                       cwd="/", capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines == [
        f"prepcast: {d.logs}: event_log: user {d.daemon_user} cannot write it",
        f"prepcast: {key}: sftp.host_key: user {d.daemon_user} cannot read it",
    ], r.stderr


def test_daemon_started_by_the_wrong_user_names_every_file_and_the_user(
        difusor: SafeDaemonDifusor) -> None:
    """With the guide's own folders (/etc/prepcast root:daemon 0750, the event log's folder the
    daemon's 0750), the daemon started as another user crashed on the first file it could not
    see into (``root.pub: Permission denied``, exit 1) and never said which user it ran as, nor
    that www and the inbox were not its to write. Now: one line per file, naming the user,
    exit 2."""
    d = difusor
    shutil.chown(d.etc, "root", d.daemon_user)
    d.etc.chmod(0o750)
    d.logs.chmod(0o750)
    config = d.base / "difusor.toml"                     # readable by anyone, unlike /etc/prepcast
    shutil.copy(d.config, config)
    config.chmod(0o644)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(prepcast.__file__).resolve().parents[1]),
                                          *[p for p in sys.path if p.endswith("site-packages")]])}
    r = subprocess.run([SYSTEM_PYTHON, "-m", "prepcast", "difusor", "run", "--config",
                        str(config)], user="nobody", group="nogroup", extra_groups=[], env=env,
                       cwd="/", capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"prepcast: {d.www}: root (releases/ and current): user nobody cannot write it",
        f"prepcast: {d.inbox}: inbox: user nobody cannot write it",
        f"prepcast: {d.etc / 'root.pub'}: trusted_root: user nobody cannot reach it (a folder "
        "above it is closed to that user)",
        f"prepcast: {d.logs / 'events.jsonl'}: event_log: user nobody cannot reach it (a folder "
        "above it is closed to that user)",
    ], r.stderr
    assert r.returncode == 2, r.stderr


def test_daemon_warns_at_start_without_syslog_or_ntp(tmp_path: Path, keydir: Path) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False,
                               extra=f'\n[clock]\nntp_server = "127.0.0.1"\nntp_port = {free_port()}\n')
    conf.write_text(conf.read_text().replace("syslog = false", "syslog = true"))
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "run", "--allow-root",
                             "--config", str(conf)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "events.jsonl").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert "NTP server 127.0.0.1" in err and "no cut will be activated until it answers" in err
    if not Path("/dev/log").exists():
        assert "syslog = true but /dev/log does not exist" in err
    assert "Traceback" not in err


def test_sftp_only_setup(tmp_path: Path) -> None:
    top = Path(tempfile.mkdtemp(prefix="prepcast-sftponly-", dir="/srv"))
    user = f"prepo{secrets.token_hex(3)}"
    try:
        top.chmod(0o755)
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/", "--shell",
                        "/usr/sbin/nologin", user], check=True)
        www = top / "www"
        www.mkdir()
        shutil.chown(www, user, user)

        def check() -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "prepcast", "difusor", "check", "--root",
                                   str(www), "--sftp-user", user], capture_output=True,
                                  text=True, timeout=60, check=False)

        r = check()
        assert r.returncode == 0 and "Listo: nada que corregir." in r.stdout, r.stdout + r.stderr
        top.chmod(0o775)                     # sshd refuses such a chroot
        shutil.chown(www, "root", "root")    # and the institute cannot write
        r = check()
        assert r.returncode == 1, r.stdout
        errors = _errors(r)
        assert len(errors) == 2, errors
        assert errors[0].startswith(f"ERROR: {top}: OpenSSH exige que cada carpeta del chroot")
        assert errors[1].startswith(f"ERROR: {www}: el usuario SFTP del instituto ({user})")
    finally:
        subprocess.run(["userdel", "--force", user], check=False, stderr=subprocess.DEVNULL)
        shutil.rmtree(top, ignore_errors=True)


def test_a_second_daemon_on_the_same_root_is_refused(tmp_path: Path, keydir: Path) -> None:
    """Regression: the systemd unit running and the same config started by hand (another
    SFTP port): the second exits 2 naming the first's pid, and the first carries on."""
    conf, _, _ = daemon_config(tmp_path, keydir)
    second = tmp_path / "second.toml"
    second.write_text(conf.read_text())   # port = 0: another free port
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "run", "--allow-root",
                             "--config", str(conf)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while '"started"' not in ((tmp_path / "events.jsonl").read_text()
                                  if (tmp_path / "events.jsonl").exists() else ""):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "run", "--allow-root",
                            "--config", str(second)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == (f"prepcast: {tmp_path / 'www'}: a difusor daemon (pid "
                                    f"{proc.pid}) is already running on this root; stop it "
                                    "first (systemctl stop prepcast-difusor)")
        assert proc.poll() is None
        assert (tmp_path / "events.jsonl").read_text().count('"started"') == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_sftp_only_check_never_suggests_opening_up_tmp(tmp_path: Path) -> None:
    """Regression: a root under /tmp (sticky, world-writable) must not get the fix
    `chmod 0755 /tmp`; it is told to move the root under a folder of root's."""
    from prepcast.difusor.check import check_sftp_only

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    www = shared / "www"
    www.mkdir()
    found = [str(f) for f in check_sftp_only(www, sftp_user="root")]
    about = [f for f in found if f"{shared}:" in f]
    assert len(about) == 1, found
    assert "chmod" not in about[0] and "no cambie sus permisos" in about[0]
    assert "/srv/prep/sftp/www" in about[0]
    assert not any("chmod 0755 /tmp" in f for f in found), found


def test_daemon_on_a_port_taken_is_a_bad_setting(tmp_path: Path, keydir: Path) -> None:
    """Regression: the SFTP port taken was exit 1; it is the setting to change: 2."""
    import socket

    conf, _, _ = daemon_config(tmp_path, keydir)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf.write_text(conf.read_text().replace("port = 0", f"port = {port}"))
        r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "run", "--allow-root",
                            "--config", str(conf)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (f"prepcast: {conf}: sftp.port: cannot listen on "
                                f"127.0.0.1:{port}: Address already in use"), r.stderr
