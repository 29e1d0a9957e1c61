"""The runner's pushes hold the registry's push lock, as ``prepcast push`` does.

Regression: only ``prepcast push`` took a lock, per --state, so a push by hand during a night
interleaved with the runner's on every difusor. The runner's pushing process is a process of
its own; here the test's process holds the lock as a running ``prepcast push`` would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prepcast.distribution.push_lock import hold_push_lock, push_lock_of
from prepcast.errors import InputError
from prepcast.publish.deliver import Deliveries
from tests.distribution.dist_packages import make_keys, make_package, registry_toml


def test_a_runner_push_waits_its_turn_behind_a_push_by_hand(tmp_path: Path) -> None:
    keydir = tmp_path / "keys"
    make_keys(keydir)
    pkg = make_package(tmp_path / "p1", keydir, 1)
    registry = tmp_path / "registry.toml"
    registry.write_text(registry_toml([]))  # no difusor: the push itself ends at once
    deliveries = Deliveries(registry, tmp_path / "d.sqlite", tmp_path / "outbox",
                            wait_for_embargo=False, retry_delay=0.01)
    try:
        held = hold_push_lock(registry)
        try:
            with pytest.raises(InputError) as refused:
                deliveries.push(pkg).result(timeout=120)
            assert str(refused.value) == (f"{registry}: a push (pid {os.getpid()}) is already "
                                          "running with this registry; wait for it to end")
        finally:
            os.close(held)
        assert deliveries.push(pkg).result(timeout=120).cut == 1  # its turn now
        # and the lock is free again once that push ended
        os.close(hold_push_lock(tmp_path / "." / "registry.toml"))
    finally:
        deliveries.close()
    assert push_lock_of(registry) == tmp_path / "registry.toml.push.lock"
