"""What /api/estado adds to the monitor's last round: how fresh it is (stale after a few round
intervals), and the Spanish refusal of a block the registry would not record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prepcast.monitor.estado import freshness

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


def ago(seconds: float, interval: float = 30.0, took: float = 1.0) -> dict[str, object]:
    return {"number": 9, "at": (NOW - timedelta(seconds=seconds)).isoformat(),
            "seconds": took, "interval_s": interval}


def test_stale_after_three_intervals_or_three_slow_rounds() -> None:
    assert freshness(ago(89), NOW)["stale"] is False
    late = freshness(ago(91), NOW)
    assert late["stale"] is True and late["limit_s"] == 90.0
    assert late["message"] == "sin datos recientes: la última ronda fue hace 1 min"
    # a round slower than its interval: three of its length
    assert freshness(ago(100, interval=5, took=40), NOW)["stale"] is False
    # a fast drill does not flap: at least 30 s
    assert freshness(ago(20, interval=0.1, took=0.2), NOW)["stale"] is False
    assert freshness(ago(7 * 60 + 10), NOW)["message"].endswith("hace 7 min")
    assert freshness(ago(2 * 3600 + 5 * 60), NOW)["message"].endswith("hace 2 h 5 min")


def test_no_round_at_all_is_stale_and_said_so() -> None:
    for round_ in (None, {"number": 1, "at": None}, {"at": "ayer"}):
        f = freshness(round_, NOW)
        assert f["stale"] is True and f["age_s"] is None
        assert f["message"] == "sin datos del monitor: no hay ninguna ronda registrada"


def test_block_refusals_in_spanish() -> None:
    from pathlib import Path

    from prepcast.monitor.estado import block_refusal
    from prepcast.registry import Difusor, Registry

    def d(name: str, status: str) -> Difusor:
        return Difusor(name, "h", 22, "u", "key", "/", "sftp", status=status)

    reg = Registry(Path("r.toml"), (d("uno", "activo"), d("dos", "bloqueado"), d("tres", "baja")))
    assert block_refusal(reg, "uno") is None
    assert block_refusal(reg, "dos") == "dos ya está bloqueado"
    assert block_refusal(reg, "tres") == "tres está dado de baja: no se puede bloquear"
    assert block_refusal(reg, "nadie") == "no hay ningún difusor llamado «nadie» en el registro"
