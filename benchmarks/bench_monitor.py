"""Benchmark of the monitor on loopback (prints every figure with its setting and load average).

1. One round over 100 local difusores: json/main.json (signature, cut, lag, header), index.html,
   the JS and CSS, and 50 sampled data files each (target: at most 10 s).
2. A full sweep of one difusor's cut of a synthetic ``edomex-2024`` election: every file of the
   manifest fetched and compared (target: at most 30 s).
3. The monitor's CPU with 50 difusores and 30 s rounds (target: under 10 % of one core).

The difusores are one nginx (the generated site config, HTTPS with a test certificate) listening
on 100 ports, each port with its own root (``root /srv/…/d$server_port``: hard-linked copies
of the cut, its own ``releases/`` and ``current``). nginx runs on core 1, the monitor on core 0.
Run: ``.venv/bin/python benchmarks/bench_monitor.py [--profile edomex-2024] [--cpu-seconds 90]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.distribution.dist_servers import free_port, wait_port
from tests.registry.check_servers import TestCA

from prepcast.difusor.webconf import WebConf, render
from prepcast.monitor import Monitor, MonitorOptions, ProbeSettings
from prepcast.package.manifest import load_manifest

CLIENT_CORE, SERVER_CORE = 0, 1


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def build_cut(root: Path, profile: str, seed: int, at: str) -> Path:
    from prepcast.election import cut_number, cut_time, load_election_dir
    from prepcast.election.synthetic import generate
    from prepcast.package import init_keys, load_signer
    from prepcast.publish import CutBuilder

    t0 = time.perf_counter()
    ed = load_election_dir(generate(profile, seed, root / "election", images=False))
    init_keys(root / "keys")
    n = cut_number(ed.proceso, datetime.fromisoformat(at))
    pkg = root / "cut"
    CutBuilder(ed, load_signer(root / "keys")).build(cut_time(ed.proceso, n), pkg)
    print(f"package: {profile} seed {seed}, cut {n}, built in {time.perf_counter() - t0:.1f} s")
    return pkg


def publish(root: Path, pkg: Path, tag: str) -> None:
    (root / "releases").mkdir(parents=True)
    subprocess.run(["cp", "-al", str(pkg), str(root / "releases" / tag)], check=True)
    (root / "current").symlink_to(f"releases/{tag}")


class ManyPortNginx:
    """One nginx, the generated site config, one listen port and one root per difusor."""

    def __init__(self, base: Path, ports: list[int], cert: Path, key: Path) -> None:
        self.base, self.ports = base, ports
        conf = WebConf(root=base / "d0", server_name="localhost",
                       https_listen=f"127.0.0.1:{ports[0]}",
                       http_listen=f"127.0.0.1:{free_port()}", cert=cert, key=key,
                       access_log=Path("/dev/null"), error_log=base / "error.log",
                       state_dir=base)
        text = render("nginx", conf, standalone=True)
        listen = f"    listen 127.0.0.1:{ports[0]} ssl http2;\n"
        text = text.replace(listen, "".join(f"    listen 127.0.0.1:{p} ssl;\n" for p in ports))
        text = re.sub(r"root [^;]*/d0/current;", f"root {base}/d$server_port/current;", text)
        text = text.replace("worker_processes 1;", "worker_processes 1;\nworker_rlimit_nofile 8192;")
        self.conf = base / "nginx.conf"
        self.conf.write_text(text)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["/usr/sbin/nginx", "-c", str(self.conf), "-p", str(self.base)]
        if shutil.which("taskset"):
            argv = ["taskset", "-c", str(SERVER_CORE), *argv]
        self.proc = subprocess.Popen(argv)
        wait_port(self.ports[-1])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(15)


def registry(path: Path, ca: Path, ports: list[int], key_file: Path) -> Path:
    parts = [f'[checks]\nca_file = "{ca}"\n']
    for i, p in enumerate(ports):
        parts.append(f'[[difusor]]\nname = "d{i:03d}"\nhost = "127.0.0.1"\nport = 22\n'
                     f'user = "prep"\nauth = "key"\nkey_file = "{key_file}"\n'
                     f'remote_root = "/www"\nurl = "https://localhost:{p}"\n')
    path.write_text("\n".join(parts))
    return path


async def rounds(opts: MonitorOptions, n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``n`` rounds in a row (CPU is less sensitive to the shared load)."""
    mon = Monitor(opts)
    took, cpu = [], []
    try:
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            res = await mon.round()
            took.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            bad = [r for r in res if not r.up or r.integrity]
            if bad:
                print(f"  unexpected findings: {bad[0].name}: {bad[0].error or bad[0].integrity[:3]}")
    finally:
        await mon.close()
    return took, cpu


async def paced(opts: MonitorOptions, seconds: float) -> tuple[float, float, int]:
    mon = Monitor(opts)
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    n = 0
    try:
        while time.perf_counter() - t0 < seconds:
            started = time.perf_counter()
            await mon.round()
            n += 1
            await asyncio.sleep(max(opts.probe.round_s - (time.perf_counter() - started), 0))
    finally:
        await mon.close()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu, time.perf_counter() - t0, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--at", default="2024-06-03T08:00:00-06:00", help="cut time (mid-night)")
    ap.add_argument("--difusores", type=int, default=100)
    ap.add_argument("--cpu-difusores", type=int, default=50)
    ap.add_argument("--cpu-seconds", type=float, default=90.0)
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                    help="event loop (monitor run uses uvloop)")
    a = ap.parse_args()
    if a.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    tmp = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    srv = Path(tempfile.mkdtemp(prefix="bench-monitor-", dir="/srv"))
    srv.chmod(0o755)
    web = None
    try:
        pkg = build_cut(tmp, a.profile, a.seed, a.at)
        m = load_manifest(pkg)
        print(f"cut {m.cut_id}: {len(m.files)} files, {m.total_size / 1e6:.1f} MB; "
              f"event loop {a.loop}")
        publish(srv / "ref", pkg, m.cut_id.tag)
        ports = [free_port() for _ in range(a.difusores)]
        for p in ports:
            publish(srv / f"d{p}", pkg, m.cut_id.tag)
        ca = TestCA.create(tmp)
        cert, key = ca.issue(tmp, "bench")
        web = ManyPortNginx(srv, ports, cert, key)
        web.start()
        pin(CLIENT_CORE)
        trust = tmp / "keys" / "root.pub"
        reg = registry(tmp / "all.toml", ca.cert, ports, trust)

        def opts(reg_path: Path, state: str, **kw: float) -> MonitorOptions:
            return MonitorOptions(reg_path, trust, srv / "ref", tmp / state,
                                  probe=ProbeSettings(**kw))  # type: ignore[arg-type]

        took, cpu = asyncio.run(rounds(opts(reg, "s1", sample=50, cut_interval_s=1e9), 3))
        print(f"1. one round, {a.difusores} difusores (main.json, HTML, JS, CSS, 50 data files "
              f"each): first {took[0]:.2f} s wall / {cpu[0]:.2f} s CPU (new TLS connections), "
              f"then {min(took[1:]):.2f}-{max(took[1:]):.2f} s wall / "
              f"{min(cpu[1:]):.2f}-{max(cpu[1:]):.2f} s CPU; load {load()}")
        one = registry(tmp / "one.toml", ca.cert, ports[:1], trust)
        n_data = len(m.files)
        took, cpu = asyncio.run(rounds(opts(one, "s2", sample=n_data), 1))
        print(f"2. full sweep of one difusor's {a.profile} cut ({n_data} files listed): "
              f"{took[0]:.2f} s wall / {cpu[0]:.2f} s CPU; load {load()}")
        half = registry(tmp / "half.toml", ca.cert, ports[:a.cpu_difusores], trust)
        cpu, wall, n = asyncio.run(paced(opts(half, "s3", round_s=30.0), a.cpu_seconds))
        print(f"3. monitor CPU, {a.cpu_difusores} difusores, 30 s rounds: {cpu:.1f} s CPU over "
              f"{wall:.0f} s ({n} rounds) = {100 * cpu / wall:.1f} % of one core; load {load()}")
    finally:
        if web is not None:
            web.stop()
        shutil.rmtree(srv, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
