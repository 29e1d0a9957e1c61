"""``night status`` in Spanish: times in the election's offset without microseconds, delivery
errors as a Spanish sentence with the original quoted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.distribution import DeliveryState
from prepcast.package import CutId
from prepcast.publish.state import DELIVERIES, SCHEMA, STATE_FILE
from prepcast.publish.status import night_status


def _state(tmp_path: Path) -> Path:
    state = tmp_path / "estado"
    state.mkdir()
    doc = {"schema": SCHEMA, "ejercicio": "prueba-1", "proceso": "IEEM", "log": [],
           "cut_times": {"1": "2024-06-02T20:00:00-06:00", "2": "2024-06-02T20:20:00-06:00"},
           "total": 2,
           "cuts": {"1": {"number": 1, "steps": {
               "publish": {"at": "2026-11-30T08:38:56.390293+00:00"}}}}}
    (state / STATE_FILE).write_text(json.dumps(doc))
    deliveries = DeliveryState(state / DELIVERIES)
    try:
        d = deliveries.start("el-sol", CutId.of("prueba-1", 1), "push")
        deliveries.end(d, result="failed", error="el-sol (root@127.0.0.1:2298): cannot connect: "
                                                 "Connect call failed ('127.0.0.1', 2298)")
    finally:
        deliveries.close()
    return state


def test_night_status_says_times_and_errors_in_spanish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    view = night_status(_state(tmp_path))
    assert view["corte_actual"]["publicado"] == "30/11/2026 02:38:56 (UTC-6)"
    (row,) = view["difusores"]
    err = row["ultimo_error"]
    assert err["error"] == ("el-sol (root@127.0.0.1:2298): no se pudo conectar (original: "
                            "«Connect call failed ('127.0.0.1', 2298)»)")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d \(UTC-6\)", err["cuando"]), err
    assert main(["night", "status", "--state", str(tmp_path / "estado")]) == 0
    out = capsys.readouterr().out
    assert "390293" not in out and "+00:00" not in out and "cannot connect:" not in out
    assert "publicado 30/11/2026 02:38:56 (UTC-6)" in out
