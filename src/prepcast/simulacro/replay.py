"""A real published PREP database replayed as a night (``prepcast simulacro --from-database``).

The database becomes the drill's election directory (:func:`prepcast.formats.import_prep_csv.
import_database`: the catalog from its rows, its vote columns and candidaturas, and a capture
feed whose records carry each row's capture time), so the night runner plays it like any other
election: each acta enters the first cut at or after its capture time, and the last cut falls on
the cut the institute published, with every acta in it. With ``cuts`` the night is played in at
most that many cuts (a longer interval between them), the last still the published one.
Under counting rules that do not recount the file to its own preamble and rows, the replay is
refused before anything is made (:meth:`ReplaySource.check_rules`), naming the rules that do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from prepcast.election.catalog import read_proceso
from prepcast.election.rules import DEFAULT_PROFILE, PROFILES, get_profile
from prepcast.errors import InputError, Problem
from prepcast.formats.import_prep_csv import import_database
from prepcast.formats.read_prep_csv import read_prep_csv
from prepcast.formats.recount import recount

CUT_MINUTES = 20  # the interval of the replayed night unless ``cuts`` asks for fewer cuts


@dataclass(frozen=True)
class ReplaySource:
    """A published database to replay, with what its import needs."""

    database: Path
    rules: str = DEFAULT_PROFILE
    candidaturas: Path | None = None
    cuts: int | None = None  # play the night in at most this many cuts

    @property
    def key(self) -> str:
        """What names this replay in the simulacro's folder (the same key reuses the import)."""
        self.check()
        st = self.database.stat()
        cand = str(self.candidaturas.resolve()) if self.candidaturas else "-"
        return (f"database {self.database.resolve()} ({st.st_size} B, {st.st_mtime_ns}) "
                f"rules {self.rules} candidaturas {cand} cuts {self.cuts}")

    def check(self) -> None:
        for label, path in (("--from-database", self.database), ("--candidaturas", self.candidaturas)):
            if path is not None and not path.is_file():
                raise InputError.at(path, f"{label}: no such file")
        if self.cuts is not None and self.cuts < 1:
            raise InputError("--cuts must be at least 1")

    def check_rules(self) -> None:
        """Refuse rules under which the database does not recount to its own preamble and rows
        (the night's last cut would publish other figures than the institute did), naming the
        figures that differ and the rules that do reproduce them."""
        self.check()
        db = read_prep_csv(self.database)
        rc = recount(db, get_profile(self.rules), last_cut=True)
        if not rc.differences() and not rc.rows_mismatched:
            return
        where = str(self.database)
        problems = [Problem(where, f"under --rules {self.rules} the recount differs from the "
                                   f"file's preamble: {name} published {pub}, recounted {value}")
                    for name, pub, value in rc.differences()]
        if rc.rows_mismatched:
            lines = ", ".join(str(n) for n in rc.mismatched_lines[:10])
            problems.append(Problem(where, f"under --rules {self.rules}, {rc.rows_mismatched} "
                                           "rows' CONTABILIZADA or TOTAL_VOTOS_CALCULADO differ "
                                           f"(lines {lines})"))
        fits = [name for name, profile in PROFILES.items() if name != self.rules
                and not (other := recount(db, profile, last_cut=True)).differences()
                and not other.rows_mismatched]
        problems.append(Problem(where, "the replay's last cut would not publish the institute's "
                                       "figures; " + (
            f"the rules that reproduce them: --rules {' or --rules '.join(fits)}" if fits else
            "no known --rules reproduces them")))
        raise InputError(problems)

    def write(self, election_dir: Path) -> None:
        """Import the database into ``election_dir`` (a new folder) and fit its schedule."""
        self.check()
        self.check_rules()
        import_database(self.database, election_dir, candidaturas=self.candidaturas,
                        rules=self.rules, cut_minutes=CUT_MINUTES)
        if self.cuts is not None:
            fit_schedule(election_dir / "election.toml", self.cuts)


def fit_schedule(toml: Path, cuts: int) -> None:
    """Stretch the interval between cuts so the night takes at most ``cuts`` cuts, the last one
    still at the published cut's time and the first still at or before the first capture."""
    proceso = read_proceso(toml)
    if len(proceso.cut_times()) <= cuts:
        return
    span = (proceso.end - proceso.start).total_seconds()
    if cuts == 1:  # one cut, the published one, with every acta
        minutes, steps = proceso.cut_minutes, 0
    else:
        minutes = -(-int(span) // (60 * (cuts - 1)))
        steps = -(-int(span) // (60 * minutes))
    start = proceso.end - timedelta(minutes=minutes * steps)
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^start = .*$", f"start = {start.isoformat()}", text, count=1)
    text = re.sub(r"(?m)^cut_minutes = .*$", f"cut_minutes = {minutes}", text, count=1)
    tmp = toml.with_name(f".{toml.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(toml)
    fitted = read_proceso(toml).cut_times()
    assert len(fitted) <= cuts and fitted[-1] == proceso.end, (len(fitted), fitted[-1])
