"""Small real signed packages for the distribution and difusor tests (prepcast.package.assemble)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prepcast.package import assemble, init_keys, load_signer
from prepcast.package.canonical import content_name

T0 = datetime(2024, 6, 2, 20, 0, tzinfo=UTC) - timedelta(hours=-6)


def make_keys(keydir: Path) -> Path:
    if not (keydir / "root.pub").exists():
        init_keys(keydir)
    return keydir / "root.pub"


def make_package(out: Path, keydir: Path, cut: int, *, previous: Path | None = None,
                 not_before: datetime | None = None, extra: dict[str, bytes] | None = None,
                 big: int = 0, ejercicio: str = "jornada", expires: datetime | None = None,
                 proceso: str = "IEEM-2024") -> Path:
    """A package for ``cut``: assets shared by every cut, data and a db zip of its own."""
    files: dict[str, bytes] = {
        "index.html": b"<!doctype html><title>PREP</title><script src='assets/app.js'></script>\n",
        content_name("assets/app.js", b"console.log('prep');\n" * 50): b"console.log('prep');\n" * 50,
        content_name("assets/style.css", b"body{margin:0}\n" * 40): b"body{margin:0}\n" * 40,
    }
    for n in range(5):
        body = json.dumps({"cut": cut, "distrito": n, "votos": [cut * 10 + n] * 30}).encode()
        files[content_name(f"data/DIP_LOC/distrito/{n:02d}.json", body)] = body
    files[f"db/{ejercicio}-{cut:04d}/20240602_{2000 + cut:04d}_PREP_DIP_LOC.zip"] = (
        os.urandom(big) if big else f"zip of cut {cut}\n".encode() * 100)
    files.update(extra or {})
    data = {"distritos": sorted(p for p in files if p.startswith("data/")),
            "db": sorted(p for p in files if p.startswith("db/"))}
    cut_time = T0 + timedelta(minutes=20 * (cut - 1))
    nb = not_before if not_before is not None else cut_time
    assemble(out, files, cut=cut, proceso=proceso, ejercicio=ejercicio, cut_time=cut_time,
             not_before=nb,
             expires=expires or max(cut_time, datetime.now(UTC)) + timedelta(days=2),
             previous=previous,
             signer=load_signer(keydir), main_fields=data)
    return out


def registry_toml(entries: list[dict[str, object]], *, concurrency: int = 8, keep: int = 3,
                  secrets: str | None = None) -> str:
    lines = [f"concurrency = {concurrency}", f"keep_releases = {keep}"]
    if secrets:
        lines.insert(0, f'secrets = "{secrets}"')
    for e in entries:
        lines.append("\n[[difusor]]")
        for k, v in e.items():
            if isinstance(v, bool):
                lines.append(f"{k} = {'true' if v else 'false'}")
            elif isinstance(v, int):
                lines.append(f"{k} = {v}")
            else:
                lines.append(f'{k} = "{v}"')
    return "\n".join(lines) + "\n"
