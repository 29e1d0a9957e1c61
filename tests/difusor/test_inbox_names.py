"""The names the daemon's inbox receives, as its docs and its quarantine reason say.

The setup guide said the daemon takes ``<cut>.tar`` (example ``0002.tar/``) while only
``<ejercicio>-<cut>.tar`` is received, and a file quarantined for its name was told "not an
archive of the institute" in English, without the names that are received."""

from __future__ import annotations

import re
from pathlib import Path

from prepcast.difusor.inbox import NOT_AN_ARCHIVE, sort_inbox
from prepcast.package import CutId
from tests.conftest import REPO


def test_only_ejercicio_cut_archives_are_received_and_the_reason_says_so(tmp_path: Path) -> None:
    for name in ("simulacro-1-0073.tar", "jornada-0013.tar", "0002.tar", "corte.tar"):
        (tmp_path / name).write_bytes(b"")
    entries = {e.name: e for e in sort_inbox(tmp_path)}
    assert entries["simulacro-1-0073.tar"].cut == CutId.of("simulacro-1", 73)
    assert entries["jornada-0013.tar"].action == "receive"
    for stray in ("0002.tar", "corte.tar"):
        assert entries[stray].action == "quarantine"
        assert entries[stray].reason == NOT_AN_ARCHIVE
    assert "<ejercicio>-<corte>.tar" in NOT_AN_ARCHIVE and "simulacro-1-0073.tar" in NOT_AN_ARCHIVE


def test_the_setup_guide_names_the_archives_the_daemon_receives() -> None:
    guide = (REPO / "docs" / "difusor-setup.md").read_text(encoding="utf-8")
    assert not re.search(r"`<cut>\.tar`|`\.<cut>\.tar\.part`|\(`\d{4}\.tar/`\)", guide)
    assert "`<ejercicio>-<cut>.tar`" in guide and "`simulacro-1-0073.tar`" in guide
