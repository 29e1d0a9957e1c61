"""A drop whose contents do not read is refused, in Spanish, never a crash.

A zip of the drop folder whose ``.sha256`` matches but which is not a zip at all (random bytes)
ended the night runner with a ``BadZipFile`` traceback, again at every restart. Every unreadable
content — not a zip, an empty file, an empty zip, a zip without the database CSV, a CSV that is
not a PREP database, a CSV that is not text — is now a :class:`RefusedCut` whose reasons say
what is wrong in Spanish (the technical original quoted), so the runner keeps the previous cut
live and raises the alert."""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from prepcast.election.rules import get_profile
from prepcast.formats.drop_folder import RefusedCut, complete, take_cut
from tests.conftest import TAMAULIPAS

INE = get_profile("ine-2023")
NAME = "20230220_1105_PREP_SEN.zip"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _drop(folder: Path, data: bytes) -> None:
    """The zip and its matching .sha256, as the capture system writes them, settled."""
    path = folder / NAME
    path.write_bytes(data)
    (folder / f"{NAME}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {NAME}\n")
    t = time.time() - 30
    os.utime(path, (t, t))


UNREADABLE = {
    "random bytes": (os.urandom(3000), "no es un zip legible"),
    "an empty file": (b"", "no es un zip legible"),
    "an empty zip": (_zip({}), "contiene 0 CSV de base de datos (ninguno); se espera uno"),
    "a zip without the database CSV": (_zip({"LEEME.txt": b"hola\n"}),
                                       "contiene 0 CSV de base de datos"),
    "two database CSVs": (_zip({"A.csv": b"x", "B.csv": b"y"}), "contiene 2 CSV de base de datos"),
    "a CSV that is not the database layout": (
        _zip({"TAMPS_SEN_FED_ext_2023.csv": b"ID,NOMBRE\r1,Ana\r"}),
        "TAMPS_SEN_FED_ext_2023.csv no es una base de datos PREP legible (original: «"),
    "a CSV that is not text": (
        _zip({"TAMPS_SEN_FED_ext_2023.csv": b"\x7fELF\x00\x81\x8d" * 50}),
        "no es una base de datos PREP legible"),
    "a CSV cut short": (_zip({"TAMPS_SEN_FED_ext_2023.csv": TAMAULIPAS.read_bytes()[:600]}),
                        "no es una base de datos PREP legible"),
}


@pytest.mark.parametrize("what", sorted(UNREADABLE))
def test_an_unreadable_drop_whose_sha256_matches_is_refused_in_spanish(
        what: str, tmp_path: Path) -> None:
    data, reason = UNREADABLE[what]
    _drop(tmp_path, data)
    assert complete(tmp_path / NAME) == hashlib.sha256(data).hexdigest()  # complete: taken
    with pytest.raises(RefusedCut) as err:
        take_cut(tmp_path, INE, last_cut=True)
    assert err.value.path.name == NAME
    [text] = err.value.reasons
    assert text.startswith(f"{NAME}: ") and reason in text, text
    assert "Traceback" not in text and str(tmp_path) not in text


def test_a_sha256_that_does_not_match_is_refused_in_spanish(tmp_path: Path) -> None:
    data = _zip({"TAMPS_SEN_FED_ext_2023.csv": TAMAULIPAS.read_bytes()})
    _drop(tmp_path, data)
    (tmp_path / f"{NAME}.sha256").write_text("0" * 64 + f"  {NAME}\n")
    with pytest.raises(RefusedCut) as err:
        take_cut(tmp_path, INE, last_cut=True)
    digest = hashlib.sha256(data).hexdigest()
    assert err.value.reasons == [f"{NAME}: su SHA-256 {digest} no es el {'0' * 64} que da "
                                 f"{NAME}.sha256"]
    (tmp_path / f"{NAME}.sha256").write_text("no es un digest\n")
    with pytest.raises(RefusedCut) as err:
        take_cut(tmp_path, INE, last_cut=True)
    assert err.value.reasons == [f"{NAME}.sha256: no contiene un SHA-256"]
