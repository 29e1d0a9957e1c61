"""Event logs in an informe: only this difusor's probes, and every event log given counted."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from prepcast.analytics import read_events
from prepcast.cli import main
from prepcast.errors import InputError

UTC6 = timezone(timedelta(hours=-6))
START = datetime(2024, 6, 2, 20, 0, tzinfo=UTC6)
LOG = ('38.123.192.10 - - [02/Jun/2024:{hm}:02 -0600] "GET /json/main.json HTTP/2.0" 200 10 "-" '
       '"Mozilla/5.0 (iPhone)"\n')


def _access_log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text("".join(LOG.format(hm=f"{20 + m // 60}:{m % 60:02d}") for m in range(0, 60, 2)))
    return path


def _monitor_log(path: Path, down: str, rounds: int = 18) -> Path:
    """The monitor's events.jsonl: each round one probe per difusor; ``down`` fails rounds 5–7."""
    lines = []
    for r in range(rounds):
        when = (START + timedelta(seconds=30 * r)).isoformat()
        for name in ("d01", "d02", "d03"):
            up = not (name == down and 5 <= r <= 7)
            rec = {"time": when, "event": "probe.up" if up else "probe.down", "difusor": name,
                   "url": f"https://{name}.example/"}
            if not up:
                rec["evidence"] = "Cannot connect to host 127.0.0.1:40911"
            lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")
    return path


def _daemon_log(path: Path) -> Path:
    rows = [{"time": (START + timedelta(minutes=m)).isoformat(), "event": "activated",
             "difusor": "d01", "cut": i + 1, "late_seconds": 2} for i, m in enumerate((0, 20, 40))]
    rows.insert(1, {"time": (START + timedelta(minutes=10)).isoformat(), "event": "rejected",
                    "difusor": "d01", "cut": 2, "failures": ["hash mismatch: index.html"]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _table(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "tablas" / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_monitor_file_of_all_difusores_is_refused_without_choosing_one(
    tmp_path: Path, mmdb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The monitor's events.jsonl holds every difusor's probes: read whole into one difusor's
    informe, another difusor's outage became its incidents and its probes counted 3 times."""
    events = _monitor_log(tmp_path / "events.jsonl", down="d02")
    out = tmp_path / "o"
    status = main(["report", "--logs", str(_access_log(tmp_path)), "--events", str(events),
                   "--out", str(out), "--geoip-db", str(mmdb)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "events.jsonl" in err and "--probes-of" in err and "d01, d02, d03" in err
    assert not out.exists()


def test_only_the_chosen_difusors_probes_count(tmp_path: Path, mmdb: Path) -> None:
    """d02 was down for 3 rounds, d01 never: d01's informe has no outage and 18 probes, not
    54; d02's has one outage of 3 consecutive probes, not 3 outages of 1 probe each."""
    events = _monitor_log(tmp_path / "events.jsonl", down="d02")
    log = _access_log(tmp_path)
    for name in ("d01", "d02"):
        assert main(["report", "--logs", str(log), "--events", str(events), "--probes-of", name,
                     "--out", str(tmp_path / name), "--geoip-db", str(mmdb)]) == 0
    sondas = {n: next(r for r in _table(tmp_path / n, "disponibilidad") if r["medida"] == "sondas")
              for n in ("d01", "d02")}
    assert (sondas["d01"]["exitosas"], sondas["d01"]["total"]) == ("18", "18")
    assert (sondas["d02"]["exitosas"], sondas["d02"]["total"]) == ("15", "18")
    assert not [r for r in _table(tmp_path / "d01", "incidencias") if r["fuente"] == "sondas del instituto"]
    outages = [r for r in _table(tmp_path / "d02", "incidencias") if r["fuente"] == "sondas del instituto"]
    assert len(outages) == 1
    assert outages[0]["duracion_s"] == "90" and "3 sondas consecutivas" in outages[0]["impacto"]


def test_a_difusor_without_probes_in_the_file_is_an_error(tmp_path: Path) -> None:
    events = _monitor_log(tmp_path / "events.jsonl", down="d02")
    with pytest.raises(InputError, match=r"no probe of difusor 'd09'.*d01, d02, d03"):
        read_events(events, probes_of="d09")


def test_events_given_twice_are_merged(tmp_path: Path, mmdb: Path) -> None:
    """--events given twice (the daemon's log and the monitor's file of the difusor) kept only
    the last: the daemon's cuts and rejected package vanished from the informe."""
    daemon = _daemon_log(tmp_path / "daemon.jsonl")
    monitor = _monitor_log(tmp_path / "mon.jsonl", down="d01")
    out = tmp_path / "o"
    assert main(["report", "--logs", str(_access_log(tmp_path)), "--events", str(daemon),
                 "--events", str(monitor), "--probes-of", "d01", "--out", str(out),
                 "--geoip-db", str(mmdb)]) == 0
    rows = _table(out, "incidencias")
    assert sorted(r["fuente"] for r in rows) == ["servicio del difusor", "sondas del instituto"]
    assert "hash mismatch" in next(r for r in rows if r["fuente"] == "servicio del difusor")["causa_raiz"]
    sondas = next(r for r in _table(out, "disponibilidad") if r["medida"] == "sondas")
    assert (sondas["exitosas"], sondas["total"]) == ("15", "18")
    log = read_events([daemon, monitor], probes_of="d01")
    assert [c for _, c in log.cuts] == ["1", "2", "3"]


def test_a_line_in_two_event_logs_counts_once(tmp_path: Path) -> None:
    """The monitor's events.jsonl and its per-difusor file repeat the same probe lines."""
    whole = _monitor_log(tmp_path / "events.jsonl", down="d01")
    own = tmp_path / "d01.jsonl"
    own.write_text("".join(ln + "\n" for ln in whole.read_text().splitlines() if '"d01"' in ln))
    log = read_events([own, whole], probes_of="d01")
    assert (log.probes_ok, log.probes_total, len(log.incidents)) == (15, 18, 1)


def test_probes_of_without_an_event_log_is_an_error(tmp_path: Path, mmdb: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["report", "--logs", str(_access_log(tmp_path)), "--probes-of", "d01",
                   "--out", str(tmp_path / "o"), "--geoip-db", str(mmdb)])
    err = capsys.readouterr().err
    assert status == 2 and "--probes-of" in err and "--events" in err
