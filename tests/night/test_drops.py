"""The PREP capture system as the night's source: the real runner fed by a drop folder.

The real Tamaulipas 2023 database is cut into cumulative drops (its rows registered by each cut,
the preamble recounted), dropped one by one into the folder of ``prepcast night run --drops``:
a good one, a half-written one (then completed), one with a wrong ``.sha256``, one whose
preamble lies, and at last the file the institute published. After each, what the difusores
(an SFTP-only one and a daemon one on a real OpenSSH sshd) serve."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from prepcast.election import Election, load_election_dir
from prepcast.election.rules import get_profile
from prepcast.formats.import_prep_csv import actas_of_database, import_database
from prepcast.formats.read_prep_csv import parse_prep_csv, read_prep_csv
from prepcast.formats.recount import recount
from prepcast.package import CutId
from prepcast.package.keys import ROOT_PUB
from prepcast.package.layout import db_dir
from tests.conftest import TAMAULIPAS
from tests.distribution.dist_servers import Sshd
from tests.night.night_run import night_args, run_night, status
from tests.night.night_servers import (
    NightDifusor,
    daemon_difusor,
    registry,
    sftp_difusor,
    stop,
    wait_live,
)

pytestmark = pytest.mark.server

INE = get_profile("ine-2023")
CANDIDATURAS = TAMAULIPAS.with_name("TAMPS_SEN_FED_ext_Candidaturas_2023.csv")
CSV_NAME = TAMAULIPAS.name


def cumulative(at: datetime) -> bytes:
    """The real database as the capture system would have written it at ``at``: the rows
    registered by then, the cut line and the preamble of that cut (UTF-8 with BOM, CR ends)."""
    db = read_prep_csv(TAMAULIPAS)
    election = _election()
    keep = {line for line, a in zip(db.row_lines, actas_of_database(db, election), strict=True)
            if a.registro <= at}
    rows = set(db.row_lines)
    lines = TAMAULIPAS.read_bytes()[3:].decode("utf-8").splitlines()
    out = [ln for n, ln in enumerate(lines, start=1) if n not in rows or n in keep]
    out[1] = at.strftime("%d/%m/%Y %H:%M") + " (UTC-6)"
    figures = recount(parse_prep_csv("\r".join(out)), INE, last_cut=False).preamble
    i = next(i for i, ln in enumerate(out) if ln.startswith("ACTAS_ESPERADAS,"))
    out[i + 1] = ",".join(figures.as_row())
    return b"\xef\xbb\xbf" + "\r".join(out).encode("utf-8") + b"\r"


_ELECTION: list[Path] = []


def _election() -> Election:
    return load_election_dir(_ELECTION[0], with_feeds=False).proceso.elections[0]


def zipped(csv_bytes: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(CSV_NAME, csv_bytes)
        zf.writestr(CANDIDATURAS.name, CANDIDATURAS.read_bytes())
    return buf.getvalue()


def drop(folder: Path, stamp: str, data: bytes, *, sha: str | None = "good",
         settled: bool = True) -> Path:
    """Write a zip as the capture system does: the zip, then its .sha256."""
    path = folder / f"{stamp}_PREP_SEN.zip"
    path.write_bytes(data)
    if settled:
        t = time.time() - 30
        os.utime(path, (t, t))
    if sha is not None:
        digest = hashlib.sha256(data).hexdigest() if sha == "good" else sha
        (folder / f"{path.name}.sha256").write_text(f"{digest}  {path.name}\n")
    return path


def served_preamble(d: NightDifusor) -> dict[str, str]:
    """The preamble of the database zip of the cut the difusor serves."""
    live = d.live()
    assert live is not None
    [z] = list((d.root / "current" / db_dir(live.ejercicio.name, live.cut)).glob("*.zip"))
    with zipfile.ZipFile(z) as zf:
        [name] = [n for n in zf.namelist() if n.endswith(".csv") and "CANDIDATURAS" not in n]
        db = parse_prep_csv(zf.read(name).decode("utf-8-sig"))
    return db.preamble


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.fixture
def difusores(sshd: Sshd, night_keys: Path, tmp_path: Path) -> Iterator[list[NightDifusor]]:
    made = [sftp_difusor(sshd, "solo-sftp"),
            daemon_difusor(sshd, "con-demonio", tmp_path / "demonio", night_keys / ROOT_PUB)]
    yield made
    stop(made)


def test_the_capture_systems_drops_published_or_refused_one_by_one(
        sshd: Sshd, night_keys: Path, tmp_path: Path, difusores: list[NightDifusor]) -> None:
    # the approved casillas catalog (here: the one the published file's rows make)
    catalog = tmp_path / "catalogo"
    import_database(TAMAULIPAS, catalog, candidaturas=CANDIDATURAS, rules="ine-2023",
                    eleccion="SEN", instituto="INE")
    _ELECTION[:] = [catalog]
    times = load_election_dir(catalog, with_feeds=False).proceso.cut_times()
    # the election directory, made once from the capture system's first (test) drop, the
    # catalog and the night's last cut, as docs/night.md says
    first = tmp_path / "primer-corte" / CSV_NAME
    first.parent.mkdir()
    first.write_bytes(cumulative(times[6]))
    election = tmp_path / "eleccion"
    made = subprocess.run(
        [sys.executable, "-m", "prepcast", "election", "import", str(first), "--catalogo",
         str(catalog / "casillas.csv"), "--candidaturas", str(CANDIDATURAS), "--rules",
         "ine-2023", "--eleccion", "SEN", "--instituto", "INE", "--last-cut",
         "2023-02-20T11:05-06:00", "--out", str(election)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert load_election_dir(election, with_feeds=False).proceso.cut_times() == times
    folder = tmp_path / "entregas"
    folder.mkdir()
    reg = registry(tmp_path / "registry.toml", sshd, difusores)
    state, root = tmp_path / "estado", tmp_path / "instituto"
    args = night_args(election, night_keys, state, root, "--drops", str(folder),
                      "--settle", "1", registry=reg, until="2023-02-20T02:05")
    runner = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # 1. a good drop: cut 7 (20:05), 863 actas registered
        drop(folder, "20230219_2005", zipped(cumulative(times[6])))
        wait_live(difusores, CutId.of("jornada", 7), timeout=90)
        for d in difusores:
            assert served_preamble(d)["ACTAS_REGISTRADAS"] == "863"
        view = status(state)
        assert view["corte_actual"]["numero"] == 7 and view["alerta_vigente"] is None
        assert view["corte_actual"]["hora_del_corte"].startswith("2023-02-19T20:05:00")
        assert view["fuente"] == str(folder.resolve())
        assert view["corte_siguiente"]["se_construye"].startswith("al llegar su entrega")

        # 2. half-written: waited for, never taken; then written whole with its .sha256
        whole = zipped(cumulative(times[12]))
        half = drop(folder, "20230219_2205", whole[: len(whole) // 2], sha=None, settled=True)
        time.sleep(4)
        assert [d.live() for d in difusores] == [CutId.of("jornada", 7)] * 2
        assert status(state)["corte_actual"]["numero"] == 7
        drop(folder, "20230219_2205", whole)
        wait_live(difusores, CutId.of("jornada", 13), timeout=90)
        assert half.exists() and served_preamble(difusores[0])["ACTAS_REGISTRADAS"] == "3000"

        # 3. a .sha256 that does not match: refused, cut 13 stays live
        drop(folder, "20230220_0005", zipped(cumulative(times[18])), sha="0" * 64)
        wait_for(lambda: (status(state)["alerta_vigente"] or {}).get("corte") == "20230220_0005")
        alert = status(state)["alerta_vigente"]
        assert alert["vigente"] == 13 and "SHA-256" in alert["motivos"][0]

        # 4. a preamble that lies (5 more actas contabilizadas than its rows): refused naming the
        #    figure; the runner ends there (--until) with the integrity exit status
        honest = cumulative(times[24])
        figures = recount(parse_prep_csv(honest[3:].decode()), INE, last_cut=False).preamble
        row = ",".join(figures.as_row()).encode()
        lying = row.replace(f",{figures.actas_contabilizadas},".encode(),
                            f",{figures.actas_contabilizadas + 5},".encode(), 1)
        assert lying != row
        drop(folder, "20230220_0205", zipped(honest.replace(row, lying, 1)))
        _, err = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    assert runner.returncode == 3, err
    expected = (f"ACTAS_CONTABILIZADAS publicado {figures.actas_contabilizadas + 5}, "
                f"recontado {figures.actas_contabilizadas}")
    assert "20230220_0205" in err and expected in err and "sigue vigente el corte 13" in err
    view = status(state)
    assert view["alerta_vigente"]["corte"] == "20230220_0205"
    assert any(expected in m for m in view["alerta_vigente"]["motivos"])
    assert [a["corte"] for a in view["alertas"]] == ["20230220_0005", "20230220_0205"]
    assert [d.live() for d in difusores] == [CutId.of("jornada", 13)] * 2
    assert (root / "current").resolve().name == "jornada-0013"

    # 5. started again, the published file of the last cut (11:05) arrives: the refused cuts are
    #    not looked at again (their files did not change), the last cut goes out, the night ends
    drop(folder, "20230220_1105", zipped(TAMAULIPAS.read_bytes()))
    last = run_night(election, night_keys, state, root, "--drops", str(folder), "--settle", "1",
                     registry=reg, timeout=240)
    assert last.returncode == 0, last.stderr
    wait_live(difusores, CutId.of("jornada", 52), timeout=60)
    published = read_prep_csv(TAMAULIPAS).preamble
    for d in difusores:
        assert served_preamble(d) == published  # the 13 figures the institute printed
    view = status(state)
    assert view["corte_actual"]["numero"] == 52 and view["alerta_vigente"] is None
    assert {d["estado"] for d in view["difusores"]} == {"al día"}


def test_bad_drop_arguments_are_one_line(small_election: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from prepcast.cli import main

    base = ["night", "run", "--election", str(small_election), "--keys", str(tmp_path),
            "--state", str(tmp_path / "s"), "--publish-root", str(tmp_path / "p"),
            "--ntp", "off", "--speed", "max", "--ejercicio", "prueba-1"]
    for extra, message in ((["--drops", str(tmp_path / "none")], "no such folder (--drops)"),
                           (["--drops", str(tmp_path), "--settle", "-1"], "--settle")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    imp = ["election", "import", str(TAMAULIPAS), "--out", str(tmp_path / "e")]
    for extra, message in ((["--last-cut", "mañana"], "--last-cut"),
                           (["--last-cut", "2023-02-20T11:05"], "UTC offset"),
                           (["--last-cut", "2023-02-20T10:05-06:00"], "before the file's cut"),
                           (["--cut-minutes", "0"], "--cut-minutes")):
        assert main(imp + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "e").exists()


def test_a_refusal_before_any_cut_never_says_none(small_election: Path, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    from prepcast.election import load_election_dir
    from prepcast.publish.drops import DropRunner
    from prepcast.publish.runner import RunOptions
    from prepcast.publish.state import NightState

    r = object.__new__(DropRunner)
    r.opts = RunOptions(election=small_election, keys=tmp_path, state=tmp_path / "s",
                        publish_root=tmp_path / "p", drops=tmp_path)
    r.state = NightState.open(tmp_path / "s")
    r.state.doc["drops"] = {}
    r.ed = load_election_dir(small_election, with_feeds=False)
    with caplog.at_level("ERROR"):
        r._refuse("20230219_2205", ["motivo"])
    text = caplog.text + r.state.doc["log"][-1]["text"]
    assert "None" not in text and "ningún corte publicado aún" in caplog.text
