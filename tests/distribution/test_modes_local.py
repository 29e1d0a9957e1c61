"""The pusher's strategies against local-directory peers (fast): retries decided by the error's
type, releases built from what the difusor holds, nothing trusted by name, the flat mode."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from prepcast.distribution import (
    AuthenticationFailed,
    ConnectionLost,
    DeliveryState,
    Difusor,
    LocalPeer,
    Pusher,
    PushReport,
    Registry,
    read_package,
)
from prepcast.distribution.transport import NoSpace, Unreachable, Unsupported, is_retryable
from tests.distribution.dist_packages import make_package


def difusor(name: str, mode: str = "sftp") -> Difusor:
    return Difusor(name=name, host="local", port=22, user="prep", auth="key", remote_root="/www",
                   mode=mode)


class Net:
    """Local difusores and one pusher over them; ``push`` runs a cut everywhere."""

    def __init__(self, tmp: Path, difusores: list[Difusor], *, state: str = "state.sqlite",
                 keep: int = 3, **peer_kw: bool) -> None:
        self.tmp = tmp
        self.peers: dict[str, LocalPeer] = {}
        self.registry = Registry(tmp / "registry.toml", tuple(difusores), concurrency=4,
                                 keep_releases=keep)
        self.state = DeliveryState(tmp / state)
        self.peer_kw = peer_kw

    def peer(self, d: Difusor) -> LocalPeer:
        p = LocalPeer(d, self.tmp / d.name, **self.peer_kw)
        self.peers[d.name] = p
        return p

    def www(self, name: str) -> Path:
        return self.tmp / name / "www"

    def push(self, *pkgs: Path, fail: dict[str, list[Exception]] | None = None,
             replace_same_cut: bool = False, verify_reused: bool = False,
             file_concurrency: int = 32) -> list[PushReport]:
        async def go() -> list[PushReport]:
            pusher = Pusher(self.registry, self.state, retry_delay=0.0, peer_factory=self.peer,
                            confirm_timeout=5.0, replace_same_cut=replace_same_cut,
                            verify_reused=verify_reused, file_concurrency=file_concurrency)
            for name, errors in (fail or {}).items():
                self.peers[name].fail_next.extend(errors)  # type: ignore[arg-type]
            try:
                return [await pusher.push(read_package(p), wait_for_embargo=False) for p in pkgs]
            finally:
                await pusher.close()

        return asyncio.run(go())


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory, keydir: Path) -> list[Path]:
    base = tmp_path_factory.mktemp("cuts")
    pkgs: list[Path] = []
    for cut in (1, 2, 3, 4):
        pkgs.append(make_package(base / f"p{cut}", keydir, cut, previous=pkgs[-1] if pkgs else None))
    return pkgs


def test_errors_say_whether_to_retry() -> None:
    assert is_retryable(ConnectionLost("x")) and is_retryable(Unreachable("x"))
    for final in (AuthenticationFailed("x"), NoSpace("x"), Unsupported("x"), ValueError("x")):
        assert not is_retryable(final)
    assert ConnectionLost("x").retryable and not NoSpace("x").retryable


def test_a_dropped_connection_is_retried_a_refused_key_is_not(tmp_path: Path,
                                                              cuts: list[Path]) -> None:
    net = Net(tmp_path, [difusor("cae"), difusor("llave")])
    [report] = net.push(cuts[0], fail={"cae": [ConnectionLost("cae: connection lost")] * 2,
                                       "llave": [AuthenticationFailed("llave: authentication failed")]})
    assert report.staged["cae"].ok and os.readlink(net.www("cae") / "current") == "releases/jornada-0001"
    assert [r.result for r in net.state.deliveries("cae") if r.phase == "stage"] == [
        "failed", "failed", "ok"]
    assert report.failed == ["llave"]
    assert len(net.state.deliveries("llave")) == 1   # no second try: no lock-out


def test_a_fresh_state_still_builds_complete_releases(tmp_path: Path, cuts: list[Path]) -> None:
    """Issue 15 item 9: the carried-over files come from the live release's manifest on the
    server, not from the pusher's memory."""
    net = Net(tmp_path, [difusor("uno")])
    net.push(cuts[0], cuts[1])
    fresh = Net(tmp_path, [difusor("uno")], state="other-state.sqlite")
    [report] = fresh.push(cuts[2])
    assert report.failed == []
    served = net.www("uno") / "current"
    assert os.readlink(served) == "releases/jornada-0003"
    for rel in read_package(cuts[1]).immutable():  # a reader of cut 2's main.json finds it all
        assert (served / rel).is_file(), rel
    for rel, (sha, _) in read_package(cuts[2]).files.items():
        assert hashlib.sha256((served / rel).read_bytes()).hexdigest() == sha, rel
    # the unchanged files were linked from the live release, not sent again
    app = next(p for p in read_package(cuts[2]).files if p.startswith("assets/app"))
    assert (served / app).stat().st_nlink >= 2
    assert report.staged["uno"].nbytes < read_package(cuts[2]).total_bytes


def test_a_release_with_the_same_name_and_other_bytes_is_replaced(
        tmp_path: Path, keydir: Path, cuts: list[Path]) -> None:
    """Issue 9 item 2: a release counts as delivered only when its manifest is byte-identical.
    One held under the cut's name and not live is replaced; the live one only on purpose
    (``replace_same_cut``): regression, a run of the same ejercicio with a fresh state silently
    replaced what the difusor served under the same tag with another package."""
    other = make_package(tmp_path / "other3", keydir, 3, extra={"otro.txt": b"un simulacro\n"})
    net = Net(tmp_path, [difusor("vivo"), difusor("quieto")])
    net.push(cuts[0], cuts[1])
    # "quieto" holds another package named releases/0003 (not live); "vivo" serves one
    for name in ("vivo", "quieto"):
        release = net.www(name) / "releases/jornada-0003"
        for rel in read_package(other).files:
            (release / rel).parent.mkdir(parents=True, exist_ok=True)
            (release / rel).write_bytes((other / rel).read_bytes())
    os.symlink("releases/jornada-0003", net.www("vivo") / "current.tmp")
    os.replace(net.www("vivo") / "current.tmp", net.www("vivo") / "current")
    [report] = net.push(cuts[2])
    assert report.failed == ["vivo"], report
    error = str(report.staged["vivo"].error)
    assert "serves cut 3 as another package" in error, error
    assert "one cut is one package: not replaced" in error and "--replace-same-cut" in error
    assert (net.www("vivo") / "current" / "otro.txt").is_file()  # untouched
    [again] = net.push(cuts[2])  # refused again, not worn down by retries
    assert again.failed == ["vivo"], again
    [report] = net.push(cuts[2], replace_same_cut=True)
    assert report.failed == [], report
    ours = read_package(cuts[2])
    manifest = next(p for p in ours.files if p.startswith("manifests/") and p.endswith(".json"))
    for name in ("vivo", "quieto"):
        served = net.www(name) / "current"
        assert os.readlink(served) == "releases/jornada-0003"
        assert (served / manifest).read_bytes() == (cuts[2] / manifest).read_bytes()
        assert (served / "json/main.json").read_bytes() == (cuts[2] / "json/main.json").read_bytes()
        assert not (served / "otro.txt").exists()


def test_a_release_already_there_is_kept_only_when_byte_identical(tmp_path: Path,
                                                                  cuts: list[Path]) -> None:
    net = Net(tmp_path, [difusor("uno")])
    net.push(cuts[0])
    again = Net(tmp_path, [difusor("uno")], state="again.sqlite")
    [report] = again.push(cuts[0])
    assert report.staged["uno"].note == "release already there (same manifest)"
    assert report.staged["uno"].nbytes == 0


def test_flat_mode_on_a_server_without_symlinks_or_rename(tmp_path: Path,
                                                          cuts: list[Path]) -> None:
    net = Net(tmp_path, [difusor("nube", mode="flat")], keep=2, symlinks=False,
              atomic_rename=False, hardlinks=False)
    reports = net.push(*cuts)
    assert all(r.failed == [] for r in reports), reports
    www = net.www("nube")
    assert not any(p.is_symlink() for p in www.rglob("*"))
    last = read_package(cuts[-1])
    for rel, (sha, _) in last.files.items():
        assert hashlib.sha256((www / rel).read_bytes()).hexdigest() == sha, rel
    # a reader of cut 3's main.json still finds its data; cut 1's is pruned (keep 2)
    for rel in read_package(cuts[2]).immutable():
        assert (www / rel).is_file(), rel
    only_1 = set(read_package(cuts[0]).files) - set(last.files) - set(read_package(cuts[2]).files)
    assert only_1 and not any((www / rel).exists() for rel in only_1)
    # later cuts sent only what changed
    assert reports[1].staged["nube"].nbytes < reports[0].staged["nube"].nbytes
    # pushed again: nothing to send, nothing changes
    [again] = Net(tmp_path, [difusor("nube", mode="flat")], state="s2.sqlite", symlinks=False,
                  atomic_rename=False, hardlinks=False).push(cuts[-1])
    assert again.failed == [] and again.staged["nube"].nbytes == 0


def test_releases_mode_on_a_gateway_fails_clearly_without_retries(tmp_path: Path,
                                                                  cuts: list[Path]) -> None:
    net = Net(tmp_path, [difusor("nube")], symlinks=False, atomic_rename=False, hardlinks=False)
    [report] = net.push(cuts[0])
    assert report.failed == ["nube"]
    assert "not supported" in str(report.activated["nube"].error)
    assert len([d for d in net.state.deliveries("nube") if d.phase == "activate"]) == 1


def test_a_live_file_that_is_not_what_its_manifest_says_is_not_carried(
        tmp_path: Path, cuts: list[Path]) -> None:
    net = Net(tmp_path, [difusor("uno")])
    net.push(cuts[0])
    app = next(p for p in read_package(cuts[1]).files if p.startswith("assets/app"))
    live_app = net.www("uno") / "releases/jornada-0001" / app
    live_app.unlink()
    live_app.write_bytes(b"altered")   # another size than the manifest lists
    [report] = Net(tmp_path, [difusor("uno")], state="fresh.sqlite").push(cuts[1])
    assert report.failed == []
    served = net.www("uno") / "current" / app
    assert served.read_bytes() == (cuts[1] / app).read_bytes()
    assert live_app.read_bytes() == b"altered"   # sent beside it, never written through a link


def test_a_live_file_whose_listing_moved_is_sent_again_not_linked(
        tmp_path: Path, cuts: list[Path]) -> None:
    """One byte flipped in a live file, size kept, its mtime later than the one recorded when
    the release was built: the next cut sends it again (one upload more than a difusor left
    alone, where it is linked); with a fresh state (no record) it is linked on its size."""
    net = Net(tmp_path, [difusor("uno"), difusor("dos")])
    net.push(cuts[0])
    app = next(p for p in read_package(cuts[1]).files if p.startswith("assets/app"))
    changed = net.www("uno") / "releases/jornada-0001" / app
    st = changed.stat()
    changed.write_bytes(bytes([changed.read_bytes()[0] ^ 1]) + changed.read_bytes()[1:])
    os.utime(changed, (st.st_atime, st.st_mtime + 3))
    [report] = net.push(cuts[1])
    assert report.failed == []
    served = net.www("uno") / "current" / app
    assert served.read_bytes() == (cuts[1] / app).read_bytes()
    assert not os.path.samefile(served, changed)
    assert os.path.samefile(net.www("dos") / "current" / app,
                            net.www("dos") / "releases/jornada-0001" / app)
    assert report.staged["uno"].files == report.staged["dos"].files + 1
    # the record now holds the new file's listing: the next cut links it again
    [again] = net.push(cuts[2])
    assert again.staged["uno"].files == again.staged["dos"].files
    assert os.path.samefile(served, net.www("uno") / "releases/jornada-0003" / app)
    # no record: sizes only, as before
    live = net.www("dos") / "releases/jornada-0003" / app
    st = live.stat()
    live.write_bytes(bytes([live.read_bytes()[0] ^ 1]) + live.read_bytes()[1:])
    os.utime(live, (st.st_atime, st.st_mtime + 3))
    [fresh] = Net(tmp_path, [difusor("dos")], state="fresh.sqlite").push(cuts[3])
    assert fresh.failed == []
    assert os.path.samefile(net.www("dos") / "releases/jornada-0004" / app, live)


def _flip_later(p: Path) -> None:
    """One byte of ``p`` flipped, size kept, its mtime 3 s later (as an edit at the difusor)."""
    st = p.stat()
    raw = bytearray(p.read_bytes())
    raw[0] ^= 1
    p.write_bytes(bytes(raw))
    os.utime(p, (st.st_atime, st.st_mtime + 3))


def test_a_live_index_html_changed_at_the_difusor_is_never_linked(
        tmp_path: Path, cuts: list[Path]) -> None:
    """Regression: the listing check covered the content-named files only, yet an unchanged
    ``index.html`` was hard-linked from the live release: one edited at the difusor, size kept
    (a swapped script), went into every later release. It is now always sent."""
    net = Net(tmp_path, [difusor("uno"), difusor("dos")])
    net.push(cuts[0])
    assert (cuts[0] / "index.html").read_bytes() == (cuts[1] / "index.html").read_bytes()
    changed = net.www("uno") / "releases/jornada-0001/index.html"
    _flip_later(changed)
    [report] = net.push(cuts[1])
    assert report.failed == []
    served = net.www("uno") / "current" / "index.html"
    assert served.read_bytes() == (cuts[1] / "index.html").read_bytes()
    assert not os.path.samefile(served, changed)
    assert report.staged["uno"].files == report.staged["dos"].files  # sent to both alike


def test_a_changed_live_file_linked_by_an_interrupted_attempt_is_checked_on_the_retry(
        tmp_path: Path, cuts: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: an attempt cut short after it linked the live files into the new release
    (the connection lost before the release was checked) left them as "arrived", and the retry
    never checked their listing: a file changed at the difusor went into the release."""
    from prepcast.distribution import LocalPeer
    from prepcast.distribution.transport import ConnectionLost

    net = Net(tmp_path, [difusor("uno")])
    net.push(cuts[0])
    app = next(p for p in read_package(cuts[1]).files if p.startswith("assets/app"))
    changed = net.www("uno") / "releases/jornada-0001" / app
    _flip_later(changed)
    real = LocalPeer.list_stats
    lost: list[str] = []

    async def once_lost(self: LocalPeer, top: str) -> Any:
        got = await real(self, top)
        if got and top.endswith(".partial") and not lost:
            lost.append(top)   # the check of a release whose files are placed: lost once
            raise ConnectionLost(f"{self.where}: connection lost")
        return got

    monkeypatch.setattr(LocalPeer, "list_stats", once_lost)
    [report] = net.push(cuts[1])
    assert lost and report.failed == [], report
    served = net.www("uno") / "current" / app
    assert served.read_bytes() == (cuts[1] / app).read_bytes()
    assert not os.path.samefile(served, changed)


def test_a_live_file_changed_after_an_interrupted_attempt_linked_it_is_read_back(
        tmp_path: Path, cuts: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``verify_reused``: an attempt read a live file back, linked it into the new release
    and was cut short; the file then changed at the difusor, its mtime kept (a link is the same
    file, so the release being built changed too). Regression: the retry took the linked file
    as arrived without reading it back; it is now read back and ours sent instead."""
    from prepcast.distribution import LocalPeer
    from prepcast.distribution.transport import ConnectionLost

    net = Net(tmp_path, [difusor("uno")])
    net.push(cuts[0])
    app = next(p for p in read_package(cuts[1]).files if p.startswith("assets/app"))
    live = net.www("uno") / "releases/jornada-0001" / app
    real = LocalPeer.list_stats
    lost: list[str] = []

    async def changed_then_lost(self: LocalPeer, top: str) -> Any:
        got = await real(self, top)
        if got and top.endswith(".partial") and not lost:
            lost.append(top)
            assert os.path.samefile(tmp_path / "uno" / top.lstrip("/") / app, live)  # linked
            st = live.stat()
            raw = bytearray(live.read_bytes())
            raw[0] ^= 1
            live.write_bytes(bytes(raw))
            os.utime(live, ns=(st.st_atime_ns, st.st_mtime_ns))   # its listing unchanged
            raise ConnectionLost(f"{self.where}: connection lost")
        return got

    real_read = LocalPeer.read_bytes
    reading = [0, 0]   # now, at most

    async def counted(self: LocalPeer, path: str, limit: int = 1 << 30) -> Any:
        reading[0] += 1
        reading[1] = max(reading[1], reading[0])
        try:
            await asyncio.sleep(0.01)   # a read that takes a while, as over a network
            return await real_read(self, path, limit)
        finally:
            reading[0] -= 1

    monkeypatch.setattr(LocalPeer, "list_stats", changed_then_lost)
    monkeypatch.setattr(LocalPeer, "read_bytes", counted)
    [report] = net.push(cuts[1], verify_reused=True, file_concurrency=2)
    assert lost and report.failed == [], report
    served = net.www("uno") / "current" / app
    assert served.read_bytes() == (cuts[1] / app).read_bytes()
    assert not os.path.samefile(served, live)
    assert reading[1] == 2, reading   # the read-backs of the retry as many at once as sends


def test_sftp_failures_become_typed_errors() -> None:
    import asyncssh

    from prepcast.distribution import SftpPeer
    from prepcast.distribution.transport import PermissionDenied, RemoteFailure

    peer = SftpPeer(difusor("tipo"))
    cases = [(asyncssh.SFTPOpUnsupported("no symlinks"), Unsupported, False),
             (asyncssh.SFTPNoSpaceOnFilesystem("full"), NoSpace, False),
             (asyncssh.SFTPPermissionDenied("no"), PermissionDenied, False),
             (asyncssh.SFTPConnectionLost("gone"), ConnectionLost, True),
             (ConnectionResetError(104, "reset"), ConnectionLost, True),
             (asyncssh.SFTPFailure("failure"), RemoteFailure, True)]
    for exc, kind, retryable in cases:
        err = peer.error("writing x", exc)
        assert type(err) is kind and err.retryable is retryable, (exc, err)
        assert "tipo" in str(err) and "writing x" in str(err)


def test_read_package_takes_verified_hashes_and_hashes_the_rest(tmp_path: Path,
                                                                 cuts: list[Path]) -> None:
    from prepcast.package import load_manifest

    pkg = cuts[0]
    plain = read_package(pkg)
    m = load_manifest(pkg)
    known = {p: (e.sha256, e.size) for p, e in m.files.items()}
    assert read_package(pkg, known).files == plain.files
    # what the caller knows is taken as it is, but only for a file of that size; the files the
    # manifest leaves out (main.json, the manifest, its signature) are hashed in any case
    some = next(iter(known))
    told = {p: ("0" * 64, size) for p, (_, size) in known.items()}
    told[some] = ("1" * 64, known[some][1] + 1)
    got = read_package(pkg, told).files
    assert got[some] == plain.files[some]
    assert all(got[p] == ("0" * 64, known[p][1]) for p in known if p != some)
    assert all(got[p] == plain.files[p] for p in plain.files if p not in known)
    assert set(got) == set(plain.files) and len(got) > len(known)
