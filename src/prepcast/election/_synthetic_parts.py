"""What the synthetic profiles, state and national, draw alike: names of people and places,
the candidaturas of each ámbito, and the CSV files they are written to."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from prepcast.election.model import ColumnKind, Election

NOMBRES = ("María", "José", "Guadalupe", "Juan", "Ana", "Luis", "Carmen", "Jorge", "Rosa", "Carlos",
           "Laura", "Miguel", "Patricia", "Francisco", "Claudia", "Alejandro", "Verónica", "Ricardo",
           "Adriana", "Fernando", "Leticia", "Roberto", "Gabriela", "Eduardo", "Norma", "Arturo")
APELLIDOS = ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
             "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
             "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero")
LUGARES = ("San", "Santa", "Villa", "Valle de", "Santiago", "Tlal", "Ixt", "Ateno", "Zina", "Chi")
RAICES = ("pan", "co", "tepec", "huacán", "tlán", "zingo", "apa", "malco", "cuaro", "tzio", "nango")


def person(rng: random.Random) -> str:
    return f"{rng.choice(NOMBRES)} {rng.choice(APELLIDOS)} {rng.choice(APELLIDOS)}"


def place(rng: random.Random, used: set[str]) -> str:
    while True:
        n = f"{rng.choice(LUGARES)} {rng.choice(RAICES).capitalize()}{rng.choice(RAICES)}"
        if n not in used:
            used.add(n)
            return n


def candidaturas(e: Election, ambitos: list[int], rng: random.Random,
                  independent_in: set[int]) -> list[list[str]]:
    rows = []
    allied = {pid for a in e.alliances for pid in a.partidos}
    for aid in ambitos:
        for a in e.alliances:
            who, sup = person(rng), person(rng)
            for c in e.columns:
                if c.alliance == a.id or (c.kind is ColumnKind.PARTIDO and c.id in a.partidos):
                    rows.append([str(aid), c.id, who, sup])
        for c in e.columns:
            if c.kind is ColumnKind.PARTIDO and c.id not in allied:
                rows.append([str(aid), c.id, person(rng), person(rng)])
            if c.kind is ColumnKind.INDEPENDIENTE and aid in independent_in:
                rows.append([str(aid), c.id, person(rng), person(rng)])
    return rows


def write_csv(path: Path, header: tuple[str, ...] | list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def difusores_plazos(year: int) -> str:
    """The ``[difusores]`` table of the calls' dates (as IEEM's and IEM's calls set them before
    a June election), so `prepcast difusores pending` runs on a generated election."""
    return (f"[difusores]\nregistro = {year}-05-15\ncarta = {year}-05-15\nlogo = {year}-05-20\n"
            f"validacion = {year}-05-21\npruebas = {year}-05-10\n"
            f"simulacros = [{year}-05-12, {year}-05-19, {year}-05-26]\n"
            f"informe = {year}-06-18\n")
