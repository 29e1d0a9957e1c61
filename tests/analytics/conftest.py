"""Fixtures: a small GeoIP database shaped like DB-IP's, and small synthetic logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.analytics.synth import COUNTRY_NAMES, NETWORKS, write_events, write_log
from tests.once import made_once

CONTINENTS = {"MX": ("NA", "North America"), "US": ("NA", "North America"),
              "GT": ("NA", "North America"), "CA": ("NA", "North America"),
              "CO": ("SA", "South America"), "AR": ("SA", "South America"),
              "ES": ("EU", "Europe"), "DE": ("EU", "Europe")}


def build_mmdb(path: Path, extra: dict[str, dict[str, object]] | None = None) -> Path:
    """A City database with records shaped like DB-IP City Lite's, for the synthetic networks."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="DBIP-City-Lite",
                        languages=["en", "es"], description="prepcast test database (DB-IP shaped)")
    for country, subdivision, _, cidrs in NETWORKS:
        code, continent = CONTINENTS[country]
        names = {"en": COUNTRY_NAMES[country]}
        if country == "MX":
            names["es"] = "México"
        record: dict[str, object] = {
            "continent": {"code": code, "names": {"en": continent}},
            "country": {"iso_code": country, "names": names},
            "city": {"names": {"en": "Somewhere"}},
        }
        if subdivision:
            record["subdivisions"] = [{"names": {"en": subdivision}}]
        writer.insert_network(IPSet(list(cidrs)), record)
    for cidr, record in (extra or {}).items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture(scope="session")
def mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "mmdb", lambda d: build_mmdb(d / "test-city.mmdb"))


def _log(path: Path) -> Path:
    write_log(path, 30_000, seed=11)
    return path


@pytest.fixture(scope="session")
def synth_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "synth-log", lambda d: _log(d / "access.log"))


def _events(path: Path) -> Path:
    write_events(path)
    return path


@pytest.fixture(scope="session")
def synth_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "synth-events", lambda d: _events(d / "difusor-events.jsonl"))
