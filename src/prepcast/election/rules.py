"""PREP counting rules as named profiles.

A profile decides, for each acta, TOTAL_VOTOS_CALCULADO, CONTABILIZADA (0 no, 1 yes, 2 fuera de
catálogo) and OBSERVACIONES, and from the evaluated actas of a cut the 13 figures of the
database's preamble. Everything here is pure: values in, values out.

Profiles:

``ine-2023`` (default)
    INE's rules as its 2023 LEEME describes them: an acta is not counted when it is sin acta,
    when every vote field is Ilegible, when every vote field is Sin dato, or when its votes exceed
    the lista nominal plus representantes (for especiales, the approved ballots plus
    representantes). Ilegible and Sin dato count as zero. An acta mixing Ilegible and Sin dato
    with no number is counted (as zeros).
``qroo-2019``
    IEQROO 2019: an acta whose vote fields are all Ilegible or Sin dato, in any mix, is not
    counted; votes exceeding the lista nominal do not stop an acta from being counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from prepcast.election.acta import FieldValue, Mark, VoteCounts

PREAMBLE_FIELDS = (
    "ACTAS_ESPERADAS",
    "ACTAS_REGISTRADAS",
    "ACTAS_FUERA_CATALOGO",
    "ACTAS_CAPTURADAS",
    "PORCENTAJE_ACTAS_CAPTURADAS",
    "ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS",
    "ACTAS_NO_CONTABILIZADAS",
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS",
    "TOTAL_VOTOS_C_CS",
    "TOTAL_VOTOS_S_CS",
    "PORCENTAJE_PARTICIPACION_CIUDADANA",
)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    exclude_excede_lista_nominal: bool
    # all vote fields Ilegible-or-Sin-dato in any mix make the acta not counted (qroo-2019);
    # otherwise only all-Ilegible or all-Sin-dato do (ine-2023).
    mixed_empty_not_counted: bool
    observation_style: str  # "ine" (list literal) or "phrases"


PROFILES: dict[str, Profile] = {
    "ine-2023": Profile(
        name="ine-2023",
        description="INE, Reglamento de Elecciones Anexo 13 as in the 2023 LEEME",
        exclude_excede_lista_nominal=True,
        mixed_empty_not_counted=False,
        observation_style="ine",
    ),
    "qroo-2019": Profile(
        name="qroo-2019",
        description="IEQROO 2019: no exclusion for votes over the lista nominal",
        exclude_excede_lista_nominal=False,
        mixed_empty_not_counted=True,
        observation_style="phrases",
    ),
}
DEFAULT_PROFILE = "ine-2023"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise KeyError(f"unknown counting rules {name!r} (known: {known})") from None


# Observation tags, independent of how a profile prints them.
ILEGIBLE = "Ilegible"
SIN_DATO = "Sin dato"
EXCEDE = "Excede Lista Nominal"
TODOS_ILEGIBLES = "Todos los campos ilegibles"
TODOS_VACIOS = "Todos los campos vacíos"
TODOS_ILEGIBLES_O_SIN_DATO = "Todos ilegibles o sin dato"
SIN_ACTA = "Sin acta"
FUERA_CATALOGO = "Fuera de Catálogo"


@dataclass(frozen=True)
class Evaluation:
    total_calculado: int
    contabilizada: int  # 0, 1, 2
    tags: tuple[str, ...]  # observation tags in the order INE prints them
    inconsistente: bool  # counts toward PORCENTAJE_ACTAS_INCONSISTENCIAS
    sin_acta_motivo: int | None = None

    @property
    def counted(self) -> bool:
        return self.contabilizada == 1


def count_votes(votes: Sequence[FieldValue]) -> VoteCounts:
    """Count an acta's vote fields (``Mark.NO_APLICA`` fields are ignored)."""
    total = n_num = n_ileg = n_sin = 0
    for v in votes:
        if type(v) is int:
            total += v
            n_num += 1
        elif v is Mark.ILEGIBLE:
            n_ileg += 1
        elif v is Mark.SIN_DATO:
            n_sin += 1
    return VoteCounts(total, n_num, n_ileg, n_sin)


def evaluate_votes(profile: Profile, votes: Sequence[FieldValue], vote_limit: int | None) -> Evaluation:
    """Evaluate a captured acta's vote fields.

    ``vote_limit`` is the lista nominal plus representantes (or ballots plus representantes for
    an especial); ``None`` when unknown, which never excludes.
    """
    return evaluate_counts(profile, count_votes(votes), vote_limit)


def evaluate_counts(profile: Profile, counts: VoteCounts, vote_limit: int | None) -> Evaluation:
    total, n_ileg, n_sin = counts.total, counts.ilegibles, counts.sin_dato
    if counts.numbers == 0 and (n_ileg or n_sin):
        if n_sin == 0:
            return Evaluation(total, 0, (TODOS_ILEGIBLES,), True)
        if n_ileg == 0:
            return Evaluation(total, 0, (TODOS_VACIOS,), True)
        if profile.mixed_empty_not_counted:
            return Evaluation(total, 0, (TODOS_ILEGIBLES_O_SIN_DATO,), True)
    excede = vote_limit is not None and total > vote_limit
    if not (n_ileg or n_sin or excede):
        return Evaluation(total, 1, (), False)
    tags: list[str] = []
    if excede and profile.exclude_excede_lista_nominal:
        tags.append(EXCEDE)
    if n_ileg:
        tags.append(ILEGIBLE)
    if n_sin:
        tags.append(SIN_DATO)
    counted = not (excede and profile.exclude_excede_lista_nominal)
    return Evaluation(total, 1 if counted else 0, tuple(tags), bool(tags))


def evaluate_sin_acta(motivo: int | None) -> Evaluation:
    return Evaluation(0, 0, (SIN_ACTA,), False, motivo)


def evaluate_fuera_catalogo() -> Evaluation:
    return Evaluation(0, 2, (FUERA_CATALOGO,), False)


def format_observaciones(profile: Profile, ev: Evaluation) -> str:
    """OBSERVACIONES as the profile's institute printed it."""
    if profile.observation_style == "phrases":
        if ev.contabilizada == 2:
            return "FUERA DE CATALOGO"
        if SIN_ACTA in ev.tags:
            reason = {1: "PAQUETE NO ENTREGADO", 2: "CASILLA NO INSTALADA", 3: "PAQUETE ENTREGADO SIN SOBRE"}
            return f"SIN ACTA POR {reason.get(ev.sin_acta_motivo or 3, 'PAQUETE ENTREGADO SIN SOBRE')}"
        if ev.tags and ev.tags[0] in (TODOS_ILEGIBLES, TODOS_VACIOS, TODOS_ILEGIBLES_O_SIN_DATO):
            return "TODOS ILEGIBLES O SIN DATO"
        parts = []
        if EXCEDE in ev.tags:
            parts.append("EXCEDE LISTA NOMINAL")
        if ILEGIBLE in ev.tags or SIN_DATO in ev.tags:
            parts.append("ALGUN DATO ILEGIBLE O SIN DATO")
        return ", ".join(parts)
    if ev.contabilizada == 2:
        return FUERA_CATALOGO
    if SIN_ACTA in ev.tags:
        return f"Sin acta({ev.sin_acta_motivo})" if ev.sin_acta_motivo else "Sin acta"
    if not ev.tags:
        return ""
    return "[" + ", ".join(f"'{t}'" for t in ev.tags) + "]"


def truncate4(numerator: int, denominator: int) -> Decimal:
    """A percentage truncated (not rounded) to four decimals; 0 when the denominator is 0."""
    if denominator == 0:
        return Decimal("0.0000")
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)


@dataclass(frozen=True)
class EvaluatedActa:
    """What the preamble needs of one registered acta."""

    evaluation: Evaluation
    lista_nominal: int
    especial: bool


@dataclass(frozen=True)
class Preamble:
    actas_esperadas: int
    actas_registradas: int
    actas_fuera_catalogo: int
    actas_capturadas: int
    porcentaje_actas_capturadas: Decimal
    actas_contabilizadas: int
    porcentaje_actas_contabilizadas: Decimal
    porcentaje_actas_inconsistencias: Decimal
    actas_no_contabilizadas: int
    lista_nominal_actas_contabilizadas: int
    total_votos_c_cs: int
    total_votos_s_cs: int
    porcentaje_participacion_ciudadana: Decimal

    def as_dict(self) -> dict[str, int | Decimal]:
        return {name: getattr(self, name.lower()) for name in PREAMBLE_FIELDS}

    def as_row(self) -> list[str]:
        return [str(v) for v in self.as_dict().values()]


def preamble(actas: Iterable[EvaluatedActa], esperadas: int, *, last_cut: bool) -> Preamble:
    """The 13 figures of a cut from its registered actas."""
    registradas = fuera = contab = inconsist = ln = c_cs = s_cs = 0
    for a in actas:
        registradas += 1
        ev = a.evaluation
        if ev.contabilizada == 2:
            fuera += 1
            continue
        if ev.inconsistente:
            inconsist += 1
        if ev.contabilizada == 1:
            contab += 1
            ln += a.lista_nominal
            c_cs += ev.total_calculado
            if not a.especial:
                s_cs += ev.total_calculado
    return preamble_from_counts(esperadas=esperadas, registradas=registradas, fuera=fuera,
                                contabilizadas=contab, inconsistentes=inconsist, lista_nominal=ln,
                                votos_c_cs=c_cs, votos_s_cs=s_cs, last_cut=last_cut)


def preamble_from_counts(*, esperadas: int, registradas: int, fuera: int, contabilizadas: int,
                         inconsistentes: int, lista_nominal: int, votos_c_cs: int,
                         votos_s_cs: int, last_cut: bool) -> Preamble:
    """The 13 figures from the counts they are made of."""
    capturadas = registradas - fuera
    return Preamble(
        actas_esperadas=esperadas,
        actas_registradas=registradas,
        actas_fuera_catalogo=fuera,
        actas_capturadas=capturadas,
        porcentaje_actas_capturadas=truncate4(capturadas, esperadas),
        actas_contabilizadas=contabilizadas,
        porcentaje_actas_contabilizadas=truncate4(contabilizadas, esperadas),
        porcentaje_actas_inconsistencias=truncate4(inconsistentes, esperadas),
        actas_no_contabilizadas=capturadas - contabilizadas,
        lista_nominal_actas_contabilizadas=lista_nominal,
        total_votos_c_cs=votos_c_cs,
        total_votos_s_cs=votos_s_cs,
        porcentaje_participacion_ciudadana=truncate4(votos_c_cs if last_cut else votos_s_cs,
                                                     lista_nominal),
    )
