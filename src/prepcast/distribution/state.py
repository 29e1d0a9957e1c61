"""The institute's record of deliveries, in SQLite: what was sent to whom, when, how fast, how it ended.

Every cut is named by its ejercicio and number (``jornada-0013``: a drill's cut 4 and the
jornada's cut 4 are different cuts). Tables: ``deliveries`` (one row per difusor, cut and phase:
the cut's tag, start, end, bytes, files, throughput, result — ``ok``, ``failed``, ``refused``, ``interrupted`` (Ctrl-C) —
error), ``holdings`` (the last cut staged and the last cut activated at each difusor,
with the manifest digest), ``sent`` (a cut handed to a difusor's daemon and not yet seen live
there, read back on the next round), ``login_refused`` (a difusor whose server refused the
pusher's password or key, with a keyed digest of the registry entry it used: not tried again
until that entry changes; the key, random, is kept 0600 beside the file, :meth:`access_key`) and ``cut_files`` (each delivered cut's files, so the next
cut sends only what a difusor lacks, by content) and ``listed`` (per SFTP-only difusor and
content, the size and modification time its server listed for the file once the release holding
it was built and checked: a file whose listing moved since is not linked into the next release).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prepcast.package.ejercicio import CutId

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    difusor TEXT NOT NULL,
    cut INTEGER NOT NULL,
    phase TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    throughput REAL,
    result TEXT NOT NULL DEFAULT 'running',
    error TEXT,
    tag TEXT
);
CREATE TABLE IF NOT EXISTS holdings (
    difusor TEXT NOT NULL,
    kind TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (difusor, kind)
);
CREATE TABLE IF NOT EXISTS sent (
    difusor TEXT PRIMARY KEY,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    not_before TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_refused (
    difusor TEXT PRIMARY KEY,
    access TEXT NOT NULL,
    tag TEXT NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cut_files (
    digest TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (digest, path)
);
CREATE TABLE IF NOT EXISTS listed (
    difusor TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    PRIMARY KEY (difusor, sha256)
);
"""


@dataclass(frozen=True)
class Delivery:
    """One recorded delivery."""

    difusor: str
    cut: int
    phase: str
    started: datetime
    ended: datetime | None
    bytes: int
    files: int
    throughput: float | None
    result: str
    error: str | None
    tag: str | None = None   # the cut's ejercicio and number, ``jornada-0013``

    @property
    def cut_id(self) -> CutId | None:
        return CutId.from_tag(self.tag) if self.tag else None


@dataclass(frozen=True)
class LoginRefused:
    """A difusor's server refused the pusher's password or key (``access``: a digest of the
    registry entry used); pushes to it stop until that entry changes."""

    difusor: str
    access: str
    tag: str
    error: str
    at: datetime


@dataclass(frozen=True)
class DifusorStatus:
    """What the state knows of one difusor, for a status view ("who is behind and why")."""

    difusor: str
    live: CutId | None           # the cut last seen served there (activated or confirmed)
    staged: CutId | None         # the cut last staged there
    last_error: Delivery | None  # the latest failed attempt (any phase)
    last_refusal: Delivery | None  # the latest cut its daemon refused or did not activate
    last_ok: datetime | None = None  # when the latest successful attempt started

    @property
    def failing(self) -> bool:
        """Whether a failure or refusal came after the last success."""
        bad = [d.started for d in (self.last_error, self.last_refusal) if d is not None]
        return bool(bad) and (self.last_ok is None or max(bad) >= self.last_ok)


class DeliveryState:
    """The SQLite state file; safe to use from the pusher's event loop (one connection, a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._upgrade()
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._running: set[int] = set()  # attempts this process started and has not ended
        self._key: bytes | None = None

    def _upgrade(self) -> None:
        """A state file written before cuts carried their ejercicio: deliveries gain the tag;
        holdings and sent cuts (read back from the difusores every round) start afresh."""
        def columns(table: str) -> set[str]:
            return {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}

        if columns("deliveries") and "tag" not in columns("deliveries"):
            self._db.execute("ALTER TABLE deliveries ADD COLUMN tag TEXT")
        for table in ("holdings", "sent"):
            if columns(table) and "tag" not in columns(table):
                self._db.execute(f"DROP TABLE {table}")

    def close(self) -> None:
        self._db.close()

    def end_running(self, *, result: str = "interrupted", error: str | None = None) -> int:
        """End every attempt this process started and never ended (a push cut short by
        Ctrl-C): none stays ``running`` for ever. Returns how many it ended."""
        rows = sorted(self._running)
        for row in rows:
            self.end(row, result=result, error=error)
        return len(rows)

    def start(self, difusor: str, cut: CutId | int, phase: str) -> int:
        number, tag = (cut.cut, cut.tag) if isinstance(cut, CutId) else (cut, None)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO deliveries (difusor, cut, phase, started, tag) VALUES (?, ?, ?, ?, ?)",
                (difusor, number, phase, _now().isoformat(), tag),
            )
            row = int(cur.lastrowid or 0)
            self._running.add(row)
            return row

    def end(self, delivery_id: int, *, result: str, nbytes: int = 0, files: int = 0,
            error: str | None = None) -> None:
        ended = _now()
        with self._lock:
            self._running.discard(delivery_id)
            row = self._db.execute(
                "SELECT started FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            seconds = (ended - datetime.fromisoformat(row[0])).total_seconds() if row else 0.0
            throughput = nbytes / seconds if seconds > 0 and nbytes else None
            self._db.execute(
                "UPDATE deliveries SET ended = ?, bytes = ?, files = ?, throughput = ?, result = ?,"
                " error = ? WHERE id = ?",
                (ended.isoformat(), nbytes, files, throughput, result, error, delivery_id),
            )

    def deliveries(self, difusor: str | None = None) -> list[Delivery]:
        sql = ("SELECT difusor, cut, phase, started, ended, bytes, files, throughput, result, error,"
               " tag FROM deliveries")
        args: tuple[str, ...] = ()
        if difusor is not None:
            sql += " WHERE difusor = ?"
            args = (difusor,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [
            Delivery(r[0], r[1], r[2], datetime.fromisoformat(r[3]),
                     datetime.fromisoformat(r[4]) if r[4] else None, r[5], r[6], r[7], r[8], r[9],
                     r[10])
            for r in rows
        ]

    def set_holding(self, difusor: str, kind: str, cut: CutId, digest: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO holdings (difusor, kind, tag, digest) VALUES (?, ?, ?, ?)",
                (difusor, kind, cut.tag, digest),
            )

    def holding(self, difusor: str, kind: str) -> tuple[CutId, str] | None:
        """The (cut, digest) last ``staged`` or ``active`` at a difusor, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT tag, digest FROM holdings WHERE difusor = ? AND kind = ?", (difusor, kind)
            ).fetchone()
        cut = CutId.from_tag(str(row[0])) if row else None
        return (cut, str(row[1])) if row and cut is not None else None

    def set_sent(self, difusor: str, cut: CutId, digest: str, not_before: datetime) -> None:
        """A cut handed to a difusor's daemon, to be confirmed live (or reported refused)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sent (difusor, tag, digest, not_before) VALUES (?, ?, ?, ?)",
                (difusor, cut.tag, digest, not_before.isoformat()),
            )

    def sent(self, difusor: str) -> tuple[CutId, str, datetime] | None:
        """The cut handed to a daemon and not yet confirmed: (cut, digest, not_before)."""
        with self._lock:
            row = self._db.execute(
                "SELECT tag, digest, not_before FROM sent WHERE difusor = ?", (difusor,)
            ).fetchone()
        cut = CutId.from_tag(str(row[0])) if row else None
        if row is None or cut is None:
            return None
        return cut, str(row[1]), datetime.fromisoformat(row[2])

    def clear_sent(self, difusor: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sent WHERE difusor = ?", (difusor,))

    def refuse_login(self, difusor: str, access: str, cut: CutId, error: str) -> None:
        """The server of ``difusor`` refused the login made with ``access`` (a digest of its
        registry entry) at ``cut``: no further attempt with the same entry."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO login_refused (difusor, access, tag, error, at)"
                " VALUES (?, ?, ?, ?, ?)", (difusor, access, cut.tag, error, _now().isoformat()))

    @property
    def key_path(self) -> Path:
        """Where :meth:`access_key` is kept: beside the file (``deliveries.key``)."""
        return self.path.with_suffix(".key")

    def access_key(self, *, create: bool = True) -> bytes | None:
        """The random key the login digests of ``login_refused`` are made with (HMAC-SHA256), so
        the record shows only that a registry entry changed: no digest in it can be checked
        against a guessed password without this file (mode 0600). Made on first use (None when
        it is missing and ``create`` is false); refusals recorded before it existed, with a
        plain digest, are erased then."""
        with self._lock:
            if self._key is None:
                self._key = _read_key(self.key_path)
            if self._key is None and create:
                self._key = self._new_key()
            return self._key

    def _new_key(self) -> bytes:
        key = os.urandom(KEY_BYTES)
        tmp = self.key_path.with_name(f".{self.key_path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, self.key_path)  # another process's key, made meanwhile, stays
        except FileExistsError:
            theirs = _read_key(self.key_path)
            if theirs is not None:
                return theirs
            os.replace(tmp, self.key_path)  # not a key: replaced
        finally:
            tmp.unlink(missing_ok=True)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("DELETE FROM login_refused")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return key

    def login_refused(self, difusor: str) -> LoginRefused | None:
        """The refused login of ``difusor`` still on record, if any."""
        with self._lock:
            row = self._db.execute("SELECT access, tag, error, at FROM login_refused"
                                   " WHERE difusor = ?", (difusor,)).fetchone()
        if row is None:
            return None
        return LoginRefused(difusor, str(row[0]), str(row[1]), str(row[2]),
                            datetime.fromisoformat(row[3]))

    def forget_login_refused(self, difusor: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM login_refused WHERE difusor = ?", (difusor,))

    def last_refusal(self, difusor: str) -> Delivery | None:
        """The latest cut a difusor refused or did not activate (for the status view)."""
        rows = [d for d in self.deliveries(difusor) if d.result == "refused"]
        return rows[-1] if rows else None

    def status(self) -> list[DifusorStatus]:
        """Per difusor: live and staged cut, last error, last refusal (sorted by name)."""
        with self._lock:
            names = sorted({r[0] for r in self._db.execute(
                "SELECT difusor FROM deliveries UNION SELECT difusor FROM holdings")})
        out = []
        for name in names:
            rows = self.deliveries(name)
            errors = [d for d in rows if d.result == "failed"]
            refusals = [d for d in rows if d.result == "refused"]
            oks = [d.started for d in rows if d.result == "ok"]
            live, staged = self.holding(name, "active"), self.holding(name, "staged")
            out.append(DifusorStatus(
                name, live[0] if live else None, staged[0] if staged else None,
                errors[-1] if errors else None, refusals[-1] if refusals else None,
                max(oks) if oks else None))
        return out

    def remember_files(self, digest: str, files: Mapping[str, tuple[str, int]]) -> None:
        with self._lock:
            if self._db.execute("SELECT 1 FROM cut_files WHERE digest = ? LIMIT 1",
                                (digest,)).fetchone():
                return
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO cut_files (digest, path, sha256, size) VALUES (?, ?, ?, ?)",
                [(digest, p, h, s) for p, (h, s) in files.items()],
            )
            self._db.execute("COMMIT")

    def files_of(self, digest: str) -> dict[str, tuple[str, int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT path, sha256, size FROM cut_files WHERE digest = ?", (digest,)
            ).fetchall()
        return {str(p): (str(h), int(s)) for p, h, s in rows}

    def listed(self, difusor: str) -> dict[str, tuple[int, int]]:
        """What ``difusor``'s server listed for each content (sha256 -> size, mtime) when the
        last release holding it was built; empty for a difusor this state never built for."""
        with self._lock:
            rows = self._db.execute("SELECT sha256, size, mtime FROM listed WHERE difusor = ?",
                                    (difusor,)).fetchall()
        return {str(h): (int(s), int(m)) for h, s, m in rows}

    def set_listed(self, difusor: str, now: Mapping[str, tuple[int, int]],
                   keep: set[str], before: Mapping[str, tuple[int, int]]) -> None:
        """Record ``now`` for ``difusor`` (sha256 -> size, mtime), given ``before`` (what
        :meth:`listed` returned): only the rows that changed are written; rows of contents
        neither in ``now`` nor in ``keep`` (the live release's) are dropped."""
        changed = [(difusor, h, s, m) for h, (s, m) in now.items() if before.get(h) != (s, m)]
        gone = [(difusor, h) for h in before if h not in now and h not in keep]
        if not changed and not gone:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO listed (difusor, sha256, size, mtime) "
                                 "VALUES (?, ?, ?, ?)", changed)
            self._db.executemany("DELETE FROM listed WHERE difusor = ? AND sha256 = ?", gone)
            self._db.execute("COMMIT")


#: The length of :meth:`DeliveryState.access_key`.
KEY_BYTES = 32


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    return key if len(key) == KEY_BYTES else None


def _now() -> datetime:
    return datetime.now(UTC)
