"""A file the pusher would reuse from a difusor's live release is read back and checked against
its manifest first: one changed at the difusor never travels, hard-linked, into the next
release. Real OpenSSH."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from prepcast.package import load_manifest
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import Sshd, entry, live
from tests.distribution.test_faults import push_once

pytestmark = pytest.mark.server


def test_a_file_changed_in_the_live_release_is_sent_again_not_linked(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: one byte of `assets/app.*.js` flipped in a difusor's live release (same size)
    was hard-linked into every later release, and the difusor counted as up to date. Now the
    next release gets the institute's bytes, a file of its own (not a link to the changed one)."""
    user = sshd.add_user()
    text = registry_toml([entry(sshd, user, "el-sol")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    assert push_once(text, tmp_path, p1).failed == []
    m = load_manifest(p1)
    (app,) = [p for p in m.files if p.startswith("assets/app.")]
    changed = user.www / "releases" / "jornada-0001" / app
    raw = bytearray(changed.read_bytes())
    raw[0] ^= 0x01
    changed.write_bytes(bytes(raw))  # in place: every link to it changes with it
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    assert push_once(text, tmp_path, p2).failed == []
    assert live(user) == "releases/jornada-0002"
    fresh = user.www / "releases" / "jornada-0002" / app
    assert hashlib.sha256(fresh.read_bytes()).hexdigest() == m.files[app].sha256
    assert not os.path.samefile(fresh, changed)
    # an intact file is still linked, not sent again
    (css,) = [p for p in m.files if p.startswith("assets/style.")]
    assert os.path.samefile(user.www / "releases" / "jornada-0002" / css,
                            user.www / "releases" / "jornada-0001" / css)


def test_a_changed_file_at_a_flat_difusor_is_sent_again(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """The same for a `flat` difusor (a cloud gateway): a content-addressed file whose size
    matches was kept on its name alone, so a changed one stayed for every later cut."""
    user = sshd.add_user()
    text = registry_toml([entry(sshd, user, "nube", mode="flat")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    assert push_once(text, tmp_path, p1).failed == []
    m = load_manifest(p1)
    (app,) = [p for p in m.files if p.startswith("assets/app.")]
    changed = user.www / app
    raw = bytearray(changed.read_bytes())
    raw[0] ^= 0x01
    changed.write_bytes(bytes(raw))
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    report = push_once(text, tmp_path, p2)
    assert report.failed == [], report
    assert hashlib.sha256(changed.read_bytes()).hexdigest() == m.files[app].sha256
