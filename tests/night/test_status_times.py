"""``prepcast night status`` says every moment the way the institute reads it."""

from __future__ import annotations

import pytest

from prepcast.cli.night import _print_status


def test_the_next_cut_is_built_at_a_time_written_like_publicado(
        capsys: pytest.CaptureFixture[str]) -> None:
    """"Corte siguiente" said when the cut is built as raw ISO with microseconds
    (``2026-11-30T12:25:58.851973+00:00``) beside ``publicado 30/11/2026 06:25:38 (UTC-6)``: now
    both read the same way, in the election's offset, to the second."""
    view = {
        "ejercicio": "simulacro-1", "proceso": "IEEM-2024",
        "ejecutor": {"pid": 1, "en_marcha": True, "desde": None},
        "corte_actual": {"numero": 1, "hora_del_corte": "2026-11-30T06:20:00-06:00",
                         "publicado": "30/11/2026 06:25:38 (UTC-6)"},
        "corte_siguiente": {"numero": 2, "hora_del_corte": "2026-11-30T06:25:00-06:00",
                            "se_construye": "2026-11-30T12:25:58.851973+00:00"},
        "omitidos": [], "difusores": [],
    }
    _print_status(view)
    out = capsys.readouterr().out
    assert "publicado 30/11/2026 06:25:38 (UTC-6)" in out
    assert "se construye 30/11/2026 06:25:58 (UTC-6)" in out, out
    assert "851973" not in out
    view["corte_siguiente"]["se_construye"] = "al llegar su entrega del sistema de captura"
    _print_status(view)
    assert "se construye al llegar su entrega del sistema de captura" in capsys.readouterr().out
