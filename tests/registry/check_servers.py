"""Real servers for the compliance checks: OpenSSH sshd with chrooted internal-sftp users (one of
them a "gateway" that refuses symlinks, hard links and posix-rename), nginx serving each user's
``www/current`` over HTTPS with certificates from a test CA (one expired)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from prepcast.difusor.webconf import WebConf, render
from prepcast.package.layout import CACHE_CONTROL_MUTABLE
from tests.distribution.dist_servers import SSHD, Sshd, free_port, wait_port

GATEWAY_DENY = "symlink,hardlink,posix-rename"


class GatewaySshd(Sshd):
    """Like :class:`Sshd`, with some users whose SFTP refuses what object-storage gateways lack."""

    def __init__(self) -> None:
        super().__init__()
        self.gateways: list[str] = []

    def start(self) -> None:
        conf = self.base / "sshd_config"
        gateway = "".join(
            f"Match User {name}\n    ChrootDirectory {self.base}/chroots/%u\n"
            f"    ForceCommand internal-sftp -P {GATEWAY_DENY}\n"
            "    AllowTcpForwarding no\n    X11Forwarding no\n" for name in self.gateways)
        conf.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key_file}\n"
            f"PidFile {self.base}/sshd.pid\nUsePAM no\n"
            f"AuthorizedKeysFile {self.base}/authorized_keys/%u\n"
            "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
            "MaxStartups 300:30:600\nMaxSessions 50\nLogLevel ERROR\n"
            "Subsystem sftp internal-sftp\n" + gateway +
            "Match User prepd*\n"
            f"    ChrootDirectory {self.base}/chroots/%u\n"
            "    ForceCommand internal-sftp\n"
            "    AllowTcpForwarding no\n    X11Forwarding no\n"
        )
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)],
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)


@dataclass
class TestCA:
    __test__ = False

    cert: Path
    key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate

    @classmethod
    def create(cls, directory: Path) -> TestCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "prepcast test CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                             False), critical=True)
                .sign(key, hashes.SHA256()))
        path = directory / "ca.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(path, key, cert)

    def issue(self, directory: Path, stem: str, *, expired: bool = False) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        start, end = ((now - dt.timedelta(days=40), now - dt.timedelta(days=10)) if expired
                      else (now - dt.timedelta(days=1), now + dt.timedelta(days=90)))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(self.ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                    critical=False)
                .sign(self.key, hashes.SHA256()))
        cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path


class Nginx:
    """nginx with prepcast's own site config for one difusor root (``root/current``)."""

    def __init__(self, root: Path, workdir: Path, cert: Path, key: Path,
                 cache_control: str | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.https_port, self.http_port = free_port(), free_port()
        conf = WebConf(root=root, server_name="localhost",
                       https_listen=f"127.0.0.1:{self.https_port}",
                       http_listen=f"127.0.0.1:{self.http_port}", cert=cert, key=key,
                       access_log=workdir / "access.log", error_log=workdir / "error.log",
                       state_dir=workdir)
        text = render("nginx", conf, standalone=True)
        if cache_control is not None:
            text = text.replace(CACHE_CONTROL_MUTABLE, cache_control)
        self.conf_file = workdir / "nginx.conf"
        self.conf_file.write_text(text)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://localhost:{self.http_port}/"

    def start(self) -> None:
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-c", str(self.conf_file), "-p",
                                      str(self.workdir)], stderr=subprocess.DEVNULL)
        wait_port(self.https_port)
        time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
