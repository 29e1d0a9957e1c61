"""What a probe of the difusores' sites is told: its round, sample, time limits and bounds (the
probe, :mod:`prepcast.monitor.probe`, and its HTTP client, :mod:`prepcast.monitor.fetch`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProbeSettings"]


@dataclass(frozen=True)
class ProbeSettings:
    round_s: float = 30.0
    sample: int = 50               # data files per round at least
    cut_interval_s: float = 1200.0  # when the reference cannot tell (fewer than two cuts)
    timeout_s: float = 10.0
    slow_ms: float = 3000.0
    lag_bound_s: float = 300.0     # behind the institute longer than this: an incident
    cert_min_days: int = 14
    compressed_sample: int = 5     # data files a round also fetched gzip/brotli-compressed
    per_difusor: int = 6           # requests at once to one difusor (as a browser does)
