"""The HTTPS half of a compliance check: the certificate of the registered site (valid for the
host, and when it expires), HTTP redirected to HTTPS, the server's clock (``Date``) and, once a
test package is live, the exact ``Cache-Control`` of ``/json/main.json`` and every file served
byte-identical."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from prepcast.registry.checks.findings import CheckReport
from prepcast.registry.model import CheckSettings, Difusor

Fetch = Callable[[str], Awaitable[bytes | None]]
# Whether the cut a difusor serves is one the institute signed: given the bytes of its
# ``json/main.json`` and of the manifest that names, and a way to fetch a path of the site (the
# keyring, the signature), None when it is, else why not in Spanish. Checking a signature is
# the package layer's business: the caller supplies it.
Vouch = Callable[[bytes, bytes, Fetch], Awaitable[str | None]]


@functools.lru_cache(maxsize=8)
def ssl_context(settings: CheckSettings) -> ssl.SSLContext:
    """One context per settings for the whole run (loading the system's CAs costs ~20 ms of CPU,
    twice per difusor otherwise)."""
    ctx = ssl.create_default_context()
    if settings.ca_file is not None:
        ctx.load_verify_locations(cafile=str(settings.ca_file))
    return ctx


def site_url(d: Difusor) -> str:
    """The site the check reads: the test site when there is one, else the official one."""
    return (d.url_prueba or d.url).rstrip("/")


async def check_certificate(d: Difusor, settings: CheckSettings, report: CheckReport) -> bool:
    url = site_url(d)
    parts = urlsplit(url)
    title = "Certificado HTTPS válido para el sitio"
    if parts.scheme != "https" or not parts.hostname:
        return report.add("https.cert", False, title, f"{url or '(sin url)'} no es https://",
                          "Publique el sitio por HTTPS (puerto 443) con un certificado válido.")
    host, port = parts.hostname, parts.port or 443
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=ssl_context(settings), server_hostname=host), settings.timeout_s)
    except ssl.SSLCertVerificationError as exc:
        return report.add("https.cert", False, title,
                          f"{host}: el certificado no es válido para el sitio "
                          f"(original: «{exc.verify_message}»)",
                          "Instale un certificado vigente, emitido por una autoridad reconocida, "
                          "para el nombre del sitio.")
    except (OSError, TimeoutError) as exc:
        detalle, corregir = unreachable(exc, host, port)
        return report.add("https.cert", False, title, detalle, corregir)
    cert = writer.get_extra_info("peercert") or {}
    writer.close()
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days = (expires - datetime.now(UTC)).days
    report.add("https.cert", True, title, f"válido para {host}; vence el {expires:%d/%m/%Y} "
               f"({days} días)")
    return report.add("https.expiry", days >= settings.cert_min_days,
                      f"El certificado no vence en los próximos {settings.cert_min_days} días",
                      f"vence en {days} días", "Renueve el certificado antes de la jornada.")


def unreachable(exc: BaseException, host: str, port: int) -> tuple[str, str]:
    """Why ``host:port`` could not be reached, in Spanish, and the fix that fits that reason
    (a name that does not resolve needs DNS, not an open port); the original error quoted."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 8:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = next((str(c) for c in chain if str(c)), type(exc).__name__)
    original = f" (original: «{text[:200]}»)"
    if any(isinstance(c, socket.gaierror) for c in chain) or "Name or service not known" in text \
            or "nodename nor servname" in text:
        return (f"el nombre {host} no se resuelve en el DNS{original}",
                f"Publique el nombre {host} en el DNS (registro A o AAAA hacia el servidor del "
                "sitio) o corrija la dirección registrada.")
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return (f"{host}:{port} rechazó la conexión: ningún servicio atiende ese puerto{original}",
                f"Ponga el servidor web a atender el puerto {port} para el instituto y el público.")
    if any(isinstance(c, TimeoutError | httpx.TimeoutException) for c in chain):
        return (f"{host}:{port} no respondió (tiempo agotado){original}",
                f"Abra el puerto {port} en el cortafuegos al instituto y al público.")
    return (f"{host}:{port}: sin conexión{original}",
            f"Verifique que el sitio responda en el puerto {port} desde internet.")


async def check_site(d: Difusor, settings: CheckSettings, report: CheckReport,
                     files: Mapping[str, bytes] | None, live_digest: str | None = None,
                     source: str = "el demonio dice servir", vouch: Vouch | None = None) -> None:
    """The redirect and the clock; then what is served: the test package ``files`` made live by
    the check, or the cut whose manifest digest is ``live_digest`` (the one a daemon says it
    serves, or the one the folder of an ``sftp``/``flat`` difusor holds live, read over SFTP;
    ``source`` says which, in Spanish, when the site serves another), whose manifest must then
    be one the institute signed when ``vouch`` is given."""
    url = site_url(d)
    async with httpx.AsyncClient(verify=ssl_context(settings), timeout=settings.timeout_s,
                                 follow_redirects=False) as client:
        await _redirect(client, d, report)
        await _clock(client, url, report, settings)
        if files is not None:
            await _cache_control(client, url, report, settings)
            await _identical(client, url, report, {rel: hashlib.sha256(data).hexdigest()
                                                   for rel, data in files.items()})
        elif live_digest is not None:
            main = await _cache_control(client, url, report, settings)
            expected_or_why = await _live_cut(client, url, main, live_digest, source, vouch)
            if isinstance(expected_or_why, str):
                report.add("http.identical", False, IDENTICAL, expected_or_why, _IDENTICAL_FIX)
            else:
                await _identical(client, url, report, expected_or_why,
                                 "firma del instituto verificada" if vouch is not None else
                                 "su firma no se verificó: sin la llave raíz del instituto")


async def _redirect(client: httpx.AsyncClient, d: Difusor, report: CheckReport) -> None:
    parts = urlsplit(site_url(d))
    plain = d.http_url or f"http://{parts.hostname}/"
    title = "HTTP redirige a HTTPS"
    try:
        r = await client.get(plain)
    except httpx.HTTPError as exc:
        detalle, corregir = unreachable(exc, urlsplit(plain).hostname or plain,
                                        urlsplit(plain).port or 80)
        report.add("http.redirect", False, title, f"{plain}: {detalle}",
                   f"{corregir} Atienda el puerto 80 con una redirección permanente (301) a "
                   "https://.")
        return
    location = r.headers.get("location", "")
    redirected = r.status_code in (301, 302, 307, 308)
    where = _off_site(d, plain, location) if redirected else None
    detalle = f"{plain} → {r.status_code} {location}".strip()
    if where is not None:
        detalle += f" ({where})"
    report.add("http.redirect", redirected and where is None, title, detalle,
               f"Atienda el puerto 80 con una redirección permanente (301) al sitio registrado, "
               f"{site_url(d)}/, conservando la ruta pedida.")


def _off_site(d: Difusor, plain: str, location: str) -> str | None:
    """Why a redirect of ``plain`` to ``location`` does not lead to the difusor's registered
    site over HTTPS (same host and port, and the path asked for or the site's own); None if it
    does."""
    target = urlsplit(urljoin(plain, location))
    if target.scheme != "https":
        return "no lleva a https://"
    asked = urlsplit(plain).path.rstrip("/")
    for site in filter(None, (d.url_prueba, d.url)):
        s = urlsplit(site)
        if ((target.hostname or "").lower() == (s.hostname or "").lower()
                and (target.port or 443) == (s.port or 443)):
            if target.path.rstrip("/") in (asked, s.path.rstrip("/")):
                return None
            return f"cambia la ruta: se pidió {urlsplit(plain).path or '/'}"
    return f"lleva a otro sitio, no a {site_url(d)}/"


async def _clock(client: httpx.AsyncClient, url: str, report: CheckReport,
                 settings: CheckSettings) -> None:
    title = "Reloj del servidor web (encabezado Date)"
    try:
        before = time.time()
        r = await client.get(url + "/")
        after = time.time()
    except httpx.HTTPError as exc:
        detalle, corregir = unreachable(exc, urlsplit(url).hostname or url, urlsplit(url).port or 443)
        report.add("clock.http", False, title, f"{url}: {detalle}", corregir)
        return
    date = r.headers.get("date")
    if not date:
        report.add("clock.http", False, title, "el servidor no envía Date",
                   "Configure el servidor web para enviar el encabezado Date.")
        return
    served = parsedate_to_datetime(date).timestamp()
    skew = 0.0 if before - 1 <= served <= after + 1 else served - after
    report.add("clock.http", abs(skew) <= settings.max_clock_skew_s, title,
               f"diferencia de {skew:+.0f} s con el instituto", "Sincronice el reloj con NTP.")


def _directives(value: str) -> list[str]:
    return sorted(p.strip().lower() for p in value.split(",") if p.strip())


IDENTICAL = "Cada archivo se sirve idéntico, byte por byte"
_IDENTICAL_FIX = ("Desactive compresiones o reescrituras que alteren los archivos (minificación, "
                  "inyección de scripts) y sirva la carpeta current/ tal cual.")
_FETCHES = 8            # files fetched at once when comparing what is served


async def _cache_control(client: httpx.AsyncClient, url: str, report: CheckReport,
                         settings: CheckSettings) -> bytes | None:
    """Check the ``Cache-Control`` of ``/json/main.json``; its bytes (None: not served)."""
    title = f"Cache-Control exacto en /json/main.json ({settings.cache_control})"
    try:
        r = await client.get(url + "/json/main.json")
    except httpx.HTTPError as exc:
        detalle, corregir = unreachable(exc, urlsplit(url).hostname or url,
                                        urlsplit(url).port or 443)
        report.add("http.cache_control", False, title, f"{url}/json/main.json: {detalle}",
                   corregir)
        return None
    got = r.headers.get("cache-control", "")
    report.add("http.cache_control", r.status_code == 200
               and _directives(got) == _directives(settings.cache_control), title,
               f"HTTP {r.status_code}, Cache-Control: {got or '(ninguno)'}",
               f'Agregue la regla: location = /json/main.json {{ add_header Cache-Control '
               f'"{settings.cache_control}" always; }} (nginx) o Header always set '
               f'Cache-Control "{settings.cache_control}" (Apache), sin otros valores.')
    return r.content if r.status_code == 200 else None


async def _live_cut(client: httpx.AsyncClient, url: str, main: bytes | None,
                    digest: str, source: str, vouch: Vouch | None) -> dict[str, str] | str:
    """Every file of the live cut (path -> SHA-256), from the manifest its site names in
    ``json/main.json``, when that manifest is the one the difusor holds live (its ``digest``:
    ``source`` says who gave it) and, with ``vouch``, one the institute signed; else why not,
    in Spanish."""
    if main is None:
        return "el sitio no sirve /json/main.json"
    try:
        signed = json.loads(main)["signed"]
        rel, named = str(signed["manifest"]), str(signed["manifest_sha256"])
    except (ValueError, KeyError, TypeError):
        return "/json/main.json no es el de un paquete del instituto"
    if named != digest:
        return (f"el sitio sirve el corte del manifiesto {named[:12]}…, y {source} "
                f"{digest[:12]}…")
    try:
        r = await client.get(f"{url}/{rel}")
    except httpx.HTTPError as exc:
        return f"/{rel}: {unreachable(exc, urlsplit(url).hostname or url, 443)[0]}"
    if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != digest:
        return f"/{rel} (HTTP {r.status_code}) no es el manifiesto {digest[:12]}… que {source}"
    if vouch is not None:

        async def fetch(path: str) -> bytes | None:
            try:
                got = await client.get(f"{url}/{path}")
            except httpx.HTTPError:
                return None
            return got.content if got.status_code == 200 else None

        why = await vouch(main, r.content, fetch)
        if why is not None:
            return why
    try:
        files = json.loads(r.content)["files"]
        return {str(k): str(v["sha256"]) for k, v in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"/{rel} no es un manifiesto legible"


async def _identical(client: httpx.AsyncClient, url: str, report: CheckReport,
                     expected: Mapping[str, str], signed: str = "") -> None:
    """Every file of ``expected`` (path -> SHA-256) served with exactly those bytes."""
    differ: list[str] = []
    slots = asyncio.Semaphore(_FETCHES)

    async def one(rel: str) -> None:
        async with slots:
            try:
                resp = await client.get(f"{url}/{rel}")
            except httpx.HTTPError as exc:
                differ.append(f"/{rel} ({type(exc).__name__})")
                return
        if resp.status_code != 200 or hashlib.sha256(resp.content).hexdigest() != expected[rel]:
            differ.append(f"/{rel} (HTTP {resp.status_code}, {len(resp.content)} bytes)")

    await asyncio.gather(*(one(rel) for rel in expected))
    shown = ", ".join(sorted(differ)[:10]) + (f" y {len(differ) - 10} más" if len(differ) > 10
                                               else "")
    report.add("http.identical", not differ, IDENTICAL,
               f"todos idénticos ({len(expected)} archivos{'; ' + signed if signed else ''})"
               if not differ
               else f"distintos: {shown}", _IDENTICAL_FIX)
