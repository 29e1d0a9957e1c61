"""A synthetic election-night access log (nginx combined format) for tests and benchmarks.

The night of 2 June 2024 in UTC-6, from 18:00 to 20:00 of the next day: little traffic before
the PREP opens at 20:00, a surge afterwards, a spike after each cut (every 20 minutes), a quiet
early morning and a second wave the next day. Readers are mostly on phones, come from every
entidad (weighted by population) and from abroad, arrive directly or from search engines,
social networks, the institute's site, news sites and pages that embed the PREP; crawlers and
monitors add their own requests, a short outage gives 5xx responses, and a few lines are broken.
Addresses come from networks that DB-IP City Lite places where :data:`NETWORKS` says, so the
default database geolocates them; tests build a small database from the same table.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

OFFSET = timezone(timedelta(hours=-6))
START = datetime(2024, 6, 2, 18, 0, tzinfo=OFFSET)
MINUTES = 26 * 60
OPENING_MINUTE = 120  # 20:00
CUT_EVERY = 20
SITE = "https://prep.difusor.example.mx/"
OUTAGE = (OPENING_MINUTE + 160, OPENING_MINUTE + 167)  # 22:40-22:47: a short 5xx burst

# Networks DB-IP City Lite (April 2023) places in each place: key, subdivision (English, as the
# database names it), share of readers, networks.
NETWORKS: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("MX", "Aguascalientes", 1.1, ("38.51.153.0/24", "45.7.136.0/24")),
    ("MX", "Baja California", 3.0, ("23.8.32.0/20", "23.193.164.0/23")),
    ("MX", "Baja California Sur", 0.6, ("148.206.162.0/24", "148.206.167.0/24")),
    ("MX", "Campeche", 0.7, ("38.52.198.0/23", "45.174.241.0/24")),
    ("MX", "Chiapas", 4.4, ("45.171.156.0/24", "82.206.181.0/24")),
    ("MX", "Chihuahua", 3.0, ("45.174.76.0/23", "45.175.252.0/22")),
    ("MX", "Coahuila", 2.5, ("45.5.92.0/24", "45.170.188.0/22")),
    ("MX", "Colima", 0.6, ("131.100.0.0/24", "148.213.0.0/16")),
    ("MX", "Durango", 1.5, ("45.174.90.0/24", "45.174.244.0/22")),
    ("MX", "Guanajuato", 4.9, ("38.45.48.0/24", "38.45.49.0/24")),
    ("MX", "Guerrero", 2.8, ("148.235.74.0/24", "148.243.150.0/24")),
    ("MX", "Hidalgo", 2.5, ("38.49.138.0/24", "45.7.64.0/24")),
    ("MX", "Jalisco", 6.6, ("23.41.208.0/22", "34.99.104.0/22")),
    ("MX", "Mexico City", 7.3, ("2.58.76.0/22", "5.105.231.0/24")),
    ("MX", "Michoacán", 3.8, ("38.7.16.0/24", "38.35.225.0/24")),
    ("MX", "Morelos", 1.5, ("45.180.232.0/22", "148.218.0.0/17")),
    ("MX", "México", 24.0, ("38.123.192.0/24", "38.123.200.0/22")),
    ("MX", "Nayarit", 1.0, ("45.167.114.0/24", "177.226.108.0/22")),
    ("MX", "Nuevo León", 4.6, ("23.4.128.0/20", "23.55.176.0/24")),
    ("MX", "Oaxaca", 3.3, ("45.174.92.0/23", "45.181.40.0/24")),
    ("MX", "Puebla", 5.2, ("23.3.80.0/22", "23.4.144.0/20")),
    ("MX", "Querétaro", 1.9, ("8.50.15.0/24", "13.105.154.0/23")),
    ("MX", "Quintana Roo", 1.5, ("23.36.216.0/24", "23.217.64.0/19")),
    ("MX", "San Luis Potosí", 2.2, ("45.164.238.0/24", "45.167.252.0/24")),
    ("MX", "Sinaloa", 2.4, ("45.6.60.0/22", "45.174.68.0/22")),
    ("MX", "Sonora", 2.3, ("38.65.152.0/24", "38.65.160.0/24")),
    ("MX", "Tabasco", 1.9, ("45.171.158.0/24", "45.188.76.0/24")),
    ("MX", "Tamaulipas", 2.8, ("45.7.46.0/23", "45.65.152.0/22")),
    ("MX", "Tlaxcala", 1.1, ("38.56.248.0/22", "148.219.0.0/16")),
    ("MX", "Veracruz", 6.4, ("45.7.67.0/24", "45.168.228.0/22")),
    ("MX", "Yucatán", 1.8, ("45.6.248.0/22", "45.164.108.0/22")),
    ("MX", "Zacatecas", 1.3, ("38.156.15.0/24", "44.173.4.0/22")),
    ("US", "", 4.0, ("1.32.232.0/24", "1.32.233.0/24")),
    ("GT", "", 0.3, ("24.152.52.0/23",)),
    ("CO", "", 0.3, ("2.19.163.0/24",)),
    ("ES", "", 0.4, ("1.178.224.0/19",)),
    ("CA", "", 0.3, ("2.22.72.0/22",)),
    ("AR", "", 0.2, ("1.178.48.0/20",)),
    ("DE", "", 0.2, ("2.16.1.0/24",)),
)
COUNTRY_NAMES = {
    "MX": "Mexico", "US": "United States", "GT": "Guatemala", "CO": "Colombia", "ES": "Spain",
    "CA": "Canada", "AR": "Argentina", "DE": "Germany",
}

# (device, weight, user agent)
AGENTS: tuple[tuple[str, float, str], ...] = (
    ("mobile", 22, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36"),
    ("mobile", 18, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    ("mobile", 8, "Mozilla/5.0 (Linux; Android 13; SM-A145M) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"),
    ("mobile", 6, "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1"),
    ("mobile", 5, "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"),
    ("mobile", 4, "Mozilla/5.0 (Linux; Android 14; 23053RN02L) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.72 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/465.0.0.41.106;]"),
    ("desktop", 14, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"),
    ("desktop", 5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0"),
    ("desktop", 4, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"),
    ("desktop", 3, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"),
    ("desktop", 2, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"),
    ("tablet", 3, "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    ("tablet", 2, "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"),
)
BOTS: tuple[tuple[str, str], ...] = (
    ("66.249.66.", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("157.55.39.", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    ("1.32.238.", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"),
    ("1.32.235.", "curl/7.88.1"),
    ("1.32.235.", "python-requests/2.31.0"),
)
# (channel, weight, referer of the entry page, entry target)
ENTRIES: tuple[tuple[float, str, str], ...] = (
    (44, "-", "/"),
    (14, "https://www.google.com/", "/"),
    (3, "https://www.bing.com/", "/"),
    (7, "https://m.facebook.com/", "/"),
    (4, "https://t.co/x1y2z3", "/"),
    (3, "https://l.instagram.com/", "/"),
    (8, "https://www.ieem.org.mx/", "/"),
    (6, "https://www.eluniversal.com.mx/elecciones", "/"),
    (4, "https://www.milenio.com/politica/elecciones-2024", "/"),
    (7, "https://www.periodico-local.example.mx/prep", "/?embed=1"),
)
ELECTIONS = (("DIP_LOC", "distrito", 45), ("AYU", "municipio", 125))
BAD_PATHS = ("/wp-login.php", "/.env", "/favicon.png", "/prep/index.php", "/data/DIP_LOC/old.json")


@dataclass(frozen=True)
class Visitor:
    ip: str
    ua: str


def cut_minutes() -> list[int]:
    """Minutes since :data:`START` at which each cut is published (20:00 to 20:00)."""
    return list(range(OPENING_MINUTE, MINUTES + 1, CUT_EVERY))


def _intensity(minute: int, cuts: list[int]) -> float:
    hour = (18 + minute / 60) % 24
    if minute < OPENING_MINUTE:
        base = 0.05 + 0.1 * minute / OPENING_MINUTE
    elif hour >= 20 or hour < 1:
        base = 1.0
    elif hour < 3:
        base = 1.0 - 0.35 * (hour - 1)
    elif hour < 7:
        base = 0.25
    elif hour < 12:
        base = 0.25 + 0.1 * (hour - 7)
    else:
        base = 0.6
    i = bisect.bisect_right(cuts, minute) - 1
    if i >= 0:
        since = minute - cuts[i]
        base *= 1.0 + 2.2 * 0.55**since
    return base


def _networks() -> tuple[list[ipaddress.IPv4Network], list[float]]:
    nets, weights = [], []
    for _, _, weight, cidrs in NETWORKS:
        for cidr in cidrs:
            nets.append(ipaddress.IPv4Network(cidr))
            weights.append(weight / len(cidrs))
    return nets, weights


def generate(lines: int, seed: int) -> Iterator[str]:
    """At most ``lines`` log lines in time order (the tail is trimmed); its sessions are drawn
    at random from ``lines``, so a small night may end short of it."""
    rng = random.Random(seed)
    cuts = cut_minutes()
    minute_cum = list(itertools.accumulate(_intensity(m, cuts) for m in range(MINUTES)))
    nets, net_weights = _networks()
    net_cum = list(itertools.accumulate(net_weights))
    agent_cum = list(itertools.accumulate(a[1] for a in AGENTS))
    entry_cum = list(itertools.accumulate(e[0] for e in ENTRIES))
    sessions = max(1, int(lines / 8.4))
    pool: list[Visitor] = []
    start_minutes = sorted(rng.choices(range(MINUTES), cum_weights=minute_cum, k=sessions))
    stamp = [(START + timedelta(minutes=m)).strftime("%d/%b/%Y:%H:%M:") for m in range(MINUTES + 90)]

    def when(second: int) -> str:
        return f"{stamp[second // 60]}{second % 60:02d} -0600"

    def new_visitor() -> Visitor:
        net = rng.choices(nets, cum_weights=net_cum)[0]
        host = net.network_address + rng.randrange(1, min(net.num_addresses, 65536) - 1)
        ua = rng.choices(AGENTS, cum_weights=agent_cum)[0][2]
        return Visitor(str(host), ua)

    pending: dict[int, list[str]] = {}
    emitted = 0
    flushed_to = 0

    def add(second: int, text: str) -> None:
        pending.setdefault(second // 60, []).append(f"{second:08d}{text}")

    for start in start_minutes:
        while flushed_to < start:
            for item in sorted(pending.pop(flushed_to, [])):
                if emitted >= lines:
                    return
                yield item[8:]
                emitted += 1
            flushed_to += 1
        visitor = pool[rng.randrange(len(pool))] if pool and rng.random() < 0.3 else new_visitor()
        pool.append(visitor)
        if len(pool) > 200_000:
            pool = pool[100_000:]
        t = start * 60 + rng.randrange(60)
        i = bisect.bisect_right(cuts, t // 60) - 1
        cut = max(i, 0)
        ip, ua = visitor.ip, visitor.ua
        if rng.random() < 0.035:  # a crawler or monitor instead of a reader
            prefix, bot_ua = BOTS[rng.randrange(len(BOTS))]
            ip = prefix + str(rng.randrange(1, 250))
            for _ in range(rng.randrange(1, 8)):
                path = rng.choice(("/", "/json/main.json", "/robots.txt", "/data/DIP/entidad.json"))
                status = 404 if path == "/robots.txt" else 200
                add(t, f'{ip} - - [{when(t)}] "GET {path} HTTP/1.1" {status} {rng.randrange(200, 9000)} "-" "{bot_ua}"')
                t += rng.randrange(1, 30)
            continue
        _, referer, target = ENTRIES[bisect.bisect_left(entry_cum, rng.random() * entry_cum[-1])]
        status = 200
        if OUTAGE[0] <= t // 60 < OUTAGE[1] and rng.random() < 0.6:
            status = rng.choice((502, 503, 504))
        add(t, f'{ip} - - [{when(t)}] "GET {target} HTTP/2.0" {status} 3120 "{referer}" "{ua}"')
        if status != 200:
            continue
        for asset in ("/assets/app.4f2a9c.js", "/assets/app.91bd07.css"):
            if rng.random() < 0.6:
                add(t + 1, f'{ip} - - [{when(t + 1)}] "GET {asset} HTTP/2.0" 200 48211 "{SITE}" "{ua}"')
        pages = 1
        while rng.random() < 0.62 and pages < 25:
            pages += 1
        for page in range(pages):
            t += rng.randrange(1, 4) if page == 0 else rng.randrange(8, 120)
            if t // 60 >= MINUTES + 60:
                break
            stamp_ms = (int(START.timestamp()) + t) * 1000 + rng.randrange(1000)
            add(t, f'{ip} - - [{when(t)}] "GET /json/main.json?t={stamp_ms} HTTP/2.0" 200 1536 "{SITE}" "{ua}"')
            election, level, count = ELECTIONS[rng.randrange(2)]
            h = f"{(cut * 2654435761 + count) & 0xFFFFFFFFFFFF:012x}"
            r = rng.random()
            paths = []
            if page == 0:
                paths = [f"/data/proceso.{0x5EED:012x}.json", f"/data/{election}/entidad.{h}.json"]
            elif r < 0.2:
                paths = [f"/data/{election}/entidad.{h}.json"]
            elif r < 0.6:
                n = rng.randrange(1, count + 1)
                paths = [f"/data/{election}/{level}/{n:02d}-catalogo.{n * 7919:012x}.json",
                         f"/data/{election}/{level}/{n:02d}.{h}.json"]
            elif r < 0.8:
                paths = [f"/data/{election}/actas/{rng.randrange(1, cut + 2)}-{rng.randrange(1, 9)}.{h}.json"]
            elif r < 0.86:
                paths = [f"/data/bases.{h}.json"]
            elif r < 0.93:
                paths = [f"/db/{cut:04d}/IEEM_{election}_2024.zip"]
            elif r < 0.96:
                paths = [f"/data/difusores.{0xD1F:012x}.json"]
            else:
                paths = [rng.choice(BAD_PATHS)]
            for path in paths:
                code = 404 if path in BAD_PATHS else (304 if rng.random() < 0.08 else 200)
                size = 0 if code == 304 else rng.randrange(900, 60000)
                add(t + 1, f'{ip} - - [{when(t + 1)}] "GET {path} HTTP/2.0" {code} {size} "{SITE}" "{ua}"')
        if rng.random() < 0.002:  # a broken line (cut short by a full disk, a crash, …)
            add(t, f'{ip} - - [{when(t)}] "GET /json/main.json HTT')
    for minute in sorted(pending):
        for item in sorted(pending[minute]):
            if emitted >= lines:
                return
            yield item[8:]
            emitted += 1


def write_log(out: Path, lines: int, seed: int) -> int:
    """Write the synthetic log to ``out`` (temporary name, then rename); returns lines written."""
    import os

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            batch: list[str] = []
            for line in generate(lines, seed):
                batch.append(line)
                if len(batch) >= 10_000:
                    fh.write("\n".join(batch) + "\n")
                    count += len(batch)
                    batch = []
            if batch:
                fh.write("\n".join(batch) + "\n")
                count += len(batch)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def cut_times() -> list[datetime]:
    """Publication time of each synthetic cut."""
    return [START + timedelta(minutes=m) for m in cut_minutes()]


def events(difusor: str = "difusor-sintetico") -> list[dict[str, object]]:
    """The difusor daemon's and the institute monitor's events for the same night, in the
    vocabulary of :mod:`prepcast.events` (see docs/report.md)."""
    from prepcast import events as ev

    def at(moment: datetime) -> str:
        return moment.isoformat()

    out: list[dict[str, object]] = [
        {"time": at(START + timedelta(minutes=30)), "event": ev.STARTED, "difusor": difusor,
         "message": "prepcast difusor iniciado"},
    ]
    for number, moment in enumerate(cut_times(), start=1):
        delay = 95 if number == 10 else 4
        if number == 30:
            out.append({"time": at(moment + timedelta(seconds=2)), "event": ev.REJECTED,
                         "difusor": difusor, "cut": number, "duration_s": 240,
                         "failures": ["Huella SHA-256 distinta en data/AYU/entidad.json "
                                      "(transferencia incompleta)"]})
            delay = 240
        record: dict[str, object] = {
            "time": at(moment + timedelta(seconds=delay)), "event": ev.ACTIVATED,
            "difusor": difusor, "cut": number, "late_seconds": delay}
        if number == 10:
            record["message"] = "El paquete llegó 95 s después del corte por saturación del enlace SFTP"
        out.append(record)
    restart = START + timedelta(minutes=OUTAGE[0] + 1)
    out.append({"time": at(restart - timedelta(seconds=300)), "event": ev.STOPPED,
                "difusor": difusor})
    out.append({"time": at(restart), "event": ev.STARTED, "difusor": difusor,
                "message": "Reinicio tras agotarse la memoria del servidor web"})
    for minute in range(0, MINUTES, 1):
        moment = START + timedelta(minutes=minute, seconds=30)
        if OUTAGE[0] <= minute < OUTAGE[1] - 3:
            out.append({"time": at(moment), "event": ev.PROBE_DOWN, "difusor": difusor,
                        "url": SITE, "evidence": {"status": 503}})
        else:
            out.append({"time": at(moment), "event": ev.PROBE_UP, "difusor": difusor,
                        "url": SITE, "evidence": {"status": 200}})
    out.sort(key=lambda e: str(e["time"]))
    return out


def write_events(out: Path) -> int:
    """Write :func:`events` as JSON lines; returns how many."""
    import json

    items = events()
    out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in items), encoding="utf-8")
    return len(items)
