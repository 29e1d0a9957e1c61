"""What a compliance check found: one :class:`Finding` per requirement, in Spanish for the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Finding:
    key: str              # "sftp.login", "disk.free", "https.cert", …
    ok: bool | None       # None: not run (a step before it failed, or it does not apply)
    titulo: str           # what was checked, in Spanish
    detalle: str          # what was seen
    corregir: str = ""    # what to fix, when it failed


@dataclass
class CheckReport:
    difusor: str
    nombre: str
    at: datetime
    findings: list[Finding] = field(default_factory=list)
    capabilities: dict[str, bool] = field(default_factory=dict)
    modo: str = ""            # the delivery mode that fits: "sftp" (releases+current) or "flat"
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(f.ok is not False for f in self.findings) and any(f.ok for f in self.findings)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.ok is False]

    def add(self, key: str, ok: bool | None, titulo: str, detalle: str, corregir: str = "") -> bool:
        self.findings.append(Finding(key, ok, titulo, detalle, "" if ok else corregir))
        return bool(ok)

    def as_json(self) -> dict[str, Any]:
        return {"schema": "prepcast.difusor-check/1", "difusor": self.difusor,
                "nombre": self.nombre, "at": self.at.isoformat(), "passed": self.passed,
                "modo": self.modo, "capabilities": self.capabilities,
                "seconds": round(self.seconds, 3),
                "findings": [asdict(f) for f in self.findings]}
