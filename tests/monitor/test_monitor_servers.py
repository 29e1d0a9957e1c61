"""The monitor against real nginx servers playing honest and dishonest difusores."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prepcast import events
from prepcast.monitor import Monitor, MonitorOptions, ProbeSettings, availability
from tests.monitor.monitor_lab import INJECTED, Lab, make_lab, publish, tag

pytestmark = pytest.mark.server

HONEST = ["honesto-1", "honesto-2"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("monitor"), cuts=3)
    try:
        for c in range(1, 4):
            lab.advance(c, [])
        for name in HONEST:
            lab.add(name, upto=3)
        lab.add("atrasado", upto=1)
        root = lab.add("inyectado", upto=3)
        index = root / "releases" / tag(3) / "index.html"
        index.write_bytes(index.read_bytes().replace(b"</title>", b"</title>" + INJECTED))
        root = lab.add("alterado", upto=3)
        data = sorted((root / "releases" / tag(3) / "data").rglob("*.json"))[0]
        data.write_bytes(data.read_bytes().replace(b"30", b"31", 1))
        lab.add("encabezado", upto=3, cache_control="max-age=60")
        lab.add("caido", upto=3, serve=False)
        lab.add("lento", upto=3, slow=True)
        lab.add("vencido", upto=3, expired=True)
        yield lab
    finally:
        lab.stop()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prepcast", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_once_json_catches_every_dishonest_difusor_in_one_round(lab: Lab, tmp_path: Path) -> None:
    reg = lab.registry(path=tmp_path / "difusores.toml")
    out = cli("monitor", "run", "--registry", str(reg), "--trust", str(lab.trust),
              "--reference", str(lab.reference), "--state", str(tmp_path / "state"),
              "--once", "--json", "--slow", "1500", "--lag-bound", "0")
    assert out.returncode == 1, out.stderr  # down, findings, lag: a script gets the signal
    rows = {r["name"]: r for r in json.loads(out.stdout)["difusores"]}
    for name in HONEST:
        r = rows[name]
        assert (r["up"], r["cut"], r["lag_cuts"], r["integrity"]) == (True, 3, 0, "ok"), r
        assert r["cache_control"] == "no-cache, no-store, must-revalidate"
        assert r["tls_days"] > 80 and not r["slow"] and r["incidents"] == []
    assert rows["atrasado"]["cut"] == 1 and rows["atrasado"]["lag_cuts"] == 2
    assert rows["atrasado"]["integrity"] == "ok"
    assert [i["kind"] for i in rows["atrasado"]["incidents"]] == ["lag"]
    found = rows["inyectado"]["integrity"]
    # in Spanish: the institute reads these on the dashboard and in the alerts
    assert "index.html: mide 131 bytes y el Instituto publicó 72: el contenido cambió" in found, found
    assert any("elemento ajeno a la página del Instituto: <script "
               "src='https://anuncios.example/tracker.js'>" in f for f in found)
    found = rows["alterado"]["integrity"]
    assert len(found) == 1 and found[0].startswith("data/")
    assert "el contenido difiere del publicado por el Instituto" in found[0]
    found = rows["encabezado"]["integrity"]
    assert any(f.startswith("json/main.json: encabezado Cache-Control 'max-age=60'")
               for f in found), found
    assert rows["caido"]["up"] is False and rows["caido"]["cut"] is None
    assert rows["caido"]["integrity"] is None  # not evaluated, never "ok"
    assert rows["lento"]["slow"] is True and rows["lento"]["integrity"] == "ok"
    assert rows["vencido"]["up"] is False and "expired" in rows["vencido"]["tls_error"]
    kinds = {n: sorted(i["kind"] for i in r["incidents"]) for n, r in rows.items()}
    assert kinds == {"honesto-1": [], "honesto-2": [], "atrasado": ["lag"],
                     "inyectado": ["integrity"], "alterado": ["integrity"],
                     "encabezado": ["integrity"], "caido": ["down"], "lento": ["slow"],
                     "vencido": ["down", "tls"]}
    incs = json.loads((tmp_path / "state" / "incidents.json").read_text())["incidents"]
    assert {i["difusor"] for i in incs} == set(rows) - set(HONEST)
    assert all(i["contact"]["email"] == f"{i['difusor']}@medio.example" for i in incs)
    lines = [json.loads(x) for x in (tmp_path / "state" / "events.jsonl").read_text().splitlines()]
    assert all(events.problems(e) == [] for e in lines)
    down = {e["difusor"] for e in lines if e["event"] == events.PROBE_DOWN}
    assert down == {"caido", "vencido"}


def test_once_exits_0_for_honest_difusores_and_1_for_a_plain_http_site(lab: Lab,
                                                                     tmp_path: Path) -> None:
    reg = lab.registry(HONEST, path=tmp_path / "honestos.toml")
    args = ["monitor", "run", "--trust", str(lab.trust), "--reference", str(lab.reference),
            "--state", str(tmp_path / "state"), "--once", "--json", "--slow", "5000"]
    out = cli(*args, "--registry", str(reg))
    assert out.returncode == 0, out.stdout + out.stderr
    plain = lab.urls[HONEST[0]].replace("https://", "http://")
    reg.write_text(reg.read_text().replace(lab.urls[HONEST[0]], plain))
    out = cli(*args, "--registry", str(reg))
    assert out.returncode == 1, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)["difusores"]}
    assert rows[HONEST[0]]["https"] == (
        f"{plain}: el sitio se sirve por HTTP sin cifrar; las convocatorias piden HTTPS")
    assert rows[HONEST[1]]["integrity"] == "ok" and rows[HONEST[1]]["https"] is None


def test_a_site_served_over_plain_http_is_an_https_finding_not_tampering(
        lab: Lab, tmp_path: Path) -> None:
    """Regression: a difusor serving the institute's cut byte for byte over ``http://`` was
    alerted as "contenido distinto del publicado por el Instituto" (an integrity incident whose
    only evidence was the plain HTTP); and a site down printed ``corte None`` on the console."""
    import http.server
    import threading

    hooks: list[dict[str, Any]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hooks.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    lab.add("plano", upto=3, plain=True)
    reg = lab.registry(["plano", "caido"], path=tmp_path / "plano.toml")
    try:
        out = cli("monitor", "run", "--registry", str(reg), "--trust", str(lab.trust),
                  "--reference", str(lab.reference), "--state", str(tmp_path / "state"),
                  "--once", "--slow", "5000", "--webhook",
                  f"http://127.0.0.1:{hook.server_address[1]}/")
    finally:
        hook.shutdown()
        hook.server_close()
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    plano = next(ln for ln in lines if ln.startswith("plano "))
    assert "arriba" in plano and "corte 3" in plano and "íntegro" in plano, out.stdout
    assert "el sitio se sirve por HTTP sin cifrar" in out.stdout
    caido = next(ln for ln in lines if ln.startswith("caido "))
    assert "sin corte" in caido and "None" not in out.stdout, out.stdout
    assert "sin evaluar" in caido and "íntegro" not in caido, caido
    subjects = {h["incident"]["difusor"]: (h["incident"]["kind"], h["subject"]) for h in hooks}
    assert subjects["plano"] == ("https", "[PREP monitor] ABIERTO: plano — sitio sin HTTPS: se "
                                          "sirve por HTTP sin cifrar"), hooks
    assert subjects["caido"][0] == "down"
    incs = json.loads((tmp_path / "state" / "incidents.json").read_text())["incidents"]
    assert sorted((i["difusor"], i["kind"]) for i in incs) == [("caido", "down"),
                                                               ("plano", "https")]


def test_honest_never_flagged_over_an_accelerated_night(lab: Lab, tmp_path: Path) -> None:
    """The institute and the honest difusores move through the cuts; nothing ever opens."""
    reg = lab.registry(HONEST, path=tmp_path / "honestos.toml")
    opts = MonitorOptions(reg, lab.trust, lab.reference, tmp_path / "state",
                          probe=ProbeSettings(round_s=0.1, sample=2, lag_bound_s=5))

    async def night() -> list[list[dict[str, object]]]:
        mon = Monitor(opts)
        seen = []
        try:
            for cut in (1, 2, 3, 3, 3):
                lab.advance(cut, HONEST)
                for _ in range(3):
                    rows = [r.as_json() for r in await mon.round()]
                    seen.append(rows)
                    assert mon.incidents.items == [], mon.incidents.items
        finally:
            await mon.close()
        return seen

    rounds = asyncio.run(night())
    assert all(r["integrity"] == "ok" and r["lag_cuts"] == 0 for rows in rounds for r in rows)
    # a rotating sample of 2 data files a round sweeps the cut's 6 within the night
    assert any(r["sweep_done"] for r in rounds[-1])
    avail = availability(tmp_path / "state" / "events.jsonl", round_s=0.1)
    assert {n: a["availability"] for n, a in avail.items()} == {n: 100.0 for n in HONEST}


def test_bytes_verified_once_never_cover_a_dishonest_difusor(lab: Lab, tmp_path: Path) -> None:
    """Bytes an honest difusor served are remembered as verified; the next difusor's bytes are
    compared to them, so a changed byte is still caught, round after round."""
    names = ["honesto-1", "alterado", "inyectado", "honesto-2"]
    reg = lab.registry(names, path=tmp_path / "mezcla.toml")
    opts = MonitorOptions(reg, lab.trust, lab.reference, tmp_path / "state",
                          probe=ProbeSettings(round_s=0.1, sample=100, lag_bound_s=1e6))
    lab.advance(3, ["honesto-1", "honesto-2"])

    async def rounds() -> list[dict[str, list[str]]]:
        mon = Monitor(opts)
        try:
            return [{r.name: r.integrity for r in await mon.round()} for _ in range(3)]
        finally:
            await mon.close()

    seen = asyncio.run(rounds())
    for found in seen:
        assert found["honesto-1"] == [] and found["honesto-2"] == [], found
        assert len(found["alterado"]) == 1 and "el contenido difiere" in found["alterado"][0]
        assert any("index.html: mide" in f for f in found["inyectado"]), found
        assert any("elemento ajeno a la página del Instituto: <script" in f
                   for f in found["inyectado"]), found
    assert seen[1] == seen[0] == seen[2]


def test_a_difusor_switching_cut_during_a_round_is_not_flagged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The honest difusor moves to cut 2 (and drops cut 1's files) while the monitor checks the
    files of cut 1 it showed a moment before: it is checked again on cut 2, not flagged."""
    from prepcast.monitor.probe import Prober

    lab = make_lab(tmp_path / "lab", cuts=2)
    try:
        lab.advance(1, [])
        lab.advance(2, [])
        root = lab.add("cambia", upto=1)
        checks = Prober._check_files
        switched: list[int] = []

        async def switch_then_check(self: Prober, res: Any, *args: Any, **kwargs: Any) -> None:
            if not switched:
                switched.append(res.cut)
                publish(root, lab.packages[1], tag(2))
                shutil.rmtree(root / "releases" / tag(1))  # cut 1's files are gone
            await checks(self, res, *args, **kwargs)

        monkeypatch.setattr(Prober, "_check_files", switch_then_check)
        opts = MonitorOptions(lab.registry(["cambia"]), lab.trust, lab.reference,
                              tmp_path / "state")

        async def one_round() -> list[Any]:
            mon = Monitor(opts)
            try:
                return list(await mon.round())
            finally:
                await mon.close()

        (row,) = asyncio.run(one_round())
        assert switched == [1]
        assert (row.cut, row.integrity, row.up) == (2, [], True)
    finally:
        lab.stop()


def test_a_down_site_is_never_reported_intact(lab: Lab, tmp_path: Path) -> None:
    """Regression: a difusor that did not answer printed ``CAÍDO  sin corte … íntegro`` and its
    JSON said ``integrity: "ok"``: nothing of a down site is evaluated, so it reads ``sin
    evaluar`` and ``null``."""
    reg = lab.registry(["caido"], path=tmp_path / "caido.toml")
    args = ["monitor", "run", "--registry", str(reg), "--trust", str(lab.trust), "--reference",
            str(lab.reference), "--state", str(tmp_path / "state"), "--once"]
    out = cli(*args)
    assert out.returncode == 1, out.stderr
    (line,) = [ln for ln in out.stdout.splitlines() if ln.startswith("caido ")]
    assert "CAÍDO" in line and "sin evaluar" in line and "íntegro" not in line, line
    out = cli(*args, "--json")
    (row,) = json.loads(out.stdout)["difusores"]
    assert (row["up"], row["integrity"]) == (False, None), row


def test_a_drill_served_during_the_jornada_is_its_own_incident_not_a_lag(
        lab: Lab, tmp_path: Path) -> None:
    """Regression: a difusor serving a drill's cut (simulacro-3, cut 8) while the institute
    publishes the jornada was reported as ``lag_cuts: 3`` and a "corte atrasado … 3 corte(s)
    atrás" incident (the count made of the jornada's releases held): drill data live on the
    night is an incident of its own (``ejercicio``), never a lag."""
    from tests.distribution.dist_packages import make_package

    drill = make_package(tmp_path / "drill", lab.keydir, 8, ejercicio="simulacro-3")
    root = lab.add("simulacro", upto=0)
    publish(root, drill, "simulacro-3-0008")
    for c in range(1, 4):
        lab.advance(c, HONEST)
    reg = lab.registry([*HONEST, "simulacro"], path=tmp_path / "simulacro.toml")
    base = ["monitor", "run", "--registry", str(reg), "--trust", str(lab.trust),
            "--reference", str(lab.reference), "--once", "--slow", "5000"]
    out = cli(*base, "--json", "--state", str(tmp_path / "state"), "--lag-bound", "0")
    assert out.returncode == 1, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)["difusores"]}
    r = rows["simulacro"]
    assert (r["up"], r["ejercicio"], r["cut"], r["integrity"]) == (
        True, "simulacro-3", 8, "ok"), r  # the drill's own signed bytes, intact
    assert r["lag_cuts"] is None and r["lag_s"] is None, r
    assert (r["institute_ejercicio"], r["institute_cut"]) == ("jornada", 3), r
    (inc,) = r["incidents"]
    assert inc["kind"] == "ejercicio", r["incidents"]
    assert inc["evidence"][0].startswith(
        "muestra el corte 8 de simulacro-3, pero el Instituto publica jornada (corte 3)")
    assert "GRAVE" in inc["evidence"][0] and "atrás" not in inc["evidence"][0]
    for name in HONEST:
        assert rows[name]["incidents"] == [] and rows[name]["institute_ejercicio"] is None
    out = cli(*base, "--state", str(tmp_path / "state2"))
    (line,) = [ln for ln in out.stdout.splitlines() if ln.startswith("simulacro ")]
    assert "OTRO EJERCICIO: simulacro-3" in line and "atraso" not in line, line


def test_a_trust_key_that_does_not_match_the_reference_is_one_startup_error(
        lab: Lab, tmp_path: Path) -> None:
    """Regression: ``--trust`` with another institute's root key blamed every difusor (one
    "keyring not signed by the trusted root key" finding each, incidents opened against honest
    difusores, exit 1): it is one error at start naming --trust and --reference, exit 2,
    nothing probed or recorded."""
    from tests.distribution.dist_packages import make_keys

    make_keys(tmp_path / "otras")
    reg = lab.registry(HONEST, path=tmp_path / "honestos.toml")
    out = cli("monitor", "run", "--registry", str(reg), "--trust",
              str(tmp_path / "otras" / "root.pub"), "--reference", str(lab.reference),
              "--state", str(tmp_path / "state"), "--once", "--json")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "--trust does not match --reference" in out.stderr
    assert str(tmp_path / "otras" / "root.pub") in out.stderr
    assert not (tmp_path / "state" / "incidents.json").exists()
