"""The counting rules, one case at a time, under both profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prepcast.election.acta import Mark
from prepcast.election.rules import (
    EvaluatedActa,
    evaluate_fuera_catalogo,
    evaluate_sin_acta,
    evaluate_votes,
    format_observaciones,
    get_profile,
    preamble,
    truncate4,
)

INE = get_profile("ine-2023")
QROO = get_profile("qroo-2019")
IL, SD, NA = Mark.ILEGIBLE, Mark.SIN_DATO, Mark.NO_APLICA


def test_percentages_are_truncated_not_rounded() -> None:
    assert truncate4(2, 3) == Decimal("66.6666")
    assert truncate4(1, 7) == Decimal("14.2857")
    assert truncate4(4682, 4778) == Decimal("97.9907")
    assert truncate4(5, 0) == Decimal("0.0000")
    assert str(truncate4(4778, 4778)) == "100.0000"


def test_clean_acta_is_counted() -> None:
    ev = evaluate_votes(INE, [10, 20, 3, NA], vote_limit=100)
    assert (ev.total_calculado, ev.contabilizada, ev.tags, ev.inconsistente) == (33, 1, (), False)
    assert format_observaciones(INE, ev) == ""


def test_ilegible_and_sin_dato_count_as_zero_and_mark_the_acta() -> None:
    ev = evaluate_votes(INE, [10, IL, SD, 5], vote_limit=100)
    assert ev.total_calculado == 15 and ev.contabilizada == 1 and ev.inconsistente
    assert format_observaciones(INE, ev) == "['Ilegible', 'Sin dato']"
    assert format_observaciones(QROO, evaluate_votes(QROO, [10, IL, SD, 5], 100)) == (
        "ALGUN DATO ILEGIBLE O SIN DATO")


@pytest.mark.parametrize(
    ("votes", "ine", "qroo"),
    [
        ([IL, IL, NA], (0, "['Todos los campos ilegibles']"), (0, "TODOS ILEGIBLES O SIN DATO")),
        ([SD, SD, SD], (0, "['Todos los campos vacíos']"), (0, "TODOS ILEGIBLES O SIN DATO")),
        # INE counts an acta mixing the two (as zeros); Quintana Roo 2019 did not.
        ([IL, SD, SD], (1, "['Ilegible', 'Sin dato']"), (0, "TODOS ILEGIBLES O SIN DATO")),
    ],
)
def test_actas_without_any_number(votes: list[Mark], ine: tuple[int, str], qroo: tuple[int, str]) -> None:
    for profile, (contab, obs) in ((INE, ine), (QROO, qroo)):
        ev = evaluate_votes(profile, votes, vote_limit=500)
        assert ev.contabilizada == contab
        assert ev.inconsistente
        assert ev.total_calculado == 0
        if profile is INE:
            assert format_observaciones(profile, ev) in (obs, obs.strip("[]'"))
        else:
            assert format_observaciones(profile, ev) == obs


def test_excede_lista_nominal_is_a_profile_decision() -> None:
    ine = evaluate_votes(INE, [300, 250, SD], vote_limit=520)
    assert ine.contabilizada == 0 and ine.inconsistente
    assert format_observaciones(INE, ine) == "['Excede Lista Nominal', 'Sin dato']"
    qroo = evaluate_votes(QROO, [300, 250, SD], vote_limit=520)
    assert qroo.contabilizada == 1 and qroo.total_calculado == 550
    assert evaluate_votes(INE, [300, 220], vote_limit=520).contabilizada == 1  # equal is fine


def test_unknown_limit_never_excludes() -> None:
    assert evaluate_votes(INE, [10_000], vote_limit=None).contabilizada == 1


def test_sin_acta_and_fuera_de_catalogo() -> None:
    sin = evaluate_sin_acta(3)
    assert (sin.contabilizada, sin.inconsistente) == (0, False)
    assert format_observaciones(INE, sin) == "Sin acta(3)"
    assert format_observaciones(QROO, sin) == "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE"
    fuera = evaluate_fuera_catalogo()
    assert fuera.contabilizada == 2
    assert format_observaciones(INE, fuera) == "Fuera de Catálogo"


def test_preamble_of_a_handful_of_actas() -> None:
    actas = [
        EvaluatedActa(evaluate_votes(INE, [100, 50], 400), 400, False),
        EvaluatedActa(evaluate_votes(INE, [30, SD], 300), 300, False),
        EvaluatedActa(evaluate_votes(INE, [500, 1], 300), 300, False),  # excede
        EvaluatedActa(evaluate_votes(INE, [40, 2], None), 0, True),  # especial
        EvaluatedActa(evaluate_sin_acta(1), 250, False),
        EvaluatedActa(evaluate_fuera_catalogo(), 0, False),
    ]
    p = preamble(actas, esperadas=8, last_cut=False)
    assert p.actas_registradas == 6 and p.actas_fuera_catalogo == 1 and p.actas_capturadas == 5
    assert p.actas_contabilizadas == 3 and p.actas_no_contabilizadas == 2
    assert p.lista_nominal_actas_contabilizadas == 700
    assert (p.total_votos_c_cs, p.total_votos_s_cs) == (222, 180)
    assert str(p.porcentaje_actas_inconsistencias) == "25.0000"  # 2 of 8
    assert str(p.porcentaje_participacion_ciudadana) == "25.7142"  # 180 / 700
    assert str(preamble(actas, 8, last_cut=True).porcentaje_participacion_ciudadana) == "31.7142"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="ine-2023"):
        get_profile("ine-1990")
