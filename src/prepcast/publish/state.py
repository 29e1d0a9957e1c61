"""The night runner's state: one JSON file in ``--state DIR``, replaced atomically at every step.

::

    STATE/
      runner.lock         held (flock) by the runner using this state, for its whole life
      night.json          what the runner did: the night's settings, every cut's steps
      builds.jsonl        one line per package built: cut, digest (same cut → same bytes)
      deliveries.sqlite   the pusher's record (prepcast.distribution.DeliveryState)
      paquetes/<tag>/     the newest built packages (the last published one is kept)
      salida/             the pusher's work folder

``night.json`` is written to a temporary name, flushed, fsync'd and renamed, so a crash at any
instant leaves the previous version or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prepcast.errors import InputError
from prepcast.files import LockHeld, hold_lock, read_bytes, write_atomic

SCHEMA = "prepcast.night/1"
STATE_FILE = "night.json"
BUILDS_LOG = "builds.jsonl"
DELIVERIES = "deliveries.sqlite"
PACKAGES = "paquetes"
OUTBOX = "salida"
LOCK_FILE = "runner.lock"
PUBLISH_LOCK = ".prepcast-night.lock"  # in --publish-root: held by the runner publishing there


def now() -> datetime:
    return datetime.now(UTC)


def make_folder(directory: Path, flag: str) -> bool:
    """Create ``directory`` (and its parents) for ``flag`` (``--state``, ``--publish-root``);
    True when this call created it, False when it was there (a file there is refused). Only a
    folder this process created, and only while it holds that folder's lock, is removed again
    by a refused run: another runner may have made it its own meanwhile."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        if not directory.is_dir():
            raise InputError.at(directory, f"is a file; {flag} names a folder") from None
        return False
    return True


def _hold_in(directory: Path, name: str, holder: str) -> int:
    """Hold the lock file ``name`` in ``directory`` (created if missing, again when a refused
    runner that held it removed it meanwhile)."""
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            return hold_lock(directory / name, holder)
        except FileNotFoundError:
            continue


def lock_state(directory: Path, holder: str = "") -> int:
    """Hold ``directory``'s runner lock (an exclusive ``flock``; the kernel releases it when the
    process ends, however it ends); the descriptor to close when done. A second runner on the
    same state is refused before it touches anything."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError.at(directory, "is a file; --state names a folder")
    try:
        return _hold_in(directory, LOCK_FILE, holder)
    except LockHeld as held:
        raise InputError.at(directory, f"{held.holder or f'a runner (pid {held.pid})'} is "
                            "already using this --state") from None


def lock_publish_root(root: Path, holder: str) -> int:
    """Hold the publish root's runner lock (``.prepcast-night.lock`` in it): one runner publishes
    in a root, whatever ``--state`` each has; the second is refused naming the first's pid and
    state, before it touches anything."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError.at(root, "is a file; --publish-root names a folder")
    try:
        return _hold_in(root, PUBLISH_LOCK, holder)
    except LockHeld as held:
        raise InputError.at(root, f"{held.holder or f'a night runner (pid {held.pid})'} is "
                            "already publishing in this --publish-root; one runner per publish "
                            "root") from None


def forget_publish_root(root: Path) -> None:
    """Remove a publish root this run created and a refusal left unused: its lock, the empty
    record of pushes and the empty ``releases/``; never a root where a cut was published. Only
    by the runner holding the root's lock (:func:`lock_publish_root`): a lock file is never
    removed by a process that does not hold it."""
    root = Path(root)
    releases = root / "releases"
    if releases.is_dir() and any(releases.iterdir()):
        return
    pushed = root / "pushed.json"
    try:
        empty = json.loads(pushed.read_bytes()) == {"pushed": {}}
    except (OSError, ValueError):
        empty = False
    if empty:
        pushed.unlink(missing_ok=True)
    (root / PUBLISH_LOCK).unlink(missing_ok=True)
    for folder in (releases, root):
        try:
            folder.rmdir()
        except FileNotFoundError:  # refused before releases/ was made
            continue
        except OSError:
            return


def check_deliveries(directory: Path) -> None:
    """Refuse a ``deliveries.sqlite`` that is not an SQLite database (read only; a missing one is
    created later), before anything is published or read from it."""
    path = Path(directory) / DELIVERIES
    if not path.exists():
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise InputError.at(path, f"not the pusher's record (SQLite): {exc}; move it aside to "
                            "start the record again") from None


@dataclass
class NightState:
    """``night.json`` in memory; :meth:`save` after every step."""

    dir: Path
    doc: dict[str, Any]
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, directory: Path) -> NightState:
        """The state in ``directory`` (created empty when it holds none)."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise InputError.at(directory, "is a file; --state names a folder")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / STATE_FILE
        if not path.exists():
            return cls(directory, {"schema": SCHEMA, "cuts": {}, "log": []})
        data = read_bytes(path)
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise InputError.at(path, f"not JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise InputError.at(path, f"not a night runner's state (schema {SCHEMA})")
        doc.setdefault("cuts", {})
        doc.setdefault("log", [])
        return cls(directory, doc)

    @classmethod
    def read(cls, directory: Path) -> NightState:
        """An existing state (for ``night status``)."""
        if not (Path(directory) / STATE_FILE).is_file():
            raise InputError.at(Path(directory), f"holds no {STATE_FILE}: not a runner's --state")
        return cls.open(directory)

    # --- the record -------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.dir / STATE_FILE

    def cut(self, number: int) -> dict[str, Any]:
        with self.lock:
            cuts: dict[str, dict[str, Any]] = self.doc["cuts"]
            return cuts.setdefault(str(number), {"number": number, "steps": {}})

    def cuts(self) -> list[dict[str, Any]]:
        cuts: dict[str, dict[str, Any]] = self.doc["cuts"]
        return [cuts[k] for k in sorted(cuts, key=int)]

    def step(self, number: int, name: str, **fields: Any) -> None:
        """Record step ``name`` of cut ``number`` (with its time) and save."""
        with self.lock:
            entry = {"at": now().isoformat(), **fields}
            self.cut(number)["steps"][name] = entry
            self.note(f"corte {number}: {name}", save=False)
            self.save()

    def note(self, text: str, *, save: bool = True) -> None:
        with self.lock:
            log: list[dict[str, str]] = self.doc["log"]
            log.append({"at": now().isoformat(), "text": text})
            del log[:-200]
            if save:
                self.save()

    def published(self) -> int | None:
        """The newest cut published in the institute's root, by this runner."""
        done = [c["number"] for c in self.cuts() if "publish" in c["steps"]]
        return max(done) if done else None

    def save(self) -> None:
        with self.lock:
            data = (json.dumps(self.doc, ensure_ascii=False, indent=1) + "\n").encode()
            write_atomic(self.path, data, sync_dir=True)

    def record_build(self, number: int, digest: str, previous: str | None) -> None:
        """Append to the build log (for audits and tests: the digest of every build)."""
        line = json.dumps({"cut": number, "digest": digest, "previous": previous,
                           "at": now().isoformat()}) + "\n"
        with open(self.dir / BUILDS_LOG, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def builds(self) -> list[dict[str, Any]]:
        """Every build recorded (a line cut short by a crash is left out)."""
        try:
            lines = (self.dir / BUILDS_LOG).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


def preparation_es(prep: dict[str, Any]) -> str:
    """The night's preparation (``preparacion`` of the state) as the institute reads it, in the
    runner's log and in ``night status``."""
    return (f"motor de {prep['motor']}, elección leída en {prep['lectura_s']:.2f} s, tablas de la "
            f"noche en {prep['tablas_s']:.2f} s"
            + (f", segmentos de actas al corte {prep['segmentos_del_corte']} en "
               f"{prep['segmentos_s']:.2f} s" if prep.get("segmentos_del_corte") else ""))
