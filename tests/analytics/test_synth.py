from __future__ import annotations

import json
from pathlib import Path

import pytest

from prepcast import events as ev
from prepcast.analytics.synth import write_events, write_log
from prepcast.cli import main


def test_same_seed_same_log(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "c.log"
    assert write_log(a, 5000, seed=3) == write_log(b, 5000, seed=3) == write_log(c, 5000, seed=4) == 5000
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_an_election_night(synth_log: Path) -> None:
    text = synth_log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 30_000
    before = sum(1 for x in lines if "02/Jun/2024:19:" in x)
    after = sum(1 for x in lines if "02/Jun/2024:21:" in x)
    assert after > 4 * before  # the surge after 20:00
    assert "03/Jun/2024:00:" in text  # crosses midnight
    for marker in ("Googlebot", "iPhone", "iPad", "google.com", "facebook.com", "embed=1",
                   "ieem.org.mx", '" 503 ', "/db/", "/data/AYU/municipio/"):
        assert marker in text, marker
    stamps = [x.split("[", 1)[1][:20] for x in lines if "[" in x]
    assert len(stamps) == len(lines)


def test_cli(tmp_path: Path, capsys: object) -> None:
    out, events = tmp_path / "x.log", tmp_path / "ev.jsonl"
    assert main(["logs", "synth", "--out", str(out), "--lines", "1000", "--seed", "1",
                 "--events", str(events)]) == 0
    assert len(out.read_text().splitlines()) == 1000
    records = [json.loads(x) for x in events.read_text().splitlines()]
    kinds = {r["event"] for r in records}
    assert {"activated", "started", "stopped", "rejected", "probe.up", "probe.down"} <= kinds
    assert all(ev.problems(r) == [] for r in records)  # the one vocabulary, with its fields
    assert main(["logs", "synth", "--out", str(tmp_path / "no" / "x.log"), "--lines", "5"]) == 2
    assert write_events(tmp_path / "e2.jsonl") > 70


def test_cli_says_when_a_small_night_ends_short(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `--lines 10` wrote 6 lines and said only "6 lines"."""
    out = tmp_path / "x.log"
    assert main(["logs", "synth", "--out", str(out), "--lines", "10", "--seed", "2024"]) == 0
    written = len(out.read_text().splitlines())
    said = capsys.readouterr().out
    assert written < 10 and said.startswith(f"{out}: {written} lines (fewer than --lines 10")
