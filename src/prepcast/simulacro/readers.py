"""Readers of a difusor's site during a drill: real HTTP requests that fill its access log.

Each reader session comes from its own loopback address (the whole 127.0.0.0/8 is this
machine) as through a CDN, naming the reader in ``X-Forwarded-For``: a public address that
DB-IP's database places in the election's entidad (most), Mexico City, another entidad or
abroad, so the informe técnico's geography has something to show. Readers use a phone, tablet,
desktop or crawler user agent and a referrer (search, social, the institute's site, an embedding
news site, or none), and read what the site reads: the page, its assets, ``json/main.json``, an
election's entidad file and a few distrito or municipio files. Only headers carry those public
addresses: every request goes to this machine. The rate is bounded; the crowd stops when told.
"""

from __future__ import annotations

import json
import random
import re
import ssl
import threading
import time

import httpx

AGENTS = (
    (55, "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/125.0.0.0 Mobile Safari/537.36"),
    (15, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    (5, "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"),
    (20, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/125.0.0.0 Safari/537.36"),
    (3, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (2, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
)
REFERRERS = (
    (40, ""),
    (25, "https://www.google.com/"),
    (12, "https://www.facebook.com/"),
    (5, "https://t.co/abc"),
    (10, "https://www.ieem.org.mx/"),
    (8, "https://www.periodico-ejemplo.mx/elecciones-2024"),
)
_ASSET = re.compile(r'(?:href|src)="(assets/[^"]+)"')
# first octets of address blocks of Mexican access providers (and, by chance, of others)
_BLOCKS = (187, 189, 201, 200, 177, 148, 132)


def reader_addresses(home_entidad: str, *, seed: int, count: int = 300) -> list[str]:
    """Public IPv4 addresses as DB-IP's City Lite places them: about half in ``home_entidad``
    (INEGI code, e.g. ``15``), a fifth in Mexico City, the rest in other entidades and abroad.
    Empty when the database is not installed."""
    from prepcast.analytics.geo import GeoLocator, default_database
    from prepcast.errors import InputError

    try:
        geo = GeoLocator(default_database())
    except InputError:
        return []
    rng = random.Random(f"readers:{seed}")
    home: list[str] = []
    cdmx: list[str] = []
    other: list[str] = []
    abroad: list[str] = []
    try:
        for _ in range(20 * count):
            ip = (f"{rng.choice(_BLOCKS)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                  f"{rng.randint(1, 254)}")
            place = geo.lookup(ip)
            if place.entidad_code == home_entidad:
                home.append(ip)
            elif place.entidad_code == "09":
                cdmx.append(ip)
            elif place.entidad_code:
                other.append(ip)
            elif place.country_code:
                abroad.append(ip)
    finally:
        geo.close()
    pools = [(home, 0.5), (cdmx, 0.2), (other, 0.22), (abroad, 0.08)]
    out: list[str] = []
    for pool, share in pools:
        out += pool[: max(1, int(count * share))] if pool else []
    return out


def _pick(rng: random.Random, table: tuple[tuple[int, str], ...]) -> str:
    return rng.choices([v for _, v in table], [w for w, _ in table])[0]


class ReaderCrowd:
    """Reader sessions against ``url`` from a background thread, at most ``rate`` requests/s."""

    def __init__(self, url: str, *, seed: int = 1, rate: float = 20.0,
                 addresses: list[str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.rng = random.Random(seed)
        self.addresses = addresses or []
        self.rate = rate
        self.requests = 0
        self.errors = 0
        self._stop = threading.Event()
        # one TLS context for every session (the site is plain HTTP; httpx would otherwise load
        # the CA bundle again for each reader's transport)
        self._tls = ssl.create_default_context()
        self._thread = threading.Thread(target=self._run, name="simulacro-readers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            n = self._session()
            # keep under the rate: a session of n requests takes at least n / rate seconds
            pause = n / self.rate - (time.monotonic() - started)
            if pause > 0:
                self._stop.wait(pause)

    def _session(self) -> int:
        rng = self.rng
        address = f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        headers = {"User-Agent": _pick(rng, AGENTS)}
        if self.addresses:
            headers["X-Forwarded-For"] = rng.choice(self.addresses)
        referrer = _pick(rng, REFERRERS)
        if referrer:
            headers["Referer"] = referrer
        transport = httpx.HTTPTransport(local_address=address, verify=self._tls)
        count = 0
        try:
            with httpx.Client(transport=transport, headers=headers, timeout=5.0) as client:
                def get(path: str) -> httpx.Response | None:
                    nonlocal count
                    count += 1
                    self.requests += 1
                    r = client.get(f"{self.url}/{path}")
                    if r.status_code >= 400:
                        self.errors += 1
                        return None
                    return r

                page = get("")
                if page is not None:
                    for asset in _ASSET.findall(page.text):
                        get(asset)
                main = get(f"json/main.json?t={int(time.time() // 60)}")
                if main is None:
                    return count
                data = json.loads(main.content)["signed"]["data"]
                election = rng.choice(data["elecciones"])
                entidad = get(election["entidad"])
                if entidad is None:
                    return count
                ambitos = json.loads(entidad.content).get("ambitos", [])
                for a in rng.sample(ambitos, min(len(ambitos), rng.randint(0, 4))):
                    get(a["resultados"])
                if rng.random() < 0.1:
                    get(data["bases"])
        except (httpx.HTTPError, ValueError, KeyError, OSError):
            self.errors += 1
        return count
