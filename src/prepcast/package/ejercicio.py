"""Ejercicios: which run of a night a package belongs to, and how runs are ordered.

Every run of a night is an *ejercicio*: ``prueba-N`` (connection tests with the difusores),
``simulacro-N`` (the drills the calls require) and ``jornada`` (election night). It is signed into
every manifest and ``json/main.json``. Cut numbers are monotonic within one ejercicio only, so a
cut is named by both (:class:`CutId`, whose :attr:`~CutId.tag` such as ``jornada-0013`` names its
manifest, its database folder and every difusor's release). Ejercicios are ordered
``prueba-1 < prueba-2 < … < simulacro-1 < … < jornada``: a difusor moves on to a later one when
its first signed package arrives and never goes back (a difusor that holds the jornada refuses
every drill and test package).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KINDS = ("prueba", "simulacro", "jornada")
_NAME = re.compile(r"^(?:(prueba|simulacro)-([1-9][0-9]{0,2})|(jornada))$")
_TAG = re.compile(r"^((?:prueba|simulacro)-[1-9][0-9]{0,2}|jornada)-(\d{4,})$")
JORNADA_NAME = "jornada"


@dataclass(frozen=True, order=True)
class Ejercicio:
    """One run of a night; compares in the order the runs happen."""

    rank: int  # 0 prueba, 1 simulacro, 2 jornada
    n: int  # the drill's or test's number; 0 for the jornada

    @classmethod
    def parse(cls, name: str) -> Ejercicio:
        """The ejercicio named ``name``; ValueError with the accepted forms otherwise."""
        m = _NAME.match(name) if isinstance(name, str) else None
        if m is None:
            raise ValueError(f"unknown ejercicio {str(name)[:40]!r} "
                             "(expected prueba-N, simulacro-N or jornada)")
        if m.group(3):
            return JORNADA
        return cls(_KINDS.index(m.group(1)), int(m.group(2)))

    @property
    def kind(self) -> str:
        return _KINDS[self.rank]

    @property
    def name(self) -> str:
        return self.kind if self.rank == 2 else f"{self.kind}-{self.n}"

    @property
    def is_jornada(self) -> bool:
        return self.rank == 2

    @property
    def banner(self) -> str | None:
        """What every page of a drill or test site says; None for the jornada."""
        if self.is_jornada:
            return None
        return f"{self.kind.upper()} — datos ficticios"

    def __str__(self) -> str:
        return self.name


JORNADA = Ejercicio(2, 0)


def is_ejercicio(name: object) -> bool:
    return isinstance(name, str) and _NAME.match(name) is not None


@dataclass(frozen=True, order=True)
class CutId:
    """A cut as a difusor and the pusher know it: its ejercicio and its number within it."""

    ejercicio: Ejercicio
    cut: int

    @classmethod
    def of(cls, ejercicio: str, cut: int) -> CutId:
        return cls(Ejercicio.parse(ejercicio), cut)

    @property
    def tag(self) -> str:
        """``jornada-0013``: the name of this cut's manifest, database folder and release."""
        return cut_tag(self.ejercicio.name, self.cut)

    @classmethod
    def from_tag(cls, tag: str) -> CutId | None:
        """The cut a tag (or a path ending in one) names, or None."""
        m = _TAG.match(tag.rstrip("/").rsplit("/", 1)[-1])
        if m is None:
            return None
        return cls(Ejercicio.parse(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        e = self.ejercicio
        return f"cut {self.cut}" if e.is_jornada else f"cut {self.cut} of {e.name}"


def cut_tag(ejercicio: str, cut: int) -> str:
    return f"{ejercicio}-{cut:04d}"
