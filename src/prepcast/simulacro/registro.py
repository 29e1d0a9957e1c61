"""The drill's local difusores registered and checked through the registry, as an institute would.

:func:`register_local` writes ``<out>/registro/registry.toml`` anew: each local difusor's form
(its SFTP account and pinned host key, its HTTPS site and the plain-HTTP address that redirects
to it, a logo), every one an aspirante; then the compliance check of ``prepcast difusores
check`` runs against every one (the same code, nothing skipped: SFTP, free space, a small speed
test, the certificate from the drill's CA, the redirect, a test package made live and read back
over HTTPS, the clocks). A difusor that passes, every requirement evaluated, becomes validado,
recorded by the check, and only then activo. A local daemon serves no cut yet, so what is
checked on the cut it serves waits and it stays aspirante; once it serves the night's first cut,
:func:`recheck` checks it again, as an institute would, and it is validado and activo then. Each
report (JSON, HTML, PDF when asked) is kept in ``registro/revision``.
That one registry is what the night runner pushes through, what the monitor watches and where
the public list of every cut (logos included) comes from.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prepcast.monitor.vouch import signed_by
from prepcast.package.sign import parse_public_key
from prepcast.registry import add_difusores, load_registry, public_list, set_status
from prepcast.registry.checks import CheckReport, check_all, record, write_reports

_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 48" role="img">'
         '<rect width="200" height="48" rx="6" fill="{color}"/>'
         '<text x="100" y="31" font-family="sans-serif" font-size="20" fill="#fff" '
         'text-anchor="middle">{text}</text></svg>')
# what a local difusor's entry carries from the process that runs it
SFTP_FIELDS = ("host", "port", "user", "auth", "remote_root", "mode", "key_file", "host_key")
# The calls' thresholds, except the speed test: small (8 MB) so the drill stays quick, and its
# floor set for this machine. A local difusor's "uplink" is loopback into a Python SFTP server
# that shares two cores with the whole night: about 15-45 MB/s at load 10, so IEM's 40 MB/s
# would fail a drill for the machine's load, not for the difusor. The speed is still measured
# and reported; the free space (20 GB), the certificate, the redirect, Cache-Control, byte
# identity and the clocks keep the calls' values.
SPEED_TEST_MB = 8
SPEED_MIN_MB_S = 5
BY = "simulacro"


@dataclass(frozen=True)
class LocalSite:
    """Where a local difusor's site answers: ``url`` (HTTPS) and ``http_url`` (redirects)."""

    url: str
    http_url: str


@dataclass(frozen=True)
class Registered:
    registry: Path
    public: list[dict[str, Any]]     # the public list the cuts carry (activo only)
    reports: list[CheckReport]
    report_dir: Path
    pdf: bool = False
    trust: Path | None = None        # the institute's root public key (the served cut's signature)
    # (difusor, cut it served) for each one checked again during the night, by :func:`recheck`
    rechecked: list[tuple[str, int]] = field(default_factory=list)

    @property
    def validados(self) -> list[str]:
        return [r.difusor for r in self.reports if r.complete]

    @property
    def waiting(self) -> list[str]:
        """The difusores that passed what was evaluated and wait for a cut they serve to be
        checked on (a local daemon before the night)."""
        return [r.difusor for r in self.reports if r.passed and not r.complete]


def _header(ca_file: Path, concurrency: int, keep_releases: int, checks: int) -> str:
    return (f"# the simulacro's registry of its local difusores (written anew each run)\n"
            f"concurrency = {concurrency}\nkeep_releases = {keep_releases}\n\n"
            f"[checks]\nspeed_test_mb = {SPEED_TEST_MB}\nmin_speed_mb_s = {SPEED_MIN_MB_S}\n"
            f"concurrency = {checks}\n"
            f"ca_file = {json.dumps(str(ca_file))}\n\n")


def _run_checks(registry: Path, only: Sequence[str] | None = None,
                trust: Path | None = None) -> list[CheckReport]:
    reg = load_registry(registry)
    difusores = [d for d in reg.difusores if only is None or d.name in only]
    vouch = None if trust is None else signed_by(parse_public_key(trust.read_bytes(), str(trust)))
    # a thread of its own: the caller may be running an event loop (Playwright in the tests)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="simulacro-check") as ex:
        return ex.submit(asyncio.run, check_all(difusores, reg, vouch=vouch)).result()


def _record(registry: Path, reports: Sequence[CheckReport], out: Path, pdf: bool) -> None:
    """Each report kept; the difusores the check validated made activo."""
    validated = record(load_registry(registry), reports, "prepcast difusores check (simulacro)")
    reg = load_registry(registry)
    for r in reports:
        write_reports(r, out, pdf=pdf)
        if r.difusor in validated:
            set_status(reg, r.difusor, "activo", "difusor oficial del simulacro", BY)


def register_local(workdir: Path, entries: Sequence[Mapping[str, str]],
                   sites: Mapping[str, LocalSite], ca_file: Path, *, pdf: bool = False,
                   concurrency: int = 64, keep_releases: int = 3,
                   trust: Path | None = None) -> Registered:
    """Register the local difusores (``entries``: name plus :data:`SFTP_FIELDS`, ``sites``:
    where each one's site answers) in ``workdir/registry.toml``, check them (``trust``: the
    institute's root public key, which the cut a difusor serves must be signed under), make
    the ones that pass activo and return the public list with the reports."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("registry.toml", "historial.jsonl"):
        (workdir / stale).unlink(missing_ok=True)
    registry = workdir / "registry.toml"
    registry.write_text(_header(ca_file, concurrency, keep_releases, max(1, len(entries))),
                        encoding="utf-8")
    rows: list[tuple[dict[str, Any], str | None, list[Any]]] = []
    for i, e in enumerate(entries):
        name = e["name"]
        nombre = f"Difusor {name} (simulacro)"
        (workdir / f"{name}.svg").write_text(
            _LOGO.format(color=("#00507a", "#7a3b00", "#2f6b00")[i % 3], text=name),
            encoding="utf-8")
        values: dict[str, Any] = {"name": name, **{k: e[k] for k in SFTP_FIELDS}}
        values["port"] = int(values["port"])
        values.update(nombre=nombre, url=sites[name].url + "/", http_url=sites[name].http_url + "/",
                      logo=f"{name}.svg", entidad="simulacro")
        rows.append((values, None, []))
    add_difusores(registry, rows, BY, "registro del simulacro")
    reports = _run_checks(registry, trust=trust)
    out = workdir / "revision"
    _record(registry, reports, out, pdf)
    return Registered(registry, public_list(load_registry(registry)), reports, out, pdf, trust)


def recheck(registered: Registered, serving: Mapping[str, int]) -> Registered:
    """Check again the difusores that wait for a cut they serve (:attr:`Registered.waiting`)
    and now serve one (``serving``: difusor -> the cut it serves), as an institute checks a
    daemon once it has a cut; the ones that pass become validado and activo, on the public list
    of the cuts built from then on. Their new reports replace the earlier ones."""
    names = [n for n in registered.waiting if n in serving]
    if not names:
        return registered
    reports = _run_checks(registered.registry, names, registered.trust)
    _record(registered.registry, reports, registered.report_dir, registered.pdf)
    new = {r.difusor: r for r in reports}
    return replace(registered, public=public_list(load_registry(registered.registry)),
                   reports=[new.get(r.difusor, r) for r in registered.reports],
                   rechecked=[*registered.rechecked, *((n, serving[n]) for n in names)])


def summary(registered: Registered, only: Sequence[str] | None = None) -> list[str]:
    """Lines for people: each local difusor's verdict (``only``: those named), its site and its
    report."""
    lines = []
    for r in registered.reports:
        if only is not None and r.difusor not in only:
            continue
        verdict = ("cumple (validado, activo)" if r.complete else
                   "cumple lo evaluado, sigue aspirante; sin evaluar: "
                   + "; ".join(f.titulo for f in r.not_evaluated)
                   + (" (se revisa de nuevo cuando sirva el primer corte de la noche)"
                      if any(f.key == "http.identical" for f in r.not_evaluated) else "")
                   if r.passed else "NO cumple: " + "; ".join(f.titulo for f in r.failed))
        url = next((d["url"] for d in registered.public if d["id"] == r.difusor), "")
        lines.append(f"{r.difusor}: {verdict} {url} · reporte "
                     f"{registered.report_dir / (r.difusor + '.html')}")
    return lines


def recheck_summary(registered: Registered) -> list[str]:
    """Lines for people: each difusor checked again during the night, the cut it served then,
    and its verdict."""
    return [f"al servir el corte {cut}: {line}" for name, cut in registered.rechecked
            for line in summary(registered, [name])]
