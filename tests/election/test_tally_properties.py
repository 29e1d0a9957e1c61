"""Invariants of the counting rules and the tally, checked on generated elections (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from prepcast.election.acta import Acta, Mark, Status
from prepcast.election.model import Ambito, Casilla, ColumnKind, Election, Proceso, VoteColumn
from prepcast.election.rules import truncate4
from prepcast.election.tally import tally_cut
from tests.examples import examples

TZ = timezone(timedelta(hours=-6))
START = datetime(2024, 6, 2, 20, 0, tzinfo=TZ)
COLUMNS = (
    VoteColumn("PAN", ColumnKind.PARTIDO, ("PAN",)),
    VoteColumn("PRI", ColumnKind.PARTIDO, ("PRI",)),
    VoteColumn("PAN-PRI", ColumnKind.COALICION, ("PAN", "PRI")),
    VoteColumn("CI_1", ColumnKind.INDEPENDIENTE),
    VoteColumn("NULOS", ColumnKind.NULOS),
)
ELECTIONS = (
    Election("DIP", "Diputaciones", "t", Ambito.DISTRITO, "2", COLUMNS),
    Election("AYU", "Ayuntamientos", "t", Ambito.MUNICIPIO, "3", COLUMNS),
)
PROCESO = Proceso("p", "IEEM", 15, "MÉXICO", -360, START, START + timedelta(hours=24), 20, "",
                  "ine-2023", (), ELECTIONS, 2024)

field_value = st.one_of(
    st.integers(0, 400), st.integers(0, 400), st.integers(0, 400),
    st.sampled_from([Mark.ILEGIBLE, Mark.SIN_DATO, Mark.NO_APLICA]),
)


@st.composite
def nights(draw: st.DrawFn) -> tuple[list[Casilla], dict[str, list[Acta]]]:
    n = draw(st.integers(1, 25))
    casillas = []
    for i in range(n):
        seccion = draw(st.integers(1, 8))
        casillas.append(Casilla(
            15, distrito=1 + seccion % 3, distrito_nombre="d", municipio=1 + seccion % 2,
            municipio_nombre="m", seccion=seccion, tipo=draw(st.sampled_from("BCES")), numero=i + 1,
            ext_contigua=0, ubicacion=1, lista_nominal=draw(st.integers(0, 750)),
            representantes=draw(st.integers(0, 10)), boletas_especial=750))
    feeds: dict[str, list[Acta]] = {}
    for e in ELECTIONS:
        actas = []
        for c in casillas:
            for _ in range(draw(st.integers(0, 2))):  # 0: never arrives; 2: a recapture
                status = draw(st.sampled_from([Status.CAPTURADA] * 6 + [Status.SIN_ACTA]))
                actas.append(Acta(e.id, c.seccion, c.tipo, c.numero, 0, status,
                                  START + timedelta(minutes=draw(st.integers(-30, 1500))),
                                  votes=tuple(draw(field_value) for _ in COLUMNS),
                                  sin_acta_motivo=1 if status is Status.SIN_ACTA else None))
        if draw(st.booleans()):  # fuera de catálogo: a casilla number nobody approved
            actas.append(Acta(e.id, 1, "C", 99, 0, Status.CAPTURADA, START,
                              votes=tuple(0 for _ in COLUMNS)))
        feeds[e.id] = actas
    return casillas, feeds


@settings(max_examples=examples(150), deadline=None)
@given(nights(), st.integers(0, 1500), st.integers(0, 300))
def test_tally_invariants(night: tuple[list[Casilla], dict[str, list[Acta]]], minute: int,
                          later: int) -> None:
    casillas, feeds = night
    at = START + timedelta(minutes=minute)
    cut = tally_cut(PROCESO, casillas, feeds, at, number=1)
    cut2 = tally_cut(PROCESO, casillas, feeds, at + timedelta(minutes=later), number=2)
    for eid, er in cut.elections.items():
        p = er.preamble
        # contabilizadas + no contabilizadas = capturadas; registradas = capturadas + fuera
        assert p.actas_contabilizadas + p.actas_no_contabilizadas == p.actas_capturadas
        assert p.actas_capturadas + p.actas_fuera_catalogo == p.actas_registradas
        assert p.actas_esperadas == len(casillas) >= p.actas_capturadas
        # every level is the sum of the level below, and the entidad is the sum of the rows
        for name in ("esperadas", "capturadas", "contabilizadas", "lista_nominal_contabilizadas",
                     "total_votos"):
            total = getattr(er.entidad, name)
            assert total == sum(getattr(t, name) for t in er.ambitos.values())
            assert total == sum(getattr(t, name) for t in er.secciones.values())
        counted = [r for r in er.rows if r.evaluation is not None and r.evaluation.contabilizada == 1]
        assert er.entidad.votos == [
            sum(v for r in counted for v in [r.acta.counted_votes[i]] if r.acta) for i in range(len(COLUMNS))
        ]
        assert sum(er.entidad.votos) == p.total_votos_c_cs == er.entidad.total_votos
        assert p.total_votos_s_cs <= p.total_votos_c_cs
        # truncated percentages: never above the exact value, less than 0.0001 below it
        exact = p.actas_contabilizadas * 100 / max(1, p.actas_esperadas)
        assert float(p.porcentaje_actas_contabilizadas) <= exact + 1e-9
        assert exact - float(p.porcentaje_actas_contabilizadas) < 0.0001 + 1e-9
        assert p.porcentaje_actas_contabilizadas == truncate4(p.actas_contabilizadas, p.actas_esperadas)
        # a later cut never loses an acta of an earlier one
        before = {r.casilla.clave for r in er.registered() if r.casilla}
        after = {r.casilla.clave for r in cut2.elections[eid].registered() if r.casilla}
        assert before <= after
        assert cut2.elections[eid].preamble.actas_registradas >= p.actas_registradas
