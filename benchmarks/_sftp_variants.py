"""``bench_registry.py --sftp-variants``: what asyncssh's SFTP upload does here, one 100 MB file
of random bytes into a chrooted OpenSSH ``internal-sftp`` user, by cipher, MAC, block size and
the number of large writes in flight; OpenSSH's own ``sftp`` client as the reference. Each
variant runs ``reps`` times, interleaved, so the machine's load falls on all alike; the figures
are the best and the median MB/s and the client's CPU seconds per 100 MB."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from tests.distribution.dist_servers import Sshd

MB = 1000**2
CHUNK = 4 * 1024 * 1024


@dataclass
class Variant:
    label: str
    enc: str = "aes128-gcm@openssh.com"
    mac: str | None = None
    in_flight: int = 1          # writes of CHUNK awaited together
    block_size: int = -1        # -1: the server's limit (OpenSSH: 261,120 bytes)
    speeds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


VARIANTS = [
    Variant("aes128-gcm, 1 write of 4 MiB at a time (the check before)"),
    Variant("aes128-gcm, 4 writes of 4 MiB in flight (the check now)", in_flight=4),
    Variant("aes128-gcm, 8 writes in flight", in_flight=8),
    Variant("aes128-gcm, 4 in flight, 64 KiB blocks", in_flight=4, block_size=65536),
    Variant("aes256-gcm, 4 in flight", enc="aes256-gcm@openssh.com", in_flight=4),
    Variant("chacha20-poly1305, 4 in flight", enc="chacha20-poly1305@openssh.com", in_flight=4),
    Variant("aes128-ctr + hmac-sha2-256-etm, 4 in flight", enc="aes128-ctr",
            mac="hmac-sha2-256-etm@openssh.com", in_flight=4),
]


async def _upload(port: int, user: Any, v: Variant, total: int) -> tuple[float, float]:
    opts: dict[str, Any] = {"username": user.name, "client_keys": [str(user.key_file)],
                            "known_hosts": None, "agent_path": None, "config": None,
                            "compression_algs": None, "encryption_algs": [v.enc]}
    if v.mac:
        opts["mac_algs"] = [v.mac]
    async with asyncssh.connect("127.0.0.1", port, **opts) as conn:
        sftp = await conn.start_sftp_client()
        block = os.urandom(CHUNK)
        slots = asyncio.Semaphore(v.in_flight)
        t0, c0 = time.perf_counter(), time.process_time()
        async with sftp.open("/www/variant.bin", "wb", block_size=v.block_size) as f:

            async def write(offset: int) -> None:
                async with slots:
                    n = min(CHUNK, total - offset)
                    await f.write(block[:n], offset)

            await asyncio.gather(*(write(o) for o in range(0, total, CHUNK)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        await sftp.remove("/www/variant.bin")
    return total / MB / wall, cpu * 100 * MB / total


def _openssh(port: int, user: Any, src: Path, total: int) -> float:
    batch = src.with_suffix(".batch")
    batch.write_text(f"put {src} /www/openssh.bin\nrm /www/openssh.bin\n")
    t0 = time.perf_counter()
    subprocess.run(["sftp", "-q", "-i", str(user.key_file), "-P", str(port), "-b", str(batch),
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "Ciphers=aes128-gcm@openssh.com", "-o", "Compression=no",
                    f"{user.name}@127.0.0.1"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return total / MB / (time.perf_counter() - t0)


def run_variants(size_mb: int, reps: int) -> None:
    total = size_mb * MB
    sshd = Sshd()
    user = sshd.add_user()
    sshd.start()
    src = sshd.base / "random.bin"
    src.write_bytes(os.urandom(total))
    reference: list[float] = []
    load = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for _ in range(reps):
            for v in VARIANTS:
                speed, cpu = asyncio.run(_upload(sshd.port, user, v, total))
                v.speeds.append(speed)
                v.cpu.append(cpu)
            reference.append(_openssh(sshd.port, user, src, total))
    finally:
        sshd.stop()
    print(f"SFTP upload of one {size_mb} MB file into OpenSSH internal-sftp (loopback), "
          f"{reps} runs each, interleaved; MB/s best / median; client CPU s per 100 MB")
    for v in VARIANTS:
        print(f"  {v.label:<62} {max(v.speeds):6.1f} / {statistics.median(v.speeds):6.1f} MB/s"
              f"   CPU {statistics.median(v.cpu):.2f} s")
    print(f"  {'OpenSSH sftp client (aes128-gcm), reference':<62} {max(reference):6.1f} / "
          f"{statistics.median(reference):6.1f} MB/s")
    print(f"load average before: {' '.join(load)}; after: "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; cores: {os.cpu_count()}")
