"""Recounting the real published databases reproduces their published preambles exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election.rules import PREAMBLE_FIELDS, get_profile
from prepcast.formats.read_prep_csv import parse_prep_csv, read_prep_csv
from prepcast.formats.recount import recount
from tests.conftest import QROO, TAMAULIPAS

TAMPS_PUBLISHED = {
    "ACTAS_ESPERADAS": 4778, "ACTAS_REGISTRADAS": 4782, "ACTAS_FUERA_CATALOGO": 4,
    "ACTAS_CAPTURADAS": 4778, "PORCENTAJE_ACTAS_CAPTURADAS": "100.0000",
    "ACTAS_CONTABILIZADAS": 4682, "PORCENTAJE_ACTAS_CONTABILIZADAS": "97.9907",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS": "22.6663", "ACTAS_NO_CONTABILIZADAS": 96,
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS": 2688320, "TOTAL_VOTOS_C_CS": 590396,
    "TOTAL_VOTOS_S_CS": 581392, "PORCENTAJE_PARTICIPACION_CIUDADANA": "21.9615",
}  # fmt: skip
QROO_PUBLISHED = {
    "ACTAS_ESPERADAS": 2136, "ACTAS_REGISTRADAS": 2136, "ACTAS_FUERA_CATALOGO": 0,
    "ACTAS_CAPTURADAS": 2136, "PORCENTAJE_ACTAS_CAPTURADAS": "100.0000",
    "ACTAS_CONTABILIZADAS": 2031, "PORCENTAJE_ACTAS_CONTABILIZADAS": "95.0842",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS": "23.0337", "ACTAS_NO_CONTABILIZADAS": 105,
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS": 1187254, "TOTAL_VOTOS_C_CS": 263005,
    "TOTAL_VOTOS_S_CS": 262598, "PORCENTAJE_PARTICIPACION_CIUDADANA": "22.1523",
}  # fmt: skip


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["results", "recount", *args, "--last-cut", "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_tamaulipas_recount_equals_published_preamble(capsys: pytest.CaptureFixture[str]) -> None:
    out = _cli_json(capsys, str(TAMAULIPAS))
    assert list(out) == [*PREAMBLE_FIELDS, "rows_mismatched"]
    assert out == {**TAMPS_PUBLISHED, "rows_mismatched": 0}


def test_qroo_recount_with_its_rules(capsys: pytest.CaptureFixture[str]) -> None:
    out = _cli_json(capsys, str(QROO), "--rules", "qroo-2019")
    assert out == {**QROO_PUBLISHED, "rows_mismatched": 0}


def test_qroo_under_ine_rules_disagrees() -> None:
    """The profiles differ where the institutes did: INE would not count over-the-list actas."""
    rc = recount(read_prep_csv(QROO), get_profile("ine-2023"), last_cut=True)
    assert rc.rows_mismatched > 0
    assert rc.preamble.actas_contabilizadas < 2031


def test_participation_leaves_out_especiales_before_the_last_cut() -> None:
    db = read_prep_csv(TAMAULIPAS)
    night = recount(db, get_profile("ine-2023"), last_cut=False).preamble
    last = recount(db, get_profile("ine-2023"), last_cut=True).preamble
    # 581392 / 2688320 = 21.62659…: truncated, not rounded
    assert str(night.porcentaje_participacion_ciudadana) == "21.6265"
    assert str(last.porcentaje_participacion_ciudadana) == "21.9615"


def _variant(text: str, kind: str) -> str:
    lines = text.splitlines()
    if kind == "lf":
        return "\n".join(lines) + "\n"
    if kind == "crlf":
        return "\r\n".join(lines) + "\r\n"
    if kind == "upper-placeholders":
        return "\r".join(ln.replace("Sin dato", "SIN DATO").replace("Ilegible", "ILEGIBLE")
                         for ln in lines)
    if kind == "pipes-sep-line":
        out = ["sep=|"]
        for ln in lines:
            out.append(ln.replace("'", "").replace(",", "|") if "," in ln else ln)
        return "\n".join(out)
    if kind == "excel-keys":
        return "\n".join(ln.replace("'", '="', 1).replace("',", '",', 1) if ln.startswith("'")
                         else ln for ln in lines)
    if kind == "sha-column":
        return "\r".join(ln.replace(",CODIGO_INTEGRIDAD,", ",SHA,") for ln in lines)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["lf", "crlf", "upper-placeholders", "pipes-sep-line", "excel-keys", "sha-column"]
)
def test_layout_variants_recount_the_same(kind: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = TAMAULIPAS.read_bytes().decode("utf-8-sig")
    if kind == "pipes-sep-line":
        # OBSERVACIONES lists hold commas; keep them as phrases in the pipe layout.
        text = text.replace("['", "").replace("']", "").replace("', '", " y ")
    path = tmp_path / f"{kind}.csv"
    body = _variant(text, kind).encode("utf-8")
    path.write_bytes(body if kind == "lf" else b"\xef\xbb\xbf" + body)
    out = _cli_json(capsys, str(path))
    assert out == {**TAMPS_PUBLISHED, "rows_mismatched": 0}


def test_cp1252_file_is_read(tmp_path: Path) -> None:
    text = QROO.read_text(encoding="utf-8").replace("DISTRITO 1|", "DISTRITO ÑUÑOA|")
    path = tmp_path / "cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    db = read_prep_csv(path)
    assert any(r["DISTRITO"] == "DISTRITO ÑUÑOA" for r in db.rows)


def test_recount_prints_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", "recount", str(TAMAULIPAS), "--last-cut"]) == 0
    out = capsys.readouterr().out
    assert "PORCENTAJE_PARTICIPACION_CIUDADANA  21.9615" in out
    assert "rows_mismatched" in out and "(published" not in out


def test_mismatched_rows_are_counted() -> None:
    text = TAMAULIPAS.read_bytes().decode("utf-8-sig")
    lines = text.split("\r")
    row = lines[8].split(",")
    row[34] = "0"  # CONTABILIZADA of a counted acta
    lines[8] = ",".join(row)
    db = parse_prep_csv("\r".join(lines), "edited.csv")
    rc = recount(db, get_profile("ine-2023"), last_cut=True)
    assert rc.rows_mismatched == 1
    assert rc.mismatched_lines == (9,)


def test_a_recount_that_disagrees_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: Quintana Roo without --rules qroo-2019 recounts other figures; the
    figures are printed, and the exit status says they differ (3), so scripts can rely on it."""
    assert main(["results", "recount", str(QROO), "--last-cut"]) == 3
    captured = capsys.readouterr()
    assert "(published " in captured.out and "rows_mismatched" in captured.out
    assert captured.err.startswith(f"prepcast: {QROO}: the recount under rules ine-2023 differs")
    assert "row(s) (other --rules, or --last-cut?)" in captured.err
    assert main(["results", "recount", str(QROO), "--last-cut", "--rules", "qroo-2019"]) == 0
    assert main(["results", "recount", str(QROO), "--last-cut", "--json"]) == 3
