"""The site on the large synthetic profiles: every data file valid (with the compiled validator),
and the entidad, the largest municipio, a sección and an acta open in Chromium without errors
(no acta image is looked at: the profiles are generated without them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from prepcast.election import load_election_dir
from prepcast.election.synthetic import generate
from tests.site.site_package import publish
from tests.site.site_schemas import site_data_problems
from tests.site.site_server import StaticServer
from tests.site.site_views import open_view, routes, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("profile", "cut"), [("michoacan-2024", 8), ("edomex-2024", 10)])
def test_large_profile_views(page: Page, tmp_path: Path, profile: str, cut: int) -> None:
    generate(profile, 3, tmp_path / "election", images=False)
    ed = load_election_dir(tmp_path / "election")
    pc = publish(ed, cut, tmp_path / "pkg")
    assert site_data_problems(pc.site.files) == {}
    assert len(pc.site.files) <= 1000
    proceso = json.loads(pc.site.files[pc.site.main_fields["proceso"]])
    ayun = next(e for e in proceso["elecciones"] if e["id"] == "AYUN")
    largest = max(
        ayun["ambitos"], key=lambda a: len(json.loads(pc.site.files[a["catalogo"]])["casillas"])
    )["id"]
    with StaticServer(tmp_path / "pkg") as srv:
        errors = watch_console(page)
        r = routes(pc, eleccion="AYUN", ambito_id=largest)
        for route in ("/DIP_LOC", "/AYUN", r.all["ambito"], r.all["seccion"], r.all["casilla"]):
            open_view(page, srv.url, route)
            assert page.locator("#corte-numero").inner_text() == str(cut)
        assert errors == []
