"""The simulacro: a whole election night played on this machine.

The institute's side generates an election (catalog, candidaturas, a capture feed shaped like a
real night) and, for every cut of the schedule, computes its figures, writes its PREP database
and builds and verifies its signed package. The night runs accelerated: no waiting between cuts
unless ``pace`` asks for it.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prepcast.election import ElectionDir, cut_time, display_time, load_election_dir
from prepcast.election.rules import get_profile
from prepcast.election.schedule import is_last_cut
from prepcast.election.synthetic import generate
from prepcast.errors import InputError, IntegrityError
from prepcast.formats.read_prep_csv import parse_head, parse_prep_csv
from prepcast.formats.recount import recount
from prepcast.package import Manifest, build_cut, init_keys, load_signer, verify_package
from prepcast.package.keys import ROOT_PUB

MARKER = ".prepcast-simulacro.json"
KEEP_PACKAGES = 2  # older packages are removed as the night goes on; their manifests stay


@dataclass(frozen=True)
class CutRecord:
    number: int
    at: datetime
    preambles: dict[str, dict[str, str]]  # per database zip: the published figures
    package: Path
    files: int
    bytes: int
    build_seconds: float
    verify_seconds: float


@dataclass
class NightResult:
    out: Path
    election: ElectionDir
    cuts: list[CutRecord] = field(default_factory=list)
    seconds: float = 0.0


def prepare_out(out: Path, profile: str, seed: int) -> bool:
    """Make ``out`` ready; True when it already holds this profile and seed's election."""
    marker = out / MARKER
    if out.exists() and any(out.iterdir()):
        if not marker.exists():
            raise InputError.at(out, "exists and was not made by a simulacro; choose another --out")
        previous = json.loads(marker.read_text(encoding="utf-8"))
        same = previous.get("profile") == profile and previous.get("seed") == seed
        for name in ("paquetes", "llaves", "manifiestos") + (() if same else ("eleccion",)):
            shutil.rmtree(out / name, ignore_errors=True)
        marker.write_text(json.dumps({"profile": profile, "seed": seed}), encoding="utf-8")
        return same and (out / "eleccion" / "election.toml").exists()
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"profile": profile, "seed": seed}), encoding="utf-8")
    return False


def run_night(
    profile: str,
    seed: int,
    out: Path,
    *,
    cuts: int | None = None,
    pace: float = 0.0,
    on_cut: Callable[[CutRecord, int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> NightResult:
    """Play the night; ``on_cut(record, total)`` after each cut, ``on_stage(text)`` between stages."""
    started = time.perf_counter()
    stage = on_stage or (lambda _text: None)
    out = Path(out)
    reuse = prepare_out(out, profile, seed)
    election_dir = out / "eleccion"
    if not reuse:
        stage(f"generando la elección {profile} (semilla {seed})")
        generate(profile, seed, election_dir)
    ed = load_election_dir(election_dir)
    keys = out / "llaves"
    init_keys(keys)
    signer = load_signer(keys)
    root_pub = keys / ROOT_PUB
    schedule = ed.proceso.cut_times()
    total = len(schedule) if cuts is None else max(1, min(cuts, len(schedule)))
    result = NightResult(out, ed)
    packages = out / "paquetes"
    manifests = out / "manifiestos"
    packages.mkdir()
    manifests.mkdir()
    previous: Manifest | None = None
    for number in range(1, total + 1):
        at = cut_time(ed.proceso, number)
        pkg = packages / f"{number:04d}"
        t0 = time.perf_counter()
        manifest = build_cut(ed, at, signer, pkg, previous=previous)
        t1 = time.perf_counter()
        verify_package(pkg, root_pub, last=previous)
        t2 = time.perf_counter()
        shutil.copy2(pkg / "manifests" / f"{number:04d}.json", manifests / f"{number:04d}.json")
        record = CutRecord(
            number=number,
            at=at,
            preambles=published_preambles(pkg, number),
            package=pkg,
            files=len(manifest.files),
            bytes=sum(e.size for e in manifest.files.values()),
            build_seconds=t1 - t0,
            verify_seconds=t2 - t1,
        )
        result.cuts.append(record)
        if on_cut:
            on_cut(record, total)
        old = packages / f"{number - KEEP_PACKAGES:04d}"
        if old.exists():
            shutil.rmtree(old)
        previous = manifest
        if pace and number < total:
            time.sleep(pace)
    stage("recontando la base de datos del último corte")
    recount_package(result.cuts[-1].package, ed, result.cuts[-1].number)
    result.seconds = time.perf_counter() - started
    return result


def published_preambles(pkg: Path, number: int) -> dict[str, dict[str, str]]:
    """The figures each database zip of the package publishes in its preamble, per zip name."""
    out: dict[str, dict[str, str]] = {}
    for z in sorted((pkg / "db" / f"{number:04d}").glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".csv") and "CANDIDATURAS" not in n)
            with zf.open(name) as f:
                lines = [f.readline().decode("utf-8-sig").rstrip("\r\n") for _ in range(6)]
        out[z.name] = parse_head(lines, f"{z.name}:{name}").preamble
    return out


def recount_package(pkg: Path, ed: ElectionDir, number: int) -> None:
    """Recount every database of the package; raise unless each reproduces its own preamble."""
    profile = get_profile(ed.proceso.rules)
    last = is_last_cut(ed.proceso, number)
    for z in sorted((pkg / "db" / f"{number:04d}").glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                if not name.endswith(".csv") or "CANDIDATURAS" in name:
                    continue
                text = zf.read(name).decode("utf-8-sig")
                rc = recount(parse_prep_csv(text, f"{z.name}:{name}"), profile, last_cut=last)
                if rc.rows_mismatched or rc.differs_from_published():
                    raise IntegrityError([f"{z.name}: {d}" for d in rc.differs_from_published()]
                                         + [f"{z.name}: {rc.rows_mismatched} rows disagree"])


def cut_label(record: CutRecord) -> str:
    return display_time(record.at)
