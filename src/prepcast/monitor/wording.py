"""What the monitor shows the institute (dashboard, ``/api/estado``, incident evidence, alert
e-mails), in Spanish: a sentence that says what was seen, then the technical original quoted
(``original: «…»``) where there is one. Probes, package checks and HTTP clients speak English;
a round's findings pass through :func:`evidencia` before anything shows or stores them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

# (pattern on the whole finding, Spanish with the groups) in order; the first that matches wins.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.DOTALL), s) for p, s in (
    (r"(?P<url>\S+): plain HTTP; the site must be served over HTTPS",
     "{url}: el sitio se sirve por HTTP sin cifrar; las convocatorias piden HTTPS"),
    (r"(?P<rel>\S+): sha256 does not match the manifest \(content changed\)",
     "{rel}: el contenido difiere del publicado por el Instituto (su SHA-256 no coincide con el "
     "manifiesto)"),
    (r"(?P<rel>\S+): size (?P<a>\d+), manifest says (?P<b>\d+)(?: \(content changed\))?",
     "{rel}: mide {a} bytes y el Instituto publicó {b}: el contenido cambió"),
    (r"(?P<rel>\S+): Cache-Control (?P<got>.*), must be exactly (?P<want>.*)",
     "{rel}: encabezado Cache-Control {got}; debe ser exactamente {want}"),
    (r"(?P<rel>\S+): extra (?P<what>.*)",
     "{rel}: contiene un elemento ajeno a la página del Instituto: {what}"),
    (r"(?P<rel>\S+): HTTP (?P<code>\d{3})", "{rel}: el sitio respondió con el código HTTP {code}"),
    (r"(?P<rel>\S+): not a signed pointer of the PREP",
     "{rel}: no es el apuntador firmado del PREP del Instituto"),
    (r"(?P<rel>\S+): names no manifest", "{rel}: no indica el manifiesto del corte"),
    (r"(?P<rel>\S+): signature does not match the manifest",
     "{rel}: la firma no corresponde al manifiesto publicado"),
    (r"(?P<rel>\S+): key (?P<key>\S+) is not an active key of the keyring",
     "{rel}: la llave {key} no es una llave vigente del Instituto"),
    (r"(?P<rel>\S+): cannot fetch: (?P<why>.*)",
     "{rel}: no se pudo descargar (original: «{why}»)"),
    (r"no answer in time(?: \((?P<why>.*)\))?",
     "el sitio no respondió a tiempo"),
    (r"(?:.*)Cannot connect to host (?P<host>[^\s:]+)(?P<rest>.*)",
     "no se pudo conectar con el servidor {host} (original: «Cannot connect to host {host}{rest}»)"),
    (r"(?:.*)(?:certificate|CERTIFICATE_VERIFY_FAILED)(?:.*)",
     "el certificado TLS del sitio no es válido (original: «{0}»)"),
))
_SPANISH = re.compile(r"[áéíóúñ]|\b(el|la|los|las|del|sin|corte|sitio|respondió|vence)\b", re.I)


def evidencia(text: str) -> str:
    """One finding of a probe in Spanish (an unknown English one quoted after a Spanish
    sentence; a Spanish one unchanged)."""
    for pattern, spanish in _RULES:
        m = pattern.fullmatch(text)
        if m is not None:
            return spanish.format(text, **{k: v or "" for k, v in m.groupdict().items()})
    if _SPANISH.search(text):
        return text
    return f"hallazgo técnico (original: «{text}»)"


_ZONE = re.compile(r"\(UTC(?P<h>[+-]\d{1,2})(?::(?P<m>\d\d))?\)")


def zone_of(cut_display: str | None) -> timezone | None:
    """The election's offset from a cut's display (``02/06/2024 21:20 (UTC-6)``)."""
    m = _ZONE.search(cut_display or "")
    if m is None:
        return None
    hours = int(m.group("h"))
    minutes = int(m.group("m") or 0) * (-1 if hours < 0 else 1)
    return timezone(timedelta(hours=hours, minutes=minutes))


def hora_local(iso: str | None, zone: tzinfo | None = None) -> str:
    """An ISO time as the institute reads it: ``02/06/2024 21:20:05 (UTC-6)``, in the
    election's offset (``zone``) or the machine's, without microseconds."""
    if not iso:
        return "—"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is None:
        return when.strftime("%d/%m/%Y %H:%M:%S")
    local = when.astimezone(zone) if zone is not None else when.astimezone()
    off = local.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    h, m = divmod(abs(minutes), 60)
    label = f"UTC{'-' if minutes < 0 else '+'}{h}" + (f":{m:02d}" if m else "")
    return f"{local:%d/%m/%Y %H:%M:%S} ({label})"
