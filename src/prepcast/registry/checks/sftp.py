"""The SFTP half of a compliance check: login with the registered credential and pinned host key,
write/rename/remove, which extensions the server has, free space, upload speed, its clock, and
the activation of a small test package (so the HTTP half can read it back)."""

from __future__ import annotations

import contextlib
import os
import posixpath
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncssh

from prepcast.registry.checks.findings import CheckReport
from prepcast.registry.model import CheckSettings, Difusor

ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")
GB = 1000**3
MB = 1000**2
CHUNK = 4 * 1024 * 1024


async def connect(d: Difusor, known_hosts: Path | None, timeout: float
                  ) -> asyncssh.SSHClientConnection:
    if d.host_key:
        keys: Any = ([asyncssh.import_public_key(d.host_key)], [], [])
    elif known_hosts is not None:
        keys = str(known_hosts)
    else:
        raise ValueError("no host key pinned (host_key) nor known_hosts: refused")
    options: dict[str, Any] = {"username": d.user, "known_hosts": keys, "connect_timeout": timeout,
                               "agent_path": None, "config": None, "compression_algs": None,
                               "encryption_algs": ENCRYPTION_ALGS}
    if d.auth == "key":
        options.update(client_keys=[str(d.key_file)], password=None, preferred_auth="publickey")
    else:
        options.update(client_keys=None, password=d.password, kbdint_auth=True,
                       preferred_auth="password,keyboard-interactive")
    return await asyncssh.connect(d.host, d.port, **options)


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return "la llave del servidor no es la registrada (host key)"
    if isinstance(exc, asyncssh.PermissionDenied):
        return "autenticación rechazada (usuario, llave o contraseña)"
    if isinstance(exc, TimeoutError):
        return "sin respuesta (tiempo agotado)"
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "…"


async def run_sftp(d: Difusor, settings: CheckSettings, known_hosts: Path | None,
                   report: CheckReport, files: Mapping[str, bytes] | None,
                   token: str) -> tuple[asyncssh.SSHClientConnection | None, str | None]:
    """Every SFTP check; returns the open connection and where ``current`` pointed before the
    test package was activated (for :func:`undo`)."""
    try:
        conn = await connect(d, known_hosts, settings.timeout_s)
        sftp = await conn.start_sftp_client()
    except (OSError, asyncssh.Error, TimeoutError, ValueError) as exc:
        report.add("sftp.login", False, "Acceso SFTP con la llave del servidor registrada",
                   f"{d.user}@{d.host}:{d.port}: {_why(exc)}",
                   "Revise el usuario, la credencial y la llave pública del servidor registradas.")
        return None, None
    report.add("sftp.login", True, "Acceso SFTP con la llave del servidor registrada",
               f"{d.user}@{d.host}:{d.port}, llave del servidor verificada")
    root = d.remote_root
    work = posixpath.join(root, f".prepcast-check-{token}")
    previous: str | None = None
    try:
        await sftp.mkdir(work)
        await _operations(sftp, work, report, settings)
        await _free_space(sftp, root, report, settings)
        await _speed(sftp, work, report, settings)
        if files is not None:
            previous = await save_current(sftp, root)
            await _activate(sftp, root, files, report, token)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        report.add("sftp.error", False, "Operación SFTP", _why(exc),
                   "Verifique permisos de escritura en la carpeta entregada al instituto.")
    finally:
        with contextlib.suppress(OSError, asyncssh.Error, TimeoutError):
            await sftp.rmtree(work)
    return conn, previous


async def _operations(sftp: asyncssh.SFTPClient, work: str, report: CheckReport,
                      settings: CheckSettings) -> None:
    a, b, c = (posixpath.join(work, n) for n in ("a.txt", "b.txt", "c.txt"))
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
    caps["symlink"] = await _try(sftp.symlink("b.txt", posixpath.join(work, "ln")))
    caps["statvfs"] = await _try(sftp.statvfs(work))
    report.capabilities = caps
    report.modo = "sftp" if caps["symlink"] and caps["posix-rename"] else "flat"
    names = ", ".join(f"{k} {'sí' if v else 'no'}" for k, v in caps.items())
    report.add("sftp.extensions", True, "Extensiones SFTP (posix-rename, hardlink, symlink, statvfs)",
               f"{names}; modo de entrega: {_modo(report.modo)}")
    for p in (b, c, posixpath.join(work, "ln"), a):
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.remove(p)
    report.add("sftp.remove", True, "Borrar un archivo", "borrado")


def _modo(modo: str) -> str:
    return ("releases/ + current (enlace simbólico)" if modo == "sftp"
            else "plano (archivos inmutables primero, index.html y json/main.json al final)")


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


async def _speed(sftp: asyncssh.SFTPClient, work: str, report: CheckReport,
                 settings: CheckSettings) -> None:
    total = settings.speed_test_mb * MB
    block = os.urandom(CHUNK)
    path = posixpath.join(work, "velocidad.bin")
    start = time.perf_counter()
    async with sftp.open(path, "wb") as f:
        sent = 0
        while sent < total:
            n = min(CHUNK, total - sent)
            await f.write(block[:n], sent)
            sent += n
    seconds = max(time.perf_counter() - start, 1e-6)
    speed = total / MB / seconds
    report.add("sftp.speed", speed >= settings.min_speed_mb_s,
               f"Velocidad de subida por SFTP (mínimo {settings.min_speed_mb_s:g} MB/s)",
               f"{speed:.1f} MB/s ({settings.speed_test_mb} MB en {seconds:.1f} s)",
               "Amplíe el ancho de banda de subida o acerque el servidor a la red del instituto.")
    await sftp.remove(path)


async def _activate(sftp: asyncssh.SFTPClient, root: str, files: Mapping[str, bytes],
                    report: CheckReport, token: str) -> None:
    """Put the test package live the way the fitting mode would (undone by :func:`undo`)."""
    if report.modo == "sftp":
        release = posixpath.join(root, "releases", f"prueba-{token}")
        await _upload(sftp, release, files)
        current = posixpath.join(root, "current")
        tmp = posixpath.join(root, f".current.{token}")
        await sftp.symlink(posixpath.join("releases", f"prueba-{token}"), tmp)
        await sftp.posix_rename(tmp, current)
    else:
        web = posixpath.join(root, "current")
        mutable = ("index.html", "json/main.json")
        await _upload(sftp, web, {k: v for k, v in files.items() if k not in mutable})
        await _upload(sftp, web, {k: files[k] for k in mutable if k in files})
    report.add("package.activate", True, "Activar un paquete de prueba",
               f"activado en modo {_modo(report.modo)}")


async def _upload(sftp: asyncssh.SFTPClient, top: str, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = posixpath.join(top, rel)
        await sftp.makedirs(posixpath.dirname(path), exist_ok=True)
        async with sftp.open(path, "wb") as f:
            await f.write(data)


async def save_current(sftp: asyncssh.SFTPClient, root: str) -> str | None:
    """What ``current`` points at before the check (to put it back)."""
    try:
        return str(await sftp.readlink(posixpath.join(root, "current")))
    except asyncssh.SFTPError:
        return None


async def undo(conn: asyncssh.SSHClientConnection, root: str, previous: str | None,
               report: CheckReport, token: str) -> None:
    """Put the difusor's ``current`` back as it was and remove the test release."""
    if report.modo != "sftp" or not any(f.key == "package.activate" for f in report.findings):
        return
    sftp = await conn.start_sftp_client()
    current = posixpath.join(root, "current")
    if previous is not None:
        tmp = posixpath.join(root, f".current.{token}")
        await sftp.symlink(previous, tmp)
        await sftp.posix_rename(tmp, current)
    else:
        await sftp.remove(current)
    with contextlib.suppress(asyncssh.SFTPError):
        await sftp.rmtree(posixpath.join(root, "releases", f"prueba-{token}"))
