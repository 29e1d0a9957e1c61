"""Synthetic elections shaped like real ones, for drills, tests and benchmarks.

``generate(profile, seed, out)`` writes an election directory (see :mod:`catalog`) whose capture
feeds follow a real night: the first actas around 20:00, most before dawn, a tail through the
next day, with Ilegible, Sin dato, votes over the lista nominal, Sin acta, fuera de catálogo and
recaptures at rates like those of the published databases in ``shared/data/real``. Same profile
and seed, same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prepcast.election._synthetic_parts import (
    candidaturas,
    difusores_plazos,
    place,
    write_csv,
)
from prepcast.election.acta import Acta, FieldValue, Mark, Status
from prepcast.election.acta_image import acta_png
from prepcast.election.catalog import CANDIDATURA_COLUMNS, CASILLA_COLUMNS, load_election_dir
from prepcast.election.feed import write_feed
from prepcast.election.model import Casilla, ColumnKind, Election, Proceso
from prepcast.election.synthetic_national import NATIONAL_PROFILES, write_national
from prepcast.errors import InputError


@dataclass(frozen=True)
class SyntheticProfile:
    name: str
    institute: str
    entidad_id: int
    entidad: str
    distritos: int
    municipios: int
    casillas: int  # about
    lista_nominal_per_casilla: int
    especiales: int
    parties: tuple[tuple[str, str, str, float], ...]  # id, nombre, color, base share
    alliances: tuple[tuple[str, str, tuple[str, ...]], ...]  # id, nombre, parties


PARTIES_2024 = (
    ("PAN", "Partido Acción Nacional", "#0B4FA8", 0.13),
    ("PRI", "Partido Revolucionario Institucional", "#D4001F", 0.12),
    ("PRD", "Partido de la Revolución Democrática", "#F2C200", 0.025),
    ("PVEM", "Partido Verde Ecologista de México", "#2E8B3D", 0.07),
    ("PT", "Partido del Trabajo", "#B71C1C", 0.06),
    ("MC", "Movimiento Ciudadano", "#E8700F", 0.08),
    ("MORENA", "Morena", "#7A1E2B", 0.40),
)
PROFILES: dict[str, SyntheticProfile] = {
    "edomex-2024": SyntheticProfile(
        "edomex-2024", "IEEM", 15, "MÉXICO", 45, 125, 20_500, 618, 140,
        (*PARTIES_2024, ("NAEM", "Nueva Alianza Estado de México", "#00A3AD", 0.03)),
        (("FCE", "Fuerza y Corazón por el Edomex", ("PAN", "PRI", "PRD")),
         ("SHH", "Sigamos Haciendo Historia en el Estado de México", ("PVEM", "PT", "MORENA"))),
    ),
    "michoacan-2024": SyntheticProfile(
        "michoacan-2024", "IEM", 16, "MICHOACÁN", 24, 112, 6_430, 583, 67,
        (*PARTIES_2024, ("MASM", "Más Michoacán", "#5B2C83", 0.02),
         ("TXM", "Tiempo por México", "#6D6E71", 0.015)),
        (("FCM", "Fuerza y Corazón por Michoacán", ("PAN", "PRI", "PRD")),
         ("SHH", "Sigamos Haciendo Historia", ("PVEM", "PT", "MORENA"))),
    ),
    "small": SyntheticProfile(
        "small", "IEEM", 15, "MÉXICO", 3, 5, 300, 600, 3, PARTIES_2024,
        (("FCE", "Fuerza y Corazón por el Edomex", ("PAN", "PRI", "PRD")),
         ("SHH", "Sigamos Haciendo Historia", ("PVEM", "PT", "MORENA"))),
    ),
}

def _election_toml(p: SyntheticProfile, year: int) -> str:
    out = io.StringIO()
    w = out.write
    w(f'nombre = "Proceso Electoral Local {year - 1}-{year} (simulado, perfil {p.name})"\n')
    w(f'institute = "{p.institute}"\nentidad_id = {p.entidad_id}\nentidad = "{p.entidad}"\n')
    w(f"year = {year}\n")
    w('utc_offset = "-06:00"\n')
    w(f"start = {year}-06-02T20:00:00-06:00\nend = {year}-06-03T20:00:00-06:00\n")
    w("cut_minutes = 20\n")
    w('image_base_url = "http://127.0.0.1:8700/actas"\nrules = "ine-2023"\n\n')
    for pid, nombre, color, _ in p.parties:
        w(f'[[partidos]]\nid = "{pid}"\nnombre = "{nombre}"\ncolor = "{color}"\n\n')
    pids = ", ".join(f'"{x[0]}"' for x in p.parties)
    for eid, nombre, ambito, tipo_acta in (("DIP_LOC", "Diputaciones Locales", "distrito", "2"),
                                           ("AYUN", "Ayuntamientos", "municipio", "3")):
        w(f'[[elecciones]]\nid = "{eid}"\nnombre = "{nombre}"\n')
        w(f'titulo = "Elección de {nombre} {year}"\nambito = "{ambito}"\ntipo_acta = "{tipo_acta}"\n')
        short = p.entidad[:3].upper().replace("É", "E")
        w(f'file_stem = "{short}_{eid}_{year}"\npartidos = [{pids}]\nindependientes = 1\n')
        for aid, anombre, members in p.alliances:
            m = ", ".join(f'"{x}"' for x in members)
            w(f'\n[[elecciones.alianzas]]\nid = "{aid}"\nnombre = "{anombre}"\npartidos = [{m}]\n')
        w("\n")
    w(difusores_plazos(year))
    return out.getvalue()


def _catalog(p: SyntheticProfile, rng: random.Random) -> list[list[str]]:
    """Rows of casillas.csv: municipios of uneven size, distritos as runs of secciones."""
    weights = [1 / (i + 1) ** 0.85 for i in range(p.municipios)]
    total_w = sum(weights)
    n_secc = max(p.municipios, round(p.casillas / 2.91))  # 2.91 casillas per sección on average
    secc_per_mun = [max(1, round(n_secc * wt / total_w)) for wt in weights]
    used: set[str] = set()
    mun_names = [place(rng, used) for _ in range(p.municipios)]
    secciones: list[tuple[int, int]] = []  # (municipio, n_casillas)
    for m, n in enumerate(secc_per_mun, start=1):
        for _ in range(n):
            k = rng.choices((1, 2, 3, 4, 5, 6, 8), (22, 28, 20, 12, 9, 6, 3))[0]
            secciones.append((m, k))
    total_cas = sum(k for _, k in secciones)
    per_distrito = total_cas / p.distritos
    dist_names = {}
    rows: list[list[str]] = []
    acc = 0
    for idx, (m, k) in enumerate(secciones, start=1):
        d = min(p.distritos, int(acc // per_distrito) + 1)
        acc += k
        if d not in dist_names:
            dist_names[d] = mun_names[m - 1]
        rural = rng.random() < 0.25
        ln_total = 0
        for c in range(k):
            tipo = "B" if c == 0 else "C"
            ext = 0
            if rural and c == k - 1 and k > 1 and rng.random() < 0.5:
                tipo, ext = "E", rng.choice((0, 1))
            ln = max(60, min(750, int(rng.gauss(p.lista_nominal_per_casilla, 95))))
            ln_total += ln
            numero = 1 if tipo in "BE" else c
            rows.append([str(p.entidad_id), str(d), dist_names[d], str(m), mun_names[m - 1],
                         str(idx), tipo, str(numero), str(ext), "2" if rural else "1", str(ln),
                         str(rng.randint(2, 20)), "0"])
    # especiales: in the larger municipios' first secciones
    first_secc: dict[int, tuple[int, int]] = {}
    for r in rows:
        first_secc.setdefault(int(r[3]), (int(r[5]), int(r[1])))
    for j in range(p.especiales):
        m = (j % max(1, p.municipios // 2)) + 1
        sec, d = first_secc[m]
        rows.append([str(p.entidad_id), str(d), dist_names[d], str(m), mun_names[m - 1], str(sec),
                     "S", str(j // max(1, p.municipios // 2) + 1), "0", "1", "0",
                     str(rng.randint(2, 20)), "750"])
    rows.sort(key=lambda r: (int(r[5]), r[6], int(r[7]), int(r[8])))
    return rows


def _arrival(rng: random.Random, start: datetime) -> timedelta:
    """Delay of an acta after 19:30: most in the first hours, a long tail."""
    hours = rng.lognormvariate(math.log(3.6), 0.62)
    if rng.random() < 0.04:
        hours = rng.uniform(6, 23.5)
    return timedelta(hours=min(hours, 24.3)) - timedelta(minutes=30)


def _votes(e: Election, shares: list[float], ln: int, turnout: float, rng: random.Random,
           ci_runs: bool) -> list[int]:
    voters = max(0, int(ln * turnout))
    out = []
    for c, s in zip(e.columns, shares, strict=True):
        if c.kind is ColumnKind.INDEPENDIENTE and not ci_runs:
            out.append(0)
            continue
        mean = voters * s
        out.append(max(0, int(rng.gauss(mean, math.sqrt(mean + 1) * 0.9) + 0.5)))
    return out


def _shares(e: Election, base: dict[str, float], rng: random.Random) -> list[float]:
    raw = []
    for c in e.columns:
        if c.kind is ColumnKind.PARTIDO:
            raw.append(base.get(c.id, 0.01) * rng.lognormvariate(0, 0.25))
        elif c.kind in (ColumnKind.COALICION, ColumnKind.COMUN):
            raw.append((0.012 if len(c.partidos) == 3 else 0.004) * rng.lognormvariate(0, 0.3))
        elif c.kind is ColumnKind.INDEPENDIENTE:
            raw.append(0.03 * rng.lognormvariate(0, 0.5))
        elif c.kind is ColumnKind.NO_REGISTRADAS:
            raw.append(0.001)
        else:
            raw.append(0.025)
    total = sum(raw)
    return [x / total for x in raw]


def _actas(proceso: Proceso, e: Election, casillas: list[Casilla], p: SyntheticProfile,
           rng: random.Random, ci_ambitos: set[int], images: bool = True) -> list[Acta]:
    base = {pid: share for pid, _, _, share in p.parties}
    close = proceso.start - timedelta(minutes=30)
    ambito_shares: dict[int, list[float]] = {}
    ambito_turnout: dict[int, float] = {}
    out: list[Acta] = []
    for c in casillas:
        aid = c.ambito_id(e.ambito)
        if aid not in ambito_shares:
            ambito_shares[aid] = _shares(e, base, rng)
            ambito_turnout[aid] = rng.uniform(0.44, 0.64)
        r = rng.random()
        if r < 0.018:
            continue  # never arrives: expected, not captured
        registro = close + _arrival(rng, proceso.start)
        if registro > proceso.end:
            continue
        if r < 0.030:
            out.append(Acta(e.id, c.seccion, c.tipo, c.numero, c.ext_contigua, Status.SIN_ACTA,
                            registro, votes=tuple(Mark.SIN_DATO for _ in e.columns),
                            sin_acta_motivo=rng.choice((1, 2, 3, 3, 3)), origen="CATD",
                            digitalizacion="ESCANER", tipo_documento="-"))
            continue
        ln = c.lista_nominal if c.tipo != "S" else rng.randint(150, 700)
        ci = aid in ci_ambitos
        votes: list[FieldValue] = list(_votes(e, ambito_shares[aid], ln,
                                              ambito_turnout[aid] * rng.uniform(0.85, 1.15), rng, ci))
        if not ci:
            for i, col in enumerate(e.columns):
                if col.kind is ColumnKind.INDEPENDIENTE:
                    votes[i] = Mark.NO_APLICA
        q = rng.random()
        applicable = [i for i, v in enumerate(votes) if v is not Mark.NO_APLICA]
        if q < 0.0045:
            votes = [Mark.SIN_DATO if i in applicable else v for i, v in enumerate(votes)]
        elif q < 0.0055:
            votes = [Mark.ILEGIBLE if i in applicable else v for i, v in enumerate(votes)]
        else:
            if q < 0.011 and c.tipo != "S":
                votes[applicable[-1]] = int(c.lista_nominal * rng.uniform(0.4, 0.9))
            if rng.random() < 0.20:
                zeros = [i for i in applicable if votes[i] == 0] or applicable
                for i in rng.sample(zeros, min(len(zeros), rng.randint(1, 3))):
                    votes[i] = Mark.SIN_DATO
            if rng.random() < 0.02:
                votes[rng.choice(applicable)] = Mark.ILEGIBLE
        total = sum(v for v in votes if isinstance(v, int))
        personas = total if rng.random() > 0.05 else Mark.SIN_DATO
        verif = registro
        captura = verif - timedelta(seconds=rng.randint(20, 400))
        movil = rng.random() < 0.55
        acopio = captura - timedelta(minutes=rng.randint(1, 90) if not movil else rng.randint(0, 5))
        # the image's digest; without images, the digest of what the image would show
        png = (acta_png(proceso, e, c, votes) if images
               else f"{e.id}|{c.clave}|{','.join(map(str, votes))}".encode())
        acta = Acta(
            e.id, c.seccion, c.tipo, c.numero, c.ext_contigua, Status.CAPTURADA, registro,
            votes=tuple(votes), boletas_sobrantes=max(0, ln - total),
            personas_votaron=personas, representantes_votaron=rng.randint(0, c.representantes),
            votos_sacados=total if rng.random() > 0.08 else Mark.SIN_DATO, total_asentado=total,
            mecanismos_traslado=rng.choice(("", "", "D", "F", "I")),
            codigo_integridad=hashlib.sha256(png).hexdigest(), acopio=acopio, captura=captura,
            verificacion=verif, origen="CASILLA" if movil else "CATD",
            digitalizacion="MOVIL" if movil else "ESCANER",
            tipo_documento=rng.choice(("Acta PREP",) * 14 + ("Copia PE", "Acta Consejo")),
            cotejada=1,
        )
        out.append(acta)
    # fuera de catálogo: identification that matches no casilla of the catalog
    secc = sorted({c.seccion for c in casillas})
    for _ in range(max(1, len(casillas) // 1200)):
        s = rng.choice(secc)
        reg = close + _arrival(rng, proceso.start)
        if reg <= proceso.end:
            out.append(Acta(e.id, s, "C", 90 + rng.randint(0, 9), 0, Status.FUERA_CATALOGO, reg,
                            votes=tuple(Mark.SIN_DATO for _ in e.columns), origen="CASILLA",
                            digitalizacion="MOVIL", tipo_documento="-"))
    out.sort(key=lambda a: (a.registro, a.seccion, a.tipo_casilla, a.id_casilla))
    return out


def generate(profile: str, seed: int, out: str | Path, *, year: int = 2024,
             images: bool = True) -> Path:
    """Write an election directory for the profile; the same seed gives the same bytes.

    ``images=False`` draws no acta image (each CODIGO_INTEGRIDAD is then the digest of the acta's
    figures): several times faster, for tests and benchmarks that never show an acta. A national
    profile (:mod:`prepcast.election.synthetic_national`) never draws images."""
    if profile not in PROFILES and profile not in NATIONAL_PROFILES:
        known = ", ".join([*PROFILES, *NATIONAL_PROFILES])
        raise InputError(f"unknown profile {profile!r} (known: {known})")
    dest = Path(out)
    if dest.exists() and not dest.is_dir():
        raise InputError.at(dest, "is a file; --out names a new folder")
    if dest.exists() and any(dest.iterdir()):
        raise InputError.at(dest, "exists and is not empty; choose a new --out")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    tmp.chmod(0o755)
    try:
        if profile in NATIONAL_PROFILES:  # drawn on columns; no acta image at this size
            write_national(NATIONAL_PROFILES[profile], seed, tmp, year)
        else:
            _write(PROFILES[profile], seed, tmp, year, images)
        if dest.exists():
            dest.rmdir()
        tmp.replace(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _write(p: SyntheticProfile, seed: int, root: Path, year: int, images: bool) -> None:
    rng = random.Random(f"{p.name}:{seed}")
    (root / "election.toml").write_text(_election_toml(p, year), encoding="utf-8")
    write_csv(root / "casillas.csv", CASILLA_COLUMNS, _catalog(p, rng))
    (root / "candidaturas").mkdir()
    (root / "capturas").mkdir()
    (root / "candidaturas" / "DIP_LOC.csv").write_text(",".join(CANDIDATURA_COLUMNS) + "\n")
    (root / "candidaturas" / "AYUN.csv").write_text(",".join(CANDIDATURA_COLUMNS) + "\n")
    ed = load_election_dir(root, with_feeds=False)
    for e in ed.proceso.elections:
        ambitos = sorted({c.ambito_id(e.ambito) for c in ed.casillas})
        ci = {a for a in ambitos if rng.random() < 0.12}
        write_csv(root / "candidaturas" / f"{e.id}.csv", CANDIDATURA_COLUMNS,
                   candidaturas(e, ambitos, rng, ci))
        write_feed(root / "capturas" / f"{e.id}.csv", e,
                   _actas(ed.proceso, e, list(ed.casillas), p, rng, ci, images))
