"""Side by side with Debian's GoAccess on the same synthetic log: the figures GoAccess defines
must be equal when prepcast computes them by GoAccess's definitions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from prepcast.analytics import ReportOptions, write_report
from prepcast.analytics.model import ReportSummary

GOACCESS = shutil.which("goaccess") or "/usr/bin/goaccess"


@pytest.fixture(scope="module")
def goaccess(tmp_path_factory: pytest.TempPathFactory, synth_log: Path, mmdb: Path) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("goaccess") / "goaccess.json"
    subprocess.run(
        [GOACCESS, str(synth_log), "--no-global-config", "--log-format=COMBINED",
         f"--geoip-database={mmdb}", "--max-items=1000000", "--no-progress", "-o", str(out)],
        check=True, capture_output=True, timeout=300,
    )
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def prepcast(tmp_path_factory: pytest.TempPathFactory, synth_log: Path, mmdb: Path) -> dict[str, Any]:
    summary: ReportSummary = write_report(
        [synth_log], tmp_path_factory.mktemp("prepcast") / "informe", pdf=False, geoip_db=mmdb,
        options=ReportOptions(goaccess_files=True),
    )
    data: dict[str, Any] = json.loads((summary.out / "tablas" / "goaccess.json").read_text())
    return data


def test_requests(goaccess: dict[str, Any], prepcast: dict[str, Any]) -> None:
    general = goaccess["general"]
    assert prepcast["total_requests"] == general["total_requests"] == 30_000
    assert prepcast["valid_requests"] == general["valid_requests"]
    assert prepcast["failed_requests"] == general["failed_requests"] > 0


def test_unique_visitors(goaccess: dict[str, Any], prepcast: dict[str, Any]) -> None:
    assert prepcast["unique_visitors"] == goaccess["general"]["unique_visitors"]
    per_day = {row["data"]: row["visitors"]["count"] for row in goaccess["visitors"]["data"]}
    assert prepcast["visitors_per_day"] == per_day
    assert len(per_day) == 2  # the night crosses midnight


def test_status_codes(goaccess: dict[str, Any], prepcast: dict[str, Any]) -> None:
    theirs = {
        int(item["data"].split(" ")[0]): item["hits"]["count"]
        for group in goaccess["status_codes"]["data"] for item in group["items"]
    }
    assert {int(k): v for k, v in prepcast["status_codes"].items()} == theirs
    assert any(code >= 500 for code in theirs)


def test_requested_files(goaccess: dict[str, Any], prepcast: dict[str, Any]) -> None:
    theirs: dict[str, int] = {}
    for panel in ("requests", "static_requests", "not_found"):
        for row in goaccess[panel]["data"]:
            theirs[row["data"]] = theirs.get(row["data"], 0) + row["hits"]["count"]
    assert prepcast["files"] == theirs


def test_countries(goaccess: dict[str, Any], prepcast: dict[str, Any]) -> None:
    theirs = {
        item["data"].split(" ")[0]: item["hits"]["count"]
        for continent in goaccess["geolocation"]["data"] for item in continent["items"]
    }
    ours = dict(prepcast["countries"])
    unknown = ours.pop("--", 0)
    assert unknown == theirs.pop("Unknown", 0)
    assert ours == theirs and len(ours) >= 8


def _panel(goaccess: dict[str, Any], name: str) -> dict[str, int]:
    return {row["data"]: row["hits"]["count"] for row in goaccess[name]["data"]}


def _table(summary_dir: Path, name: str, key: str) -> dict[str, int]:
    rows = json.loads((summary_dir / "tablas" / f"{name}.json").read_text())["rows"]
    return {r[key]: r["solicitudes"] for r in rows}


@pytest.fixture(scope="module")
def tables_dir(tmp_path_factory: pytest.TempPathFactory, synth_log: Path, mmdb: Path) -> Path:
    return write_report([synth_log], tmp_path_factory.mktemp("ua") / "informe", pdf=False,
                        geoip_db=mmdb).out


def test_operating_systems_and_bots_match_goaccess(goaccess: dict[str, Any], tables_dir: Path) -> None:
    theirs = _panel(goaccess, "os")
    ours = _table(tables_dir, "sistemas_operativos", "sistema")
    names = {"Android": "Android", "iOS": "iOS", "Windows": "Windows", "Macintosh": "macOS",
             "Linux": "Linux"}
    assert {names[k]: v for k, v in theirs.items() if k in names} == ours
    summary = json.loads((tables_dir / "tablas" / "resumen.json").read_text())
    assert summary["bot_requests"] == theirs["Crawlers"] + theirs["Unknown"]  # curl, scripts


def test_browsers_and_tablets_match_goaccess(goaccess: dict[str, Any], tables_dir: Path,
                                             synth_log: Path) -> None:
    theirs = _panel(goaccess, "browsers")
    ours = _table(tables_dir, "navegadores", "navegador")
    # GoAccess counts Chromium-based in-app and vendor browsers as Chrome.
    chromium = ("Chrome", "Samsung Internet", "Facebook (navegador interno)")
    assert sum(ours.pop(name, 0) for name in chromium) == theirs["Chrome"]
    assert ours == {k: theirs[k] for k in ("Safari", "Edge", "Firefox")}
    ipad = next(i["hits"]["count"] for row in goaccess["os"]["data"] for i in row["items"]
                if i["data"].startswith("iPad OS"))
    devices = json.loads((tables_dir / "tablas" / "dispositivos.json").read_text())["rows"]
    tablets = next(r["solicitudes"] for r in devices if r["tipo"] == "Tableta")
    lines = synth_log.read_text(encoding="utf-8").splitlines()
    android_tablets = sum(1 for line in lines if "SM-X200" in line)  # GoAccess: just Android
    assert tablets == ipad + android_tablets
