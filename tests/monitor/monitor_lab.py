"""Honest and dishonest difusores for the monitor: nginx on loopback serving copies of the
institute's cuts, certificates from a test CA (one expired), and the institute's publish root."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.distribution.dist_packages import make_keys, make_package
from tests.distribution.dist_servers import free_port
from tests.registry.check_servers import Nginx, TestCA

INJECTED = b"<script src='https://anuncios.example/tracker.js'></script>"


def srv_dir(prefix: str) -> Path:
    """A 0755 folder nginx's workers can read (``/tmp`` test folders are private)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/srv"))
    d.chmod(0o755)
    return d


def publish(root: Path, package: Path, tag: str) -> None:
    """Like the night runner: the release, then one rename of ``current``."""
    (root / "releases").mkdir(parents=True, exist_ok=True)
    dest = root / "releases" / tag
    if not dest.exists():
        shutil.copytree(package, dest)
    tmp = root / ".current.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(f"releases/{tag}")
    tmp.rename(root / "current")


def tag(cut: int) -> str:
    return f"jornada-{cut:04d}"


@dataclass
class Lab:
    base: Path
    keydir: Path
    packages: list[Path]
    reference: Path
    ca: TestCA
    roots: dict[str, Path] = field(default_factory=dict)
    servers: dict[str, Nginx] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def trust(self) -> Path:
        return self.keydir / "root.pub"

    def registry(self, names: list[str] | None = None, *, path: Path | None = None) -> Path:
        lines = [f'[checks]\nca_file = "{self.ca.cert}"\n']
        for name in names or list(self.urls):
            lines.append(
                f'[[difusor]]\nname = "{name}"\nhost = "127.0.0.1"\nport = 22\nuser = "prep"\n'
                f'auth = "key"\nkey_file = "{self.trust}"\nremote_root = "/www"\nmode = "sftp"\n'
                f'nombre = "Difusor {name}"\nurl = "{self.urls[name]}"\n'
                f'contacto = {{ nombre = "Responsable {name}", email = "{name}@medio.example", '
                f'telefono = "5550000000" }}\n')
        out = path or self.base / "difusores.toml"
        out.write_text("\n".join(lines))
        return out

    def add(self, name: str, *, upto: int, expired: bool = False,
            cache_control: str | None = None, slow: bool = False, serve: bool = True,
            plain: bool = False) -> Path:
        """A difusor serving cuts 1..``upto`` (``plain``: its site also over plain HTTP, on a
        port of its own, and its ``url`` that one)."""
        root = srv_dir(f"mon-{name}-")
        for cut in range(1, upto + 1):
            publish(root, self.packages[cut - 1], tag(cut))
        self.roots[name] = root
        if not serve:
            self.urls[name] = f"https://localhost:{free_port()}"
            return root
        cert, key = self.ca.issue(self.base, name, expired=expired)
        web = Nginx(root, self.base / f"nginx-{name}", cert, key, cache_control=cache_control)
        if slow:
            text = web.conf_file.read_text()
            web.conf_file.write_text(text.replace("    gzip on;", "    limit_rate 300;\n    gzip on;"))
        url = web.url
        if plain:
            port = free_port()
            text = web.conf_file.read_text()
            tls = f"listen 127.0.0.1:{web.https_port} ssl http2;"
            web.conf_file.write_text(text.replace(tls, f"{tls}\n        listen 127.0.0.1:{port};"))
            url = f"http://localhost:{port}/"
        web.start()
        self.servers[name] = web
        self.urls[name] = url
        return root

    def advance(self, cut: int, names: list[str]) -> None:
        """The institute publishes ``cut``; the difusores ``names`` follow it."""
        publish(self.reference, self.packages[cut - 1], tag(cut))
        for n in names:
            publish(self.roots[n], self.packages[cut - 1], tag(cut))

    def stop(self) -> None:
        for web in self.servers.values():
            web.stop()
        for root in [*self.roots.values(), self.reference]:
            shutil.rmtree(root, ignore_errors=True)


def make_lab(base: Path, cuts: int) -> Lab:
    keydir = base / "keys"
    make_keys(keydir)
    packages: list[Path] = []
    for cut in range(1, cuts + 1):
        packages.append(make_package(base / f"pkg{cut}", keydir, cut,
                                     previous=packages[-1] if packages else None))
    return Lab(base, keydir, packages, srv_dir("mon-ref-"), TestCA.create(base))
