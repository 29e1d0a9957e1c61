"""Small hand-built packages for the package tests."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from prepcast.errors import IntegrityError
from prepcast.package import (
    MAIN_PATH,
    assemble,
    content_name,
    load_signer,
    manifest_path,
    validate,
    verify_package,
)
from tests.site.site_schemas import fast_problems

TZ = timezone(timedelta(hours=-6))
START = datetime(2024, 6, 2, 20, 0, tzinfo=TZ)


def cut_time(cut: int) -> datetime:
    return START + timedelta(minutes=20 * (cut - 1))


def small_files(cut: int, ejercicio: str = "jornada") -> tuple[dict[str, bytes], dict[str, Any]]:
    files: dict[str, bytes] = {"index.html": b"<!doctype html><title>PREP</title>\n"}
    css = b"body{font-family:sans-serif}"
    files[content_name("assets/site.css", css)] = css
    data = json.dumps({"corte": cut, "votos": [cut * 10, cut * 7]}).encode()
    entidad = content_name("data/DIP_LOC/entidad.json", data)
    files[entidad] = data
    files[f"db/{ejercicio}-{cut:04d}/20240602_2000_PREP_DIP_LOC.zip"] = bytes(range(256)) * 4 + bytes([cut])
    return files, {"entidad": entidad}


def small_package(out: Path, keydir: Path, cut: int, *, previous: Path | None = None,
                  ejercicio: str = "jornada") -> Path:
    files, main = small_files(cut, ejercicio)
    assemble(
        out,
        files,
        cut=cut,
        proceso="IEEM-2024",
        ejercicio=ejercicio,
        cut_time=cut_time(cut),
        not_before=cut_time(cut),
        expires=cut_time(cut) + timedelta(days=3),
        previous=previous,
        signer=load_signer(keydir),
        main_fields=main,
    )
    return out


def check_schemas(pkg: Path, *, site_data: bool = True) -> None:
    """Validate main.json, the manifest, the keyring, the difusores list and (``site_data``) the
    site's data files of ``pkg`` against their schemas."""
    main = json.loads((pkg / MAIN_PATH).read_bytes())
    validate("main", main)
    manifest = json.loads((pkg / main["signed"]["manifest"]).read_bytes())
    validate("manifest", manifest)
    validate("keyring", json.loads((pkg / manifest["keyring"]).read_bytes()))
    for path in manifest["files"]:
        if path.startswith("difusores."):
            validate("difusores", json.loads((pkg / path).read_bytes()))
        elif path.startswith("data/") and path.endswith(".json") and site_data:
            problems = fast_problems(json.loads((pkg / path).read_bytes()))
            assert not problems, f"{path}: {problems}"
    assert main["signed"]["manifest"] == manifest_path(manifest["ejercicio"], manifest["cut"])


def failures(pkg: Path, keydir: Path, **kw: object) -> list[str]:
    """The failures ``verify_package`` raises for ``pkg`` against ``keydir``'s root key."""
    with pytest.raises(IntegrityError) as exc:
        verify_package(pkg, keydir / "root.pub", **kw)  # type: ignore[arg-type]
    return exc.value.failures


def tar_of(members: dict[str, bytes]) -> bytes:
    """A PAX tar archive of ``members`` (name → bytes), in memory."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
