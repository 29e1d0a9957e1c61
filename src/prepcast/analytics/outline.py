"""The informe's outlines: each institute's call, item by item, with its headings verbatim.

- ``ieem``: IEEM, call for difusores 2024, section IV "Informe técnico", items i–ix;
- ``iem``: IEM, call for difusores 2024, section 4 "Memoria técnica", items a)–c);
- ``prepcast``: prepcast's own outline (the default).

Each item lists the blocks (:mod:`.blocks`) that answer it, in order; prepcast's sections that
the call does not ask for follow the call's items (:attr:`Outline.extras`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Item:
    heading: str  # verbatim from the call, with the call's numbering
    blocks: tuple[str, ...]
    subitems: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Outline:
    key: str
    title: str
    source: str  # where the outline comes from, shown under the title
    items: tuple[Item, ...]
    extras: tuple[Item, ...]


_ANNEXES = (
    Item("Anexo A. Cortes publicados", ("cortes",)),
    Item("Anexo B. Cifras con las definiciones de GoAccess", ("goaccess",)),
)

IEEM = Outline(
    "ieem",
    "Informe técnico",
    "Contenido conforme al apartado IV. Informe técnico de la convocatoria del IEEM para "
    "difusores oficiales del PREP 2024.",
    (
        Item("i. Reporte de incidencias presentadas durante la operación que hayan afectado la "
             "publicación de los resultados electorales preliminares",
             ("incidencias", "disponibilidad")),
        Item("ii. Estadísticas de visitas", ("visitas",)),
        Item("iii. Total de usuarios activos y sesiones", ("activos_sesiones",)),
        Item("iv. Origen de consultas", (), (
            Item("Total de consultas", ("origen_total",)),
            Item("Consultas por país/región", ("origen_pais",)),
            Item("Nacional por entidad federativa", ("origen_entidad",)),
        )),
        Item("v. Consulta por tipo de dispositivo", ("dispositivos",)),
        Item("vi. Canal de acceso", ("canal",)),
        Item("vii. Número de páginas consultadas", ("paginas_numero",)),
        Item("viii. Páginas y accesos del portal principal del difusor del 2 al 3 de junio de 2024",
             ("portal",)),
        Item("ix. Periodo de permanencia", ("permanencia",)),
    ),
    (
        Item("Resumen", ("resumen",)),
        Item("Análisis y conclusiones", ("analisis",)),
        Item("Datos técnicos del servidor", ("tecnico",)),
        Item("Metodología", ("metodologia",)),
        *_ANNEXES,
    ),
)

IEM = Outline(
    "iem",
    "Memoria técnica",
    "Contenido conforme al numeral 4. Memoria técnica de la convocatoria del IEM para "
    "difusores oficiales del PREP Michoacán 2024.",
    (
        Item("a) Reporte de Incidencias", ("incidencias", "disponibilidad")),
        Item("b) Estadísticas de Visitas", ("visitas",), (
            Item("Páginas más visitadas", ("paginas_mas_visitadas",)),
            Item("Tiempo promedio de permanencia en el sitio", ("permanencia",)),
            Item("Geolocalización de los visitantes", ("origen_total", "origen_pais", "origen_entidad")),
        )),
        Item("c) Análisis y Conclusiones", ("analisis",)),
    ),
    (
        Item("Resumen", ("resumen",)),
        Item("Usuarios activos y sesiones", ("activos_sesiones",)),
        Item("Tipo de dispositivo", ("dispositivos",)),
        Item("Canal de acceso", ("canal",)),
        Item("Datos técnicos del servidor", ("tecnico",)),
        Item("Metodología", ("metodologia",)),
        *_ANNEXES,
    ),
)

PREPCAST = Outline(
    "prepcast",
    "Informe técnico de difusión del PREP",
    "",
    (
        Item("1. Resumen", ("resumen",)),
        Item("2. Incidencias", ("incidencias", "disponibilidad")),
        Item("3. Estadísticas de visitas", ("visitas",)),
        Item("4. Usuarios activos y sesiones", ("activos_sesiones", "permanencia")),
        Item("5. Origen de los visitantes", ("origen_total",), (
            Item("Por país o región", ("origen_pais",)),
            Item("Por entidad federativa", ("origen_entidad",)),
        )),
        Item("6. Tipo de dispositivo", ("dispositivos",)),
        Item("7. Canal de acceso", ("canal",)),
        Item("8. Páginas y vistas consultadas", ("paginas_numero", "portal", "tecnico")),
        Item("9. Análisis y conclusiones", ("analisis",)),
        Item("10. Metodología", ("metodologia",)),
    ),
    _ANNEXES,
)

OUTLINES: dict[str, Outline] = {o.key: o for o in (PREPCAST, IEEM, IEM)}


def headings(formato: str) -> list[str]:
    """Every heading of an outline, in order (the call's items, then prepcast's extras)."""
    out: list[str] = []

    def walk(item: Item) -> None:
        out.append(item.heading)
        for sub in item.subitems:
            walk(sub)

    outline = OUTLINES[formato]
    for item in (*outline.items, *outline.extras):
        walk(item)
    return out


def assemble(formato: str, blocks: dict[str, str]) -> str:
    """The body of the report: title, then each item's heading followed by its blocks."""
    outline = OUTLINES[formato]
    parts = [f"<h1>{escape(outline.title)}</h1>", blocks.get("encabezado", "")]
    if outline.source:
        parts.append(f"<p class='note'>{escape(outline.source)}</p>")

    def emit(item: Item, level: int) -> None:
        parts.append(f"<h{level}>{escape(item.heading)}</h{level}>")
        parts.extend(blocks[name] for name in item.blocks)
        for sub in item.subitems:
            emit(sub, level + 1)

    for item in outline.items:
        emit(item, 2)
    if formato != "prepcast":
        parts.append("<p class='note'>Secciones adicionales de prepcast:</p>")
    for item in outline.extras:
        emit(item, 2)
    return "\n".join(parts)
