"""A daemon difusor behind Debian's OpenSSH, set up as docs/difusor-setup.md §3 says.

Two accounts: the institute's SFTP account, chrooted to a root-owned folder in which it can
write only to ``inbox/``; and the daemon's own user, who owns ``www/`` (outside the chroot) and
runs ``prepcast difusor run``. The inbox belongs to the SFTP account and to the daemon's group
(setgid, so every arrival is readable by the daemon, who removes it once handled).
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

import prepcast
from tests.difusor.difusor_helpers import free_port, wait_port

SSHD = "/usr/sbin/sshd"
SYSTEM_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
# requests the institute's account never needs: no links (a link in the inbox would point the
# daemon at files outside it), no changes of permissions (the inbox keeps its setgid bit)
DENIED_SFTP_REQUESTS = "symlink,hardlink,setstat,fsetstat,lsetstat"


def sshd_match_block(user: str, chroot: Path, authorized_keys: Path) -> str:
    """The ``Match`` block of the guide (a drop-in under ``sshd_config.d``)."""
    return (f"Match User {user}\n"
            f"    ChrootDirectory {chroot}\n"
            f"    ForceCommand internal-sftp -u 0027 -P {DENIED_SFTP_REQUESTS}\n"
            f"    AuthorizedKeysFile {authorized_keys}\n"
            "    PasswordAuthentication no\n"
            "    AllowTcpForwarding no\n"
            "    X11Forwarding no\n"
            "    PermitTTY no\n")


class SafeDaemonDifusor:
    """Users, folders, sshd and the daemon (as its own user) in a throwaway root under /srv."""

    def __init__(self, trusted_root: Path) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        tag = secrets.token_hex(3)
        self.sftp_user = f"prepi{tag}"      # the institute's SFTP account
        self.daemon_user = f"prepd{tag}"    # the daemon's user: owns www, not reachable by SFTP
        self.base = Path(tempfile.mkdtemp(prefix="prepcast-safe-", dir="/srv"))
        self.base.chmod(0o755)
        for name in (self.daemon_user, self.sftp_user):
            subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/",
                            "--shell", "/usr/sbin/nologin", name], check=True)
        # keys only; the test's sshd runs without PAM, which refuses a locked ("!") account
        subprocess.run(["usermod", "--password", "*", self.sftp_user], check=True)
        self.uid = pwd.getpwnam(self.daemon_user).pw_uid
        self.gid = grp.getgrnam(self.daemon_user).gr_gid
        self.chroot = self.base / "sftp"                 # root-owned 0755: ChrootDirectory
        self.inbox = self.chroot / "inbox"               # sftp user + daemon group, 2770
        self.www = self.base / "www"                     # the daemon's, outside the chroot
        self.etc = self.base / "etc"
        self.logs = self.base / "log"
        self.chroot.mkdir(mode=0o755)
        self.inbox.mkdir()
        shutil.chown(self.inbox, self.sftp_user, self.daemon_user)
        self.inbox.chmod(0o2770)
        for d in (self.www, self.logs):
            d.mkdir()
            shutil.chown(d, self.daemon_user, self.daemon_user)
            d.chmod(0o755)
        self.etc.mkdir(mode=0o755)
        shutil.copy(trusted_root, self.etc / "root.pub")
        (self.etc / "root.pub").chmod(0o644)
        self.config = self.etc / "difusor.toml"
        self.config.write_text(
            f'name = "seguro"\nroot = "{self.www}"\ninbox = "{self.inbox}"\n'
            f'trusted_root = "{self.etc / "root.pub"}"\nkeep_releases = 3\n'
            f'event_log = "{self.logs / "events.jsonl"}"\nsyslog = false\npoll_interval = 0.1\n')
        self.config.chmod(0o644)
        # the institute's SSH key (an SSH key, not one of prepcast's signing keys)
        client = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = self.base / "institute_ed25519"
        client.write_private_key(str(self.client_key))
        self.client_key.chmod(0o600)
        keys_dir = self.etc / "authorized_keys"
        keys_dir.mkdir(mode=0o755)
        (keys_dir / self.sftp_user).write_bytes(client.export_public_key())
        (keys_dir / self.sftp_user).chmod(0o644)
        host = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_file = self.etc / "ssh_host_ed25519_key"
        host.write_private_key(str(self.host_key_file))
        self.host_key_file.chmod(0o600)
        self.host_key = host.export_public_key().decode().strip()
        self.port = free_port()
        dropins = self.etc / "sshd_config.d"
        dropins.mkdir(mode=0o755)
        (dropins / "prepcast.conf").write_text(
            sshd_match_block(self.sftp_user, self.chroot, keys_dir / "%u"))
        # like Debian's stock sshd_config: drop-ins first, the stock sftp Subsystem left alone
        self.sshd_config = self.etc / "sshd_config"
        self.sshd_config.write_text(
            f"Include {dropins}/*.conf\n"
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key_file}\n"
            f"PidFile {self.base}/sshd.pid\nUsePAM no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin no\nLogLevel ERROR\nX11Forwarding yes\n"
            "Subsystem sftp /usr/lib/openssh/sftp-server\n")
        self.sshd: subprocess.Popen[bytes] | None = None
        self.daemon: subprocess.Popen[bytes] | None = None

    def sshd_test(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SSHD, "-t", "-f", str(self.sshd_config)], capture_output=True,
                              text=True, check=False)

    def start(self) -> None:
        self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.sshd_config)],
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        # the daemon's user cannot enter /root, where the test's interpreter lives: Debian's
        # Python of the same version, with this environment's packages
        site = [p for p in sys.path if p.endswith("site-packages")]
        src = str(Path(prepcast.__file__).resolve().parents[1])
        env = {"PATH": "/usr/bin:/bin", "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONPATH": os.pathsep.join([src, *site])}
        self.daemon = subprocess.Popen(
            [SYSTEM_PYTHON, "-m", "prepcast", "difusor", "run", "--config", str(self.config)],
            user=self.uid, group=self.gid, extra_groups=[], umask=0o022, env=env, cwd="/",
            stderr=subprocess.PIPE)

    def events(self) -> list[dict[str, object]]:
        log = self.logs / "events.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def wait_event(self, event: str, nth: int = 1, timeout: float = 20.0) -> None:
        """Until the daemon has logged ``event`` ``nth`` times."""
        def seen() -> bool:
            return sum(e["event"] == event for e in self.events()) >= nth

        deadline = time.monotonic() + timeout
        while not seen():
            if self.daemon is not None and self.daemon.poll() is not None:
                err = self.daemon.stderr.read().decode() if self.daemon.stderr else ""
                raise AssertionError(f"the daemon stopped: {err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no event {event} ({nth}): {self.events()[-5:]}")
            time.sleep(0.1)

    def live(self) -> str | None:
        try:
            return os.readlink(self.www / "current")
        except OSError:
            return None

    def stop(self) -> None:
        for proc in (self.daemon, self.sshd):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for name in (self.sftp_user, self.daemon_user):
            with contextlib.suppress(OSError):
                subprocess.run(["userdel", "--force", name], check=False,
                               stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)
