"""Difusores for the runner's tests: SFTP-only ones on a real OpenSSH sshd (chrooted users, as
docs/difusor-setup.md tells a difusor) and daemon ones (`prepcast difusor run` processes whose
inbox is such a user's folder), plus the registry naming them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from prepcast.difusor.layout import cut_of_release
from prepcast.package import CutId
from tests.distribution.dist_servers import SftpUser, Sshd


@dataclass
class NightDifusor:
    name: str
    mode: str           # "sftp" or "daemon"
    user: SftpUser
    root: Path          # what its web server serves: releases/ and current
    proc: subprocess.Popen[bytes] | None = None

    def live(self) -> CutId | None:
        """The cut served (read only: the folders belong to the difusor's user)."""
        try:
            return cut_of_release(os.readlink(self.root / "current"))
        except OSError:
            return None


def sftp_difusor(sshd: Sshd, name: str) -> NightDifusor:
    user = sshd.add_user()
    return NightDifusor(name, "sftp", user, user.www)


def daemon_difusor(sshd: Sshd, name: str, base: Path, trusted_root: Path) -> NightDifusor:
    user = sshd.add_user()
    base.mkdir(parents=True, exist_ok=True)
    config = base / "daemon.toml"
    config.write_text(
        f'name = "{name}"\nroot = "{base / "www"}"\ninbox = "{user.www}"\n'
        f'trusted_root = "{trusted_root}"\nkeep_releases = 3\n'
        f'event_log = "{base / "events.jsonl"}"\nsyslog = false\npoll_interval = 0.05\n')
    with open(base / "daemon.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "run",
                                 "--allow-root", "--config", str(config)], stderr=err)
    return NightDifusor(name, "daemon", user, base / "www", proc)


def stop(difusores: list[NightDifusor]) -> None:
    for d in difusores:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
            try:
                d.proc.wait(10)
            except subprocess.TimeoutExpired:
                d.proc.kill()
                d.proc.wait()


def registry(path: Path, sshd: Sshd, difusores: list[NightDifusor], *,
             blocked: tuple[str, ...] = ()) -> Path:
    lines = ["concurrency = 8", "keep_releases = 3"]
    for d in difusores:
        lines += ["", "[[difusor]]", f'name = "{d.name}"', 'host = "127.0.0.1"',
                  f"port = {sshd.port}", f'user = "{d.user.name}"', 'auth = "key"',
                  f'key_file = "{d.user.key_file}"', 'remote_root = "/www"',
                  f'mode = "{d.mode}"', f'host_key = "{sshd.host_key}"']
        if d.name in blocked:
            lines.append("active = false")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def wait_live(difusores: list[NightDifusor], cut: CutId, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while any(d.live() != cut for d in difusores):
        if time.monotonic() > deadline:
            raise AssertionError({d.name: d.live() for d in difusores})
        time.sleep(0.1)
