"""Captured actas: one record per acta of one election, as the capture system registers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Mark(Enum):
    """A field that holds no number."""

    ILEGIBLE = "Ilegible"
    SIN_DATO = "Sin dato"
    NO_APLICA = "-"  # the column has no candidate in this ámbito (e.g. an independent)

    def __str__(self) -> str:
        return self.value


FieldValue = int | Mark


def parse_field(text: str) -> FieldValue:
    """A field as captured: a number, ``Ilegible``, ``Sin dato`` (or empty), or ``-`` where the
    column has no candidate; any casing. Raises ValueError for anything else."""
    s = text.strip()
    if s.isascii() and s.isdigit():
        return int(s)
    low = s.lower()
    if low == "ilegible":
        return Mark.ILEGIBLE
    if low in ("sin dato", "sin_dato", ""):
        return Mark.SIN_DATO
    if s == "-":
        return Mark.NO_APLICA
    raise ValueError(s)


@dataclass(frozen=True)
class VoteCounts:
    """What the counting rules need of an acta's vote fields."""

    total: int  # Ilegible and Sin dato count as zero
    numbers: int
    ilegibles: int
    sin_dato: int


class Status(Enum):
    CAPTURADA = "capturada"
    SIN_ACTA = "sin_acta"
    FUERA_CATALOGO = "fuera_catalogo"


SIN_ACTA_MOTIVOS = {1: "Paquete no entregado", 2: "Casilla no instalada", 3: "Sin sobre"}


@dataclass(frozen=True)
class Acta:
    """One acta as captured. Votes are aligned with the election's vote columns."""

    eleccion: str
    seccion: int
    tipo_casilla: str
    id_casilla: int
    ext_contigua: int
    status: Status
    registro: datetime  # when the record entered the system; a cut at T holds records <= T
    votes: tuple[FieldValue, ...] = ()
    sin_acta_motivo: int | None = None
    boletas_sobrantes: FieldValue = Mark.SIN_DATO
    personas_votaron: FieldValue = Mark.SIN_DATO
    representantes_votaron: FieldValue = Mark.SIN_DATO
    votos_sacados: FieldValue = Mark.SIN_DATO
    total_asentado: FieldValue = Mark.SIN_DATO
    mecanismos_traslado: str = ""
    codigo_integridad: str = ""
    acopio: datetime | None = None
    captura: datetime | None = None
    verificacion: datetime | None = None
    origen: str = ""
    digitalizacion: str = ""
    tipo_documento: str = ""
    cotejada: int | None = None
    # Only for fuera de catálogo, where no casilla of the catalog says where the acta belongs.
    distrito: int | None = None
    municipio: int | None = None
    # In a national proceso, the entidad the acta names (ID_ENTIDAD of its feed).
    entidad: int | None = None

    # Derived once, when the acta is read: what every cut's tally needs of its vote fields.
    counted_votes: tuple[int, ...] = field(init=False, repr=False, compare=False)
    vote_counts: VoteCounts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        votes = self.votes
        counted = tuple([v if type(v) is int else 0 for v in votes])
        ilegibles = votes.count(Mark.ILEGIBLE)
        sin_dato = votes.count(Mark.SIN_DATO)
        numbers = len(votes) - ilegibles - sin_dato - votes.count(Mark.NO_APLICA)
        object.__setattr__(self, "counted_votes", counted)
        object.__setattr__(self, "vote_counts", VoteCounts(sum(counted), numbers, ilegibles, sin_dato))

    def record_key(self, entidad_id: int) -> str:
        """What a later record replaces this one by: its casilla, except for an acta marked fuera
        de catálogo, which is an acta of its own even when it names a casilla of the catalog
        (as in INE's Tamaulipas 2023 database)."""
        clave = self.casilla_clave(entidad_id)
        return "F" + clave if self.status is Status.FUERA_CATALOGO else clave

    def fuera_order(self, entidad_id: int) -> tuple[datetime, str, bool]:
        """Fuera de catálogo actas are listed by registration, then casilla."""
        return (self.registro, self.casilla_clave(entidad_id), self.status is Status.FUERA_CATALOGO)

    def casilla_clave(self, entidad_id: int) -> str:
        """CLAVE_CASILLA of the casilla the acta names (its own entidad, when it carries one)."""
        if self.entidad is not None:
            entidad_id = self.entidad
        return (
            f"{entidad_id:02d}{self.seccion:04d}{self.tipo_casilla}"
            f"{self.id_casilla:02d}{self.ext_contigua:02d}"
        )
