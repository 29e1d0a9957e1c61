"""A folder the PREP capture system drops each cut's database zips into, as the night's source.

The capture system writes ``YYYYMMDD_HHMM_PREP_<ELECCION>.zip`` (and, when it does, its
``.sha256``) into a folder at every cut. :func:`take_cut` answers the next zip not yet taken that
is complete — its ``.sha256`` matches, or, without one, it has not changed for ``settle`` seconds
and reads as a whole zip — read and recounted under the institute's counting rules; ``None`` while
nothing new is complete. A zip whose recount differs from the preamble the capture system printed
is refused with :class:`RefusedCut` (an :class:`IntegrityError`) naming every figure that differs (and the rows whose
CONTABILIZADA or TOTAL_VOTOS_CALCULADO disagree), and so is a zip that does not read (not a zip,
no database CSV in it, a CSV that is not a PREP database): the runner keeps the previous cut live
and raises the alert. The reasons are the institute's to read, in Spanish (the technical original
quoted). Nothing here publishes; the runner does.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prepcast.election.acta import Acta
from prepcast.election.model import Proceso
from prepcast.election.rules import Profile
from prepcast.errors import InputError, IntegrityError, Problem
from prepcast.formats.import_prep_csv import actas_of_database, database_cut_time
from prepcast.formats.read_prep_csv import (
    UNREADABLE_ZIP,
    PublishedDatabase,
    database_members,
    decode_text,
    parse_prep_csv,
)
from prepcast.formats.recount import Recount, recount

ZIP_NAME = re.compile(r"^(\d{8})_(\d{4})_PREP_(.+)\.zip$")


class RefusedCut(IntegrityError):
    """A zip of the drop folder that must not be published; ``path`` says which."""

    def __init__(self, path: Path, failures: list[str] | str) -> None:
        self.reasons = [failures] if isinstance(failures, str) else list(failures)
        super().__init__("\n".join(self.reasons))
        self.path = path


@dataclass(frozen=True)
class DroppedCut:
    """One complete database zip of the folder, read and recounted."""

    path: Path
    eleccion: str  # from the name: YYYYMMDD_HHMM_PREP_<ELECCION>.zip
    sha256: str
    csv_name: str
    csv_bytes: bytes  # the database CSV as the capture system wrote it
    database: PublishedDatabase
    recount: Recount
    at: datetime | None = None  # the cut time its second line states


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _published_digest(path: Path) -> str | None:
    """The digest of ``<zip>.sha256`` (``sha256sum`` format or the bare hex), if it is there."""
    side = path.with_name(path.name + ".sha256")
    try:
        text = side.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    word = text.split()[0].lower() if text else ""
    return word if re.fullmatch(r"[0-9a-f]{64}", word) else ""


def _reads_whole(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.testzip() is None
    except UNREADABLE_ZIP:
        return False


def quoted(problems: list[Problem] | str) -> str:
    """Technical messages (prepcast's readers speak English) quoted inside a Spanish reason."""
    text = problems if isinstance(problems, str) else "; ".join(str(p) for p in problems)
    return f"(original: «{text}»)"


def complete(path: Path, *, settle: float = 2.0, now: float | None = None) -> str | None:
    """The zip's SHA-256 when the capture system has finished writing it, else ``None``.

    With a ``.sha256`` beside it, complete means the digests match; a zip that reads whole, has
    settled and still does not match is refused (:class:`IntegrityError`). Without one, complete
    means unchanged for ``settle`` seconds and whole."""
    try:
        st = path.stat()
    except OSError:
        return None
    settled = (time.time() if now is None else now) - st.st_mtime >= settle
    published = _published_digest(path)
    digest = _digest(path)
    if published:
        if digest == published:
            return digest
        if settled and _reads_whole(path.read_bytes()):
            raise RefusedCut(path, f"{path.name}: su SHA-256 {digest} no es el {published} que "
                                   f"da {path.name}.sha256")
        return None
    if published == "" and settled:  # a .sha256 that is not a digest, and stays so
        raise RefusedCut(path, f"{path.name}.sha256: no contiene un SHA-256")
    return digest if settled and _reads_whole(path.read_bytes()) else None


def read_dropped(path: Path, digest: str, profile: Profile, *,
                 last_cut: bool | Callable[[datetime], bool]) -> DroppedCut:
    """Read and recount one complete zip; refuse it when the recount differs from its preamble.

    ``last_cut`` may be a function of the cut time the database states (participation counts
    the especiales in the last cut only)."""
    m = ZIP_NAME.match(path.name)
    eleccion = m.group(3) if m else path.stem
    try:
        with zipfile.ZipFile(path) as zf:
            names = database_members(zf.namelist())
            if len(names) != 1:
                raise RefusedCut(path, f"{path.name}: contiene {len(names)} CSV de base de datos "
                                       f"({', '.join(names) or 'ninguno'}); se espera uno")
            raw = zf.read(names[0])
    except UNREADABLE_ZIP as exc:
        raise RefusedCut(path, f"{path.name}: no es un zip legible {quoted(str(exc))}") from None
    try:
        db = parse_prep_csv(decode_text(raw, f"{path.name}:{names[0]}"),
                            f"{path.name}:{names[0]}")
        at = database_cut_time(db)
    except InputError as exc:
        raise RefusedCut(path, f"{path.name}: {names[0]} no es una base de datos PREP legible "
                               f"{quoted(exc.problems)}") from None
    last = last_cut(at) if callable(last_cut) else last_cut
    rc = recount(db, profile, last_cut=last)
    differs = rc.differs_from_published()
    if differs or rc.rows_mismatched:
        reasons = [f"{path.name}: el recuento difiere del preámbulo: {name} publicado {pub}, "
                   f"recontado {value}" for name, pub, value in rc.differences()]
        if rc.rows_mismatched:
            lines = ", ".join(str(n) for n in rc.mismatched_lines[:10])
            reasons.append(f"{path.name}: en {rc.rows_mismatched} filas CONTABILIZADA o "
                           f"TOTAL_VOTOS_CALCULADO no es lo que dan las reglas {profile.name} "
                           f"(líneas {lines})")
        raise RefusedCut(path, reasons)
    return DroppedCut(path, eleccion, digest, names[0], raw, db, rc, at)


def take_cut(folder: Path, profile: Profile, *, taken: Collection[str] = (), last_cut: bool = False,
             settle: float = 2.0) -> DroppedCut | None:
    """The oldest complete zip of ``folder`` whose name is not in ``taken``, read and recounted;
    ``None`` while none is. Raises :class:`RefusedCut` for a zip to refuse (the caller adds
    ``exc.path.name`` to ``taken``, keeps the previous cut live and raises the alert)."""
    for path in sorted(folder.glob("*.zip")):
        if path.name in taken or not ZIP_NAME.match(path.name):
            continue
        digest = complete(path, settle=settle)
        if digest is None:
            return None  # cuts are taken in order: wait for this one
        return read_dropped(path, digest, profile, last_cut=last_cut)
    return None


# --- a cut of every election of the proceso -----------------------------------------------------


@dataclass(frozen=True)
class Drop:
    """One cut of the capture system: a zip per election of the proceso, each complete, read
    and recounted to its preamble, and the capture feed its rows make."""

    stamp: str  # YYYYMMDD_HHMM of the names
    at: datetime  # the cut time the databases state
    cuts: dict[str, DroppedCut]  # by election id
    feeds: dict[str, tuple[Acta, ...]]  # by election id


def stamp_of(name: str) -> str | None:
    """``YYYYMMDD_HHMM`` of a drop's zip name (``None`` for another file)."""
    m = ZIP_NAME.match(name)
    return f"{m.group(1)}_{m.group(2)}" if m else None


def drop_signature(folder: Path, stamp: str) -> str:
    """What the files of cut ``stamp`` are now (names, sizes, times): a refused cut is looked at
    again only when the capture system writes it again."""
    parts = []
    for p in sorted(folder.glob(f"{stamp}_PREP_*")):
        try:
            st = p.stat()
        except OSError:
            continue
        parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


def _by_election(paths: list[Path], proceso: Proceso) -> dict[str, Path]:
    ids = {e.id.upper(): e.id for e in proceso.elections}
    out: dict[str, Path] = {}
    for path in paths:
        m = ZIP_NAME.match(path.name)
        named = m.group(3).upper() if m else ""
        eid = ids.get(named) or (proceso.elections[0].id if len(ids) == 1 else None)
        if eid is None:
            raise RefusedCut(path, f"{path.name}: no nombra ninguna elección del proceso "
                                   f"({', '.join(ids.values())})")
        if eid in out:
            raise RefusedCut(path, f"{path.name}: un segundo zip de la elección {eid} en el "
                                   f"mismo corte (con {out[eid].name})")
        out[eid] = path
    return out


def take_drop(folder: Path, proceso: Proceso, *, skip: Collection[str] = (),
              last_cut: Callable[[datetime], bool], settle: float = 2.0) -> Drop | None:
    """The oldest cut of ``folder`` (by the names' ``YYYYMMDD_HHMM``) not in ``skip`` once the
    zip of every election of ``proceso`` is complete, read, recounted and turned into feeds;
    ``None`` while it is not. Raises :class:`RefusedCut` for a cut to refuse."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.zip")):
        stamp = stamp_of(path.name)
        if stamp is not None and stamp not in skip:
            groups.setdefault(stamp, []).append(path)
    if not groups:
        return None
    stamp = min(groups)
    paths = _by_election(groups[stamp], proceso)
    if len(paths) < len(proceso.elections):
        return None  # the other elections' zips are still to come
    digests: dict[str, str] = {}
    for eid, path in paths.items():
        digest = complete(path, settle=settle)
        if digest is None:
            return None
        digests[eid] = digest
    cuts = {eid: read_dropped(path, digests[eid], proceso.profile, last_cut=last_cut)
            for eid, path in paths.items()}
    times = {c.at for c in cuts.values()}
    first = next(iter(cuts.values()))
    if len(times) != 1 or first.at is None:
        raise RefusedCut(first.path, f"los zips del corte {stamp} declaran horas de corte "
                                     "distintas")
    feeds: dict[str, tuple[Acta, ...]] = {}
    for e in proceso.elections:
        try:
            feeds[e.id] = actas_of_database(cuts[e.id].database, e)
        except InputError as exc:
            raise RefusedCut(cuts[e.id].path, f"{cuts[e.id].path.name}: sus filas no son las de "
                                              f"la elección {e.id} {quoted(exc.problems)}") from None
    return Drop(stamp, first.at, cuts, feeds)
