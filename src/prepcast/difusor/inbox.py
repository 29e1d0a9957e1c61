"""The daemon's inbox: a folder anyone holding the institute's SFTP credential can write.

Nothing in it is trusted, and nothing in it may stop the daemon. Each poll sorts what it finds:

* ``<ejercicio>-<cut>.tar`` (a regular file, e.g. ``jornada-0013.tar``): an archive to receive;
* ``.<name>.tar.part`` (a regular file): an upload still under way, left alone;
* ``status.json`` (a regular file): the daemon's own, rewritten by rename (a link there is
  replaced, never followed). The institute reads it back: ``live_cut``, ``live_ejercicio``,
  ``live_tag``, ``live_digest``, ``difusor``, ``last_received``, ``time``, and
  ``last_rejected`` (null, or why the daemon last refused a cut or held it back: ``tag`` of
  that cut or null, ``event`` — ``rejected`` or ``clock_off`` —, ``failures``, a list of
  reasons in Spanish, and ``time``; cleared when a cut is activated);
* anything else (a folder named like an archive, a link, a fifo, a leftover temporary, a name
  of no use) is moved aside to the quarantine folder, outside the inbox, with an event naming it.

Archives are opened without following links and without blocking on a fifo, and the daemon's
own files are created under fresh names with ``O_EXCL`` (``mkstemp``), so a link planted in the
inbox never leads a write of the daemon elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from prepcast.difusor.layout import cut_of_archive
from prepcast.package.ejercicio import JORNADA, CutId

STATUS = "status.json"
_UPLOAD = re.compile(r"^\..+\.tar\.part$")
JORNADA_ZERO = CutId(JORNADA, 0)  # sorts the entries without a cut; never compared with one
_KEEP_QUARANTINED = 200
# the reason a stray file is quarantined: the difusor reads it (Spanish), with the names received
NOT_AN_ARCHIVE = ("no es un paquete del instituto: el demonio recibe solo <ejercicio>-<corte>.tar "
                  "(p. ej. simulacro-1-0073.tar, jornada-0013.tar)")


@dataclass(frozen=True)
class Entry:
    """One name found in the inbox and what the daemon does with it."""

    name: str
    action: str  # "receive", "wait", "own", "quarantine"
    cut: CutId | None = None
    reason: str = ""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "una carpeta"
    if stat.S_ISLNK(mode):
        return "un enlace simbólico"
    if stat.S_ISFIFO(mode):
        return "un fifo"
    if stat.S_ISSOCK(mode):
        return "un socket"
    return "algo que no es un archivo regular"


def sort_inbox(inbox: Path) -> list[Entry]:
    """Everything in the inbox with what to do about it; archives by cut, oldest first."""
    out: list[Entry] = []
    with os.scandir(inbox) as it:
        for e in it:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue  # gone meanwhile
            regular = stat.S_ISREG(st.st_mode)
            cut = cut_of_archive(e.name)
            if cut is not None and regular:
                out.append(Entry(e.name, "receive", cut))
            elif cut is not None:
                out.append(Entry(e.name, "quarantine", reason=f"{_kind(st.st_mode)} con nombre de paquete: "
                                                              "el demonio recibe solo archivos"))
            elif regular and (e.name == STATUS or _UPLOAD.match(e.name)):
                out.append(Entry(e.name, "own" if e.name == STATUS else "wait"))
            elif regular:
                out.append(Entry(e.name, "quarantine", reason=NOT_AN_ARCHIVE))
            else:
                out.append(Entry(e.name, "quarantine", reason=f"{_kind(st.st_mode)}: no es un "
                                                              "paquete del instituto"))
    return sorted(out, key=lambda x: (x.cut is None, x.cut or JORNADA_ZERO, x.name))


def open_archive(inbox: Path, name: str) -> tuple[BinaryIO, int]:
    """An archive opened for reading without following a link or blocking on a fifo, and its
    size. OSError when it is not (or no longer) a regular file."""
    fd = os.open(inbox / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{name}: {_kind(st.st_mode)}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def remove_entry(inbox: Path, name: str) -> None:
    """Remove a name from the inbox whatever it is (a link is removed, never followed)."""
    path = inbox / name
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def quarantine(inbox: Path, name: str, folder: Path) -> str | None:
    """Move an inbox entry into ``folder`` (a new name stamped with the time); where it went,
    or None when it could not be moved across filesystems and was removed instead."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    safe = re.sub(r"[^A-Za-z0-9_.@+=-]", "_", name)[:100].lstrip(".") or "_"
    target = folder / f"{stamp}-{safe}"
    try:
        os.rename(inbox / name, target)
    except FileNotFoundError:
        return None
    except OSError:  # another filesystem, say: it cannot stay, so it goes
        remove_entry(inbox, name)
        return None
    _prune(folder)
    return str(target)


def _prune(folder: Path) -> None:
    names = sorted(os.listdir(folder))
    for old in names[: max(0, len(names) - _KEEP_QUARANTINED)]:
        remove_entry(folder, old)


def refusal_of(record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``last_rejected`` entry of ``status.json`` for a daemon event that refused a cut
    (``rejected``) or holds every cut back (``clock_off``); None for any other event."""
    event = record.get("event")
    if event == "rejected":
        cut, ejercicio = record.get("cut"), record.get("ejercicio")
        tag = CutId.of(ejercicio, cut).tag if isinstance(cut, int) and ejercicio else None
        failures = [str(f) for f in record.get("failures") or []][:5]
    elif event == "clock_off":
        tag = None
        if "offset_seconds" in record:
            failures = [f"el reloj del difusor difiere {record['offset_seconds']:+.3f} s de la "
                        f"hora de referencia (máximo {record.get('max_offset')} s): no activa "
                        "ningún corte hasta que se sincronice"]
        else:
            failures = [f"el difusor no pudo consultar la hora de referencia (NTP): no activa "
                        f"ningún corte mientras no responda (original: «{record.get('error')}»)"]
    else:
        return None
    return {"tag": tag, "event": event, "failures": failures, "time": record.get("time")}


def write_status(inbox: Path, status: dict[str, Any]) -> None:
    """Replace ``inbox/status.json``: a fresh temporary (``O_EXCL``, never through a link),
    then a rename over whatever the name holds."""
    fd, tmp = tempfile.mkstemp(dir=inbox, prefix=".status.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(status))
        os.replace(tmp, inbox / STATUS)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
