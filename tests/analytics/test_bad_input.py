"""Bad input: clear errors naming the file or flag, exit status 2, never a traceback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from prepcast.analytics import ReportOptions, read_events, read_incidents_yaml, write_report
from prepcast.cli import main
from prepcast.errors import InputError

UTC6 = timezone(timedelta(hours=-6))
LOG = '38.123.192.10 - - [02/Jun/2024:20:01:02 -0600] "GET / HTTP/2.0" 200 10 "-" "Mozilla/5.0 (iPhone)"\n'


@pytest.fixture
def small_log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text(LOG * 3, encoding="utf-8")
    return path


def test_an_empty_period_gives_a_valid_report_that_says_so(tmp_path: Path, small_log: Path, mmdb: Path) -> None:
    options = ReportOptions(start=datetime(2024, 6, 3, 0, 0, tzinfo=UTC6),
                            end=datetime(2024, 6, 4, 0, 0, tzinfo=UTC6))
    summary = write_report([small_log], tmp_path / "out", pdf=True, geoip_db=mmdb, options=options)
    assert summary.requests == 0 and summary.visitors == 0
    html = summary.html.read_text(encoding="utf-8")
    assert "no contiene solicitudes" in html and "3 solicitudes fuera del periodo" in html
    assert "100.000 %" not in html and "Por solicitudes: sin dato" in html  # no claim from nothing
    assert summary.pdf is not None and summary.pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("content", "says"), [
    ("", "the log is empty"),
    ('{"event": "cut_activated", "cut": 1}\n{"event": "probe"}\n', "none of its 2 lines is a request"),
    ('1.2.3.4 - - [32/Foo/2024:99:00:00 -0600] "GET / HTTP/1.1" 200 1 "-" "x"\n' * 3,
     "none of its 3 lines is a request"),
])
def test_a_log_without_any_request_is_an_error_not_a_report_of_nothing(
    tmp_path: Path, mmdb: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    # An informe of nothing said "Disponibilidad 100.000 %" and exited 0.
    log = tmp_path / "some.log"
    log.write_text(content)
    status = main(["report", "--logs", str(log), "--out", str(tmp_path / "o"), "--geoip-db", str(mmdb)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "some.log" in err and says in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o.tmp-*"))


def test_cli_missing_geoip_database_names_the_flag(tmp_path: Path, small_log: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"),
                   "--geoip-db", str(tmp_path / "missing.mmdb")])
    err = capsys.readouterr().err
    assert status == 2 and "--geoip-db" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_unknown_format_names_the_file(tmp_path: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hola\nesto no es una bitácora\n")
    status = main(["report", "--logs", str(notes), "--out", str(tmp_path / "o"), "--geoip-db", str(mmdb)])
    err = capsys.readouterr().err
    assert status == 2 and "notes.txt" in err and "unknown log format" in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o.tmp-*"))


def test_cli_bad_times(tmp_path: Path, small_log: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"),
                   "--geoip-db", str(mmdb), "--from", "2024-06-02T20:00"])
    assert status == 2 and "--from" in capsys.readouterr().err


def test_cli_writes_the_report(tmp_path: Path, small_log: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"), "--geoip-db", str(mmdb),
                   "--from", "2024-06-02T20:00-06:00", "--to", "2024-06-02T21:00-06:00"])
    assert status == 0 and (tmp_path / "o" / "informe.html").is_file()
    assert "3 requests" in capsys.readouterr().out
    # Again into the same directory: files are replaced in place.
    assert main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"), "--geoip-db", str(mmdb)]) == 0


def test_event_log_problems_are_reported_with_their_lines(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"time": "2024-06-02T20:00:04-06:00", "event": "cut_activated", "cut": 1, "message": "ok"}\n'
        "not json\n"
        '{"time": "2024-06-02 20:20", "event": "cut_activated", "cut": 2}\n'
    )
    with pytest.raises(InputError) as info:
        read_events(events)
    text = str(info.value)
    assert "events.jsonl:2" in text and "events.jsonl:3: time" in text


def test_event_log_shape(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"time": "2024-06-02T19:00:00-06:00", "event": "daemon_started", "cut": null, "message": "inicio"}\n'
        '{"time": "2024-06-02T20:00:04-06:00", "event": "cut_activated", "cut": 1, "message": "ok"}\n'
        '{"time": "2024-06-02T20:20:09-06:00", "event": "activation_failed", "cut": 2, "message": "disco lleno", "duration_s": 120}\n'
        '{"time": "2024-06-02T20:21:00-06:00", "event": "probe", "ok": false}\n'
        '{"time": "2024-06-02T20:22:00-06:00", "event": "probe", "ok": true}\n'
        '{"time": "2024-06-02T20:40:00-06:00", "event": "daemon_started", "message": "reinicio"}\n'
    )
    log = read_events(events)
    assert [c for _, c in log.cuts] == ["1"]
    assert [i.cause for i in log.incidents][:2] == ["disco lleno", "reinicio"]
    assert log.incidents[0].duration_s == 120
    assert (log.probes_ok, log.probes_total) == (1, 2)
    (outage,) = [i for i in log.incidents if i.source == "sondas del instituto"]
    assert outage.duration_s == 60  # the failed probe until the next good one


def test_probe_events_of_the_monitor_count_in_availability(tmp_path: Path) -> None:
    from prepcast import events as ev

    path = tmp_path / "probes.jsonl"
    lines = []
    for minute in range(10):
        name = ev.PROBE_DOWN if minute in (3, 4, 5) else ev.PROBE_UP
        record = {"time": f"2024-06-02T21:{minute:02d}:00-06:00", "event": name, "difusor": "d01",
                  "evidence": {"status": 503} if name == ev.PROBE_DOWN else {"status": 200}}
        assert ev.problems(record) == []
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    log = read_events(path)
    assert (log.probes_ok, log.probes_total) == (7, 10)
    (outage,) = log.incidents
    assert outage.start == datetime(2024, 6, 2, 21, 3, tzinfo=UTC6) and outage.duration_s == 180
    assert "el sitio respondió con el código HTTP 503" in outage.cause  # was "(status: 503)"
    assert "status" not in outage.cause


def test_the_event_schema_describes_the_vocabulary() -> None:
    import jsonschema

    from prepcast import events as ev

    schema = ev.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {"time": "2024-06-02T21:00:00-06:00", "event": ev.PROBE_DOWN, "difusor": "d01",
            "evidence": "timeout"}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"time": good["time"], "event": ev.PROBE_DOWN}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"time": good["time"], "event": "made_up"}, schema)
    assert ev.problems({"time": "yesterday", "event": ev.ACTIVATED}) == [
        "time: needs an ISO 8601 time with offset", "cut: required by activated"]


def test_incidents_yaml_problems_all_at_once(tmp_path: Path) -> None:
    path = tmp_path / "inc.yaml"
    path.write_text("- fecha: 2024-06-02\n  hora: '25:99'\n- fecha: ayer\n  hora: '10:00'\n"
                    "- date: 2024-06-03\n  time: '01:15'\n  root_cause: x\n  impact: y\n  duration_min: 5\n")
    with pytest.raises(InputError) as info:
        read_incidents_yaml(path, UTC6)
    assert len(info.value.problems) == 2
    path.write_text("- date: 2024-06-03\n  time: 01:15\n  root_cause: x\n  impact: y\n  duration_min: 5\n")
    (incident,) = read_incidents_yaml(path, UTC6)
    assert incident.start == datetime(2024, 6, 3, 1, 15, tzinfo=UTC6) and incident.duration_s == 300


def test_reads_the_difusor_daemons_own_event_log(tmp_path: Path) -> None:
    """Contract with prepcast.difusor: its event names and fields become cuts and incidents."""
    from prepcast.difusor.events import EventLog

    path = tmp_path / "events.jsonl"
    daemon = EventLog(path, difusor="local")
    daemon.emit("started", live_cut=None, sftp_port=2222)
    daemon.emit("activated", cut=1, digest="ab", previous=None, late_seconds=2.5, switch_ms=1.0)
    daemon.emit("rejected", cut=2, failures=["hash mismatch: data/x.json"], live_cut=1)
    daemon.emit("stopped", live_cut=1)
    daemon.emit("started", live_cut=1, sftp_port=2222)
    daemon.emit("activated", cut=3, digest="cd", previous=1, late_seconds=95.0, switch_ms=1.0)
    daemon.emit("purge_failed", cut=3, command=["true"], error="HTTP 500")
    from prepcast import events as ev

    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert all(ev.problems(r) == [] and r["event"] in ev.DAEMON_EVENTS for r in records)
    log = read_events(path)
    assert [c for _, c in log.cuts] == ["1", "3"]
    causes = [i.cause for i in log.incidents]
    assert "hash mismatch: data/x.json" in causes and "HTTP 500" in causes
    late = next(i for i in log.incidents if i.duration_s == 95.0)
    assert "corte 3" in late.impact
    restart = next(i for i in log.incidents if "reinició" in i.impact)
    assert restart.duration_s is not None and restart.duration_s >= 0


def test_on_disk_engine_gives_the_same_figures(tmp_path: Path, synth_log: Path, mmdb: Path) -> None:
    memory = write_report([synth_log], tmp_path / "m", pdf=False, geoip_db=mmdb,
                          options=ReportOptions(on_disk=False))
    disk = write_report([synth_log], tmp_path / "d", pdf=False, geoip_db=mmdb,
                        options=ReportOptions(on_disk=True))
    assert (memory.requests, memory.visitors, memory.sessions, memory.page_views) == (
        disk.requests, disk.visitors, disk.sessions, disk.page_views)
    assert not list(tmp_path.glob(".d.tmp-*"))


def test_an_impossible_date_in_the_incidents_is_a_message_with_its_line(
    tmp_path: Path, small_log: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # PyYAML turned 2024-13-02 into a ValueError traceback (exit 1).
    bad = tmp_path / "bad2.yaml"
    bad.write_text('incidentes:\n  - fecha: 2024-13-02\n    hora: "25:10"\n'
                   "  - fecha: 2024-06-02\n    hora: 26:10\n    causa_raiz: x\n    impacto: y\n")
    status = main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"),
                   "--geoip-db", str(mmdb), "--incidents", str(bad)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert f"{bad}:2: incidente 1: fecha: needs fecha as a date YYYY-MM-DD (not '2024-13-02')" in err
    assert f"{bad}:5: incidente 2: hora:" in err
    assert not (tmp_path / "o").exists()


def test_the_wrong_file_as_event_log_is_one_message(
    tmp_path: Path, small_log: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It printed one line per line of the file given (200,000 for an access log).
    wrong = tmp_path / "night.log"
    wrong.write_text(LOG * 500)
    status = main(["report", "--logs", str(small_log), "--out", str(tmp_path / "o"),
                   "--geoip-db", str(mmdb), "--events", str(wrong)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "500 of 500 lines are not events" in err and "line 1: not a JSON object" in err
    assert "line 3:" in err and "line 4:" not in err


def test_a_second_run_into_the_same_folder_leaves_nothing_of_the_first(
    tmp_path: Path, small_log: Path, mmdb: Path
) -> None:
    # informe-ieem.pdf and informe-iem.html of an earlier run stayed beside the new informe.html.
    out = tmp_path / "informe"
    first = write_report([small_log], out, pdf=True, geoip_db=mmdb,
                         options=ReportOptions(formatos=("ieem", "iem")))
    assert {p.name for p in first.files.values()} == {
        "informe-ieem.html", "informe-iem.html", "informe-ieem.pdf", "informe-iem.pdf"}
    (out / "tablas" / "de_otra_corrida.csv").write_text("x\n")
    write_report([small_log], out, pdf=False, geoip_db=mmdb)
    assert sorted(p.name for p in out.iterdir()) == ["informe.html", "tablas"]
    assert not (out / "tablas" / "de_otra_corrida.csv").exists()
    assert not list(tmp_path.glob(".informe.*"))
    # A folder that also holds other files: those stay, the earlier report goes.
    (out / "notas.txt").write_text("mías\n")
    write_report([small_log], out, pdf=True, geoip_db=mmdb, options=ReportOptions(formatos=("iem",)))
    assert sorted(p.name for p in out.iterdir()) == ["informe.html", "informe.pdf", "notas.txt", "tablas"]


def test_the_incidents_and_availability_tables_the_readme_promises(
    tmp_path: Path, small_log: Path, mmdb: Path
) -> None:
    incidents = tmp_path / "inc.yaml"
    incidents.write_text("- fecha: 2024-06-02\n  hora: '20:40'\n  duracion_min: 12\n"
                         "  causa_raiz: disco lleno\n  impacto: corte 3 tarde\n  medidas: se amplió\n")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(
        json.dumps({"time": f"2024-06-02T21:0{m}:00-06:00", "event": ev, "difusor": "d01"}) + "\n"
        for m, ev in enumerate(["probe.up", "probe.down", "probe.up", "probe.up"])))
    summary = write_report([small_log], tmp_path / "out", pdf=False, geoip_db=mmdb,
                           events=events, incidents=incidents)
    tablas = tmp_path / "out" / "tablas"
    assert {tablas / f"{n}.{x}" for n in ("incidencias", "disponibilidad") for x in ("csv", "json")
            } <= set(summary.tables)
    rows = json.loads((tablas / "incidencias.json").read_text())["rows"]
    mine = next(r for r in rows if r["causa_raiz"] == "disco lleno")
    assert (mine["fecha"], mine["hora"], mine["duracion_s"], mine["medidas"]) == (
        "02/06/2024", "20:40", 720, "se amplió")
    assert len(rows) == summary.incidents
    assert (tablas / "incidencias.csv").read_bytes().decode().startswith(
        "fecha,hora,duracion,duracion_s,causa_raiz,impacto,medidas,fuente\r\n")
    avail = {r["medida"]: r for r in json.loads((tablas / "disponibilidad.json").read_text())["rows"]}
    assert avail["solicitudes"]["disponibilidad_pct"] == 100.0 and avail["solicitudes"]["total"] == 3
    assert avail["sondas"] == {"medida": "sondas", "disponibilidad_pct": 75.0, "meta_pct": 99.9,
                               "cumple": "no", "exitosas": 3, "total": 4,
                               "definicion": "sondas del instituto al sitio público exitosas"}
