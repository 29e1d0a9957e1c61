"""Benchmarks of distribution and serving on loopback (prints every figure and its setting).

1. One SFTP stream (one SSH connection) carrying a whole package of a synthetic election
   (default ``edomex-2024``) into a chrooted OpenSSH user, against OpenSSH's own ``sftp``
   (``put -r``) as baseline; and one 200 MB file both ways (the calls ask for 40 MB/s).
2. Cut close -> every difusor serving it, for the delta between two consecutive mid-night cuts,
   on 20, 50 and 200 local SFTP-only difusores (embedded asyncssh servers in a child process).
   Difusores already hold the previous cut and the pusher's connections are open, as during
   the night; the time runs from the push's start (package built) until every ``current``
   names the new release.
3. Requests/s on ``json/main.json``: the embedded server vs nginx with the generated config (wrk).

Client and servers are pinned to different cores (``taskset``/``sched_setaffinity``): the
pusher / sftp / wrk on core 0, sshd / the difusores / nginx / the embedded server on core 1.
Run: ``.venv/bin/python benchmarks/bench_distribution.py [--profile P] [--difusores 20,50,200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.*
from tests.distribution.dist_servers import Sshd, free_port, wait_port

from prepcast.difusor.activate import ReleaseStore
from prepcast.difusor.layout import release_dir
from prepcast.difusor.webconf import WebConf, render
from prepcast.distribution.contents import PackageContents, read_package
from prepcast.distribution.local import start_sftp_difusor
from prepcast.distribution.push import Pusher
from prepcast.distribution.registry import Difusor, Registry
from prepcast.distribution.state import DeliveryState

CLIENT_CORE, SERVER_CORE = 0, 1
CONCURRENCY = int(os.environ.get("PREPCAST_BENCH_CONCURRENCY", "64"))
MB = 1_000_000


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def taskset(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


# --- packages ------------------------------------------------------------------------------

def build_packages(root: Path, profile: str, seed: int, at: str) -> tuple[Path, Path]:
    from prepcast.election import cut_number, cut_time, load_election_dir
    from prepcast.election.synthetic import generate
    from prepcast.package import init_keys, load_signer
    from prepcast.publish import CutBuilder

    t0 = time.perf_counter()
    election = generate(profile, seed, root / "election")
    ed = load_election_dir(election)
    init_keys(root / "keys")
    night = CutBuilder(ed, load_signer(root / "keys"))
    n = cut_number(ed.proceso, datetime.fromisoformat(at))
    a, b = root / "cut-a", root / "cut-b"
    night.build(cut_time(ed.proceso, n), a)
    night.build(cut_time(ed.proceso, n + 1), b, previous=a)
    print(f"packages: {profile} seed {seed}, cuts {n} and {n + 1}, built in "
          f"{time.perf_counter() - t0:.1f} s")
    return a, b


def describe(pkg: PackageContents, label: str) -> None:
    print(f"  {label}: cut {pkg.cut}, {len(pkg.files)} files, {pkg.total_bytes / MB:.1f} MB")


# --- 1. one stream -------------------------------------------------------------------------

def bench_stream(pkg_dir: Path, tmp: Path) -> None:
    print("\n== 1. one SFTP stream into a chrooted OpenSSH user (sshd on core 1, client on core 0)")
    sshd = Sshd()
    conf_taskset = taskset(SERVER_CORE)
    try:
        sshd.start_argv_prefix = conf_taskset  # type: ignore[attr-defined]
        _start_pinned(sshd, conf_taskset)
        user = sshd.add_user()
        pkg = read_package(pkg_dir)
        describe(pkg, "package")
        big = tmp / "big" / "db" / "0001"
        big.mkdir(parents=True)
        (big / "big.bin").write_bytes(os.urandom(200 * MB))
        for label, directory, count in (("whole package", pkg_dir, len(pkg.files)),
                                        ("one 200 MB file", tmp / "big", 1)):
            ours = _asyncssh_put(sshd, user, directory, label)
            theirs = _openssh_put(sshd, user, directory, tmp)
            size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
            print(f"  {label}: prepcast (asyncssh, 1 connection) {size / ours / MB:.1f} MB/s, "
                  f"{count / ours:.0f} files/s in {ours:.2f} s | OpenSSH sftp put -r "
                  f"{size / theirs / MB:.1f} MB/s in {theirs:.2f} s | prepcast ÷ OpenSSH {theirs / ours:.2f}")
            shutil.rmtree(user.www, ignore_errors=True)
            user.www.mkdir()
            shutil.chown(user.www, user.name, user.name)
    finally:
        sshd.stop()


def _start_pinned(sshd: Sshd, prefix: list[str]) -> None:
    sshd.start()
    if prefix and sshd.proc is not None:
        subprocess.run([*prefix[:2], "-p", "-a", str(SERVER_CORE), str(sshd.proc.pid)],
                       check=False, capture_output=True)


def _asyncssh_put(sshd: Sshd, user: object, directory: Path, label: str) -> float:
    from tests.distribution.dist_servers import SftpUser

    assert isinstance(user, SftpUser)
    d = Difusor(name="bench", host="127.0.0.1", port=sshd.port, user=user.name, auth="key",
                remote_root="/www", mode="sftp", key_file=user.key_file, host_key=sshd.host_key)
    state_dir = Path(tempfile.mkdtemp())
    pkg = _as_package(directory)

    async def go() -> float:
        pusher = Pusher(Registry(state_dir / "r.toml", (d,), concurrency=1),
                        DeliveryState(state_dir / "s.sqlite"))
        try:
            await pusher.peers["bench"].connect()  # the connection is open before the cut
            t0 = time.perf_counter()
            out = await pusher.stage_all(pkg)
            seconds = time.perf_counter() - t0
            assert out["bench"].ok, out["bench"].error
            return seconds
        finally:
            await pusher.close()

    try:
        return asyncio.run(go())
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _as_package(directory: Path) -> PackageContents:
    if (directory / "manifests").is_dir():
        return read_package(directory)
    import hashlib
    from datetime import UTC

    files = {}
    for f in directory.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            files[f.relative_to(directory).as_posix()] = (hashlib.sha256(data).hexdigest(), len(data))
    return PackageContents(directory, "jornada", 1, datetime.now(UTC), "0" * 64, files)


def _openssh_put(sshd: Sshd, user: object, directory: Path, tmp: Path) -> float:
    from tests.distribution.dist_servers import SftpUser

    assert isinstance(user, SftpUser)
    known = tmp / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key}\n")
    batch = tmp / "batch"
    batch.write_text(f"put -r {directory} /www/baseline\n")
    argv = [*taskset(CLIENT_CORE), "sftp", "-q", "-b", str(batch), "-i", str(user.key_file),
            "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-P", str(sshd.port), f"{user.name}@127.0.0.1"]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - t0


# --- 2. many difusores ---------------------------------------------------------------------

def _difusor_process(n: int, base: str, conn: multiprocessing.connection.Connection) -> None:
    pin(SERVER_CORE)

    async def main() -> None:
        host_key = asyncssh.import_private_key(Path(base, "host_key").read_text())
        client_public = Path(base, "client.pub").read_text()
        ports = []
        for i in range(n):
            acceptor = await start_sftp_difusor(Path(base, f"d{i:03d}"), host_key, client_public)
            ports.append(acceptor.get_port())
        conn.send(ports)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, conn.recv) != "stop":
            conn.send(time.process_time())
        conn.send(time.process_time())

    asyncio.run(main())


def bench_many(a_dir: Path, b_dir: Path, tmp: Path, counts: list[int]) -> None:
    print("\n== 2. cut close -> every difusor serving it (SFTP-only difusores: embedded asyncssh "
          "servers in one process on core 1; pusher on core 0; connections already open)")
    a, b = read_package(a_dir), read_package(b_dir)
    describe(a, "previous cut")
    describe(b, "new cut")
    new_bytes = sum(size for p, (sha, size) in b.files.items()
                    if sha not in {s for s, _ in a.files.values()})
    print(f"  delta: {new_bytes / MB:.2f} MB of {b.total_bytes / MB:.1f} MB per difusor")
    host = asyncssh.generate_private_key("ssh-ed25519")
    client = asyncssh.generate_private_key("ssh-ed25519")
    for n in counts:
        base = tmp / f"net{n}"
        base.mkdir()
        (base / "host_key").write_bytes(host.export_private_key())
        client.write_private_key(str(base / "client_key"))
        (base / "client.pub").write_bytes(client.export_public_key())
        roots = [base / f"d{i:03d}" for i in range(n)]
        for root in roots:  # every difusor already serves the previous cut (hard links)
            _seed(root, a)
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_difusor_process, args=(n, str(base), child))
        proc.start()
        try:
            ports = parent.recv()
            server_cpu = time.process_time()
            parent.send("mark")
            server_cpu = parent.recv()
            client_cpu = time.process_time()
            seconds, connect = _push_many(base, ports, a, b, host)
            client_cpu = time.process_time() - client_cpu
            parent.send("stop")
            server_cpu = parent.recv() - server_cpu
            serving = sum(ReleaseStore(r).live_cut() == b.cut_id for r in roots)
            print(f"  {n:4d} difusores: {seconds:.1f} s from push start to all {serving}/{n} "
                  f"serving cut {b.cut} ({n * new_bytes / seconds / MB:.0f} MB/s aggregate); "
                  f"CPU: pusher {client_cpu:.1f} s, difusores {server_cpu:.1f} s; opening the {n} "
                  f"connections took {connect:.1f} s beforehand (load average "
                  f"{os.getloadavg()[0]:.1f})")
        finally:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def _seed(root: Path, pkg: PackageContents) -> None:
    release = root / release_dir(pkg.cut_id)
    for rel in pkg.files:
        dest = release / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(pkg.root / rel, dest)
    ReleaseStore(root).activate(pkg.cut_id)


def _listed(release: Path, pkg: PackageContents) -> dict[str, tuple[int, int]]:
    """Per content, the size and mtime (whole seconds) of its first immutable file."""
    out: dict[str, tuple[int, int]] = {}
    for rel, (sha, _) in sorted(pkg.immutable().items()):
        st = (release / rel).stat()
        out.setdefault(sha, (st.st_size, int(st.st_mtime)))
    return out


def _push_many(base: Path, ports: list[int], a: PackageContents, b: PackageContents,
               host: asyncssh.SSHKey) -> tuple[float, float]:
    host_line = host.export_public_key().decode().strip()
    difusores = tuple(
        Difusor(name=f"d{i:03d}", host="127.0.0.1", port=port, user="prep", auth="key",
                remote_root="/", mode="sftp", key_file=base / "client_key", host_key=host_line)
        for i, port in enumerate(ports))
    state = DeliveryState(base / "state.sqlite")
    state.remember_files(a.digest, a.files)
    for d, root in zip(difusores, sorted(base.glob("d[0-9][0-9][0-9]")), strict=True):
        state.set_holding(d.name, "staged", a.cut_id, a.digest)
        state.set_holding(d.name, "active", a.cut_id, a.digest)
        if hasattr(state, "set_listed"):   # as the night's state holds it: each content's listing
            state.set_listed(d.name, _listed(root / release_dir(a.cut_id), a), set(), {})
    registry = Registry(base / "registry.toml", difusores, concurrency=CONCURRENCY)

    async def go() -> tuple[float, float]:
        pusher = Pusher(registry, state, work_dir=base / "outbox")
        try:
            t0 = time.perf_counter()
            sem = asyncio.Semaphore(50)

            async def connect(peer: object) -> None:
                async with sem:
                    await peer.connect()  # type: ignore[attr-defined]

            await asyncio.gather(*(connect(p) for p in pusher.peers.values()))
            connect_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = await pusher.push(b, wait_for_embargo=False)
            seconds = report.seconds_to_serving
            if report.failed:
                print(f"  failed: {report.failed[:5]} {next(iter(report.staged.values())).error}")
            sent = sorted({o.files for o in report.staged.values()})
            print(f"  files sent per difusor: {', '.join(map(str, sent))}")
            return seconds, connect_s
        finally:
            await pusher.close()

    pin(CLIENT_CORE)
    try:
        return asyncio.run(go())
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        state.close()


# --- 3. requests per second ----------------------------------------------------------------

def bench_http(pkg_dir: Path, tmp: Path, seconds: int) -> None:
    print(f"\n== 3. GET /json/main.json, wrk -t1 -c64 -d{seconds}s on core 0, server on core 1, "
          "access log on")
    web = Path(tempfile.mkdtemp(prefix="bench-web-", dir="/srv"))
    web.chmod(0o755)
    try:
        root = web / "www"
        _seed(root, read_package(pkg_dir))
        for p in [web, *root.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        cert, key = web / "cert.pem", web / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "2", "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        https, http = free_port(), free_port()
        conf = WebConf(root=root, server_name="localhost", https_listen=f"127.0.0.1:{https}",
                       http_listen=f"127.0.0.1:{http}", cert=cert, key=key,
                       access_log=web / "nginx-access.log", error_log=web / "nginx-error.log",
                       state_dir=web)
        (web / "nginx.conf").write_text(render("nginx", conf, standalone=True))
        nginx = subprocess.Popen([*taskset(SERVER_CORE), "/usr/sbin/nginx", "-c",
                                  str(web / "nginx.conf"), "-p", str(web)])
        try:
            wait_port(https)
            nginx_rps = _wrk(f"https://127.0.0.1:{https}/json/main.json", seconds)
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(15)
        results = {"nginx (HTTPS, generated config)": nginx_rps}
        for label, tls in (("embedded (HTTPS)", True), ("embedded (HTTP)", False)):
            port = free_port()
            argv = [*taskset(SERVER_CORE), sys.executable, "-m", "prepcast", "difusor", "serve",
                    "--root", str(root), "--port", str(port), "--access-log",
                    str(web / "embedded-access.log")]
            if tls:
                argv += ["--cert", str(cert), "--key", str(key)]
            server = subprocess.Popen(argv)
            try:
                wait_port(port)
                scheme = "https" if tls else "http"
                results[label] = _wrk(f"{scheme}://127.0.0.1:{port}/json/main.json", seconds)
            finally:
                server.terminate()
                server.wait(15)
        for label, rps in results.items():
            print(f"  {label}: {rps:,.0f} requests/s ({rps / nginx_rps:.2f}x nginx)")
    finally:
        shutil.rmtree(web, ignore_errors=True)


def _wrk(url: str, seconds: int) -> float:
    out = subprocess.run([*taskset(CLIENT_CORE), "wrk", "-t1", "-c64", f"-d{seconds}s", url],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  ({url}: {non2xx.group(1)} non-2xx responses)")
    return float(m.group(1)) if m else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--at", default="2024-06-02T23:40:00-06:00", help="time of the first cut")
    ap.add_argument("--difusores", default="20,50,200")
    ap.add_argument("--wrk-seconds", type=int, default=8)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: stream,many,http")
    ap.add_argument("--packages", type=Path,
                    help="a folder with cut-a/ and cut-b/ built earlier (kept when given)")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="bench-distribution-") as t:
        tmp = Path(t)
        if args.packages and (args.packages / "cut-b").is_dir():
            a, b = args.packages / "cut-a", args.packages / "cut-b"
            print(f"packages: {a} and {b} (built earlier)")
        elif args.packages:
            args.packages.mkdir(parents=True, exist_ok=True)
            a, b = build_packages(args.packages, args.profile, args.seed, args.at)
        else:
            a, b = build_packages(tmp, args.profile, args.seed, args.at)
        if "stream" not in skip:
            bench_stream(a, tmp)
        if "many" not in skip:
            bench_many(a, b, tmp, [int(x) for x in args.difusores.split(",")])
        if "http" not in skip:
            bench_http(b, tmp, args.wrk_seconds)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
