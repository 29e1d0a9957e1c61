"""The test package of a compliance check made live the way the registered delivery mode will
make the difusor's cuts live, and the site put back as it was afterwards (``current`` where it
pointed; in ``flat``, the previous ``index.html`` and ``json/main.json``). What is live is read
first, and exactly; a site that cannot be read is not touched, one that cannot be put back is
an error, never silence."""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncssh

from prepcast.registry.checks.findings import CheckReport

MUTABLE = ("index.html", "json/main.json")


def modo_text(modo: str) -> str:
    """A delivery mode, in Spanish."""
    if modo == "daemon":
        return "demonio del difusor (un archivo por corte en su buzón)"
    return ("releases/ + current (enlace simbólico)" if modo == "sftp"
            else "plano (archivos inmutables primero, index.html y json/main.json al final, "
            "servidos desde la carpeta entregada)")


@dataclass
class Undo:
    """What the check changed on the live site, to put it back afterwards."""

    link: str | None = None                                     # sftp: where current pointed
    files: dict[str, bytes | None] = field(default_factory=dict)  # flat: mutable files before
    uploaded: list[str] = field(default_factory=list)            # flat: immutable test files
    release: str | None = None                                   # sftp: the test release


class CannotRestore(Exception):
    """The site could not be read (before) or put back (after) exactly as it was."""


async def activate(sftp: asyncssh.SFTPClient, root: str, files: Mapping[str, bytes],
                    report: CheckReport, token: str, undo: Undo, mode: str) -> None:
    """Put the test package live the way the registered ``mode`` will be (undone by
    :func:`restore`). What is live is read first; when it cannot be read exactly, nothing is
    touched (the site could not be put back)."""
    title = "Activar un paquete de prueba"
    if mode == "sftp" and not (report.capabilities.get("symlink")
                               and report.capabilities.get("posix-rename")):
        report.add("package.activate", False, title,
                   "el modo registrado es sftp (releases/ + current), y el servidor no permite "
                   "enlaces simbólicos o posix-rename",
                   'Registre mode = "flat" para este difusor, o habilite symlink y '
                   "posix-rename@openssh.com en su servidor SFTP.")
        return
    try:
        if mode == "sftp":
            link = await _read_link(sftp, root, posixpath.join(root, "current"))
        else:
            before = {rel: await _read(sftp, posixpath.join(root, rel)) for rel in MUTABLE}
    except CannotRestore as exc:
        report.add("package.activate", False, title,
                   f"no se activó: {exc}, y el sitio no podría volver a quedar como está",
                   "Revise los permisos de la carpeta entregada al instituto (lectura de "
                   "current, index.html y json/main.json).")
        return
    if mode == "sftp":
        undo.link = link
        undo.release = posixpath.join(root, "releases", f"prueba-{token}")
        await _upload(sftp, undo.release, files)
        await _swap(sftp, root, posixpath.join("releases", f"prueba-{token}"), token)
    else:
        # flat: the site is served straight from remote_root; entry points replaced last
        undo.files.update(before)
        immutable = {k: v for k, v in files.items() if k not in MUTABLE}
        undo.uploaded = list(immutable)
        await _upload(sftp, root, immutable)
        await _upload(sftp, root, {k: files[k] for k in MUTABLE if k in files})
    report.add("package.activate", True, title, f"activado en modo {modo_text(mode)}")


async def _upload(sftp: asyncssh.SFTPClient, top: str, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = posixpath.join(top, rel)
        await sftp.makedirs(posixpath.dirname(path), exist_ok=True)
        async with sftp.open(path, "wb") as f:
            await f.write(data)


async def _read(sftp: asyncssh.SFTPClient, path: str) -> bytes | None:
    """The file's bytes, None when there is no such file; any other failure is raised."""
    try:
        async with sftp.open(path, "rb") as f:
            data = await f.read()
    except asyncssh.SFTPNoSuchFile:
        return None
    except asyncssh.SFTPError as exc:
        raise CannotRestore(f"{path} no se pudo leer (original: «{exc.reason}»)") from None
    if not isinstance(data, bytes):
        raise CannotRestore(f"{path} no se pudo leer")
    return data


async def _read_link(sftp: asyncssh.SFTPClient, root: str, path: str) -> str | None:
    """Where the link ``path`` points, None when there is no ``path`` at all.

    A chrooted server may fail ``readlink`` on a relative target (asyncssh's resolves it against
    its own working folder, outside the chroot); then the server's ``realpath`` of the link,
    made relative to ``root`` again, as the pusher writes it. Anything else (``path`` is a
    folder, its target cannot be read) raises :class:`CannotRestore`."""
    try:
        attrs = await sftp.lstat(path)
    except asyncssh.SFTPNoSuchFile:
        return None
    except asyncssh.SFTPError as exc:
        raise CannotRestore(f"{path} no se pudo leer (original: «{exc.reason}»)") from None
    if attrs.type != asyncssh.FILEXFER_TYPE_SYMLINK:
        raise CannotRestore(f"{path} existe y no es un enlace simbólico")
    try:
        return str(await sftp.readlink(path))
    except asyncssh.SFTPError:
        pass
    try:
        target = str(await sftp.realpath(path))
        top = str(await sftp.realpath(root))
    except asyncssh.SFTPError as exc:
        raise CannotRestore(f"no se pudo leer a dónde apunta {path} (original: «{exc.reason}»)"
                            ) from None
    if posixpath.normpath(target) == posixpath.normpath(path):
        raise CannotRestore(f"no se pudo leer a dónde apunta {path}")
    return posixpath.relpath(target, top)


async def _swap(sftp: asyncssh.SFTPClient, root: str, target: str, token: str) -> None:
    tmp = posixpath.join(root, f".current.{token}")
    await sftp.symlink(target, tmp)
    await sftp.posix_rename(tmp, posixpath.join(root, "current"))


async def restore(conn: asyncssh.SSHClientConnection, root: str, undo: Undo, token: str) -> str:
    """Put the difusor's site back as it was and remove the test package; say what it is again.
    Raises (SFTP errors, :class:`CannotRestore`) when the live site is not back as it was."""
    sftp = await conn.start_sftp_client()
    said = ""
    if undo.release is not None:
        current = posixpath.join(root, "current")
        if undo.link is not None:
            await _swap(sftp, root, undo.link, token)
            now = await _read_link(sftp, root, current)
            if now is None or posixpath.normpath(now) != posixpath.normpath(undo.link):
                raise CannotRestore(f"current apunta a {now or '(nada)'}, no a {undo.link}")
            said = f"current apunta otra vez a {undo.link}"
        else:
            with contextlib.suppress(asyncssh.SFTPNoSuchFile):
                await sftp.remove(current)
            said = "sin current, como antes"
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.rmtree(undo.release)
    for rel, data in undo.files.items():
        path = posixpath.join(root, rel)
        if data is None:
            with contextlib.suppress(asyncssh.SFTPNoSuchFile):
                await sftp.remove(path)
        else:
            await _upload(sftp, root, {rel: data})
        if await _read(sftp, path) != data:
            raise CannotRestore(f"{path} no volvió a quedar como estaba")
    if undo.files:
        said = "index.html y json/main.json como estaban"
    for rel in undo.uploaded:
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.remove(posixpath.join(root, rel))
    # folders the test made, deepest first; a folder with the difusor's own files stays
    folders = {posixpath.dirname(r) for r in [*undo.uploaded, *undo.files]} - {""}
    for folder in sorted(folders, key=lambda f: -f.count("/")):
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.rmdir(posixpath.join(root, folder))
    return said
