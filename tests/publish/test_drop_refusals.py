"""The night runner fed by a drop folder refuses what it cannot read and goes on.

A zip of the capture system whose ``.sha256`` matched but which was not a zip ended ``night run
--drops`` with a traceback, and the same again at every restart, while ``night status`` showed no
alert. Refusals (an unreadable zip, a cut older than the one published) were given in English,
and the alert's time was UTC cut at 19 characters beside times in the election's offset. Now the
cut is refused with a Spanish alert timed in the election's offset, the previous cut stays live, a
restart does not look at the refused cut again, and the next good drop is published."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from prepcast.formats.import_prep_csv import import_database
from prepcast.package import init_keys
from prepcast.publish.status import night_status
from tests.cli.in_process import prepcast
from tests.conftest import TAMAULIPAS

CANDIDATURAS = TAMAULIPAS.with_name("TAMPS_SEN_FED_ext_Candidaturas_2023.csv")
LOCAL = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \(UTC-6\)$")


def _drop(folder: Path, stamp: str, data: bytes) -> None:
    path = folder / f"{stamp}_PREP_SEN.zip"
    path.write_bytes(data)
    (folder / f"{path.name}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    t = time.time() - 30
    os.utime(path, (t, t))


def _night(election: Path, keys: Path, tmp: Path, folder: Path,
           *extra: str) -> subprocess.CompletedProcess[str]:
    return prepcast(
        "night", "run", "--election", str(election), "--keys", str(keys), "--state",
        str(tmp / "estado"), "--publish-root", str(tmp / "instituto"), "--ejercicio", "prueba-2",
        "--speed", "max", "--ntp", "off", "--quiet", "--drops", str(folder), "--settle", "0",
        *extra)


def test_a_drop_that_is_not_a_zip_is_refused_then_the_night_goes_on(tmp_path: Path) -> None:
    election = tmp_path / "tamps"
    import_database(TAMAULIPAS, election, candidaturas=CANDIDATURAS, rules="ine-2023",
                    eleccion="SEN", instituto="INE")
    keys = tmp_path / "llaves"
    init_keys(keys)
    folder = tmp_path / "entregas"
    folder.mkdir()
    _drop(folder, "20230219_2005", os.urandom(3000))

    first = _night(election, keys, tmp_path, folder, "--until", "2023-02-19T20:05")
    assert first.returncode == 3, first.stderr  # integrity: refused, not a crash
    assert "Traceback" not in first.stderr and "BadZipFile" not in first.stderr
    assert "no es un zip legible" in first.stderr
    view = night_status(tmp_path / "estado")
    alert = view["alerta_vigente"]
    assert alert["corte"] == "20230219_2005" and alert["vigente"] is None
    assert alert["motivos"] == ["20230219_2005_PREP_SEN.zip: no es un zip legible (original: "
                                "«File is not a zip file»)"]
    assert LOCAL.match(alert["hora"]), alert["hora"]
    shown = prepcast("night", "status", "--state", str(tmp_path / "estado"))
    assert f"rechazado el {alert['hora']}; sigue vigente el corte —" in shown.stdout
    assert alert["at"][:19] not in shown.stdout  # never the UTC instant without its zone

    # started again with the published database of the last cut dropped: the refused cut is
    # not refused again (its files did not change), the last cut goes out, the night ends
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(TAMAULIPAS.name, TAMAULIPAS.read_bytes())
    _drop(folder, "20230220_1105", buf.getvalue())
    again = _night(election, keys, tmp_path, folder)
    assert again.returncode == 0, again.stderr
    view = night_status(tmp_path / "estado")
    assert view["corte_actual"]["numero"] == 52 and view["alerta_vigente"] is None
    assert [a["corte"] for a in view["alertas"]] == ["20230219_2005"]


def test_a_cut_not_newer_than_the_published_one_is_refused_in_spanish(
        small_election: Path, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from prepcast.election import load_election_dir
    from prepcast.formats.drop_folder import Drop, DroppedCut, RefusedCut
    from prepcast.publish.drops import DropRunner
    from prepcast.publish.runner import RunOptions

    r = object.__new__(DropRunner)
    r.opts = RunOptions(election=small_election, keys=tmp_path, state=tmp_path / "s",
                        publish_root=tmp_path / "p", drops=tmp_path)
    r.ed = load_election_dir(small_election, with_feeds=False)
    at = r.ed.proceso.start + timedelta(minutes=r.ed.proceso.cut_minutes * 2)
    path = tmp_path / f"{at:%Y%m%d_%H%M}_PREP_X.zip"
    cut = object.__new__(DroppedCut)
    object.__setattr__(cut, "path", path)
    with pytest.raises(RefusedCut) as err:
        r._number(Drop(f"{at:%Y%m%d_%H%M}", at, {"X": cut}, {}), 10)
    local = at.astimezone(timezone(r.ed.proceso.tz.utcoffset(datetime.now()) or timedelta()))
    assert err.value.reasons == [
        f"el corte {at:%Y%m%d_%H%M} ({local:%d/%m/%Y %H:%M:%S} (UTC-6)) es el corte 3 del "
        "calendario, no posterior al corte 10, ya publicado"]


def test_drops_naming_a_file_says_it_is_a_file(small_election: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """``--drops`` naming a file said "no such folder"; it says the path is a file."""
    from prepcast.cli import main

    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["night", "run", "--election", str(small_election), "--keys", str(tmp_path),
                 "--state", str(tmp_path / "s"), "--publish-root", str(tmp_path / "p"),
                 "--ntp", "off", "--speed", "max", "--ejercicio", "prueba-1",
                 "--drops", str(afile)]) == 2
    err = capsys.readouterr().err
    assert err == f"prepcast: {afile}: is a file, not a folder (--drops)\n"
