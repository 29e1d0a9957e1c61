"""How many examples each property test draws: every one in ``make test``, a third (at least 10)
in ``make test-quick``, which sets ``PREPCAST_TEST_QUICK=1`` for a fast loop. The tests and what
they assert are the same in both; the full counts run in ``make test`` (and CI)."""

from __future__ import annotations

import os

QUICK = os.environ.get("PREPCAST_TEST_QUICK") == "1"


def examples(full: int) -> int:
    """``full`` in the full suite; a third of it, at least 10, in the quick one."""
    return max(10, full // 3) if QUICK else full
