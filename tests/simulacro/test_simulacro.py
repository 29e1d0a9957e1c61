"""The simulacro end to end on the small profile, and the drill's institute server."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from prepcast.cli import main
from prepcast.election import ElectionDir, Status, load_election_dir
from prepcast.publish.state import NightState
from prepcast.simulacro.institute import ActaImages, InstituteServer
from prepcast.simulacro.night import NightOptions, run_night
from prepcast.simulacro.watch import DRILL, EXPECTED


def test_every_acta_image_hashes_to_its_codigo_integridad(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    images = ActaImages(ed)
    captured = [a for feed in ed.feeds.values() for a in feed
                if a.status is Status.CAPTURADA and a.codigo_integridad]
    assert len(images) >= 0.95 * len(captured)
    for a in captured[:200]:
        png = images.png(a.codigo_integridad)
        if png is not None:
            assert hashlib.sha256(png).hexdigest() == a.codigo_integridad
    assert images.png("0" * 64) is None


def test_acta_images_read_the_election_at_the_first_image(small_election: Path) -> None:
    """A drill's readers never ask for an acta image: the actas on rows (tens of seconds for a
    national election) are read only when one is asked for, once."""
    reads: list[int] = []

    def read() -> ElectionDir:
        reads.append(1)
        return load_election_dir(small_election)

    images = ActaImages(read)
    assert reads == []
    sha = next(a.codigo_integridad for a in load_election_dir(small_election).feeds["AYUN"]
               if a.codigo_integridad)
    png = images.png(sha)
    assert png is not None and hashlib.sha256(png).hexdigest() == sha
    assert images.png("0" * 64) is None and len(images) > 0
    assert reads == [1]


def test_institute_server_serves_images_and_the_cut(small_election: Path, tmp_path: Path) -> None:
    ed = load_election_dir(small_election)
    pkg = tmp_path / "pkg"
    (pkg / "json").mkdir(parents=True)
    (pkg / "json" / "main.json").write_text('{"signed": {"cut": 1}}')
    (pkg / "index.html").write_text("<!doctype html><title>PREP</title>")
    server = InstituteServer()
    server.images = ActaImages(ed)
    server.start()
    try:
        server.publish(pkg)
        sha = next(a.codigo_integridad for a in ed.feeds["AYUN"] if a.codigo_integridad)
        with httpx.Client(base_url=server.url) as client:
            r = client.get(f"/actas/{sha}.png")
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            assert hashlib.sha256(r.content).hexdigest() == sha
            main_json = client.get("/json/main.json")
            assert main_json.headers["cache-control"] == "no-cache, no-store, must-revalidate"
            assert client.get("/").text.startswith("<!doctype html>")
            assert client.get("/../etc/passwd").status_code == 404
            assert client.get(f"/actas/{'f' * 64}.png").status_code == 404
    finally:
        server.stop()


@pytest.mark.slow  # a whole night with the monitor's drill: tens of seconds
def test_a_short_night_reaches_every_difusor(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = run_night("small", 3, out, NightOptions(cuts=4, sftp_only=2, daemons=1, pdf=False))
    assert [c.number for c in result.cuts] == [1, 2, 3, 4]
    last = result.cuts[-1]
    assert set(last.live.values()) == {4} and len(last.live) == 3
    # the database published in each cut recounts to its own preamble (checked by the night),
    # and the figures grow with the night
    first_pre = next(iter(result.cuts[0].preambles.values()))
    last_pre = next(iter(last.preambles.values()))
    assert int(last_pre["ACTAS_REGISTRADAS"]) >= int(first_pre["ACTAS_REGISTRADAS"])
    assert sorted(p.name for p in (out / "manifiestos").iterdir()) == [
        "simulacro-1-0001.json", "simulacro-1-0002.json", "simulacro-1-0003.json",
        "simulacro-1-0004.json"]
    # the night runner played it: its state, the institute's own root, older packages pruned
    assert [p.name for p in (out / "estado" / "paquetes").iterdir()] == ["simulacro-1-0004"]
    assert (out / "instituto" / "current").resolve().name == "simulacro-1-0004"
    assert NightState.read(out / "estado").published() == 4
    # every local difusor was registered and checked through the registry before the night (the
    # code of `prepcast difusores check`: SFTP, disk, speed, its HTTPS site with the drill's CA,
    # the redirect, a test package read back, the clocks), became validado by passing it, then
    # activo; its report is kept, and the public list of every cut shows it with its logo
    # (a daemon serves no cut before the night: what is checked on the cut it serves waits for
    # one; it is checked again once it serves the first cut, then validado and activo, and on
    # the public list of the cuts built from then on)
    registro = result.registro
    daemons = sorted(n for n in result.difusor_roots if not n.startswith("local-sftp"))
    assert registro is not None and sorted(registro.validados) == sorted(result.difusor_roots)
    assert [n for n, _ in registro.rechecked] == daemons
    for r in registro.reports:
        keys = {f.key for f in r.findings if f.ok}
        assert {"sftp.login", "sftp.speed", "disk.free", "https.cert", "http.redirect",
                "clock.http", "clock.sftp", "package.activate", "http.cache_control",
                "http.identical"} <= keys, r.findings
        saved = json.loads((registro.report_dir / f"{r.difusor}.json").read_text())
        assert saved["passed"] and "Cumple con todos" in (
            registro.report_dir / f"{r.difusor}.html").read_text()
    history = [json.loads(line) for line in (out / "registro" / "historial.jsonl").open()]
    for name in result.difusor_roots:
        changes = [(e["status"], e["why"]) for e in history if e["difusor"] == name]
        assert [v for v, _ in changes] == ["aspirante", "validado", "activo"], changes
        assert "pruebas de cumplimiento" in changes[1][1]
    pkg = out / "estado" / "paquetes" / "simulacro-1-0004"
    listed = json.loads(next((pkg / "data").glob("difusores.*.json")).read_bytes())
    local = {d["id"]: d for d in listed["difusores"] if d["id"] != "instituto"}
    assert set(local) == set(result.difusor_roots)
    assert all(d["url"].startswith("https://127.0.0.1:") for d in local.values())
    assert all(d["logo"].startswith("data:image/svg+xml;base64,") for d in local.values())
    assert result.reader_requests > 0
    assert result.report is not None and (result.report / "informe.html").exists()
    # The informe follows the outline of the election's institute (IEEM: items i–ix).
    informe = (result.report / "informe.html").read_text(encoding="utf-8")
    assert "ix. Periodo de permanencia" in informe
    # the chain: each manifest names the digest of the one before
    m3 = json.loads((out / "manifiestos" / "simulacro-1-0003.json").read_bytes())
    m2 = (out / "manifiestos" / "simulacro-1-0002.json").read_bytes()
    assert hashlib.sha256(m2).hexdigest() in json.dumps(m3)
    # the monitor watched every local difusor all night; at the end one misbehaved in turn, each
    # misbehaviour caught in the first round after it started and closed once put right, and no
    # honest difusor was ever flagged
    w = result.watch
    assert w is not None and w.honest_flagged == [] and w.rounds > len(DRILL) * 2
    assert len(w.round_seconds) == w.rounds and all(s >= 0 for s in w.round_seconds)
    # where the command's time went, stage by stage, adding up to the whole
    stages = dict(result.stages)
    assert stages["la noche: cada corte construido, verificado, publicado y enviado"] > 0
    assert "escribiendo el informe técnico del difusor local 01" in stages
    assert abs(sum(stages.values()) - result.seconds) < result.seconds * 0.2
    assert [d.kind for d in w.drill] == list(DRILL)
    for d in w.drill:
        assert d.caught is not None and d.rounds == 1 and d.closed is not None, d
        assert d.started < d.caught < d.closed
    state = out / "monitor" / "estado"
    status = json.loads((state / "status.json").read_text())
    assert {r["name"] for r in status["difusores"]} == set(result.difusor_roots)
    assert all(r["up"] and r["integrity"] == "ok" and r["cut"] == 4 for r in status["difusores"])
    incidents = json.loads((state / "incidents.json").read_text())["incidents"]
    assert [(i["difusor"], i["kind"]) for i in incidents] == [(w.victim, EXPECTED[k]) for k in DRILL]
    assert all(i["closed"] for i in incidents)


def test_an_earlier_simulacro_is_replaced_only_when_asked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: ``--out`` naming an earlier drill wiped its informe, registry, history and
    monitor evidence without a word; it is refused (exit 2, naming --replace) and left whole."""
    from prepcast.simulacro.night import MARKER

    out = tmp_path / "sim"
    (out / "informe").mkdir(parents=True)
    (out / "informe" / "informe.html").write_text("evidencia")
    (out / MARKER).write_text(json.dumps({"profile": "small", "seed": 5}))
    code = main(["simulacro", "--profile", "small", "--seed", "5", "--out", str(out),
                 "--cuts", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "holds an earlier simulacro" in err and "--replace" in err, err
    assert (out / "informe" / "informe.html").read_text() == "evidencia"
    makefile = Path(__file__).parents[2] / "Makefile"
    assert "--replace" in makefile.read_text().split("\nsimulacro:")[1].split("\n\n")[0]


def test_simulacro_refuses_a_directory_it_did_not_make(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    code = main(["simulacro", "--profile", "small", "--out", str(tmp_path / "mine"), "--cuts", "1"])
    assert code == 2
    assert "not made by a simulacro" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


@pytest.mark.slow  # a whole night with the monitor's drill: tens of seconds
def test_simulacro_command_prints_the_table_and_urls(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # a relative --out, as `make simulacro` passes it: the registry's key paths must still resolve
    monkeypatch.chdir(tmp_path)
    out = Path("sim")
    code = main(["simulacro", "--profile", "small", "--seed", "5", "--out", str(out), "--cuts", "2",
                 "--sftp-only", "1", "--daemons", "1", "--no-report"])
    text = capsys.readouterr().out
    assert code == 0
    assert "Sitio del instituto" in text and "http://127.0.0.1:" in text
    assert "02/06/2024 20:20 (UTC-6)" in text
    assert "local-daemon-01" in text
    # each local difusor's check, with its HTTPS site and its report, printed for people
    assert "Difusores revisados (prepcast difusores check" in text
    assert "local-sftp-01: cumple (validado, activo) https://127.0.0.1:" in text
    assert "local-daemon-01: cumple lo evaluado, sigue aspirante; sin evaluar: " in text
    # ... and checked again once it serves the night's first cut: validado, activo
    assert "Difusores revisados de nuevo en la noche" in text
    assert ("al servir el corte 1: local-daemon-01: cumple (validado, activo) https://127.0.0.1:"
            in text), text
    # the monitor's table: each misbehaviour, when it started and when it was caught
    assert "script ajeno inyectado en index.html" in text and "sitio caído" in text
    assert "ninguno marcado" in text and "no (" not in text
    # a second run in the same folder is refused: it would wipe the drill's evidence ...
    again = ["simulacro", "--profile", "small", "--seed", "5", "--out", str(out), "--cuts", "1",
             "--sftp-only", "1", "--daemons", "0", "--no-report", "--no-monitor"]
    assert main(again) == 2
    assert "give --replace" in capsys.readouterr().err
    assert len(list((out / "manifiestos").iterdir())) == 2
    assert (out / "monitor" / "estado" / "incidents.json").is_file()
    # ... unless --replace: it reuses the election and starts the night afresh
    assert main([*again, "--replace"]) == 0
    assert sorted(p.name for p in (out / "manifiestos").iterdir()) == ["simulacro-1-0001.json"]
    # --no-monitor: no monitor stage, no monitor table naming a state folder never written
    text = capsys.readouterr().out
    assert "esperando las fallas" not in text and "Monitor:" not in text, text
    assert "monitor/estado" not in text and not (out / "monitor" / "estado").exists(), text


@pytest.mark.parametrize("cuts", ["0", "-1"])
def test_simulacro_refuses_fewer_than_one_cut(tmp_path: Path, cuts: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulacro", "--profile", "small", "--out", str(tmp_path / "sim"), "--cuts", cuts])
    assert code == 2
    assert "--cuts must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "sim").exists()


def test_simulacro_is_never_the_jornada(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: synthetic data published as the jornada, with no SIMULACRO banner."""
    code = main(["simulacro", "--profile", "small", "--out", str(tmp_path / "sim"), "--cuts", "1",
                 "--ejercicio", "jornada"])
    assert code == 2
    assert "never the jornada" in capsys.readouterr().err
    assert not (tmp_path / "sim").exists()


def test_the_hint_names_a_prepcast_that_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: after `make`, `prepcast` is not on the PATH; the hint names the one in
    the virtual environment (or python -m prepcast), and what it names runs."""
    import shlex

    from prepcast.cli.simulacro import prepcast_command

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    command = prepcast_command()
    assert command != "prepcast"
    done = subprocess.run([*shlex.split(command), "--version"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("prepcast "), done.stderr
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    assert prepcast_command() == "prepcast"


def test_a_refused_replay_leaves_no_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `--from-database LEEME.txt` was refused (2) but left --out holding the
    simulacro's marker."""
    leeme = tmp_path / "LEEME.txt"
    leeme.write_text("hola\n")
    code = main(["simulacro", "--from-database", str(leeme), "--out", str(tmp_path / "sfd2"),
                 "--cuts", "1"])
    assert code == 2 and "not a PREP database" in capsys.readouterr().err
    assert not (tmp_path / "sfd2").exists()


@pytest.mark.slow  # a short night up to the monitor's drill: tens of seconds
def test_ctrl_c_during_the_drill_ends_cleanly_and_puts_the_difusor_right(tmp_path: Path) -> None:
    """Regression: Ctrl-C while the monitor's drill ran printed ``RuntimeWarning: coroutine
    'Monitor.round' was never awaited`` (and tracebacks of a closed event loop): the drill stops
    at its next round, undoes its misbehaviour, and the command says only that it was
    interrupted."""
    import os
    import signal
    import time

    from prepcast.monitor.drill import INJECTED

    out = tmp_path / "sim"
    proc = subprocess.Popen(
        [sys.executable, "-m", "prepcast", "simulacro", "--profile", "small", "--seed", "5",
         "--out", str(out), "--cuts", "2", "--sftp-only", "2", "--daemons", "0",
         "--no-readers", "--no-report"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"})
    incidents = out / "monitor" / "estado" / "incidents.json"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if incidents.is_file() and "local-sftp-02" in incidents.read_text():
                break  # the drill is under way on its victim
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err == "prepcast: interrupted\n", err
    victim = out / "difusores" / "local-sftp-02"
    assert (victim / "current").resolve().name == "simulacro-1-0002"
    assert INJECTED not in (victim / "current" / "index.html").read_bytes()


def test_a_round_after_the_monitor_loop_closed_leaves_no_coroutine(tmp_path: Path) -> None:
    """Regression (the race behind Ctrl-C during the drill): a drill round asked for once the
    monitor's event loop had closed created ``Monitor.round()`` and never awaited it (``sys:1:
    RuntimeWarning: coroutine 'Monitor.round' was never awaited``); it now ends the drill."""
    import asyncio
    import contextlib
    import gc
    import warnings

    from prepcast.simulacro.watch import Watch

    class Mon:
        async def round(self) -> None:
            return None

    watch = Watch(tmp_path / "monitor", {"local-01": tmp_path}, tmp_path / "root.pub",
                  tmp_path / "instituto", registry=tmp_path / "registry.toml")
    loop = asyncio.new_event_loop()
    loop.close()
    watch._loop, watch._mon = loop, Mon()  # type: ignore[assignment]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with contextlib.suppress(Exception):
            watch._round()
        gc.collect()
    assert not [w for w in seen if "never awaited" in str(w.message)], seen
    assert watch.report.rounds == 0
