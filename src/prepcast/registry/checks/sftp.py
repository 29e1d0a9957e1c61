"""The SFTP half of a compliance check: login with the registered credential and pinned host key,
write/rename/remove, which extensions the server has, free space, upload speed, its clock, and
the activation of a small test package (so the HTTP half can read it back)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import posixpath
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from prepcast.registry.checks.activate import CannotRestore, Undo, activate, modo_text
from prepcast.registry.checks.findings import CheckReport
from prepcast.registry.model import CheckSettings, Difusor

# AES-GCM first: the cheapest for both ends here (benchmarks/bench_registry.py --sftp-variants)
ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")
GB = 1000**3
MB = 1000**2
CHUNK = 4 * 1024 * 1024
SPEED_WRITES = 4      # writes of CHUNK in flight during the speed test (each pipelined in blocks)
NO_HOST_KEY = ("no hay llave del servidor registrada (host_key) ni archivo known_hosts: no se "
               "acepta un servidor sin verificar")


async def connect(d: Difusor, known_hosts: Path | None, timeout: float
                  ) -> asyncssh.SSHClientConnection:
    if d.host_key:
        keys: Any = ([asyncssh.import_public_key(d.host_key)], [], [])
    elif known_hosts is not None:
        keys = str(known_hosts)
    else:
        raise ValueError(NO_HOST_KEY)
    options: dict[str, Any] = {"username": d.user, "known_hosts": keys, "connect_timeout": timeout,
                               "agent_path": None, "config": None, "compression_algs": None,
                               "encryption_algs": ENCRYPTION_ALGS}
    if d.auth == "key":
        options.update(client_keys=[str(d.key_file)], password=None, preferred_auth="publickey")
    else:
        options.update(client_keys=None, password=d.password, kbdint_auth=True,
                       preferred_auth="password,keyboard-interactive")
    return await asyncssh.connect(d.host, d.port, **options)


def why(exc: BaseException) -> str:
    """Why an SFTP step failed, in Spanish, with the original quoted."""
    if isinstance(exc, CannotRestore):
        return str(exc)
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return "la llave del servidor no es la registrada (host key)"
    if isinstance(exc, asyncssh.PermissionDenied):
        return "autenticación rechazada (usuario, llave o contraseña)"
    if isinstance(exc, TimeoutError):
        return "sin respuesta (tiempo agotado)"
    text = str(exc) or type(exc).__name__
    text = text if len(text) < 200 else text[:200] + "…"
    if str(exc) == NO_HOST_KEY:
        return NO_HOST_KEY
    if isinstance(exc, asyncssh.KeyImportError):
        return f"no se pudo leer la llave privada del instituto (key_file) (original: «{text}»)"
    if isinstance(exc, socket.gaierror):
        return f"el nombre del servidor no se resuelve en el DNS (original: «{text}»)"
    if isinstance(exc, ConnectionRefusedError):
        return f"el servidor rechazó la conexión: nada atiende ese puerto (original: «{text}»)"
    if isinstance(exc, asyncssh.SFTPError):
        return f"el servidor SFTP rechazó la operación (original: «{text}»)"
    if isinstance(exc, asyncssh.Error):
        return f"la conexión SSH falló (original: «{text}»)"
    return f"error de conexión o de archivo (original: «{text}»)"


def _login_fix(exc: BaseException, d: Difusor) -> str:
    """What to fix when the SFTP session could not start, for the reason it did not."""
    if isinstance(exc, socket.gaierror):
        return (f"Publique el nombre {d.host} en el DNS o corrija host en el registro del "
                "difusor.")
    if isinstance(exc, ConnectionRefusedError):
        return f"Atienda SSH/SFTP en el puerto {d.port} del servidor {d.host}."
    if isinstance(exc, TimeoutError):
        return (f"Abra el puerto {d.port} de {d.host} en el cortafuegos a las direcciones del "
                "instituto.")
    if str(exc) == NO_HOST_KEY:
        return "Registre la llave pública del servidor (host_key) del difusor."
    if isinstance(exc, asyncssh.KeyImportError):
        return "Indique en key_file una llave privada OpenSSH legible."
    return "Revise el usuario, la credencial y la llave pública del servidor registradas."


async def run_sftp(d: Difusor, settings: CheckSettings, known_hosts: Path | None,
                   report: CheckReport, files: Mapping[str, bytes] | None,
                   token: str, speed_lock: asyncio.Semaphore | None = None
                   ) -> tuple[asyncssh.SSHClientConnection | None, Undo]:
    """Every SFTP check; returns the open connection and what to put back (:func:`restore`)."""
    try:
        conn = await connect(d, known_hosts, settings.timeout_s)
        sftp = await conn.start_sftp_client()
    except (OSError, asyncssh.Error, TimeoutError, ValueError) as exc:
        report.add("sftp.login", False, "Acceso SFTP con la llave del servidor registrada",
                   f"{d.user}@{d.host}:{d.port}: {why(exc)}", _login_fix(exc, d))
        return None, Undo()
    report.add("sftp.login", True, "Acceso SFTP con la llave del servidor registrada",
               f"{d.user}@{d.host}:{d.port}, llave del servidor verificada")
    root = d.remote_root
    scratch = Scratch(root, token, inbox=d.mode == "daemon")
    undo = Undo()
    try:
        # each step bounded, so a server that stops answering never holds the whole run
        t = settings.timeout_s
        await asyncio.wait_for(scratch.make(sftp), t)
        await asyncio.wait_for(_operations(sftp, scratch, report, settings), 2 * t)
        await asyncio.wait_for(_free_space(sftp, root, report, settings), t)
        async with speed_lock or asyncio.Semaphore(1):     # waiting here is not timed
            await asyncio.wait_for(_speed(sftp, scratch.path("velocidad.bin"), report, settings),
                                   t + settings.speed_test_mb)      # at least 1 MB/s
        if files is not None:
            await asyncio.wait_for(activate(sftp, root, files, report, token, undo, d.mode),
                                   2 * t)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        report.add("sftp.error", False, "Operación SFTP", why(exc),
                   "Verifique permisos de escritura en la carpeta entregada al instituto.")
    finally:
        with contextlib.suppress(OSError, asyncssh.Error, TimeoutError):
            await scratch.remove(sftp)
    return conn, undo


@dataclass
class Scratch:
    """Where the check writes its test files: a folder of its own below ``root``; in a difusor
    daemon's inbox (which moves any folder or link aside), files named as uploads under way
    (``.prepcast-check-<token>-<name>.tar.part``), which the daemon leaves alone."""

    root: str
    token: str
    inbox: bool = False
    used: set[str] = field(default_factory=set)

    def path(self, name: str) -> str:
        if self.inbox:
            p = posixpath.join(self.root, f".prepcast-check-{self.token}-{name}.tar.part")
        else:
            p = posixpath.join(self.root, f".prepcast-check-{self.token}", name)
        self.used.add(p)
        return p

    async def make(self, sftp: asyncssh.SFTPClient) -> None:
        if not self.inbox:
            await sftp.mkdir(posixpath.join(self.root, f".prepcast-check-{self.token}"))

    async def remove(self, sftp: asyncssh.SFTPClient) -> None:
        if not self.inbox:
            await sftp.rmtree(posixpath.join(self.root, f".prepcast-check-{self.token}"))
            return
        for p in self.used:
            with contextlib.suppress(asyncssh.SFTPError):
                await sftp.remove(p)


async def _operations(sftp: asyncssh.SFTPClient, scratch: Scratch, report: CheckReport,
                      settings: CheckSettings) -> None:
    a, b, c, ln = (scratch.path(n) for n in ("a.txt", "b.txt", "c.txt", "ln"))
    before = time.time()
    async with sftp.open(a, "wb") as f:
        await f.write(b"prepcast\n")
    after = time.time()
    report.add("sftp.write", True, "Escribir un archivo", "escrito")
    attrs = await sftp.stat(a)
    if attrs.mtime is not None:
        skew = 0.0 if before - 1 <= attrs.mtime <= after + 1 else attrs.mtime - after
        ok = abs(skew) <= settings.max_clock_skew_s
        report.add("clock.sftp", ok, "Reloj del servidor (hora de los archivos subidos)",
                   f"diferencia de {skew:+.0f} s con el instituto",
                   "Sincronice el reloj del servidor con NTP.")
    await sftp.rename(a, b)
    report.add("sftp.rename", True, "Renombrar un archivo", "renombrado")
    caps: dict[str, bool] = {}
    async with sftp.open(a, "wb") as f:
        await f.write(b"nuevo\n")
    caps["posix-rename"] = await _try(sftp.posix_rename(a, b))
    caps["hardlink"] = await _try(sftp.link(b, c))
    if not scratch.inbox:  # a link in a daemon's inbox would be moved aside; it needs none
        caps["symlink"] = await _try(sftp.symlink(posixpath.basename(b), ln))
    caps["statvfs"] = await _try(sftp.statvfs(scratch.root))
    report.capabilities = caps
    report.modo = ("daemon" if scratch.inbox else
                   "sftp" if caps["symlink"] and caps["posix-rename"] else "flat")
    names = ", ".join(f"{k} {'sí' if v else 'no'}" for k, v in caps.items())
    report.add("sftp.extensions", True, "Extensiones SFTP (posix-rename, hardlink, symlink, statvfs)",
               f"{names}; modo de entrega: {modo_text(report.modo)}")
    for p in (b, c, ln, a):
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.remove(p)
    report.add("sftp.remove", True, "Borrar un archivo", "borrado")


async def _try(coro: Any) -> bool:
    try:
        await coro
    except asyncssh.SFTPError:
        return False
    return True


async def _free_space(sftp: asyncssh.SFTPClient, root: str, report: CheckReport,
                      settings: CheckSettings) -> None:
    title = f"Espacio libre en disco (mínimo {settings.min_free_gb:g} GB)"
    if not report.capabilities.get("statvfs"):
        report.add("disk.free", False, title, "el servidor no informa el espacio libre (statvfs)",
                   "Habilite la extensión statvfs@openssh.com o acredite el espacio por escrito.")
        return
    vfs = await sftp.statvfs(root)
    free = vfs.bavail * (vfs.frsize or vfs.bsize)
    report.add("disk.free", free >= settings.min_free_gb * GB, title,
               f"{free / GB:.2f} GB libres",
               f"Libere espacio o amplíe el disco hasta tener {settings.min_free_gb:g} GB libres.")


async def _speed(sftp: asyncssh.SFTPClient, path: str, report: CheckReport,
                 settings: CheckSettings) -> None:
    """One file of random bytes (nothing to compress), written with :data:`SPEED_WRITES` large
    writes in flight, each split by asyncssh into the largest blocks the server accepts and
    pipelined, so the link never waits for an answer; timed from open to close."""
    total = settings.speed_test_mb * MB
    block = os.urandom(CHUNK)
    slots = asyncio.Semaphore(SPEED_WRITES)
    start = time.perf_counter()
    async with sftp.open(path, "wb") as f:

        async def write(offset: int) -> None:
            async with slots:
                n = min(CHUNK, total - offset)
                await f.write(block if n == CHUNK else block[:n], offset)

        await asyncio.gather(*(write(o) for o in range(0, total, CHUNK)))
    seconds = max(time.perf_counter() - start, 1e-6)
    speed = total / MB / seconds
    report.add("sftp.speed", speed >= settings.min_speed_mb_s,
               f"Velocidad de subida por SFTP (mínimo {settings.min_speed_mb_s:g} MB/s)",
               f"{speed:.1f} MB/s ({settings.speed_test_mb} MB en {seconds:.1f} s)",
               "Amplíe el ancho de banda de subida o acerque el servidor a la red del instituto.")
    await sftp.remove(path)


STATUS_LIMIT = 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


async def daemon_live(conn: asyncssh.SSHClientConnection, root: str, timeout: float
                      ) -> tuple[str, str] | None:
    """The cut a daemon difusor says it serves (``status.json`` in its inbox, ``root``): its tag
    and its manifest's digest; None when it serves none yet or says nothing readable."""
    try:
        sftp = await conn.start_sftp_client()
        async with sftp.open(posixpath.join(root, "status.json"), "rb") as f:
            raw = await asyncio.wait_for(f.read(STATUS_LIMIT), timeout)
        doc = json.loads(raw)
    except (OSError, asyncssh.Error, TimeoutError, ValueError):
        return None
    digest = doc.get("live_digest") if isinstance(doc, dict) else None
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        return None
    return str(doc.get("live_tag") or doc.get("live_cut") or "?"), digest


MANIFEST_LIMIT = 64 * 1024 * 1024
_MANIFEST = re.compile(r"^manifests/[A-Za-z0-9_][A-Za-z0-9_.@+=-]*\.json$")  # as packages name it


async def site_live(conn: asyncssh.SSHClientConnection, root: str, mode: str, timeout: float
                    ) -> tuple[str, str] | None:
    """The cut an ``sftp`` or ``flat`` difusor's folder holds live, read over SFTP: the manifest
    its ``json/main.json`` names (below ``current/`` in ``sftp`` mode, ``root`` itself in
    ``flat``), its name and its digest computed from its bytes there; None when the folder holds
    no cut of the institute's (nothing pushed yet, a test site of the difusor's own)."""
    base = posixpath.join(root, "current") if mode == "sftp" else root
    try:
        sftp = await conn.start_sftp_client()
        async with sftp.open(posixpath.join(base, "json", "main.json"), "rb") as f:
            main = json.loads(await asyncio.wait_for(f.read(STATUS_LIMIT), timeout))
        rel = main["signed"]["manifest"]
        if not isinstance(rel, str) or not _MANIFEST.match(rel):
            return None
        async with sftp.open(posixpath.join(base, rel), "rb") as f:
            manifest = await asyncio.wait_for(f.read(MANIFEST_LIMIT), 4 * timeout)
    except (OSError, asyncssh.Error, TimeoutError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(manifest, bytes):
        return None
    return posixpath.splitext(posixpath.basename(rel))[0], hashlib.sha256(manifest).hexdigest()
