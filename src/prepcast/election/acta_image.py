"""Generated acta images for drills: a PNG showing an acta's figures, made the same way every
time, so its SHA-256 can stand as the acta's CODIGO_INTEGRIDAD and any copy can be checked.

A built-in 5×7 bitmap font drawn at twice its size keeps rendering fast (tens of thousands of
actas per night) without fonts or imaging libraries.
"""

from __future__ import annotations

import struct
import unicodedata
import zlib
from collections.abc import Sequence

from prepcast.election.acta import FieldValue, Mark
from prepcast.election.model import Casilla, Election, Proceso

_FONT = {
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    ":": "00000 01100 01100 00000 01100 01100 00000", "-": "00000 00000 00000 11111 00000 00000 00000",
    "/": "00000 00001 00010 00100 01000 10000 00000", ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000", "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000", "#": "01010 01010 11111 01010 11111 01010 01010",
    "_": "00000 00000 00000 00000 00000 00000 11111", "=": "00000 00000 11111 00000 11111 00000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000",
}  # fmt: skip
COLUMNS = 40  # characters per line
ROWS_PER_LINE = 9  # 7 glyph rows and 2 blank


def _expand(nibble: int) -> int:
    """Four bits to eight, each bit doubled (1010 -> 11001100)."""
    out = 0
    for i in range(4):
        if nibble & (1 << i):
            out |= 0b11 << (2 * i)
    return out


def _tables() -> tuple[list[bytes], list[bytes]]:
    """For each glyph row, translation tables char -> left byte and char -> right byte.

    A glyph row is 5 pixels plus 3 blank (8 bits); drawn at twice the size it becomes 16 pixels:
    two bytes. PNG 1-bit greyscale: 1 is white, so the bits are inverted."""
    left: list[bytes] = []
    right: list[bytes] = []
    for r in range(7):
        tl = bytearray([0xFF] * 256)
        tr = bytearray([0xFF] * 256)
        for ch, rows in _FONT.items():
            bits = int(rows.split()[r], 2) << 3  # 5 pixels, then 3 blank
            tl[ord(ch)] = ~_expand(bits >> 4) & 0xFF
            tr[ord(ch)] = ~_expand(bits & 0xF) & 0xFF
        left.append(bytes(tl))
        right.append(bytes(tr))
    return left, right


_LEFT, _RIGHT = _tables()


def _ascii(text: str) -> bytes:
    plain = unicodedata.normalize("NFKD", text.upper()).encode("ascii", "ignore")
    return plain[:COLUMNS].ljust(COLUMNS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_lines(lines: Sequence[str]) -> bytes:
    """A PNG (1-bit greyscale) of the lines, 40 characters each, glyphs drawn at 2×."""
    width = COLUMNS * 16
    blank = b"\x00" + b"\xff" * (COLUMNS * 2)
    raw = bytearray()
    row = bytearray(COLUMNS * 2)
    for text in lines:
        b = _ascii(text)
        for r in range(7):
            row[0::2] = b.translate(_LEFT[r])
            row[1::2] = b.translate(_RIGHT[r])
            scan = b"\x00" + row
            raw += scan
            raw += scan
        raw += blank * 4
    height = len(lines) * ROWS_PER_LINE * 2
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 1))
        + _chunk(b"IEND", b"")
    )


def acta_lines(proceso: Proceso, election: Election, casilla: Casilla,
               votes: Sequence[FieldValue]) -> list[str]:
    """What the generated image of an acta shows: its casilla and every vote field."""
    total = sum(v for v in votes if type(v) is int)
    lines = [f"PREP {proceso.entidad} {proceso.year}", "ACTA DE ESCRUTINIO Y COMPUTO",
             election.nombre, f"CASILLA {casilla.clave}",
             f"SECCION {casilla.seccion}  TIPO {casilla.tipo}", ""]
    for col, v in zip(election.columns, votes, strict=True):
        if v is Mark.NO_APLICA:
            continue
        shown = "###" if v is Mark.ILEGIBLE else "" if v is Mark.SIN_DATO else str(v)
        lines.append(f"{col.id:<20}{shown:>20}")
    lines += ["", f"{'TOTAL':<20}{total:>20}", f"{'LISTA NOMINAL':<20}{casilla.lista_nominal:>20}"]
    return lines


def acta_png(proceso: Proceso, election: Election, casilla: Casilla,
             votes: Sequence[FieldValue]) -> bytes:
    """The generated image of an acta (a drill's stand-in for the scanned acta)."""
    return render_lines(acta_lines(proceso, election, casilla, votes))
