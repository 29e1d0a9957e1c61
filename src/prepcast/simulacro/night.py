"""A whole election night on this machine, institute and difusores.

The institute generates an election (catalog, candidaturas, a capture feed shaped like a real
night) and serves its own site with the acta images; local difusores (SFTP-only ones on embedded
SFTP servers, and ones running the difusor daemon) receive every cut; readers browse one
difusor's site, whose access log becomes the informe técnico at the end. For every cut of the
schedule, the night runner (:mod:`prepcast.publish.runner`, the same as the institute's real
night) builds, verifies, publishes and pushes it; this module starts and stops what surrounds it.
The night runs accelerated: no waiting between cuts unless ``pace`` asks for it (the schedule
then plays one cut every ``pace`` seconds). A drill is ejercicio ``simulacro-1`` by default.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prepcast.analytics import ReportOptions, write_report
from prepcast.analytics.outline import OUTLINES
from prepcast.distribution import PushReport
from prepcast.election import ElectionDir, cut_time, display_time, load_election_dir
from prepcast.election.columnar import ColumnElection
from prepcast.election.schedule import is_last_cut
from prepcast.election.synthetic import generate
from prepcast.errors import InputError, IntegrityError, TransportError
from prepcast.formats.read_prep_csv import parse_head, parse_prep_csv
from prepcast.formats.recount import recount
from prepcast.package import Manifest, init_keys, load_manifest
from prepcast.package.keys import ROOT_PUB
from prepcast.package.layout import db_dir
from prepcast.publish.runner import CutDone, NightRunner, RunOptions, open_night_election
from prepcast.simulacro.difusores import DifusoresProcess
from prepcast.simulacro.institute import ActaImages, InstituteServer
from prepcast.simulacro.registro import Registered, recheck, register_local
from prepcast.simulacro.replay import ReplaySource
from prepcast.simulacro.tls import DrillCA
from prepcast.simulacro.watch import Watch, WatchReport

MARKER = ".prepcast-simulacro.json"
INSTITUTE_PORT = 8700  # the institute's site and acta images, when the port is free
NIGHT_STAGE = "la noche: cada corte construido, verificado, publicado y enviado"


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
    push_seconds: float
    live: dict[str, int | None]  # difusor -> the cut it serves after the push


@dataclass
class NightResult:
    out: Path
    election: ElectionDir | ColumnElection  # on columns where its files allow it
    institute_url: str = ""
    difusor_url: str = ""
    cuts: list[CutRecord] = field(default_factory=list)
    seconds: float = 0.0
    reader_requests: int = 0
    report: Path | None = None
    access_log: Path | None = None
    difusor_roots: dict[str, Path] = field(default_factory=dict)
    watch: WatchReport | None = None  # the monitor over the local difusores, and its drill
    registro: Registered | None = None  # the registry of the local difusores and their checks
    stages: list[tuple[str, float]] = field(default_factory=list)  # (stage, seconds) in order


@dataclass(frozen=True)
class NightOptions:
    cuts: int | None = None
    pace: float = 0.0
    sftp_only: int = 2
    daemons: int = 1
    readers: bool = True
    report: bool = True
    pdf: bool = True
    ejercicio: str = "simulacro-1"
    replay: ReplaySource | None = None  # a published database as the night, not ``profile``
    monitor: bool = True  # the monitor watches the local difusores; one misbehaves at the end
    monitor_round_s: float = 5.0  # seconds of real time between the monitor's rounds
    replace: bool = False  # an earlier simulacro in ``out`` may be replaced


def prepare_out(out: Path, profile: str, seed: int, replace: bool = False) -> bool:
    """Make ``out`` ready; True when it already holds this profile and seed's election.

    A folder holding anything but an earlier simulacro is refused; an earlier simulacro's (its
    informe, registry, history, monitor evidence) is replaced only when ``replace`` says so,
    keeping its election when it is the same profile and seed."""
    marker = out / MARKER
    if out.exists() and not out.is_dir():
        raise InputError.at(out, "is a file; --out names a folder")
    if out.exists() and any(out.iterdir()):
        if not marker.exists():
            raise InputError.at(out, "exists and was not made by a simulacro; choose another --out")
        if not replace and any(p.name != MARKER for p in out.iterdir()):
            raise InputError.at(out, "holds an earlier simulacro (its informe, registry, "
                                "history and monitor evidence); give --replace to replace it, "
                                "or choose another --out")
        previous = json.loads(marker.read_text(encoding="utf-8"))
        same = previous.get("profile") == profile and previous.get("seed") == seed
        keep = {"eleccion", MARKER} if same else {MARKER}
        for child in out.iterdir():
            if child.name not in keep:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        marker.write_text(json.dumps({"profile": profile, "seed": seed}), encoding="utf-8")
        return same and (out / "eleccion" / "election.toml").exists()
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"profile": profile, "seed": seed}), encoding="utf-8")
    return False


def _point_images_at(election_dir: Path, url: str) -> None:
    """Make the election's acta image links name this drill's institute server."""
    toml = election_dir / "election.toml"
    text = toml.read_text(encoding="utf-8")
    new = re.sub(r'(?m)^image_base_url = ".*"$', f'image_base_url = "{url}/actas"', text)
    if new != text:
        toml.write_text(new, encoding="utf-8")


def _institute_server() -> InstituteServer:
    try:
        return InstituteServer(port=INSTITUTE_PORT)
    except OSError:
        return InstituteServer(port=0)


class Night:
    """The servers and state of one night: the institute, the local difusores, the readers."""

    def __init__(self, profile: str, seed: int, out: Path, opts: NightOptions) -> None:
        self.profile = opts.replay.key if opts.replay is not None else profile
        self.seed = seed
        self.out = Path(out).absolute()  # the registry and the difusores' process resolve paths
        self.opts = opts
        self.institute: InstituteServer | None = None
        self.net: DifusoresProcess | None = None
        self.watch: Watch | None = None

    def start(self, stage: Callable[[str], None]) -> NightResult:
        reuse = prepare_out(self.out, self.profile, self.seed, self.opts.replace)
        election_dir = self.out / "eleccion"
        if not reuse and self.opts.replay is not None:
            stage(f"importando {self.opts.replay.database.name}")
            self.opts.replay.write(election_dir)
        elif not reuse:
            stage(f"generando la elección {self.profile} (semilla {self.seed})")
            generate(self.profile, self.seed, election_dir)
        self.institute = _institute_server()
        _point_images_at(election_dir, self.institute.url)
        stage("leyendo la elección")
        ed = open_night_election(election_dir)  # the runner builds from it
        # the acta images need the actas on rows: read at the first image asked for
        self.institute.images = ActaImages(
            ed if isinstance(ed, ElectionDir) else lambda: load_election_dir(election_dir))
        self.institute.start()
        keys = self.out / "llaves"
        init_keys(keys)
        self.root_pub = keys / ROOT_PUB
        stage("iniciando los difusores locales")
        self.net = DifusoresProcess(self.out / "difusores", trusted_root=self.root_pub,
                                    sftp_only=self.opts.sftp_only, daemons=self.opts.daemons,
                                    readers=self.opts.readers, seed=self.seed,
                                    home_entidad=f"{ed.proceso.entidad_id:02d}")
        self.net.start()
        # each local difusor's site over HTTPS (the drill's CA) for the checks and the monitor
        stage("iniciando los sitios HTTPS de los difusores locales")
        ca = DrillCA.create(self.out / "ca")
        self.registry = self.out / "registro" / "registry.toml"
        self.watch = Watch(self.out / "monitor", dict(self.net.roots), self.root_pub,
                           self.out / "instituto", registry=self.registry,
                           tls=ca.server_context(), round_s=self.opts.monitor_round_s)
        self.watch.start()
        stage("registrando y revisando los difusores locales (prepcast difusores check)")
        registro = register_local(self.out / "registro", self.net.entries,
                                  self.watch.local_sites(), ca.ca_file,
                                  pdf=self.opts.pdf and self.opts.report, trust=self.root_pub)
        self.difusores = [{"id": "instituto",
                           "nombre": f"{ed.proceso.institute} (sitio del instituto)",
                           "url": self.institute.url + "/"}, *registro.public]
        return NightResult(self.out, ed, self.institute.url, self.net.http_url or "",
                           difusor_roots=dict(self.net.roots), registro=registro)

    def play(self, result: NightResult, on_cut: Callable[[CutRecord, int], None],
             stage: Callable[[str], None]) -> None:
        """The night runner plays the cuts (build, verify, publish at the institute, push to the
        local difusores while the next cut is built); this records what each cut did."""
        assert self.institute is not None and self.net is not None
        ed = result.election
        schedule = ed.proceso.cut_times()
        opts = self.opts
        total = len(schedule) if opts.cuts is None else max(1, min(opts.cuts, len(schedule)))
        manifests = self.out / "manifiestos"
        manifests.mkdir()
        registry = self.registry  # the one the checks validated
        root = self.out / "instituto"
        self.institute.publish(root / "current")
        net = self.net
        built: dict[int, dict[str, object]] = {}
        failures: list[str] = []

        def on_built(c: CutDone) -> None:
            shutil.copy2(c.package / c.manifest.manifest_rel,
                         manifests / Path(c.manifest.manifest_rel).name)
            built[c.number] = {
                "number": c.number, "at": cut_time(ed.proceso, c.number), "package": c.package,
                "preambles": published_preambles(c.package, c.manifest),
                "files": len(c.manifest.files),
                "bytes": sum(e.size for e in c.manifest.files.values()),
                "build_seconds": c.build_seconds, "verify_seconds": c.verify_seconds,
            }
            if self.watch is not None and opts.monitor:
                self.watch.after_cut(c.number, net.live_cuts)

        def on_pushed(number: int, report: PushReport | None, error: str | None) -> None:
            if error is not None or report is None or report.failed:
                failures.append(f"cut {number}: {error or ', '.join(report.failed if report else [])}")
            live = {n: (c.cut if c is not None else None) for n, c in net.live_cuts().items()}
            done = built.pop(number, None)
            if done is None:  # a push that failed before its cut was recorded: already counted
                return
            record = CutRecord(live=live, push_seconds=report.seconds_to_serving if report else 0.0,
                               **done)  # type: ignore[arg-type]
            if not result.cuts:
                net.let_readers_in()
            self._recheck(result, runner, live)
            result.cuts.append(record)
            on_cut(record, total)

        runner = NightRunner(RunOptions(
            election=self.out / "eleccion", keys=self.out / "llaves", state=self.out / "estado",
            publish_root=root, registry=registry, ejercicio=opts.ejercicio,
            speed=ed.proceso.cut_minutes * 60 / opts.pace if opts.pace > 0 else None,
            until=cut_time(ed.proceso, total), ntp_server=None,
            difusores=tuple(self.difusores), retry_delay=0.2), on_cut=on_built,
            on_pushed=on_pushed, ed=ed)
        runner.run()
        if failures:
            raise TransportError("; ".join(failures))
        stage("recontando la base de datos del último corte")
        recount_package(result.cuts[-1].package, ed, result.cuts[-1].number)

    def _recheck(self, result: NightResult, runner: NightRunner,
                 live: dict[str, int | None]) -> None:
        """A local difusor that waited for a cut it serves (a daemon) is checked again once it
        serves one, between two pushes (nothing changes what it serves meanwhile): validado and
        activo, it is on the public list of the cuts built from then on."""
        registro = result.registro
        if registro is None or not registro.waiting:
            return
        registro = recheck(registro, {n: c for n, c in live.items() if c is not None})
        if registro is not result.registro:
            result.registro = registro
            self.difusores = [self.difusores[0], *registro.public]
            if runner.builder is not None:
                runner.builder.difusores = [dict(d) for d in self.difusores]

    def drill(self, result: NightResult) -> bool:
        """The monitor's drill on one difusor, in a thread, once the last cut is live on all
        (a night of two cuts at least: a stale cut needs one before the last); True when one
        started."""
        if self.watch is not None and self.opts.monitor and self.net is not None \
                and len(result.cuts) >= 2:
            return self.watch.drill_after(result.cuts[-1].number, self.net.live_cuts) is not None
        return False

    def stop_difusores(self, result: NightResult | None) -> None:
        """The local difusores and their readers stopped (the access log is then whole); their
        folders stay, served to the monitor by the drill's own servers."""
        if self.net is not None:
            net, self.net = self.net, None
            stopped = net.stop()
            if result is not None:
                result.reader_requests = stopped.reader_requests
                result.access_log = stopped.access_log

    def stop(self, result: NightResult | None, *, cut_short: bool = False) -> None:
        """Everything stopped; ``cut_short`` (a failure, Ctrl-C): the drill is not waited for.
        Without the monitor (``--no-monitor``) the result has no monitor report."""
        report = None
        try:
            if self.watch is not None:
                report = self.watch.stop(cut_short=cut_short)
        finally:
            self.stop_difusores(result)
            if self.institute is not None:
                self.institute.stop()
        if result is not None and self.opts.monitor:
            result.watch = report


def run_night(
    profile: str,
    seed: int,
    out: Path,
    options: NightOptions | None = None,
    *,
    on_cut: Callable[[CutRecord, int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_ready: Callable[[NightResult], None] | None = None,
) -> NightResult:
    """Play the night. ``on_stage(text)`` between stages, ``on_ready(result)`` once the servers
    are up, ``on_cut(record, total)`` after each cut."""
    opts = options or NightOptions()
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def stage(text: str) -> None:  # each stage timed, until the next one begins
        marks.append((text, time.perf_counter()))
        if on_stage is not None:
            on_stage(text)

    night = Night(profile, seed, out, opts)
    result: NightResult | None = None
    try:
        result = night.start(stage)
        if on_ready:
            on_ready(result)
        stage(NIGHT_STAGE)
        night.play(result, on_cut or (lambda _r, _t: None), stage)
        drilling = night.drill(result)  # beside the informe: neither waits for the other
        stage("deteniendo los difusores locales y sus lectores")
        night.stop_difusores(result)
        if opts.report and result.access_log is not None and result.access_log.exists():
            stage("escribiendo el informe técnico del difusor local 01")
            result.report = Path(out) / "informe"
            institute = result.election.proceso.institute.lower()  # the outline of its call
            write_report([result.access_log], result.report, pdf=opts.pdf,
                         options=ReportOptions(difusor="Difusor local 01 (simulacro)", formatos=(
                             (institute,) if institute in OUTLINES else ("prepcast",))))
        if drilling:
            stage("esperando las fallas a propósito del monitor")
            assert night.watch is not None
            night.watch.join_drill()  # Ctrl-C here cuts the drill short, put right
    except BaseException:
        night.stop(result, cut_short=True)
        raise
    night.stop(result)
    ended = time.perf_counter()
    result.seconds = ended - started
    result.stages = [(text, round(end - t, 1)) for (text, t), (_, end)
                     in zip(marks, [*marks[1:], ("", ended)], strict=True)]
    return result


def published_preambles(pkg: Path, manifest: Manifest) -> dict[str, dict[str, str]]:
    """The figures each database zip of the package publishes in its preamble, per zip name."""
    out: dict[str, dict[str, str]] = {}
    for z in sorted((pkg / db_dir(manifest.ejercicio, manifest.cut)).glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".csv") and "CANDIDATURAS" not in n)
            with zf.open(name) as f:
                lines = [f.readline().decode("utf-8-sig").rstrip("\r\n") for _ in range(6)]
        out[z.name] = parse_head(lines, f"{z.name}:{name}").preamble
    return out


def recount_package(pkg: Path, ed: ElectionDir | ColumnElection, number: int) -> None:
    """Recount every database of the package; raise unless each reproduces its own preamble."""
    profile = ed.proceso.profile
    last = is_last_cut(ed.proceso, number)
    m = load_manifest(pkg)
    for z in sorted((pkg / db_dir(m.ejercicio, number)).glob("*.zip")):
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
