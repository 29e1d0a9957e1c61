"""``prepcast difusores check --all`` against many local difusores.

One OpenSSH sshd with N chrooted internal-sftp users (as docs/difusor-setup.md sets them up) and
one nginx with HTTPS from a test CA serving every difusor's ``current`` under its own path
(``https://localhost:PORT/dNN``, ``/json/main.json`` with the required Cache-Control), HTTP
redirected to HTTPS. The registry's ``[checks]`` keeps the calls' thresholds (40 MB/s, 20 GB)
except the disk threshold, lowered so the loopback disk passes; the speed test is 100 MB.

    .venv/bin/python benchmarks/bench_registry.py [--difusores 50] [--speed-mb 100] [--concurrency 8]

Prints the wall time of the whole command and of the slowest difusor, and how many passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.distribution.dist_servers import Sshd, free_port, wait_port
from tests.registry.check_servers import TestCA

CACHE = "no-cache, no-store, must-revalidate"


def nginx_conf(work: Path, roots: dict[str, Path], https: int, http: int, cert: Path,
               key: Path) -> str:
    locations = "".join(
        f"        location /{name}/ {{ alias {root}/current/; }}\n"
        f"        location = /{name}/json/main.json {{ alias {root}/current/json/main.json; "
        f'add_header Cache-Control "{CACHE}" always; }}\n'
        for name, root in roots.items())
    return (f"worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
            "user www-data;\nevents { worker_connections 1024; }\n"
            f"http {{\n    access_log off;\n    client_body_temp_path {work}/tmp;\n"
            f"    proxy_temp_path {work}/tmp;\n    fastcgi_temp_path {work}/tmp;\n"
            f"    uwsgi_temp_path {work}/tmp;\n    scgi_temp_path {work}/tmp;\n"
            f"    server {{ listen 127.0.0.1:{http}; return 301 https://localhost:{https}$request_uri; }}\n"
            f"    server {{\n        listen 127.0.0.1:{https} ssl;\n        server_name localhost;\n"
            f"        ssl_certificate {cert};\n        ssl_certificate_key {key};\n"
            f"{locations}    }}\n}}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--difusores", type=int, default=50)
    ap.add_argument("--speed-mb", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--speed-concurrency", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prepcast-bench-registry-", dir="/srv"))
    work.chmod(0o755)
    (work / "tmp").mkdir()
    sshd = Sshd()
    nginx: subprocess.Popen[bytes] | None = None
    try:
        ca = TestCA.create(work)
        cert, key = ca.issue(work, "localhost")
        users = {f"d{i:02d}": sshd.add_user() for i in range(1, args.difusores + 1)}
        sshd.start()
        https, http = free_port(), free_port()
        (work / "nginx.conf").write_text(
            nginx_conf(work, {n: u.www for n, u in users.items()}, https, http, cert, key))
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(work / "nginx.conf"), "-p",
                                  str(work)], stderr=subprocess.DEVNULL)
        wait_port(https)
        entries = "".join(
            f'[[difusor]]\nname = "{n}"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
            f'user = "{u.name}"\nkey_file = "{u.key_file}"\nremote_root = "/www"\n'
            f'host_key = "{sshd.host_key}"\nurl = "https://localhost:{https}/{n}"\n'
            f'http_url = "http://localhost:{http}/"\n\n' for n, u in users.items())
        reg = work / "registry.toml"
        reg.write_text(f"[checks]\nmin_free_gb = 1\nspeed_test_mb = {args.speed_mb}\n"
                       f"concurrency = {args.concurrency}\n"
                       f"speed_concurrency = {args.speed_concurrency}\n"
                       f'ca_file = "{ca.cert}"\ntimeout_s = 120\n\n' + entries)
        load = Path("/proc/loadavg").read_text().split()[:3]
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "prepcast", "difusores", "check", "--all",
                            "--registry", str(reg), "--json"], capture_output=True, text=True)
        wall = time.perf_counter() - start
        if r.returncode not in (0, 1):
            print(r.stderr, file=sys.stderr)
            return 1
        reports = json.loads(r.stdout)
        passed = sum(1 for x in reports if x["passed"])
        speeds = [f["detalle"] for x in reports for f in x["findings"] if f["key"] == "sftp.speed"]
        failing: dict[str, int] = {}
        for x in reports:
            for f in x["findings"]:
                if f["ok"] is False:
                    failing[f["key"]] = failing.get(f["key"], 0) + 1
        print(f"difusores check --all: {len(reports)} difusores, {args.speed_mb} MB speed test, "
              f"{args.concurrency} at a time ({args.speed_concurrency} speed test at a time): "
              f"{wall:.1f} s wall "
              f"(slowest difusor {max(x['seconds'] for x in reports):.1f} s); "
              f"{passed} passed; failing checks {failing or '-'}")
        print(f"speeds seen: {speeds[0]} … {speeds[-1]}")
        print(f"load average before: {' '.join(load)}; after: "
              f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; cores: {os.cpu_count()}")
        return 0
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(15)
        sshd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
