"""Incidents that open and close by themselves, kept in the state folder, and their alerts.

An incident is one kind of trouble of one difusor (down, integrity, https, ejercicio, lag,
slow, tls) from the
round that first saw it to the first round that no longer does. Each is alerted once when it
opens and once when it closes (an alert that could not be sent is retried the next round).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.files import write_atomic
from prepcast.monitor.probe import ProbeResult
from prepcast.monitor.settings import ProbeSettings
from prepcast.registry import Difusor

KINDS = ("down", "integrity", "https", "ejercicio", "lag", "slow", "tls")
WHAT = {
    "down": "sitio caído o sin el PREP",
    "integrity": "contenido distinto del publicado por el Instituto",
    "https": "sitio sin HTTPS: se sirve por HTTP sin cifrar",
    "ejercicio": "muestra otro ejercicio que el Instituto (p. ej. datos de un simulacro)",
    "lag": "corte atrasado respecto del Instituto",
    "slow": "respuesta lenta",
    "tls": "certificado TLS inválido o por vencer",
}


@dataclass
class Incident:
    id: str
    difusor: str
    kind: str
    what: str
    since: str
    evidence: list[str]
    contact: dict[str, str]
    closed: str | None = None
    alerted_open: bool = False
    alerted_close: bool = False
    rounds: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def troubles(r: ProbeResult, s: ProbeSettings) -> dict[str, list[str]]:
    """The kinds of trouble a probe shows, each with its evidence."""
    found: dict[str, list[str]] = {}
    if not r.up:
        found["down"] = [r.error or "sin respuesta"]
    if r.integrity:
        found["integrity"] = list(r.integrity)
    if r.https:
        found["https"] = [r.https]
    if r.institute_ejercicio is not None and r.ejercicio_s is not None and (
            r.ejercicio_s > s.lag_bound_s):
        found["ejercicio"] = [ejercicio_evidence(r)]
    if r.lag_s is not None and r.lag_cuts and r.lag_s > s.lag_bound_s:
        found["lag"] = [f"muestra el corte {r.cut} ({r.ejercicio}), {r.lag_cuts} corte(s) "
                        f"atrás desde hace {r.lag_s:.0f} s"]
    if r.slow and r.latency_ms is not None:
        found["slow"] = [f"json/main.json respondió en {r.latency_ms:.0f} ms"]
    if r.tls_error:
        found["tls"] = [r.tls_error]
    elif r.tls_days is not None and r.tls_days < s.cert_min_days:
        found["tls"] = [f"el certificado vence en {r.tls_days:.1f} días"]
    return found


def ejercicio_evidence(r: ProbeResult) -> str:
    """What a difusor showing another ejercicio than the institute's shows, in Spanish."""
    text = (f"muestra el corte {r.cut} de {r.ejercicio}, pero el Instituto publica "
            f"{r.institute_ejercicio} (corte {r.institute_cut}) desde hace {r.ejercicio_s:.0f} s")
    if r.institute_ejercicio == "jornada":
        text += ": GRAVE, datos de un ejercicio de práctica en vivo durante la jornada"
    return text


def contact_of(d: Difusor | None) -> dict[str, str]:
    """The registry's contact of a difusor as incidents, the round's table and the dashboard
    show it (only the fields given); empty for a difusor no longer in the registry."""
    if d is None:
        return {}
    c = d.contacto
    return {k: v for k, v in (("nombre", c.nombre), ("email", c.email),
                              ("telefono", c.telefono), ("extension", c.extension)) if v}


class Incidents:
    """The open and closed incidents in ``state/incidents.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Incident] = []
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            self.items = [Incident(**i) for i in raw.get("incidents", [])]

    def open(self) -> list[Incident]:
        return [i for i in self.items if i.closed is None]

    def update(self, results: list[ProbeResult], settings: ProbeSettings,
               difusores: dict[str, Difusor]) -> None:
        """Open what a round shows, close what it no longer shows (difusores probed only)."""
        current = {(i.difusor, i.kind): i for i in self.open()}
        for r in results:
            seen = troubles(r, settings)
            for kind, evidence in seen.items():
                inc = current.get((r.name, kind))
                if inc is None:
                    stamp = r.checked_at.isoformat()
                    self.items.append(Incident(
                        id=f"{r.name}/{kind}/{r.checked_at.strftime('%Y%m%dT%H%M%S')}",
                        difusor=r.name, kind=kind, what=WHAT[kind], since=stamp,
                        evidence=evidence[:20], contact=contact_of(difusores.get(r.name))))
                else:
                    inc.evidence, inc.rounds = evidence[:20], inc.rounds + 1
            for kind in KINDS:
                inc = current.get((r.name, kind))
                if inc is not None and kind not in seen:
                    inc.closed = r.checked_at.isoformat()

    def save(self) -> None:
        data = json.dumps({"incidents": [asdict(i) for i in self.items]}, ensure_ascii=False,
                          indent=1).encode()
        write_atomic(self.path, data)


def since_text(when: str) -> datetime:
    return datetime.fromisoformat(when)
