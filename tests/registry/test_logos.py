"""An SVG attack corpus: every attack refused with its reason, clean logos kept (re-serialized)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prepcast.registry.logos import LogoError, clean_logo
from tests.cli.in_process import prepcast

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'

ATTACKS = {
    "script": (f'<svg {NS}><script>alert(1)</script></svg>', "<script>"),
    "script-cdata": (f'<svg {NS}><g><script><![CDATA[fetch("//x")]]></script></g></svg>', "<script>"),
    "onload": (f'<svg {NS} onload="alert(1)"><rect/></svg>', "event handler"),
    "onclick-nested": (f'<svg {NS}><g><rect onclick="x()"/></g></svg>', "event handler"),
    "javascript-href": (f'<svg {NS}><a href="javascript:alert(1)"><rect/></a></svg>', "javascript:"),
    "javascript-xlink-spaced": (f'<svg {NS}><a xlink:href=" java\tscript:alert(1)"><rect/></a></svg>',
                                "javascript:"),
    "javascript-set": (f'<svg {NS}><set attributeName="href" to="javascript:alert(1)"/></svg>',
                       "javascript:"),
    "external-image": (f'<svg {NS}><image href="https://evil.example/track.png"/></svg>',
                       "outside the file"),
    "external-use": (f'<svg {NS}><use xlink:href="http://evil.example/s.svg#a"/></svg>',
                     "outside the file"),
    "external-css-url": (f'<svg {NS}><rect style="fill:url(https://evil.example/x)"/></svg>',
                         "outside the file"),
    "css-import": (f'<svg {NS}><style>@import url(https://evil.example/x.css);</style></svg>',
                   "imports"),
    "foreign-object": (f'<svg {NS}><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
                       '<iframe src="https://evil.example"/></div></foreignObject></svg>',
                       "foreignObject"),
    "xxe": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            f'<svg {NS}><text>&xxe;</text></svg>', "DTD or entities"),
    "billion-laughs": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                       '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                       f'<svg {NS}><text>&lol3;</text></svg>', "DTD or entities"),
    "huge": (f'<svg {NS}>' + '<rect width="1" height="1"/>' * 20000 + "</svg>", "larger than"),
    "not-svg-root": ('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not an SVG"),
    "png": ("\x89PNG\r\n\x1a\n....", "PNG"),
    "broken": (f"<svg {NS}><rect></svg>", "not well-formed"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_is_refused_with_its_reason(name: str) -> None:
    svg, reason = ATTACKS[name]
    with pytest.raises(LogoError, match=reason.replace("(", r"\(")):
        clean_logo(svg.encode("latin-1" if name == "png" else "utf-8"))


def test_a_clean_logo_is_kept_and_reserialized_from_the_tree() -> None:
    svg = (f'<?xml version="1.0"?>\n<!-- Inkscape -->\n<svg {NS} '
           'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:version="1.2" '
           'viewBox="0 0 120 40"><metadata><rdf/></metadata><defs><linearGradient id="g">'
           '<stop offset="0" stop-color="#036"/></linearGradient></defs>'
           '<rect width="120" height="40" fill="url(#g)"/><use xlink:href="#g"/>'
           '<text x="4" y="28" font-family="sans-serif">El Sol</text></svg>')
    out = clean_logo(svg.encode())
    text = out.svg.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    assert "El Sol" in text and 'fill="url(#g)"' in text and "xlink:href=\"#g\"" in text
    assert "metadata" not in text and "inkscape" not in text and "Inkscape" not in text
    assert clean_logo(out.svg).svg == out.svg          # cleaning is stable


def test_an_embedded_raster_is_kept() -> None:
    svg = f'<svg {NS}><image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/></svg>'
    assert b"data:image/png;base64" in clean_logo(svg.encode()).svg


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return prepcast("difusores", "logo", *args)


def test_logo_command_writes_the_clean_file_or_says_why(tmp_path: Path) -> None:
    good = tmp_path / "sol.svg"
    good.write_text(f'<svg {NS} viewBox="0 0 2 2"><!-- x --><circle r="1"/></svg>')
    r = run(str(good), "--out", str(tmp_path / "clean.svg"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "clean.svg").read_bytes() == clean_logo(good.read_bytes()).svg
    bad = tmp_path / "bad.svg"
    bad.write_text(f'<svg {NS} onload="alert(1)"/>')
    r = run(str(bad), "--out", str(tmp_path / "bad-clean.svg"))
    assert r.returncode == 2 and "onload" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "bad-clean.svg").exists()
    ai = tmp_path / "sol.ai"
    ai.write_bytes(b"%PDF-1.5 illustrator")
    r = run(str(ai))
    assert r.returncode == 2 and "SVG" in r.stderr
