"""Synthetic elections: deterministic, shaped like the real nights, sized like the real entidades."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir, tally_cut
from prepcast.election.acta import Mark, Status
from prepcast.election.acta_image import render_lines
from prepcast.election.schedule import cut_time
from prepcast.election.synthetic import PROFILES, _catalog, generate
from tests.election.trees import tree_digest


def test_same_seed_same_bytes(tmp_path: Path, small_election: Path) -> None:
    again = generate("small", 7, tmp_path / "again")
    assert tree_digest(again) == tree_digest(small_election)
    other = generate("small", 8, tmp_path / "other")
    assert tree_digest(other) != tree_digest(small_election)


@pytest.mark.parametrize(("profile", "casillas", "lista", "distritos", "municipios", "especiales"), [
    ("edomex-2024", 20_500, 12_670_000, 45, 125, None),
    ("michoacan-2024", 6_430, 3_750_000, 24, 112, 67),
])
def test_profiles_are_sized_like_the_real_entidades(profile: str, casillas: int, lista: int,
                                                    distritos: int, municipios: int,
                                                    especiales: int | None) -> None:
    p = PROFILES[profile]
    rows = _catalog(p, random.Random(f"{profile}:1"))
    assert abs(len(rows) - casillas) / casillas < 0.04
    assert abs(sum(int(r[10]) for r in rows) - lista) / lista < 0.05
    assert len({r[1] for r in rows}) == distritos
    assert len({r[3] for r in rows}) == municipios
    if especiales is not None:
        assert sum(1 for r in rows if r[6] == "S") == especiales


def test_night_is_shaped_like_a_real_one(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    p = ed.proceso
    share = []
    for n in (1, 10, 22, len(p.cut_times())):
        cut = tally_cut(p, ed.casillas, ed.feeds, cut_time(p, n), number=n)
        share.append(float(cut.elections["DIP_LOC"].preamble.porcentaje_actas_capturadas))
    assert share[0] < 10 < share[1] < share[2] < share[3]  # few at 20:00, most by dawn
    assert share[3] > 93
    actas = [a for feed in ed.feeds.values() for a in feed]
    assert any(a.status is Status.SIN_ACTA for a in actas)
    assert any(a.status is Status.FUERA_CATALOGO for a in actas)
    assert any(Mark.ILEGIBLE in a.votes for a in actas)
    sin_dato = sum(1 for a in actas if Mark.SIN_DATO in a.votes) / len(actas)
    assert 0.1 < sin_dato < 0.35  # about one acta in five, as in the real files


def test_codigo_integridad_is_the_sha256_of_a_png(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    a = next(a for a in ed.feeds["AYUN"] if a.status is Status.CAPTURADA)
    assert len(a.codigo_integridad) == 64
    png = render_lines(["PREP", "ACTA"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_generate_refuses_a_non_empty_directory(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    code = main(["election", "generate", "--profile", "small", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["keep.txt"]


def test_without_images_only_the_integrity_codes_differ(tmp_path: Path, small_election: Path) -> None:
    plain = generate("small", 7, tmp_path / "plain", images=False)
    assert tree_digest(generate("small", 7, tmp_path / "again", images=False)) == tree_digest(plain)
    with_images = load_election_dir(small_election)
    without = load_election_dir(plain)
    assert without.casillas == with_images.casillas
    for eid, actas in with_images.feeds.items():
        other = without.feeds[eid]
        assert [a.votes for a in other] == [a.votes for a in actas]
        assert [a.registro for a in other] == [a.registro for a in actas]
        codes = [(a.codigo_integridad, b.codigo_integridad) for a, b in zip(actas, other, strict=True)
                 if a.codigo_integridad]
        assert codes and all(a != b and len(b) == 64 for a, b in codes)
