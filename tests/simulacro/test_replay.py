"""Real nights replayed: `prepcast simulacro --from-database` plays both real published databases
through the night runner, the local difusores and the readers; the last cut's database recounts
to the preamble the institute published, and a difusor's site shows those figures in Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from prepcast.cli import main
from prepcast.difusor.activate import ReleaseStore
from prepcast.election.rules import get_profile
from prepcast.formats.read_prep_csv import PublishedDatabase, parse_prep_csv, read_prep_csv
from prepcast.formats.recount import recount
from tests.conftest import QROO, REAL, TAMAULIPAS
from tests.site.site_server import StaticServer

CUTS = 3  # the whole night in three cuts: the first, one in the middle, the published one


@dataclass(frozen=True)
class Case:
    name: str
    database: Path
    candidaturas: Path
    rules: str


CASES = [
    Case("tamaulipas-2023", TAMAULIPAS,
         REAL / "tamaulipas-2023-sen-ext" / "TAMPS_SEN_FED_ext_Candidaturas_2023.csv", "ine-2023"),
    Case("qroo-2019", QROO, REAL / "qroo-2019-dip-loc" / "QROO_DIP_CANDIDATURAS_2019.csv",
         "qroo-2019"),
]


@dataclass(frozen=True)
class Replayed:
    case: Case
    out: Path
    stdout: str
    published: PublishedDatabase
    manifests: list[dict[str, Any]]


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def replayed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """The night of one real database, replayed once for the tests of this module."""
    case: Case = request.param
    out = tmp_path_factory.mktemp(case.name) / "sim"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["simulacro", "--from-database", str(case.database), "--candidaturas",
                     str(case.candidaturas), "--rules", case.rules, "--cuts", str(CUTS),
                     "--out", str(out), "--sftp-only", "1", "--daemons", "1", "--no-report"])
    assert code == 0, printed.getvalue()
    manifests = [json.loads(p.read_bytes()) for p in sorted((out / "manifiestos").iterdir())]
    return Replayed(case, out, printed.getvalue(), read_prep_csv(case.database), manifests)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]}


def _last_database(r: Replayed) -> tuple[str, str]:
    """(zip name, CSV text) of the database the last cut published."""
    pkg = r.out / "estado" / "paquetes" / f"simulacro-1-{len(r.manifests):04d}"
    (zpath,) = sorted((pkg / "db").rglob("*.zip"))
    with zipfile.ZipFile(zpath) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".csv") and "CANDIDATURAS" not in n]
        return zpath.name, zf.read(name).decode("utf-8-sig")


def _when(text: str) -> datetime | None:
    for fmt in ("%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


@pytest.mark.slow  # a whole real night replayed: tens of seconds
def test_the_whole_night_reaches_every_difusor(replayed: Replayed) -> None:
    r = replayed
    assert [m["cut"] for m in r.manifests] == list(range(1, CUTS + 1))
    # the last cut is the one the institute published, at its own date and time
    published_cut = r.published.cut_line
    last_at = datetime.fromisoformat(r.manifests[-1]["built_at"])
    assert last_at.strftime("%H:%M") in published_cut
    # the night's own time, then the whole run's (setup, drill and informe too)
    times = re.search(rf"{CUTS} cortes en ([0-9.]+) s \(simulacro completo: ([0-9.]+) s\)",
                      r.stdout)
    assert times is not None, r.stdout
    assert 0 < float(times[1]) < float(times[2])
    # the command's table ends on the published figures
    last_row = next(line for line in r.stdout.splitlines() if line.startswith(f"│     {CUTS} │"))
    for figure in ("PORCENTAJE_ACTAS_CAPTURADAS", "PORCENTAJE_ACTAS_CONTABILIZADAS",
                   "PORCENTAJE_PARTICIPACION_CIUDADANA"):
        assert r.published.preamble[figure].strip() in last_row
    for root in (r.out / "difusores").iterdir():
        if root.is_dir() and (root / "releases").is_dir():
            live = ReleaseStore(root).live_cut()
            assert live is not None and live.cut == CUTS, root.name


@pytest.mark.slow  # a whole real night replayed: tens of seconds
def test_each_acta_arrives_at_its_capture_time(replayed: Replayed) -> None:
    """A cut in the middle of the night registers exactly the rows captured (or verified) by
    its time, as the published file dates them."""
    r = replayed
    middle = r.manifests[1]
    at = datetime.fromisoformat(middle["built_at"]).replace(tzinfo=None)
    due = 0
    for row in r.published.rows:
        t = _when(row.get("FECHA_HORA_VERIFICACION", "")) or _when(row.get("FECHA_HORA_CAPTURA", ""))
        due += t is not None and t <= at
    figures = _served_preamble(r, 2)
    assert 0 < int(figures["ACTAS_REGISTRADAS"]) < len(r.published.rows)
    assert int(figures["ACTAS_REGISTRADAS"]) == due


def _served_preamble(r: Replayed, cut: int) -> dict[str, str]:
    """The preamble of cut ``cut``'s database as the local difusor serves it (its bases page
    keeps every cut's database)."""
    live = ReleaseStore(r.out / "difusores" / "local-sftp-01").live_dir()
    assert live is not None
    (zpath,) = sorted((live / "db" / f"simulacro-1-{cut:04d}").glob("*.zip"))
    with zipfile.ZipFile(zpath) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".csv") and "CANDIDATURAS" not in n]
        text = zf.read(name).decode("utf-8-sig")
    return {k: v.strip() for k, v in parse_prep_csv(text, zpath.name).preamble.items()}


@pytest.mark.slow  # a whole real night replayed: tens of seconds
def test_last_cut_recounts_to_the_published_preamble(replayed: Replayed) -> None:
    r = replayed
    zname, text = _last_database(r)
    rc = recount(parse_prep_csv(text, zname), get_profile(r.case.rules), last_cut=True)
    assert rc.rows_mismatched == 0
    assert rc.rows == len(r.published.rows)
    figures = {k: str(v) for k, v in rc.preamble.as_dict().items()}
    assert len(figures) == 13
    assert figures == {k: r.published.preamble[k].strip() for k in figures}


def _cifra(page: Page, campo: str) -> str:
    text = page.locator(f'main .cifra[data-campo="{campo}"] .valor').inner_text()
    return text.replace(",", "").replace("\u00a0", " ").strip()


@pytest.mark.browser
def test_difusor_site_shows_the_published_figures(replayed: Replayed, page: Page) -> None:
    """The local difusor's live cut, opened in Chromium: the entidad view shows the figures of
    the real file's preamble."""
    r = replayed
    pre = {k: v.strip() for k, v in r.published.preamble.items()}
    live = ReleaseStore(r.out / "difusores" / "local-sftp-01").live_dir()
    assert live is not None
    main_json = json.loads((live / "json" / "main.json").read_bytes())["signed"]
    (eleccion,) = [e["id"] for e in main_json["data"]["elecciones"]]
    with StaticServer(live) as srv:
        page.goto(f"{srv.url}index.html#/{eleccion}")
        page.wait_for_selector(f'main[data-vista="{eleccion}"]', timeout=15_000)
        assert _cifra(page, "esperadas") == pre["ACTAS_ESPERADAS"]
        assert _cifra(page, "capturadas") == pre["ACTAS_CAPTURADAS"]
        assert _cifra(page, "contabilizadas") == pre["ACTAS_CONTABILIZADAS"]
        extra = page.locator('main .cifra[data-campo="contabilizadas"] .extra').inner_text()
        assert extra == f"{pre['PORCENTAJE_ACTAS_CONTABILIZADAS']} %"
        assert _cifra(page, "participacion") == f"{pre['PORCENTAJE_PARTICIPACION_CIUDADANA']} %"
        assert _cifra(page, "lista_nominal_contabilizadas") == pre["LISTA_NOMINAL_ACTAS_CONTABILIZADAS"]
        assert _cifra(page, "total_votos") == pre["TOTAL_VOTOS_C_CS"]
        assert main_json["cut_display"] in page.locator("body").inner_text()


def test_misused_replay_options_answer_with_one_message(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such.csv"
    assert main(["simulacro", "--from-database", str(missing), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert f"{missing}" in err and "no such file" in err and "Traceback" not in err
    assert main(["simulacro", "--candidaturas", str(QROO), "--out", str(tmp_path / "b")]) == 2
    assert "--candidaturas goes with --from-database" in capsys.readouterr().err
    assert main(["simulacro", "--from-database", str(QROO), "--cuts", "0",
                 "--out", str(tmp_path / "c")]) == 2
    assert "--cuts must be at least 1" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in "abc")


def test_the_readme_documents_the_replay() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### A real night replayed"):]
    for option in ("--from-database", "--candidaturas", "--rules", "--cuts", "FROM_DATABASE="):
        assert option in section, option


def test_a_replay_under_rules_that_do_not_recount_the_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: Quintana Roo 2019 replayed under the default rules (`ine-2023`) ran to the
    end, exit 0, "verificado y recontado", and its last cut published other figures than the
    institute did (contabilizadas 94.8033 for 95.0842, TOTAL_VOTOS_C_CS 259215 for 263005).
    Now it is refused before anything is made, naming the figures that differ and the rules
    that reproduce them."""
    out = tmp_path / "rx"
    assert main(["simulacro", "--from-database", str(QROO), "--cuts", "2", "--out", str(out),
                 "--no-readers", "--no-report", "--no-monitor"]) == 2
    err = capsys.readouterr().err
    assert ("under --rules ine-2023 the recount differs from the file's preamble: "
            "PORCENTAJE_ACTAS_CONTABILIZADAS published 95.0842, recounted 94.8033") in err, err
    assert "TOTAL_VOTOS_C_CS published 263005, recounted 259215" in err
    assert "6 rows' CONTABILIZADA or TOTAL_VOTOS_CALCULADO differ" in err
    assert err.rstrip().endswith("the rules that reproduce them: --rules qroo-2019"), err
    assert "Traceback" not in err and not out.exists()
