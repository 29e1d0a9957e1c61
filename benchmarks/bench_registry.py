"""``prepcast difusores check --all`` against many local difusores.

One OpenSSH sshd with N chrooted internal-sftp users (as docs/difusor-setup.md sets them up) and
one nginx with HTTPS from a test CA serving every difusor's ``current`` under its own path
(``https://localhost:PORT/dNN``, ``/json/main.json`` with the required Cache-Control), HTTP
redirected to HTTPS. The registry's ``[checks]`` keeps the calls' thresholds (40 MB/s, 20 GB)
except the disk threshold, lowered so the loopback disk passes; the speed test is 100 MB.

    .venv/bin/python benchmarks/bench_registry.py [--difusores 50] [--speed-mb 100] [--concurrency 8]
                                                  [--speed-concurrency N ...] [--sftp-variants]

Runs the command twice on the same servers, as the issue asks (50 difusores, 8 at a time, a
100 MB speed test each): with the 8 speed tests at a time, then one at a time (the registry's
default, since on a real night they share the institute's uplink). Prints, for each, the wall
time of the whole command and of the slowest difusor, how many passed, the speeds seen, and the
CPU seconds of the check and of sshd (what the machine must do, whatever its load). With
``--sftp-variants``: asyncssh's upload alone, by cipher, block size and writes in flight.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
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
    return (f"daemon off;\nworker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
            "user www-data;\nevents { worker_connections 1024; }\n"
            f"http {{\n    access_log off;\n    client_body_temp_path {work}/tmp;\n"
            f"    proxy_temp_path {work}/tmp;\n    fastcgi_temp_path {work}/tmp;\n"
            f"    uwsgi_temp_path {work}/tmp;\n    scgi_temp_path {work}/tmp;\n"
            f"    server {{ listen 127.0.0.1:{http}; return 301 https://localhost:{https}$request_uri; }}\n"
            f"    server {{\n        listen 127.0.0.1:{https} ssl;\n        server_name localhost;\n"
            f"        ssl_certificate {cert};\n        ssl_certificate_key {key};\n"
            f"{locations}    }}\n}}\n")


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuGroup:
    """The CPU time of a process and everything it forks (sshd's sessions, where the
    internal-sftp servers decrypt and write), from a cgroup v1 ``cpuacct`` group of its own;
    ``None`` where there is none."""

    def __init__(self, pid: int) -> None:
        self.path: Path | None = CPUACCT / f"prepcast-bench-{os.getpid()}"
        try:
            self.path.mkdir()
            (self.path / "cgroup.procs").write_text(str(pid))
        except OSError:
            self.path = None

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.path is None:
            return
        for pid in (self.path / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                (CPUACCT / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.path.rmdir()


def run_check(reg: Path, args: argparse.Namespace, speed_concurrency: int,
              sshd_cpu: CpuGroup) -> int:
    text = reg.read_text()
    text = re.sub(r"(?m)^speed_concurrency = .*$", f"speed_concurrency = {speed_concurrency}", text)
    reg.write_text(text)
    load = Path("/proc/loadavg").read_text().split()[:3]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sshd_before = sshd_cpu.seconds()
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusores", "check", "--all",
                        "--registry", str(reg), "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sshd_after = sshd_cpu.seconds()
    if r.returncode not in (0, 1):
        print(r.stderr, file=sys.stderr)
        return 1
    reports = json.loads(r.stdout)
    passed = sum(1 for x in reports if x["passed"])
    speeds = sorted(float(f["detalle"].split()[0]) for x in reports for f in x["findings"]
                    if f["key"] == "sftp.speed")
    failing: dict[str, int] = {}
    for x in reports:
        for f in x["findings"]:
            if f["ok"] is False:
                failing[f["key"]] = failing.get(f["key"], 0) + 1
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"difusores check --all: {len(reports)} difusores, {args.speed_mb} MB speed test each, "
          f"{args.concurrency} difusores at a time, {speed_concurrency} speed test(s) at a time: "
          f"{wall:.1f} s wall (slowest difusor {max(x['seconds'] for x in reports):.1f} s); "
          f"{passed} passed; failing checks {failing or '-'}")
    server = ("sshd not measured (no cpuacct cgroup)" if sshd_after is None or sshd_before is None
              else f"sshd {sshd_after - sshd_before:.1f} s (together "
                   f"{client_cpu + sshd_after - sshd_before:.1f} s on {os.cpu_count()} cores)")
    print(f"  speed tests: min {speeds[0]:.1f}, median {statistics.median(speeds):.1f}, "
          f"max {speeds[-1]:.1f} MB/s; CPU: the check {client_cpu:.1f} s, {server}")
    print(f"  load average before: {' '.join(load)}; after: "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--difusores", type=int, default=50)
    ap.add_argument("--speed-mb", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--speed-concurrency", type=int, action="append",
                    help="speed tests at the same time (repeatable; default: 8, then 1)")
    ap.add_argument("--sftp-variants", action="store_true",
                    help="instead: asyncssh's SFTP upload by cipher, block size and writes in "
                         "flight, against OpenSSH's sftp client")
    ap.add_argument("--reps", type=int, default=5, help="with --sftp-variants: runs of each")
    args = ap.parse_args()
    if args.sftp_variants:
        from benchmarks._sftp_variants import run_variants

        run_variants(args.speed_mb, args.reps)
        return 0
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
        assert sshd.proc is not None
        sshd_cpu = CpuGroup(sshd.proc.pid)
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
                       f"concurrency = {args.concurrency}\nspeed_concurrency = 1\n"
                       f'ca_file = "{ca.cert}"\ntimeout_s = 120\n\n' + entries)
        for n in args.speed_concurrency or [args.concurrency, 1]:
            if run_check(reg, args, n, sshd_cpu):
                return 1
        sshd_cpu.close()
        return 0
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(15)
        sshd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
