"""nginx and Apache 2.4 (Debian's) started on loopback with the generated configs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from prepcast.difusor.webconf import WebConf, render
from tests.difusor.difusor_helpers import free_port, wait_port


def make_cert(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def public_dir(prefix: str) -> Path:
    """A root-owned 0755 temp folder the servers' www-data workers can read (not under /tmp)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/srv"))
    d.chmod(0o755)
    return d


class WebServer:
    """One nginx or Apache serving ``root/current`` over HTTPS and HTTP on loopback ports."""

    def __init__(self, kind: str, root: Path, workdir: Path) -> None:
        self.kind = kind
        self.root = root
        self.workdir = workdir
        self.https_port = free_port()
        self.http_port = free_port()
        self.cert, self.key = make_cert(workdir)
        self.access_log = workdir / "access.log"
        self.conf = WebConf(root=root, server_name="localhost",
                            https_listen=f"127.0.0.1:{self.https_port}",
                            http_listen=f"127.0.0.1:{self.http_port}", cert=self.cert, key=self.key,
                            access_log=self.access_log, error_log=workdir / "error.log",
                            state_dir=workdir)
        self.conf_file = workdir / f"{kind}.conf"
        self.conf_file.write_text(render(kind, self.conf, standalone=True))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"https://localhost:{self.https_port}"

    def start(self) -> None:
        if self.kind == "nginx":
            argv = ["/usr/sbin/nginx", "-c", str(self.conf_file), "-p", str(self.workdir)]
        else:
            argv = ["/usr/sbin/apache2", "-f", str(self.conf_file), "-DFOREGROUND"]
        env = {**os.environ, "APACHE_RUN_DIR": str(self.workdir)}
        self.proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)
        try:
            wait_port(self.https_port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{self.kind} did not start: {(self.workdir / 'error.log').read_text() if (self.workdir / 'error.log').exists() else ''}") from None
        time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # nginx: SIGQUIT is a graceful stop; Apache: SIGTERM stops it and its children
            self.proc.send_signal(signal.SIGQUIT if self.kind == "nginx" else signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
