"""Elements that run code or frame other pages in an HTML page, to name what a difusor added."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

ACTIVE_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "base"})


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False
        self._script = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            shown = " ".join(f"{k}={v!r}" if v is not None else k for k, v in attrs
                             if k in ("src", "href", "data", "type"))
            self.found.append(f"<{tag}{' ' + shown if shown else ''}>")
        if tag == "script":
            self._in_script, self._script = True, ""
        for k, v in attrs:
            if k.startswith("on") and v:
                self.found.append(f"<{tag} {k}=…> (inline handler)")

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self._script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script:
            self._in_script = False
            if self._script.strip():
                self.found[-1] += f" {self._script.strip()[:60]!r}"


def active_elements(html: bytes) -> list[str]:
    """Every script, frame, object and inline handler of ``html``, described in one line."""
    scan = _Scan()
    try:
        scan.feed(html.decode("utf-8", "replace"))
        scan.close()
    except AssertionError:  # pragma: no cover - html.parser on pathological markup
        pass
    return scan.found


def foreign_elements(served: bytes, reference: bytes) -> list[str]:
    """Active elements in ``served`` that the institute's ``reference`` page does not have."""
    extra = Counter(active_elements(served)) - Counter(active_elements(reference))
    return sorted(extra.elements())
