"""Difusores' logos: SVG only, checked and re-serialized from a parsed tree before publication.

The XML is parsed by ``defusedxml`` with DTDs, entities and external references forbidden (XXE,
billion laughs); files over the size limit are refused before parsing. Refused with a reason:
``<script>``, ``<foreignObject>``, event handlers (``on*``), ``javascript:`` anywhere, references
outside the file (``href`` or ``url(...)`` to anything but ``#id`` or an embedded raster image),
``@import`` in styles. Dropped silently: elements and attributes outside SVG (editor metadata,
``<metadata>``, comments, processing instructions), animation. What is published is the cleaned
tree serialized again, never the bytes the difusor sent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
MAX_BYTES = 256 * 1024
MAX_DEPTH = 64
REFUSED_ELEMENTS = {"script": "it contains a <script>",
                    "foreignObject": "it contains a <foreignObject> (HTML inside SVG)",
                    "iframe": "it contains an <iframe>", "embed": "it contains an <embed>",
                    "object": "it contains an <object>"}
ALLOWED = {
    "svg", "g", "a", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse",
    "line", "polyline", "polygon", "text", "tspan", "textPath", "linearGradient",
    "radialGradient", "stop", "clipPath", "mask", "pattern", "image", "style", "filter",
    "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feComposite", "feFlood",
    "feMerge", "feMergeNode", "feMorphology", "feDropShadow", "marker", "switch",
}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.I)
_IMAGE_MAGIC = {b"%PDF": "a PDF", b"%!PS": "a PostScript/.ai file", b"\x89PNG": "a PNG image",
                b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image"}


class LogoError(ValueError):
    """The logo cannot be published; the message says why."""


@dataclass(frozen=True)
class CleanLogo:
    svg: bytes
    dropped: tuple[str, ...]    # what was removed silently (editor metadata, comments)


def clean_logo_file(path: Path, max_bytes: int = MAX_BYTES) -> CleanLogo:
    """Check and clean the logo at ``path``; :class:`LogoError` with the reason otherwise."""
    if path.suffix.lower() in (".ai", ".eps", ".pdf", ".png", ".jpg", ".jpeg", ".gif"):
        raise LogoError(f"a {path.suffix} file is not accepted: ask the difusor for its logo in "
                        "SVG (vector) format (Illustrator: File > Save As > SVG)")
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise LogoError(f"cannot read: {exc.strerror}") from None
    return clean_logo(data, max_bytes)


def clean_logo(data: bytes, max_bytes: int = MAX_BYTES) -> CleanLogo:
    """Check and clean SVG bytes; return the re-serialized SVG."""
    if len(data) > max_bytes:
        raise LogoError(f"larger than {max_bytes} bytes; simplify the logo")
    for magic, what in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            raise LogoError(f"this is {what}, not SVG: ask the difusor for its logo in SVG")
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise LogoError(f"it declares a DTD or entities ({type(exc).__name__}); "
                        "SVG logos need neither") from None
    except ET.ParseError as exc:
        raise LogoError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{SVG}}}svg":
        raise LogoError(f"the root element is {_local(root.tag)!r}, not an SVG <svg>")
    for el in root.iter():          # refuse first, anywhere in the tree (dropped parts included)
        _inspect(el)
    dropped: list[str] = []
    _clean(root, 0, dropped)
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", XLINK)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return CleanLogo(('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode(),
                     tuple(dropped))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _inspect(el: ET.Element) -> None:
    tag = _local(el.tag) if isinstance(el.tag, str) else ""
    if tag in REFUSED_ELEMENTS:
        raise LogoError(REFUSED_ELEMENTS[tag])
    for name, value in el.attrib.items():
        _check_attribute(tag, name, value)
    if tag == "style" and el.text:
        _check_css(el.text, "<style>")


def _clean(el: ET.Element, depth: int, dropped: list[str]) -> None:
    if depth > MAX_DEPTH:
        raise LogoError(f"nested deeper than {MAX_DEPTH} elements")
    for name in list(el.attrib):
        namespace = name[1:].split("}", 1)[0] if name.startswith("{") else ""
        if namespace not in ("", XLINK, XML):
            dropped.append(f"@{_local(name)}")
            del el.attrib[name]
    for child in list(el):
        ctag = child.tag if isinstance(child.tag, str) else ""
        local = _local(ctag)
        if not ctag.startswith(f"{{{SVG}}}") or local not in ALLOWED:
            dropped.append(f"<{local or 'comment'}>")
            el.remove(child)
            continue
        _clean(child, depth + 1, dropped)


def _check_attribute(tag: str, name: str, value: str) -> None:
    local = _local(name)
    squeezed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    if local.lower().startswith("on"):
        raise LogoError(f"<{tag}> has an event handler {local!r} (scripts are not allowed)")
    if "javascript:" in squeezed or "vbscript:" in squeezed:
        raise LogoError(f"<{tag} {local}> holds a javascript: link")
    if local == "href":
        if tag == "image" and _DATA_IMAGE.match(value.strip()):
            return
        if not value.strip().startswith("#"):
            raise LogoError(f"<{tag}> refers to {value[:80]!r} outside the file; "
                            "a logo must be self-contained")
    if local == "style":
        _check_css(value, f"<{tag} style>")
    elif "url(" in squeezed:
        _check_css(value, f"<{tag} {local}>")


def _check_css(css: str, where: str) -> None:
    low = css.lower()
    if "@import" in low:
        raise LogoError(f"{where} imports another stylesheet")
    if "expression(" in low or "javascript:" in re.sub(r"\s", "", low):
        raise LogoError(f"{where} holds script")
    for target in _URL.findall(css):
        if not target.startswith("#") and not _DATA_IMAGE.match(target):
            raise LogoError(f"{where} refers to {target[:80]!r} outside the file")
