from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.analytics import ENTIDADES, GeoLocator, entidad_for
from prepcast.analytics.geo import default_database
from prepcast.analytics.synth import NETWORKS
from prepcast.errors import InputError


def test_the_32_entidades_have_inegi_codes_in_order() -> None:
    assert [e.code for e in ENTIDADES] == [f"{i:02d}" for i in range(1, 33)]
    assert len({e.name for e in ENTIDADES}) == 32


def test_estado_de_mexico_and_mexico_city_stay_apart() -> None:
    edomex, cdmx = entidad_for("México"), entidad_for("Mexico City")
    assert edomex is not None and edomex.code == "15"
    assert cdmx is not None and cdmx.code == "09" and cdmx.name == "Ciudad de México"
    assert entidad_for("Mexico") == edomex  # accents stripped, still the state
    assert entidad_for("Michoacán").code == "16"  # type: ignore[union-attr]
    assert entidad_for("Nowhere") is None


def test_every_subdivision_name_dbip_uses_maps_to_one_entidad() -> None:
    names = {sub for country, sub, _, _ in NETWORKS if country == "MX"}
    codes = {entidad_for(name).code for name in names}  # type: ignore[union-attr]
    assert codes == {f"{i:02d}" for i in range(1, 33)}


def test_lookup_in_a_test_database(mmdb: Path) -> None:
    geo = GeoLocator(mmdb)
    place = geo.lookup("38.123.192.10")  # synthetic Estado de México network
    assert (place.country_code, place.entidad_code, place.entidad) == ("MX", "15", "México")
    assert geo.lookup("1.32.232.7").country_code == "US"
    assert geo.lookup("10.0.0.1").country_code == ""
    assert geo.lookup("not an ip").country_code == ""
    assert geo.is_dbip


def test_the_shipped_dbip_database_places_the_synthetic_networks() -> None:
    geo = GeoLocator(default_database())
    for country, subdivision, _, cidrs in NETWORKS:
        address = cidrs[0].split("/")[0][:-1] + "5"
        place = geo.lookup(address)
        assert place.country_code == country, (address, place)
        if subdivision:
            assert place.entidad_code == entidad_for(subdivision).code  # type: ignore[union-attr]


def test_missing_database_is_an_error_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        GeoLocator(tmp_path / "nope.mmdb")
    assert "--geoip-db" in str(info.value)
    bad = tmp_path / "bad.mmdb"
    bad.write_text("not a database")
    with pytest.raises(InputError, match="--geoip-db"):
        GeoLocator(bad)
