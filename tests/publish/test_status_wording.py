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


def test_a_blocked_difusor_is_shown_blocked_not_behind(tmp_path: Path) -> None:
    """Regression: after `difusores block`, `night status` showed the difusor as `atrasado`
    with a lag that kept growing, as if it failed to keep up; it is `bloqueado` (and a paused
    one `en pausa`)."""
    from prepcast.registry import add_difusores, set_status

    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" '
                                       'viewBox="0 0 4 2"><rect width="4" height="2"/></svg>')
    reg = tmp_path / "registry.toml"
    add_difusores(reg, [({"name": name, "host": "127.0.0.1", "port": 22, "user": name,
                          "auth": "password", "remote_root": "/www", "mode": "sftp",
                          "nombre": name.title(), "url": f"https://prep2024.{name}.mx",
                          "logo": "logo.svg"}, "secreto", []) for name in ("el-sol", "luna")],
                  "uie", "registro")
    for name in ("el-sol", "luna"):
        set_status(str(reg), name, "validado", "pruebas", "uie")
        set_status(str(reg), name, "activo", "lista", "uie")
    set_status(str(reg), "el-sol", "bloqueado", "ataque DDoS", "uie")
    state = _state(tmp_path)
    doc = json.loads((state / STATE_FILE).read_text())
    (state / STATE_FILE).write_text(json.dumps({**doc, "registry": str(reg)}))
    rows = {r["difusor"]: r for r in night_status(state)["difusores"]}
    assert rows["el-sol"]["estado"] == "bloqueado", rows
    assert rows["luna"]["estado"] == "atrasado", rows


@pytest.mark.parametrize(("original", "spanish"), [
    ("el-sol (127.0.0.1:2222): the daemon took cut 3 of jornada in but did not activate it; "
     "it serves cut 2 of jornada (0123456789ab): expired",
     "el-sol (127.0.0.1:2222): su daemon recibió el corte 3 de jornada pero no lo activó; "
     "sirve el corte 2 de jornada (0123456789ab)"),
    ("el-sol (127.0.0.1:2222): the daemon took cut 3 of jornada in but did not activate it; "
     "it serves nothing (its event log says why)",
     "el-sol (127.0.0.1:2222): su daemon recibió el corte 3 de jornada pero no lo activó; "
     "no sirve ningún corte"),
    ("el-sol (127.0.0.1:2222): serves cut 24 of jornada; cut 14 of jornada is older and is not "
     "sent (a difusor never goes back, least of all from the jornada to a drill)",
     "el-sol (127.0.0.1:2222): sirve el corte 24 de jornada; el corte 14 de jornada es anterior "
     "y no se envía: un difusor nunca vuelve atrás"),
])
def test_a_refusal_is_a_spanish_sentence(original: str, spanish: str) -> None:
    """Regression: a daemon's refusal and a cut older than the one served were shown as
    `error de entrega (original: «…»)`, saying nothing in Spanish of what happened."""
    from prepcast.publish.status import error_es

    assert error_es(original) == f"{spanish} (original: «{original}»)"
