"""The data files of a cut: valid against their schemas, complete, and immutable where the
layout promises it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prepcast.election import ElectionDir
from prepcast.package.canonical import content_name
from prepcast.site import SCHEMA, SiteWriter, site_files, validate
from tests.site.site_package import build_cut


def _json_files(files: dict[str, bytes]) -> dict[str, object]:
    return {p: json.loads(b) for p, b in files.items() if p.endswith(".json")}


@pytest.mark.parametrize("number", [1, 10, 73])
def test_every_file_is_valid_and_content_addressed(election: ElectionDir, number: int) -> None:
    _cut, site = build_cut(election, number)
    problems = {p: validate(obj) for p, obj in _json_files(site.files).items()}
    assert {p: v for p, v in problems.items() if v} == {}
    assert validate(site.main_fields) == []
    for path, data in site.files.items():
        if path != "index.html":
            stem = path.rsplit(".", 2)[0] + "." + path.rsplit(".", 1)[1]
            assert content_name(stem, data) == path
    assert len(site.files) <= 1000


def test_main_fields_name_files_of_the_site(election: ElectionDir) -> None:
    _cut, site = build_cut(election, 10)
    data = site.main_fields
    assert data["schema"] == SCHEMA
    named = [data["proceso"], data["bases"], data["difusores"]] + [e["entidad"] for e in data["elecciones"]]
    assert all(p in site.files for p in named)
    html = site.files["index.html"].decode()
    refs = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert [r for r in refs if r.startswith("assets/")] and all(
        r in site.files for r in refs if not r.startswith(("data:", "#"))
    )  # relative URLs only, every one in the package


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def test_every_path_a_file_names_is_in_the_cut(election: ElectionDir) -> None:
    _cut, site = build_cut(election, 20)
    named = {s for obj in _json_files(site.files).values() for s in _strings(obj) if s.startswith("data/")}
    assert len(named) > 10 and named <= set(site.files)


def test_segments_of_earlier_cuts_do_not_change(election: ElectionDir) -> None:
    _c1, a = build_cut(election, 9)
    _c2, b = build_cut(election, 10)
    segs_a = {p for p in a.files if "/actas/" in p}
    segs_b = {p for p in b.files if "/actas/" in p}
    new = segs_b - segs_a
    assert new, "cut 10 brings new actas"
    # Only the segments of cut 10 are new (an acta captured again would also move).
    assert all(p.split("/actas/")[1].startswith("10-") for p in new)
    assert segs_a <= segs_b
    # The catalog and proceso files are immutable across cuts.
    assert {p for p in a.files if "catalogo" in p or "proceso" in p} == {
        p for p in b.files if "catalogo" in p or "proceso" in p
    }


def test_same_cut_same_bytes(election: ElectionDir) -> None:
    _c, a = build_cut(election, 12)
    _c, b = build_cut(election, 12)
    assert a.files == b.files and a.main_fields == b.main_fields


def test_entidad_file_holds_the_engine_figures(election: ElectionDir) -> None:
    cut, site = build_cut(election, 15)
    for entry in site.main_fields["elecciones"]:
        ent = json.loads(site.files[entry["entidad"]])
        er = cut.elections[entry["id"]]
        assert ent["totales"]["votos"] == er.entidad.votos
        assert ent["preambulo"]["ACTAS_CAPTURADAS"] == str(er.preamble.actas_capturadas)
        assert sum(a["totales"]["capturadas"] for a in ent["ambitos"]) == er.entidad.capturadas
        actas = 0
        for path in ent["segmentos"].values():
            actas += len(json.loads(site.files[path])["actas"])
        assert actas == er.preamble.actas_registradas


def test_a_schema_violation_is_reported_with_its_place(election: ElectionDir) -> None:
    _cut, site = build_cut(election, 10)
    ent = json.loads(site.files[site.main_fields["elecciones"][0]["entidad"]])
    ent["totales"]["esperadas"] = -1
    assert any(p.startswith("totales/esperadas") for p in validate(ent))
    assert validate({"schema": "nope"}) == ["unknown schema 'nope'"]


def test_leeme_and_zips_are_listed(election: ElectionDir, tmp_path: Path) -> None:
    cut, site = build_cut(election, 10)
    bases = json.loads(site.files[site.main_fields["bases"]])
    assert [b["nombre"].split("_PREP_")[1] for b in bases["bases"]] == ["DIP_LOC.zip", "AYUN.zip"]
    assert all(b["ruta"].startswith("db/jornada-0010/") for b in bases["bases"])
    assert all("LEEME" in b["leeme"] or "Programa" in b["leeme"] for b in bases["bases"])
    assert site_files(cut, [], []).main_fields["bases"] != site.main_fields["bases"]


def test_public_surface() -> None:
    import prepcast.site

    assert set(prepcast.site.__all__) == {"SCHEMA", "DatabaseZip", "SiteFiles", "SiteWriter", "site_files", "validate",
                                          "history_json", "read_history", "seccion_index"}
    assert all(hasattr(prepcast.site, name) for name in prepcast.site.__all__)


def test_a_night_long_writer_gives_the_bytes_of_a_fresh_one(election: ElectionDir) -> None:
    """Cuts in a row, a cut again, and a cut back in time: the same files as from scratch."""
    from dataclasses import replace

    from prepcast.election import cut_time, tally_cut
    from prepcast.formats.write_prep_csv import build_databases

    p = election.proceso
    writer = SiteWriter(segment_actas=20)
    feeds = dict(election.feeds)
    for number in (5, 6, 7, 7, 3, 9):
        if number == 9:  # an acta of cut 2 captured again for cut 9: old segments change
            feed = list(feeds["DIP_LOC"])
            first = next(a for a in feed if a.registro <= cut_time(p, 2) and a.registro > cut_time(p, 1))
            feed.append(replace(first, registro=cut_time(p, 9), codigo_integridad="0" * 64))
            feeds["DIP_LOC"] = tuple(feed)
        cut = tally_cut(p, election.casillas, feeds, cut_time(p, number), number=number)
        dbs = build_databases(cut)
        a = writer.files(cut, dbs, [])
        b = site_files(cut, dbs, [], segment_actas=20)
        assert a.files == b.files and a.main_fields == b.main_fields, number


def test_history_grows_by_one_row_per_cut(election: ElectionDir, tmp_path: Path) -> None:
    from prepcast.site.history import FIELDS, history_json

    writer = SiteWriter()
    rows = []
    previous = None
    for number in (3, 4, 5):
        cut, _ = build_cut(election, number)
        from prepcast.formats.write_prep_csv import build_databases

        site = writer.files(cut, build_databases(cut), [], history=previous)
        assert validate(json.loads(site.files[site.main_fields["historial"]])) == []
        previous = site.history
        rows = site.history["elecciones"]["DIP_LOC"]
        t = cut.elections["DIP_LOC"].entidad
        last = dict(zip(FIELDS, rows[-1], strict=True))
        assert last["corte"] == number and last["contabilizadas"] == t.contabilizadas
        assert last["lista_nominal_contabilizadas"] == t.lista_nominal_contabilizadas
    assert [r[0] for r in rows] == [3, 4, 5]
    # Building a cut again after an older history drops the rows it replaces: same bytes.
    cut4, _ = build_cut(election, 4)
    again = history_json(previous, cut4)
    assert [r[0] for r in again["elecciones"]["DIP_LOC"]] == [3, 4]
    # Without a previous history: one row.
    assert [r[0] for r in history_json(None, cut4)["elecciones"]["AYUN"]] == [4]


def test_history_is_read_from_the_previous_package(election: ElectionDir, tmp_path: Path) -> None:
    from tests.site.site_package import publish

    publish(election, 6, tmp_path / "a")
    b = publish(election, 7, tmp_path / "b", previous=tmp_path / "a")
    assert SiteWriter().history_after(tmp_path / "b") == b.site.history
    assert SiteWriter().history_after(tmp_path / "nothing-here") is None
    assert [r[0] for r in b.site.history["elecciones"]["DIP_LOC"]] == [6, 7]
    writer = SiteWriter()
    cut, _ = build_cut(election, 8)
    from prepcast.formats.write_prep_csv import build_databases

    site = writer.files(cut, build_databases(cut), [], history=writer.history_after(tmp_path / "b"))
    assert [r[0] for r in site.history["elecciones"]["DIP_LOC"]] == [6, 7, 8]


def test_seccion_index_names_the_ambito_of_every_seccion(election: ElectionDir) -> None:
    cut, site = build_cut(election, 10)
    index = json.loads(site.files[site.main_fields["secciones"]])
    assert validate(index) == []
    for eid, results in cut.elections.items():
        e = index["elecciones"][eid]
        assert e["ambito"] == results.election.ambito.value
        found = {s: a for first, last, a in e["tramos"] for s in range(first, last + 1)}
        assert found == results.seccion_ambito
    # It never changes in a night: the same path at the first and the last cut.
    _, first = build_cut(election, 1)
    assert first.main_fields["secciones"] == site.main_fields["secciones"]


def test_the_script_carries_the_root_key(election: ElectionDir) -> None:
    import base64

    from tests.site.site_package import signer

    _cut, site = build_cut(election, 2)
    script = next(b for p, b in site.files.items() if p.startswith("assets/app."))
    assert f'var RAIZ = "{base64.b64encode(signer().root_public).decode()}";'.encode() in script
    _cut, bare = build_cut(election, 2, root_key=None)
    assert b'var RAIZ = "";' in next(b for p, b in bare.files.items() if p.startswith("assets/app."))
