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
    def complete(self) -> bool:
        """Passed, and every requirement evaluated: only then is an aspirante validado."""
        return self.passed and not self.not_evaluated

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.ok is False]

    @property
    def not_evaluated(self) -> list[Finding]:
        return [f for f in self.findings if f.ok is None]

    def add(self, key: str, ok: bool | None, titulo: str, detalle: str, corregir: str = "") -> bool:
        self.findings.append(Finding(key, ok, titulo, detalle, "" if ok else corregir))
        return bool(ok)

    def as_json(self) -> dict[str, Any]:
        return {"schema": "prepcast.difusor-check/1", "difusor": self.difusor,
                "nombre": self.nombre, "at": self.at.isoformat(), "passed": self.passed,
                "complete": self.complete,
                "modo": self.modo, "capabilities": self.capabilities,
                "seconds": round(self.seconds, 3),
                "findings": [asdict(f) for f in self.findings]}


# Every check of a report, in the order the report lists them: (key, title, what it needs).
_SFTP, _HTTPS, _PACKAGE = "sftp", "https", "package"


def _catalog(min_gb: float, min_mb_s: float, cert_days: int, cache_control: str
             ) -> list[tuple[str, str, str]]:
    return [
        ("sftp.login", "Acceso SFTP con la llave del servidor registrada", ""),
        ("sftp.write", "Escribir un archivo", _SFTP),
        ("clock.sftp", "Reloj del servidor (hora de los archivos subidos)", _SFTP),
        ("sftp.rename", "Renombrar un archivo", _SFTP),
        ("sftp.extensions", "Extensiones SFTP (posix-rename, hardlink, symlink, statvfs)", _SFTP),
        ("sftp.remove", "Borrar un archivo", _SFTP),
        ("disk.free", f"Espacio libre en disco (mínimo {min_gb:g} GB)", _SFTP),
        ("sftp.speed", f"Velocidad de subida por SFTP (mínimo {min_mb_s:g} MB/s)", _SFTP),
        ("package.activate", "Activar un paquete de prueba", _SFTP),
        ("https.cert", "Certificado HTTPS válido para el sitio", ""),
        ("https.expiry", f"El certificado no vence en los próximos {cert_days} días", _HTTPS),
        ("http.redirect", "HTTP redirige a HTTPS", _HTTPS),
        ("clock.http", "Reloj del servidor web (encabezado Date)", _HTTPS),
        ("http.cache_control", f"Cache-Control exacto en /json/main.json ({cache_control})",
         _PACKAGE),
        ("http.identical", "Cada archivo se sirve idéntico, byte por byte", _PACKAGE),
    ]


def not_run(report: CheckReport, min_gb: float, min_mb_s: float, cert_days: int,
            cache_control: str) -> None:
    """Add every check that did not run as "no evaluado", with why, and put the findings in the
    report's order, so that what is left to verify is in sight (not only what failed)."""
    seen = {f.key: f for f in report.findings}

    def failed(key: str) -> str:
        f = seen.get(key)
        return f.titulo if f is not None and f.ok is False else ""

    def why(needs: str) -> str:
        if needs == _SFTP:
            if failed("sftp.login"):
                return "no se evaluó: no hubo acceso SFTP (vea «Acceso SFTP»)"
            if failed("sftp.error"):
                return "no se evaluó: una operación SFTP anterior falló (vea «Operación SFTP»)"
            return "no se evaluó: el servidor no dio el dato necesario"
        if failed("https.cert"):
            return ("no se evaluó: el sitio no respondió por HTTPS con un certificado válido "
                    "(vea «Certificado HTTPS»)")
        if needs == _PACKAGE:
            activate = seen.get("package.activate")
            detail = f" ({activate.detalle})" if activate is not None and activate.detalle else ""
            return f"no se evaluó: requiere el paquete de prueba activo, y no se activó{detail}"
        return "no se evaluó"

    catalog = _catalog(min_gb, min_mb_s, cert_days, cache_control)
    ordered: list[Finding] = []
    for key, titulo, needs in catalog:
        if key in seen:
            ordered.append(seen[key])
        else:
            ordered.append(Finding(key, None, titulo, why(needs)))
        if key == "package.activate" and "sftp.error" in seen:
            ordered.append(seen["sftp.error"])
    known = {k for k, _, _ in catalog} | {"sftp.error"}
    ordered += [f for f in report.findings if f.key not in known]
    report.findings[:] = ordered
