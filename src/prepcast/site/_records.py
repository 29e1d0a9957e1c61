"""How the site's data files write the figures of a cut: totals, candidatures and actas.

Pure functions from the results engine's values to JSON-ready values (integers and strings
only, so every file is canonical and hashes the same for the same figures).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

from prepcast.election.acta import Acta, FieldValue, Mark
from prepcast.election.model import Ambito, Casilla, ColumnKind, Election, Proceso
from prepcast.election.rules import Evaluation, Profile, format_observaciones
from prepcast.election.tally import ElectionResults, Totals

Json = dict[str, Any]

# Columns of a sección in an ámbito file (a list per sección, to keep the mutable files small).
SECCION_FIELDS = (
    "seccion",
    "capturadas",
    "contabilizadas",
    "lista_nominal_contabilizadas",
    "total_votos",
    "total_votos_sin_especiales",
    "corte",  # the segment of this cut holds its votes per column (0: no acta yet)
)
# What of a sección never changes during the night (in the ámbito's catalog file).
SECCION_CATALOG_FIELDS = ("seccion", "esperadas", "lista_nominal")
# Columns of a casilla of an ámbito's catalog file.
CASILLA_FIELDS = ("clave", "seccion", "tipo", "numero", "ext_contigua", "ubicacion", "lista_nominal")


def ambito_of(level: Ambito) -> Callable[[Casilla], int]:
    """The ámbito id of a casilla for an election won at ``level`` (fast: called per casilla)."""
    if level is Ambito.DISTRITO:
        return attrgetter("distrito_key")  # entidad·100 + distrito in a national proceso
    if level is Ambito.MUNICIPIO:
        return attrgetter("municipio")
    return lambda _c: 0


def totals_json(t: Totals) -> Json:
    return {
        "esperadas": t.esperadas,
        "capturadas": t.capturadas,
        "contabilizadas": t.contabilizadas,
        "lista_nominal": t.lista_nominal,
        "lista_nominal_contabilizadas": t.lista_nominal_contabilizadas,
        "total_votos": t.total_votos,
        "total_votos_sin_especiales": t.total_votos_sin_especiales,
        "votos": list(t.votos),
    }


def seccion_row(seccion: int, t: Totals, corte: int) -> list[Any]:
    return [
        seccion,
        t.capturadas,
        t.contabilizadas,
        t.lista_nominal_contabilizadas,
        t.total_votos,
        t.total_votos_sin_especiales,
        corte,
    ]


def casilla_row(c: Casilla) -> list[Any]:
    return [c.clave, c.seccion_key, c.tipo, c.numero, c.ext_contigua, c.ubicacion, c.lista_nominal]


def election_json(e: Election) -> Json:
    return {
        "id": e.id,
        "nombre": e.nombre,
        "titulo": e.titulo,
        "ambito": e.ambito.value,
        "tipo_acta": e.tipo_acta,
        "columnas": [
            {"id": c.id, "tipo": c.kind.value, "partidos": list(c.partidos), "nombre": c.nombre}
            for c in e.columns
        ],
        "alianzas": [
            {"id": a.id, "nombre": a.nombre, "tipo": a.kind.value, "partidos": list(a.partidos)}
            for a in e.alliances
        ],
    }


def candidaturas_ambito(results: ElectionResults, ambito_id: int, t: Totals) -> list[Json]:
    """Votes per candidature of an ámbito, most votes first (a person and their columns)."""
    suplentes = {
        c.propietaria: c.suplente
        for c in results.election.candidaturas
        if c.ambito_id == ambito_id
    }
    return [
        {"nombre": name, "suplente": suplentes.get(name, ""), "columnas": list(cols), "votos": v}
        for name, cols, v in results.votos_candidatura(ambito_id, t)
    ]


def candidaturas_entidad(results: ElectionResults, parties: dict[str, str]) -> list[Json]:
    """Votes per candidature across the entidad: the ámbitos' candidatures gathered by the
    columns they hold (a coalition's parties and combinations, a party alone, an independent).

    Without registered candidatures, each alliance gathers its parties and combinations."""
    e = results.election
    idx = e.column_index()
    groups: dict[tuple[str, ...], int] = {}
    if e.candidaturas:
        for aid, t in results.ambitos.items():
            for _name, cols, votes in results.votos_candidatura(aid, t):
                key = tuple(sorted(cols, key=idx.__getitem__))
                groups[key] = groups.get(key, 0) + votes
    else:
        votos = results.entidad.votos
        for a in e.alliances:
            cols = tuple(
                c.id
                for c in e.columns
                if c.alliance == a.id or (c.kind is ColumnKind.PARTIDO and c.id in a.partidos)
            )
            groups[cols] = sum(votos[idx[c]] for c in cols)
        taken = {c for cols in groups for c in cols}
        for c in e.columns:
            if c.id not in taken and c.kind in (ColumnKind.PARTIDO, ColumnKind.INDEPENDIENTE):
                groups[(c.id,)] = votos[idx[c.id]]
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1], _group_name(e, kv[0], parties)))
    return [
        {"nombre": _group_name(e, cols, parties), "columnas": list(cols), "votos": v} for cols, v in ranked
    ]


def _group_name(e: Election, cols: tuple[str, ...], parties_names: dict[str, str]) -> str:
    by_id = {c.id: c for c in e.columns}
    parties = {p for c in cols for p in (by_id[c].partidos or (c,))}
    for a in e.alliances:
        if len(cols) > 1 and parties <= set(a.partidos):
            return a.nombre
    if len(cols) == 1:
        col = by_id[cols[0]]
        return parties_names.get(col.id) or col.nombre or col.id
    return " / ".join(cols)


def bucket_of(cut_times: list[datetime], registro: datetime) -> int:
    """The segment an acta's record lives in: the number (from 1) of the first scheduled cut at
    or after its registration. It depends on the record only, so segments never change unless an
    acta is captured again (then its newer record moves to a newer segment)."""
    return bisect_left(cut_times, registro) + 1


def _field(v: FieldValue) -> int | str:
    return v.value if isinstance(v, Mark) else v


def _time(t: datetime | None) -> str:
    return t.isoformat() if t is not None else ""


# The fields of an acta in a segment (``campos_acta``), each acta an array of their values in
# this order; its clave is not among them: it is the acta's key in the segment's ``actas``.
ACTA_FIELDS = (
    "acopio",
    "captura",
    "codigo_integridad",
    "contabilizada",
    "cotejada",
    "digitalizacion",
    "estado",
    "ext_contigua",
    "id_casilla",
    "lista_nominal",
    "mecanismos_traslado",
    "observaciones",
    "origen",
    "registro",
    "representantes",
    "seccion",
    "sin_acta_motivo",
    "tipo_casilla",
    "tipo_documento",
    "total_boletas_sobrantes",
    "total_personas_votaron",
    "total_rep_partido_ci_votaron",
    "total_votos_asentado",
    "total_votos_calculado",
    "total_votos_sacados",
    "verificacion",
    "votos",
)


def acta_record(
    proceso: Proceso,
    profile: Profile,
    casilla: Casilla | None,
    acta: Acta,
    ev: Evaluation,
) -> tuple[str, list[Any]]:
    """An acta's clave and every field of it as captured, with its evaluation, in the order of
    :data:`ACTA_FIELDS` (immutable once registered)."""
    return acta.casilla_clave(proceso.entidad_id), [
        _time(acta.acopio),
        _time(acta.captura),
        acta.codigo_integridad,
        ev.contabilizada,
        -1 if acta.cotejada is None else acta.cotejada,
        acta.digitalizacion,
        acta.status.value,
        acta.ext_contigua,
        acta.id_casilla,
        casilla.lista_nominal if casilla else 0,
        acta.mecanismos_traslado,
        format_observaciones(profile, ev),
        acta.origen,
        _time(acta.registro),
        casilla.representantes if casilla else 0,
        acta.seccion if acta.entidad is None else acta.entidad * 10_000 + acta.seccion,
        acta.sin_acta_motivo or 0,
        acta.tipo_casilla,
        acta.tipo_documento,
        _field(acta.boletas_sobrantes),
        _field(acta.personas_votaron),
        _field(acta.representantes_votaron),
        _field(acta.total_asentado),
        ev.total_calculado,
        _field(acta.votos_sacados),
        _time(acta.verificacion),
        [_field(v) for v in acta.votes],
    ]
