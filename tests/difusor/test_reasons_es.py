"""The daemon's event log feeds the informe (Spanish): every reason it records is Spanish, with
the technical original quoted so that nothing is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.events import read_events
from prepcast.difusor.reasons import rejection_es
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from tests.difusor.difusor_helpers import daemon_config


def _put(pkg_dir: Path, inbox: Path) -> str:
    pkg = read_package(pkg_dir)
    name = f"{pkg.cut_id.tag}.tar"
    write_delta_archive(pkg, list(pkg.files), inbox / name)
    return name


def test_rejections_and_quarantines_are_said_in_spanish(tmp_path: Path, keydir: Path,
                                                         packages: list[Path]) -> None:
    """Quarantine reasons were Spanish but rejections English (``cut 1 … is not newer than cut 2
    … already held``, ``not a readable archive: truncated header``, ``… bytes once unpacked,
    more than the … bytes free here``): the informe mixed languages."""
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    inbox = tmp_path / "inbox"
    daemon = Daemon(load_config(conf))
    _put(packages[1], inbox)
    asyncio.run(daemon.step())
    _put(packages[0], inbox)                              # older than what is held
    broken = inbox / "jornada-0009.tar"
    broken.write_bytes(b"\0" * 100 + b"x" * 50)            # not a tar
    (inbox / "jornada-0010.tar").mkdir()                  # a folder named like an archive
    asyncio.run(daemon.step())
    log = read_events(tmp_path / "events.jsonl")
    failures = [f for e in log if e["event"] == "rejected" for f in e["failures"]]
    reasons = [e["reason"] for e in log if e["event"] == "quarantined"]
    assert len(failures) == 2 and len(reasons) == 1, log
    assert any(f.startswith("el paquete no es más reciente que el corte que este difusor ya "
                            "tiene (original: «") and "already held»)" in f for f in failures)
    assert any(f.startswith("el archivo recibido no es un tar legible (original: «") for f in
               failures), failures
    assert reasons[0].startswith("una carpeta con nombre de paquete"), reasons


def test_every_known_failure_has_its_spanish_words() -> None:
    """Each technical text the daemon records: Spanish first, the original quoted whole."""
    cases = {
        "prueba-1-0006.tar: 900 bytes once unpacked, more than the 10 bytes free here":
            "el paquete desempacado no cabe en el espacio libre de este difusor",
        "x.tar: 900 bytes once unpacked, more than the limit of 100":
            "el paquete desempacado excede el tamaño máximo permitido",
        "x.tar: not a readable archive: truncated header": "el archivo recibido no es un tar",
        "cannot stage cut 3 of jornada: No space left on device":
            "no se pudo preparar el corte",
        "json/main.json: bad signature": "la firma no es válida",
        "something new": "el paquete no pasó la verificación",
    }
    for text, spanish in cases.items():
        said = rejection_es(text)
        assert said.startswith(spanish) and said.endswith(f"(original: «{text}»)"), said
