"""The model of an election night: the proceso, its elections, vote columns and casillas.

Everything here is plain immutable data. Readers (:mod:`prepcast.election.catalog`) build it from
the files an institute produces; the rules and the tally read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from functools import cached_property
from itertools import combinations

from prepcast.election.rules import Profile, get_profile


class ColumnKind(StrEnum):
    PARTIDO = "partido"
    COALICION = "coalicion"  # a combination of parties of a coalición (two or more marked)
    COMUN = "comun"  # a combination of parties of a candidatura común
    INDEPENDIENTE = "independiente"
    NO_REGISTRADAS = "no_registradas"
    NULOS = "nulos"


class Ambito(StrEnum):
    """The territory an election is won in (``nacional``: the whole country, one ámbito)."""

    NACIONAL = "nacional"
    ENTIDAD = "entidad"
    DISTRITO = "distrito"
    MUNICIPIO = "municipio"


CASILLA_TYPES = {
    "B": "Básica",
    "C": "Contigua",
    "E": "Extraordinaria",
    "S": "Especial",
    "M": "Voto de las mexicanas y los mexicanos residentes en el extranjero",
    "A": "Voto anticipado",
    "P": "Voto de personas en prisión preventiva",
}


@dataclass(frozen=True)
class Party:
    id: str
    nombre: str
    color: str = "#666666"


@dataclass(frozen=True)
class Alliance:
    """A coalición or candidatura común: parties that share candidates."""

    id: str
    nombre: str
    partidos: tuple[str, ...]
    kind: ColumnKind = ColumnKind.COALICION

    def combinations(self) -> list[tuple[str, ...]]:
        """Every combination of two or more of its parties, largest first, in party order."""
        out: list[tuple[str, ...]] = []
        for size in range(len(self.partidos), 1, -1):
            out.extend(combinations(self.partidos, size))
        return out


@dataclass(frozen=True)
class VoteColumn:
    """One column of votes on an acta (and in the PREP database)."""

    id: str
    kind: ColumnKind
    partidos: tuple[str, ...] = ()
    nombre: str = ""
    alliance: str | None = None


@dataclass(frozen=True)
class Candidatura:
    eleccion: str
    ambito_id: int  # distrito or municipio (0 for an entidad-wide election)
    columna: str  # PARTIDO_CI: a party, an alliance combination, or an independent column
    propietaria: str
    suplente: str = ""


@dataclass(frozen=True)
class Election:
    id: str  # e.g. DIP_LOC, AYUN
    nombre: str  # e.g. "Diputaciones Locales"
    titulo: str  # title line of the PREP database
    ambito: Ambito
    tipo_acta: str
    columns: tuple[VoteColumn, ...]
    alliances: tuple[Alliance, ...] = ()
    candidaturas: tuple[Candidatura, ...] = ()
    file_stem: str = ""  # e.g. MEX_DIP_LOC_2024 (CSV name inside the zip)

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.columns)

    def column_index(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.columns)}

    @cached_property
    def candidaturas_by_ambito(self) -> dict[int, tuple[Candidatura, ...]]:
        """The candidaturas of each ámbito, in catalog order."""
        out: dict[int, list[Candidatura]] = {}
        for c in self.candidaturas:
            out.setdefault(c.ambito_id, []).append(c)
        return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class Casilla:
    entidad_id: int
    distrito: int
    distrito_nombre: str
    municipio: int
    municipio_nombre: str
    seccion: int
    tipo: str
    numero: int  # ID_CASILLA
    ext_contigua: int
    ubicacion: int  # 1 urbana, 2 no urbana
    lista_nominal: int
    representantes: int = 0  # REPRESENTANTES_PP_CI, preloaded
    boletas_especial: int = 0  # ballots approved for a casilla especial
    elecciones: frozenset[str] | None = None  # None: every election of the proceso
    # A casilla of a national proceso: its distrito (federal) and sección are numbered within its
    # entidad, so they are keyed with it (``ambito_id``, ``seccion_key``).
    nacional: bool = False
    entidad_nombre: str = ""

    @cached_property
    def clave(self) -> str:
        return casilla_key(self.entidad_id, self.seccion, self.tipo, self.numero, self.ext_contigua)

    @cached_property
    def seccion_key(self) -> int:
        """The sección as a key: its number, or entidad·10⁴ + number in a national proceso."""
        return self.entidad_id * 10_000 + self.seccion if self.nacional else self.seccion

    @cached_property
    def distrito_key(self) -> int:
        """The distrito as a key: its number, or entidad·100 + number in a national proceso."""
        return self.entidad_id * 100 + self.distrito if self.nacional else self.distrito

    def votes_in(self, eleccion: str) -> bool:
        return self.elecciones is None or eleccion in self.elecciones

    def ambito_id(self, ambito: Ambito) -> int:
        """The ámbito's key: a distrito is entidad·100 + distrito and an entidad its INEGI code in
        a national proceso; the one ámbito of an entidad-wide or national election is 0."""
        if ambito is Ambito.DISTRITO:
            return self.entidad_id * 100 + self.distrito if self.nacional else self.distrito
        if ambito is Ambito.MUNICIPIO:
            return self.entidad_id * 1000 + self.municipio if self.nacional else self.municipio
        if ambito is Ambito.ENTIDAD and self.nacional:
            return self.entidad_id
        return 0

    def vote_limit(self) -> int:
        """Most votes an acta of this casilla may hold before it 'excede lista nominal'."""
        if self.tipo == "S":
            return self.boletas_especial + self.representantes
        return self.lista_nominal + self.representantes


def casilla_key(entidad_id: int, seccion: int, tipo: str, numero: int, ext: int) -> str:
    """CLAVE_CASILLA: entidad (2), sección (4), tipo (1), número (2), ext. contigua (2)."""
    return f"{entidad_id:02d}{seccion:04d}{tipo}{numero:02d}{ext:02d}"


@dataclass(frozen=True)
class Proceso:
    """One election night: the institute, its entidad, its elections and its cut schedule.

    A national proceso (INE's federal elections) has ``entidad_id`` 0: its casillas carry their
    own entidad."""

    nombre: str
    institute: str
    entidad_id: int
    entidad: str
    utc_offset_minutes: int
    start: datetime  # first cut (publication starts)
    end: datetime  # last cut
    cut_minutes: int
    image_base_url: str
    rules: str
    parties: tuple[Party, ...]
    elections: tuple[Election, ...]
    year: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @cached_property
    def profile(self) -> Profile:
        """The counting rules named by ``rules``, resolved once (a reader checked the name)."""
        return get_profile(self.rules)

    @property
    def nacional(self) -> bool:
        return self.entidad_id == 0

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_minutes))

    @property
    def utc_offset_text(self) -> str:
        """The offset as ISO 8601 writes it: ``-06:00``."""
        return offset_text(self.utc_offset_minutes)

    def election(self, eid: str) -> Election:
        for e in self.elections:
            if e.id == eid:
                return e
        raise KeyError(eid)

    def party(self, pid: str) -> Party | None:
        for p in self.parties:
            if p.id == pid:
                return p
        return None

    def cut_times(self) -> list[datetime]:
        times = []
        t = self.start
        step = timedelta(minutes=self.cut_minutes)
        while t <= self.end:
            times.append(t)
            t += step
        return times


def offset_text(minutes: int) -> str:
    """A UTC offset in minutes as ISO 8601 writes it: ``-06:00``."""
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def display_time(t: datetime) -> str:
    """A cut's date and time as institutes show it: ``02/06/2024 21:20 (UTC-6)``."""
    off = t.utcoffset()
    if off is None:
        raise ValueError("naive datetime")
    minutes = int(off.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    zone = f"UTC{sign}{h}" + (f":{m:02d}" if m else "")
    return f"{t:%d/%m/%Y %H:%M} ({zone})"
