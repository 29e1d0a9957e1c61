"""The monitor's rounds: every active difusor of the registry probed against the reference,
incidents updated, alerts sent, probe events and the live status written to the state folder.

State folder: ``status.json`` (the last round, what the dashboard shows), ``incidents.json``,
``events.jsonl`` (``probe.up`` / ``probe.down`` in the one event vocabulary,
:mod:`prepcast.events`), and ``events/<difusor>.jsonl`` with one difusor's lines, which
``prepcast report --events`` reads into that difusor's informe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from prepcast import events
from prepcast.errors import InputError
from prepcast.files import write_atomic
from prepcast.monitor.alerts import Alerter, AlertSettings
from prepcast.monitor.fetch import make_session, tls_context
from prepcast.monitor.incidents import Incidents, contact_of, troubles
from prepcast.monitor.probe import Prober, ProbeResult
from prepcast.monitor.reference import Reference
from prepcast.monitor.settings import ProbeSettings
from prepcast.monitor.wording import evidencia, zone_of
from prepcast.package.keys import load_root_public
from prepcast.registry import Difusor, Registry, load_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorOptions:
    registry: Path
    trust: Path
    reference: Path
    state: Path
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)


def probed(reg: Registry) -> list[Difusor]:
    """The difusores the monitor watches: active in the registry and with a public address."""
    return [d for d in reg.active() if d.url]


class Monitor:
    """Holds the client, the reference and the state between rounds."""

    def __init__(self, opts: MonitorOptions) -> None:
        self.opts = opts
        self.reference = Reference(opts.reference, load_root_public(opts.trust))
        refused = self.reference.untrusted()
        if refused is not None:  # the wrong key: every honest difusor would look forged
            raise InputError.at(opts.trust, f"--trust does not match --reference "
                                f"{opts.reference}: no cut there is signed under this root key "
                                f"({refused})")
        self.registry = load_registry(opts.registry)
        opts.state.mkdir(parents=True, exist_ok=True)
        self.incidents = Incidents(opts.state / "incidents.json")
        settings = opts.probe
        if settings.cert_min_days == ProbeSettings.cert_min_days:
            from dataclasses import replace
            settings = replace(settings, cert_min_days=self.registry.checks.cert_min_days)
        self.settings = settings
        ca = self.registry.checks.ca_file
        tls = tls_context(str(ca) if ca else None)

        def make_client() -> aiohttp.ClientSession:
            return make_session(tls, settings)

        self.client = httpx.AsyncClient(verify=tls, timeout=httpx.Timeout(settings.timeout_s))
        self.prober = Prober(make_client, self.reference, settings)
        self.alerter = Alerter(opts.alerts, self.client)
        self.last: list[ProbeResult] = []
        self.rounds = 0

    async def close(self) -> None:
        await self.prober.aclose()
        await self.client.aclose()

    async def round(self, now: datetime | None = None) -> list[ProbeResult]:
        """One round over every watched difusor (the registry re-read, so a block counts)."""
        try:
            self.registry = load_registry(self.opts.registry)
        except Exception as exc:  # keep the last good registry for the night
            log.warning("registry not re-read: %s", exc)
        self.reference.refresh()
        watched = probed(self.registry)
        now = now or datetime.now(UTC)
        t0 = time.monotonic()
        results = list(await asyncio.gather(*(self.prober.probe(d.name, d.url, now)
                                              for d in watched)))
        for r in results:  # the calls require HTTPS of every difusor's site: its own finding
            if r.url.lower().startswith("http://"):
                r.https = evidencia(f"{r.url}: plain HTTP; the site must be served over HTTPS")
            # what the institute reads (dashboard, /api/estado, incidents, e-mails) in Spanish
            r.integrity = [evidencia(f) for f in r.integrity]
            r.error = evidencia(r.error) if r.error else r.error
            r.tls_error = evidencia(r.tls_error) if r.tls_error else r.tls_error
            self.alerter.zone = zone_of(r.cut_display) or self.alerter.zone
        self.rounds += 1
        self.incidents.update(results, self.settings, {d.name: d for d in watched})
        await self.alerter.flush(self.incidents)
        self.incidents.save()
        self._events(results)
        self.last = results
        self._status(results, time.monotonic() - t0, now)
        return results

    def _events(self, results: list[ProbeResult]) -> None:
        lines = []
        for r in results:
            rec: dict[str, Any] = {"time": r.checked_at.isoformat(),
                                   "event": events.PROBE_UP if r.up else events.PROBE_DOWN,
                                   "difusor": r.name, "url": r.url}
            if r.cut is not None:
                rec["cut"] = r.cut
            if r.latency_ms is not None:
                rec["latency_ms"] = round(r.latency_ms, 1)
            if not r.up:
                rec["evidence"] = r.error or "sin respuesta"
            elif r.integrity or r.https:
                rec["evidence"] = ({"integrity": r.integrity[:10]} if r.integrity else {}) | (
                    {"https": r.https} if r.https else {})
            lines.append(json.dumps(rec, ensure_ascii=False))
        if not lines:
            return
        with (self.opts.state / "events.jsonl").open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        # one log per difusor too: the --events of that difusor's informe (prepcast report)
        folder = self.opts.state / "events"
        folder.mkdir(exist_ok=True)
        for r, line in zip(results, lines, strict=True):
            with (folder / f"{r.name}.jsonl").open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def _status(self, results: list[ProbeResult], took: float, at: datetime) -> None:
        cur = self.reference.current()
        doc = self.table(results)
        # when it ran and how often rounds come: the dashboard flags data older than a few rounds
        doc["round"] = {"number": self.rounds, "seconds": round(took, 3),
                        "at": at.isoformat(), "interval_s": self.settings.round_s}
        doc["institute"] = ({"ejercicio": cur.manifest.ejercicio, "cut": cur.manifest.cut}
                            if cur else None)
        write_atomic(self.opts.state / "status.json",
                     json.dumps(doc, ensure_ascii=False, indent=1).encode())

    def table(self, results: list[ProbeResult]) -> dict[str, Any]:
        open_by: dict[str, list[dict[str, Any]]] = {}
        for inc in self.incidents.open():
            open_by.setdefault(inc.difusor, []).append(
                {"kind": inc.kind, "what": inc.what, "since": inc.since,
                 "evidence": inc.evidence[:5]})
        rows = []
        for r in results:
            row = r.as_json()
            row["incidents"] = open_by.get(r.name, [])
            d = self.registry.get(r.name)
            row["contact"] = contact_of(d)
            rows.append(row)
        return {"difusores": rows}


def troubled(results: list[ProbeResult], settings: ProbeSettings) -> list[str]:
    """The difusores of a round that are down, have a finding (of integrity or HTTPS), show
    another ejercicio than the institute's, or lag past the bound (what makes
    ``monitor run --once`` exit 1)."""
    bad = {"down", "integrity", "https", "ejercicio", "lag"}
    return [r.name for r in results if bad & set(troubles(r, settings))]


async def run(opts: MonitorOptions, *, once: bool = False, rounds: int | None = None,
              on_round: Any = None) -> list[ProbeResult]:
    """Rounds every ``opts.probe.round_s`` seconds until cancelled (or ``once``/``rounds``)."""
    mon = Monitor(opts)
    try:
        done = 0
        while True:
            started = time.monotonic()
            results = await mon.round()
            done += 1
            if on_round is not None:
                on_round(mon, results)
            if once or (rounds is not None and done >= rounds):
                return results
            await asyncio.sleep(max(opts.probe.round_s - (time.monotonic() - started), 0.0))
    finally:
        await mon.close()
