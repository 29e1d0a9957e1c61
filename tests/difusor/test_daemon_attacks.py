"""Attacks on the daemon by someone who can write its inbox but holds no signing key (a stolen
SFTP credential, a compromised pusher, a mistake). After each one nothing is lost: the cut that
was live stays live and byte-identical, and the next good cut is then activated."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.events import read_events
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import lacking, write_delta_archive
from prepcast.errors import InputError
from prepcast.package import (
    MAIN_PATH,
    CutId,
    VerifyLimits,
    canonical_json,
    load_signer,
    manifest_path,
)
from prepcast.package.canonical import sha256_hex
from prepcast.package.layout import signature_path
from tests.difusor.difusor_helpers import daemon_config, make_package
from tests.package.pkg_helpers import tar_of


def jornada(n: int) -> CutId:
    return CutId.of("jornada", n)


def events(tmp: Path, kind: str) -> list[dict[str, object]]:
    return [e for e in read_events(tmp / "events.jsonl") if e["event"] == kind]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def delta_bytes(pkg: Path, base: Path | None) -> bytes:
    """The archive a pusher sends a daemon holding ``base`` (everything when None)."""
    contents = read_package(pkg)
    paths = lacking(contents, read_package(base).files if base else {})
    out = pkg.parent / f".{pkg.name}.{base.name if base else 'full'}.tar"
    write_delta_archive(contents, paths, out)
    data = out.read_bytes()
    out.unlink()
    return data




def members_of(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


class Night:
    """A daemon (no SFTP: the tests write its inbox directly) with cut 1 live."""

    def __init__(self, tmp: Path, keydir: Path, packages: list[Path], extra: str = "") -> None:
        self.tmp = tmp
        self.packages = packages
        conf, _, _ = daemon_config(tmp, keydir, sftp=False, extra=extra)
        self.daemon = Daemon(load_config(conf))
        self.inbox = tmp / "inbox"
        self.put("jornada-0001.tar", delta_bytes(packages[0], None))
        self.step()
        assert self.daemon.store.live_cut() == jornada(1)
        self.live = self.daemon.store.path(jornada(1))
        self.before = snapshot(self.live)

    def put(self, name: str, data: bytes) -> Path:
        path = self.inbox / name
        path.write_bytes(data)
        return path

    def step(self) -> None:
        asyncio.run(self.daemon.step())

    def nothing_lost(self) -> None:
        """Cut 1 still live and byte-identical; then the genuine cut 2 goes live."""
        store = self.daemon.store
        assert store.live_cut() == jornada(1)
        assert snapshot(self.live) == self.before
        assert snapshot(self.tmp / "www" / "current") == self.before
        self.put("jornada-0002.tar", delta_bytes(self.packages[1], self.packages[0]))
        self.step()
        assert store.live_cut() == jornada(2), read_events(self.tmp / "events.jsonl")[-3:]
        assert snapshot(store.path(jornada(1))) == self.before  # the previous release is left alone
        assert not [n for n in os.listdir(self.inbox) if n.endswith(".tar")]


@pytest.fixture
def night(tmp_path: Path, keydir: Path, packages: list[Path]) -> Night:
    return Night(tmp_path, keydir, packages)


# --- 1. nothing outside the release, before or after verification ------------------------------

@pytest.mark.parametrize("signed", [False, True], ids=["forged", "signed-by-cut-key"])
def test_manifest_paths_never_reach_the_filesystem(night: Night, keydir: Path,
                                                   signed: bool) -> None:
    """A manifest listing absolute, ``..`` and sibling-release paths with a held file's SHA-256:
    nothing is linked anywhere, whether the manifest is forged or signed by the cut key."""
    arch = members_of(delta_bytes(night.packages[1], night.packages[0]))
    doc = json.loads(arch[manifest_path("jornada", 2)])
    held = next(p for p in doc["files"] if p.startswith("assets/"))
    entry = doc["files"][held]
    planted = night.tmp / "planted-abs"
    evil = [str(planted), "../../../planted-up", "../0001/planted-sibling"]
    for p in evil:
        doc["files"][p] = entry
    raw = canonical_json(doc)
    arch[manifest_path("jornada", 2)] = raw
    if signed:
        signer = load_signer(keydir)
        arch[signature_path("jornada", 2)] = signer.sign(raw)
        main_doc = json.loads(arch[MAIN_PATH])
        main_doc["signed"]["manifest_sha256"] = sha256_hex(raw)
        import base64

        main_doc["signatures"] = [{"keyid": signer.keyid, "sig": base64.b64encode(
            signer.sign(canonical_json(main_doc["signed"]))).decode()}]
        arch[MAIN_PATH] = canonical_json(main_doc)
    night.put("jornada-0002.tar", tar_of(arch))
    night.step()
    assert not planted.exists()
    assert not (night.tmp / "planted-up").exists()
    assert not (night.daemon.store.path(jornada(1)) / "planted-sibling").exists()
    assert not list(night.tmp.rglob("planted*"))
    rejected = events(night.tmp, "rejected")
    assert rejected and rejected[0]["cut"] == 2
    assert "path escapes" in str(rejected[0]["failures"]) or "absolute" in str(
        rejected[0]["failures"]) or "signature" in str(rejected[0]["failures"])
    night.nothing_lost()


def test_archive_members_never_escape(night: Night) -> None:
    night.put("jornada-0002.tar", tar_of({"../../escaped": b"x", "index.html": b"y"}))
    night.step()
    assert not (night.tmp / "escaped").exists()
    assert "path escapes" in str(events(night.tmp, "rejected")[0]["failures"])
    night.nothing_lost()


# --- 2. one bad entry never blocks the inbox ----------------------------------------------------

def _dir_named_like_an_archive(inbox: Path, live: Path) -> str:
    (inbox / "jornada-0002.tar").mkdir()
    (inbox / "jornada-0002.tar" / "x").write_text("x")
    return "jornada-0002.tar"


def _dangling_symlink(inbox: Path, live: Path) -> str:
    (inbox / "jornada-0002.tar").symlink_to("/nonexistent/0002.tar")
    return "jornada-0002.tar"


def _symlink_to_the_live_index(inbox: Path, live: Path) -> str:
    (inbox / "jornada-0003.tar").symlink_to(live / "index.html")
    return "jornada-0003.tar"


def _fifo(inbox: Path, live: Path) -> str:
    os.mkfifo(inbox / "jornada-0002.tar")
    return "jornada-0002.tar"


def _leftover_status_tmp(inbox: Path, live: Path) -> str:
    (inbox / ".status.json.tmp").symlink_to(live / "index.html")
    return ".status.json.tmp"


def _status_as_a_symlink(inbox: Path, live: Path) -> str:
    (inbox / "status.json").unlink()
    (inbox / "status.json").symlink_to(live / "index.html")
    return "status.json"


def _upload_as_a_folder(inbox: Path, live: Path) -> str:
    (inbox / ".jornada-0002.tar.part").mkdir()
    return ".jornada-0002.tar.part"


def _stray_file(inbox: Path, live: Path) -> str:
    (inbox / "notes.txt").write_text("hola")
    return "notes.txt"


@pytest.mark.parametrize("plant", [
    _dir_named_like_an_archive, _dangling_symlink, _symlink_to_the_live_index, _fifo,
    _leftover_status_tmp, _status_as_a_symlink, _upload_as_a_folder, _stray_file,
], ids=lambda f: f.__name__.strip("_"))
def test_bad_entries_are_quarantined_and_never_block(night: Night, plant: object) -> None:
    name = plant(night.inbox, night.live)  # type: ignore[operator]
    night.step()
    night.step()  # a second poll says nothing more about it
    q = events(night.tmp, "quarantined")
    assert [e["entry"] for e in q] == [name]
    assert not os.path.lexists(night.inbox / name) or name == "status.json"
    if name == "status.json":  # the daemon's own name: replaced by a regular file, not followed
        assert (night.inbox / "status.json").is_file()
        assert not (night.inbox / "status.json").is_symlink()
    moved = q[0]["moved_to"]
    assert moved and os.path.lexists(str(moved))
    assert Path(str(moved)).parent == night.tmp / "www" / "quarantine"
    assert events(night.tmp, "error") == []
    night.nothing_lost()
    assert json.loads((night.inbox / "status.json").read_text())["live_cut"] == 2


def test_deeply_nested_json_is_rejected_not_fatal(night: Night) -> None:
    arch = members_of(delta_bytes(night.packages[1], night.packages[0]))
    arch[MAIN_PATH] = b"[" * 200_000
    night.put("jornada-0002.tar", tar_of(arch))
    night.step()
    night.step()
    rejected = events(night.tmp, "rejected")
    assert len(rejected) == 1 and "nested" in str(rejected[0]["failures"])
    assert events(night.tmp, "error") == []
    night.nothing_lost()


def test_deeply_nested_manifest_is_rejected(night: Night) -> None:
    arch = members_of(delta_bytes(night.packages[1], night.packages[0]))
    arch[manifest_path("jornada", 2)] = b"{\"a\":" * 5000 + b"1" + b"}" * 5000
    night.put("jornada-0002.tar", tar_of(arch))
    night.step()
    assert "nested" in str(events(night.tmp, "rejected")[0]["failures"])
    night.nothing_lost()


def test_not_an_archive_is_rejected(night: Night) -> None:
    night.put("jornada-0002.tar", b"\x00garbage" * 1000)
    night.step()
    assert events(night.tmp, "rejected")[0]["cut"] == 2
    night.nothing_lost()


# --- 3. no symlink followed in the inbox --------------------------------------------------------

def test_status_writes_never_follow_links(night: Night) -> None:
    index = night.live / "index.html"
    before = index.read_bytes()
    for name in (".status.json.tmp", "status.json"):
        if os.path.lexists(night.inbox / name):
            os.unlink(night.inbox / name)
        (night.inbox / name).symlink_to(index)
    night.put("jornada-0002.tar", b"not a tar")  # received: status written before and after
    night.step()
    assert index.read_bytes() == before
    assert not (night.inbox / "status.json").is_symlink()
    night.nothing_lost()


# --- 4. unpacking is bounded before it writes ---------------------------------------------------

def test_sparse_member_refused_before_it_is_written(night: Night) -> None:
    work = night.tmp / "sparse"
    work.mkdir()
    with open(work / "big.bin", "wb") as f:
        f.truncate(200 * 1024 * 1024)
    subprocess.run(["tar", "--sparse", "-C", str(work), "-cf", str(night.tmp / "s.tar"),
                    "big.bin"], check=True)
    assert (night.tmp / "s.tar").stat().st_size < 1024 * 1024
    shutil.move(night.tmp / "s.tar", night.inbox / "jornada-0002.tar")
    used_before = shutil.disk_usage(night.tmp).used
    night.step()
    failures = str(events(night.tmp, "rejected")[0]["failures"])
    assert "sparse" in failures
    assert shutil.disk_usage(night.tmp).used < used_before + 50 * 1024 * 1024
    night.nothing_lost()


def test_member_count_and_total_size_bounded(night: Night) -> None:
    night.daemon.limits = VerifyLimits(max_files=40, max_package_size=100_000)
    night.put("jornada-0002.tar", tar_of({f"data/f{i}.json": b"{}" for i in range(41)}))
    night.step()
    night.put("jornada-0003.tar", tar_of({"data/a.bin": b"a" * 60_000, "data/b.bin": b"b" * 60_000}))
    night.step()
    rejected = events(night.tmp, "rejected")
    assert "more than 40 members" in str(rejected[0]["failures"])
    assert "more than the limit of 100000" in str(rejected[1]["failures"])
    assert not (night.tmp / "www" / "releases" / ".0003.partial").exists()
    night.daemon.limits = VerifyLimits()
    night.nothing_lost()


# --- 5. the daemon refuses what it should -------------------------------------------------------

def test_expired_package_refused(night: Night, keydir: Path) -> None:
    old = make_package(night.tmp / "exp2", keydir, 2, previous=night.packages[0],
                       expires=datetime.now(UTC) - timedelta(minutes=1))
    night.put("jornada-0002.tar", delta_bytes(old, night.packages[0]))
    night.step()
    assert "expired" in str(events(night.tmp, "rejected")[0]["failures"])
    night.nothing_lost()


def test_other_proceso_refused_with_nothing_held(tmp_path: Path, keydir: Path,
                                                 packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False, extra='proceso = "IEEM-2024"\n')
    daemon = Daemon(load_config(conf))
    other = make_package(tmp_path / "otro", keydir, 1, proceso="IEM-2024")
    (tmp_path / "inbox" / "jornada-0001.tar").write_bytes(delta_bytes(other, None))
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() is None
    assert "proceso 'IEM-2024'" in str(events(tmp_path, "rejected")[0]["failures"])
    (tmp_path / "inbox" / "jornada-0001.tar").write_bytes(delta_bytes(packages[0], None))
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(1)


@pytest.mark.parametrize("key", [b"", b"not a key\n", b"\x00" * 32 * 1024,
                                 b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"],
                         ids=["empty", "text", "large", "bad-pem"])
def test_unusable_root_key_refused_at_start(tmp_path: Path, keydir: Path, key: bytes,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    (tmp_path / "root.pub").write_bytes(key)
    conf.write_text(conf.read_text().replace(str(keydir / "root.pub"), "root.pub"))
    with pytest.raises(InputError, match="trusted_root"):
        Daemon(load_config(conf))
    assert main(["difusor", "run", "--allow-root", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "trusted_root" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_rsa_root_key_refused(tmp_path: Path, keydir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    (tmp_path / "root.pub").write_bytes(pem)
    conf.write_text(conf.read_text().replace(str(keydir / "root.pub"), "root.pub"))
    with pytest.raises(InputError, match="not an Ed25519 public key"):
        Daemon(load_config(conf))


def test_a_damaged_staged_release_is_dropped_not_retried(night: Night, keydir: Path) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    later = make_package(night.tmp / "emb2", keydir, 2, previous=night.packages[0],
                         not_before=soon)
    night.put("jornada-0002.tar", delta_bytes(later, night.packages[0]))
    night.step()
    staged = night.daemon.store.path(jornada(2))
    assert staged.is_dir() and events(night.tmp, "waiting")
    (staged / manifest_path("jornada", 2)).write_bytes(b"[" * 100_000)
    (staged / MAIN_PATH).write_bytes(b"{}")
    night.step()
    night.step()
    rejected = events(night.tmp, "rejected")
    assert len(rejected) == 1 and "staged release unreadable" in str(rejected[0]["failures"])
    assert not staged.exists()
    night.nothing_lost()


def test_a_lasting_error_is_said_once(tmp_path: Path, keydir: Path) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    daemon = Daemon(load_config(conf))

    async def broken() -> None:
        raise RuntimeError("disk gone")

    daemon.step = broken  # type: ignore[method-assign]

    async def run() -> None:
        task = asyncio.create_task(daemon.run())
        await asyncio.sleep(0.6)  # a dozen polls
        daemon.stop()
        await task

    asyncio.run(run())
    assert [e["error"] for e in events(tmp_path, "error")] == [
        "error inesperado del demonio; sigue en línea lo publicado (original: «RuntimeError: disk "
        "gone»)"]
