"""The daemon's reasons as a difusor and the informe read them: Spanish, the original quoted.

Verification (:mod:`prepcast.package`) and unpacking speak English, as ``prepcast cut verify``
does; the event log of a difusor feeds the informe, written in Spanish. Each reason of a
``rejected`` or ``error`` event says what happened in Spanish and quotes the technical original
(``original: «…»``), so nothing is lost and every known text keeps its words for a search.
"""

from __future__ import annotations

import re

_REJECTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), spanish) for pattern, spanish in (
        (r".+ is not newer than .+ already held",
         "el paquete no es más reciente que el corte que este difusor ya tiene"),
        (r"cut \S+ is not newer than cut .*",
         "el paquete no es más reciente que el corte anterior"),
        (r".+: not a readable archive: .*", "el archivo recibido no es un tar legible"),
        (r".+: \d+ bytes once unpacked, more than the \d+ bytes free here",
         "el paquete desempacado no cabe en el espacio libre de este difusor"),
        (r".+: \d+ bytes once unpacked, more than the limit of \d+",
         "el paquete desempacado excede el tamaño máximo permitido"),
        (r".+: truncated member", "el archivo recibido está incompleto (truncado)"),
        (r"cannot stage .*", "no se pudo preparar el corte en este difusor"),
        (r"staged release unreadable: .*",
         "la versión preparada se dañó en disco antes de activarse; se descartó"),
        (r"cannot activate: .*", "no se pudo activar el corte"),
        (r".+ holds .+, not .+", "el archivo trae un corte distinto del que dice su nombre"),
        (r"(?i).*signature.*", "la firma no es válida para la llave raíz del instituto"),
        (r"(?i).*(?:hash|digest|sha-?256).*", "un archivo no coincide con la huella del manifiesto"),
    ))


def _quoted(text: str) -> str:
    return f"(original: «{text[:500]}»)"


def rejection_es(text: str) -> str:
    """One failure of a ``rejected`` event in Spanish, its original quoted."""
    for pattern, spanish in _REJECTIONS:
        if pattern.fullmatch(text):
            return f"{spanish} {_quoted(text)}"
    return f"el paquete no pasó la verificación {_quoted(text)}"


def error_es(text: str) -> str:
    """An ``error`` event's text in Spanish (the daemon carries on), its original quoted."""
    return f"error inesperado del demonio; sigue en línea lo publicado {_quoted(text)}"


def opened_es(text: str) -> str:
    return f"no se pudo abrir {_quoted(text)}"


def not_moved_es(text: str) -> str:
    return f"; no se pudo apartar {_quoted(text)}"


def purge_es(text: str) -> str:
    """Why a purge of the CDN's cache failed (the cut stays live; readers may wait for the
    cache's own expiry)."""
    return f"no se pudo purgar la caché {_quoted(text)}"
