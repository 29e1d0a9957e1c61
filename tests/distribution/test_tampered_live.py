"""A file changed at a difusor never travels, hard-linked, into the next release: by default
when the server's listing of it (size, mtime) is no longer the one the state recorded once its
release was built; with ``verify_reused`` (``--verify-reused``) it is read back and checked
against its manifest first (reading back what was not sent doubled a night's pushing CPU, so it
is off by default). With no record (a fresh state), sizes alone are checked. Real OpenSSH."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from prepcast.package import Manifest, load_manifest
from prepcast.package.layout import manifest_path, signature_path
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import SftpUser, Sshd, entry, live
from tests.distribution.test_faults import push_once

pytestmark = pytest.mark.server


def _flip(path: Path) -> bytes:
    """Change the first byte of ``path`` in place (every link to it changes with it), size
    kept; returns the new bytes."""
    raw = bytearray(path.read_bytes())
    raw[0] ^= 0x01
    path.write_bytes(bytes(raw))
    return bytes(raw)


def _flip_later(path: Path) -> None:
    """Change the first byte of ``path`` in place, size kept, as a write a few seconds after
    the pusher's would (the server lists whole seconds: the mtime is set, not left to luck)."""
    st = path.stat()
    with path.open("r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0x01]))
    os.utime(path, (st.st_atime, st.st_mtime + 3))


def _cut_1_live(sshd: Sshd, keydir: Path, tmp_path: Path, name: str, *,
                mode: str = "sftp") -> tuple[SftpUser, str, Path, Manifest]:
    """A difusor ``name`` serving cut 1: its server's user, the registry's text, the package
    and its manifest."""
    user = sshd.add_user()
    text = registry_toml([entry(sshd, user, name, mode=mode)])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    assert push_once(text, tmp_path, p1).failed == []
    return user, text, p1, load_manifest(p1)


def _asset(m: Manifest, kind: str) -> str:
    """The package path of the site's one ``assets/<kind>.*`` file."""
    (path,) = [p for p in m.files if p.startswith(f"assets/{kind}.")]
    return path


def test_a_file_changed_in_the_live_release_is_sent_again_not_linked(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: one byte of `assets/app.*.js` flipped in a difusor's live release (same size)
    was hard-linked into every later release, and the difusor counted as up to date. Now the
    next release gets the institute's bytes, a file of its own (not a link to the changed one)."""
    user, text, p1, m = _cut_1_live(sshd, keydir, tmp_path, "el-sol")
    app = _asset(m, "app")
    changed = user.www / "releases" / "jornada-0001" / app
    _flip(changed)  # in place: every link to it changes with it
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    assert push_once(text, tmp_path, p2, verify_reused=True).failed == []
    assert live(user) == "releases/jornada-0002"
    fresh = user.www / "releases" / "jornada-0002" / app
    assert hashlib.sha256(fresh.read_bytes()).hexdigest() == m.files[app].sha256
    assert not os.path.samefile(fresh, changed)
    # an intact file is still linked, not sent again
    css = _asset(m, "style")
    assert os.path.samefile(user.www / "releases" / "jornada-0002" / css,
                            user.www / "releases" / "jornada-0001" / css)


def test_a_changed_file_at_a_flat_difusor_is_sent_again(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """The same for a `flat` difusor (a cloud gateway): a content-addressed file whose size
    matches was kept on its name alone, so a changed one stayed for every later cut."""
    user, text, p1, m = _cut_1_live(sshd, keydir, tmp_path, "nube", mode="flat")
    app = _asset(m, "app")
    changed = user.www / app
    _flip(changed)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    report = push_once(text, tmp_path, p2)
    assert report.failed == [], report
    assert hashlib.sha256(changed.read_bytes()).hexdigest() == m.files[app].sha256


def _only_in_cut_1(p1: Path, p2: Path) -> list[str]:
    """The immutable files of cut 1 that cut 2 does not list (carried over from the live one)."""
    m1, m2 = load_manifest(p1), load_manifest(p2)
    return sorted(p for p in m1.files if p not in m2.files and p.startswith("data/"))


@pytest.mark.parametrize("check", ["read back", "listing"])
def test_a_file_changed_in_the_live_release_is_not_carried_over(
        sshd: Sshd, keydir: Path, tmp_path: Path, check: str) -> None:
    """Regression: the live release's files the next cut does not list (a previous cut's data,
    kept for readers still on it) were hard-linked into the next release with no read-back: one
    changed at the difusor (same size) travelled into every later release. Now, with
    ``--verify-reused``, each is read back against the live manifest first, and by default one
    whose listing moved since its release was built is left out; the intact ones, the live
    manifest and its signature are still carried over."""
    user = sshd.add_user()
    text = registry_toml([entry(sshd, user, "el-sol")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    assert push_once(text, tmp_path, p1).failed == []
    bad, good = _only_in_cut_1(p1, p2)[:2]
    rel1, rel2 = (user.www / "releases" / f"jornada-000{n}" for n in (1, 2))
    if check == "read back":
        _flip(rel1 / bad)
    else:
        _flip_later(rel1 / bad)
    assert push_once(text, tmp_path, p2, verify_reused=check == "read back").failed == []
    assert live(user) == "releases/jornada-0002"
    assert not (rel2 / bad).exists()
    assert os.path.samefile(rel2 / good, rel1 / good)
    for kept in (manifest_path("jornada", 1), signature_path("jornada", 1)):
        assert os.path.samefile(rel2 / kept, rel1 / kept), kept


def test_nothing_is_carried_over_from_a_live_manifest_the_institute_did_not_make(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """A live manifest changed at the difusor to list a changed file as it now is: the file
    reads back as that manifest lists it, but the manifest is not the institute's (neither the
    new cut's previous nor one it pushed), so neither its files, nor it, nor the signature that
    no longer signs it are carried into the next release."""
    user = sshd.add_user()
    text = registry_toml([entry(sshd, user, "el-sol")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    assert push_once(text, tmp_path, p1).failed == []
    only = _only_in_cut_1(p1, p2)
    rel1, rel2 = (user.www / "releases" / f"jornada-000{n}" for n in (1, 2))
    raw = _flip(rel1 / only[0])
    manifest = rel1 / manifest_path("jornada", 1)
    doc = json.loads(manifest.read_bytes())
    doc["files"][only[0]]["sha256"] = hashlib.sha256(raw).hexdigest()
    manifest.write_bytes(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    assert push_once(text, tmp_path, p2).failed == []
    assert live(user) == "releases/jornada-0002"
    for path in [*only, manifest_path("jornada", 1), signature_path("jornada", 1)]:
        assert not (rel2 / path).exists(), path
    # the new cut itself is whole and the institute's
    m2 = load_manifest(p2)
    assert all(hashlib.sha256((rel2 / p).read_bytes()).hexdigest() == e.sha256
               for p, e in m2.files.items())


def test_by_default_a_live_file_changed_in_place_is_sent_again_and_the_rest_linked(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: by default (no read-back), one byte of `assets/app.*.js` flipped in a
    difusor's live release, size kept, was hard-linked into every later release. Now its
    listed mtime is not the one recorded when cut 1 was built, so cut 2 gets the institute's
    bytes in a file of its own; a difusor left alone gets every reused file linked (one upload
    fewer), and so does the changed one for every other file."""
    sol, luna = sshd.add_user(), sshd.add_user()
    text = registry_toml([entry(sshd, sol, "el-sol"), entry(sshd, luna, "la-luna")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    assert push_once(text, tmp_path, p1).failed == []
    m = load_manifest(p1)
    app, css = _asset(m, "app"), _asset(m, "style")
    changed = sol.www / "releases" / "jornada-0001" / app
    _flip_later(changed)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    report = push_once(text, tmp_path, p2)
    assert report.failed == [], report
    for user in (sol, luna):
        assert live(user) == "releases/jornada-0002"
    fresh = sol.www / "releases" / "jornada-0002" / app
    assert hashlib.sha256(fresh.read_bytes()).hexdigest() == m.files[app].sha256
    assert not os.path.samefile(fresh, changed)
    for user, path in ((sol, css), (luna, app), (luna, css)):
        assert os.path.samefile(user.www / "releases" / "jornada-0002" / path,
                                user.www / "releases" / "jornada-0001" / path), (user, path)
    assert report.staged["el-sol"].files == report.staged["la-luna"].files + 1


def test_with_no_record_a_live_file_of_the_right_size_is_linked_unread(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """A pusher started with a fresh state has no listing recorded for what the difusor holds:
    as before, a live file of the size the manifest lists is linked into the next release
    without being read back; a file of another size is still sent again."""
    user, text, p1, m = _cut_1_live(sshd, keydir, tmp_path, "el-sol")
    app = _asset(m, "app")
    css = _asset(m, "style")
    rel1, rel2 = (user.www / "releases" / f"jornada-000{n}" for n in (1, 2))
    _flip_later(rel1 / app)
    (rel1 / css).write_bytes((rel1 / css).read_bytes() + b"/* x */")
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)   # another state: nothing recorded
    assert push_once(text, tmp_path, p2).failed == []
    assert live(user) == "releases/jornada-0002"
    assert os.path.samefile(rel2 / app, rel1 / app)      # same size: linked, not read
    assert not os.path.samefile(rel2 / css, rel1 / css)  # another size: sent again
    assert hashlib.sha256((rel2 / css).read_bytes()).hexdigest() == m.files[css].sha256
