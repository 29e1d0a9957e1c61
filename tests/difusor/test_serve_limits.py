"""The embedded server under attack: forged log lines, huge and slow headers, idle and too many
connections, and bad arguments (issue 15, items 7 and 10; issue 9, item 7)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from tests.difusor.difusor_helpers import daemon_config, free_port

pytestmark = pytest.mark.server


def _root(tmp_path: Path, keydir: Path, package: Path) -> Path:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    pkg = read_package(package)
    write_delta_archive(pkg, list(pkg.files), tmp_path / "inbox" / f"{pkg.cut_id.tag}.tar")
    asyncio.run(Daemon(load_config(conf)).step())
    return tmp_path / "www"


@pytest.fixture
def server(tmp_path: Path, keydir: Path, packages: list[Path]) -> Iterator[EmbeddedServer]:
    s = EmbeddedServer(_root(tmp_path, keydir, packages[0]), port=0,
                       access_log=tmp_path / "access.log", header_timeout=0.6, max_connections=8)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _raw(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``data`` as it is and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):  # the server may answer before reading it all
            s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
        return out


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_log_lines_cannot_be_forged(server: EmbeddedServer, tmp_path: Path) -> None:
    forged = (b'/json/main.json%0A6.6.6.6 - - [02/Jun/2024:20:00:00 -0600] "GET /x HTTP/1.1" '
              b'200 1 "-" "bot"')
    _raw(server.port, b"GET " + forged.replace(b" ", b"%20").replace(b'"', b"%22")
         + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: evil\" \t\\ \xc3\xa9\r\n"
         b"Referer: https://a.example/\"x\r\nConnection: close\r\n\r\n")
    server.site.flush()
    lines = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith('127.0.0.1 - - [') and "%0A6.6.6.6" in line  # as sent, not decoded
    assert '"evil\\x22 \\x09\\x5C \\xC3\\xA9"' in line
    assert '"https://a.example/\\x22x"' in line


@pytest.mark.parametrize(("trusted", "forwarded", "logged"), [
    (("127.0.0.0/8",), "187.190.4.7, 10.1.1.1", "10.1.1.1"),        # the hop the proxy saw
    (("127.0.0.0/8", "10.0.0.0/8"), "187.190.4.7, 10.1.1.1", "187.190.4.7"),
    (("127.0.0.0/8",), "187.190.4.7", "187.190.4.7"),
    (("127.0.0.0/8",), "6.6.6.6, nonsense", "127.0.0.1"),          # does not parse: not taken
    (("127.0.0.0/8",), '1.1.1.1" 200 1 "-" "x', "127.0.0.1"),
    (("10.0.0.0/8",), "187.190.4.7", "127.0.0.1"),                 # not from a trusted proxy
    ((), "187.190.4.7", "127.0.0.1"),
])
def test_forwarded_for_from_the_right_and_only_when_it_parses(
        tmp_path: Path, keydir: Path, packages: list[Path], trusted: tuple[str, ...],
        forwarded: str, logged: str) -> None:
    log = tmp_path / "access.log"
    s = EmbeddedServer(_root(tmp_path, keydir, packages[0]), port=0, access_log=log,
                       trusted_proxies=trusted)
    s.start()
    try:
        r = httpx.get(f"http://127.0.0.1:{s.port}/json/main.json",
                      headers={"X-Forwarded-For": forwarded})
        assert r.status_code == 200
    finally:
        s.stop()
    assert log.read_text().split(" ", 1)[0] == logged


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024, 8 * 1024 * 1024])
def test_huge_headers_get_431(server: EmbeddedServer, size: int) -> None:
    answer = _raw(server.port, b"GET /json/main.json HTTP/1.1\r\nHost: x\r\nX-Big: "
                  + b"a" * size + b"\r\n\r\n", timeout=20)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    # and the server still answers everyone else
    assert httpx.get(f"http://127.0.0.1:{server.port}/json/main.json").status_code == 200


def test_slow_headers_and_idle_connections_are_closed(server: EmbeddedServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as idle, \
            socket.create_connection(("127.0.0.1", server.port)) as slow, \
            socket.create_connection(("127.0.0.1", server.port)) as kept:
        started = time.monotonic()
        kept.sendall(b"GET /json/main.json HTTP/1.1\r\nHost: x\r\n\r\n")
        kept.settimeout(5)
        assert kept.recv(65536).startswith(b"HTTP/1.1 200")
        slow.sendall(b"GET /json/main.json HTTP/1.1\r\n")
        for _ in range(3):  # a header every 0.3 s: never done within the deadline
            time.sleep(0.3)
            try:
                slow.sendall(b"X-A: b\r\n")
            except OSError:
                break
        assert _closed_within(idle, 3) and _closed_within(slow, 3)
        assert _closed_within(kept, 3)  # idle after its answer
        assert time.monotonic() - started < 5


def test_connections_over_the_limit_get_503(server: EmbeddedServer) -> None:
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
    try:
        time.sleep(0.1)
        answer = _raw(server.port, b"GET /json/main.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while True:  # the limit frees up as connections go
        try:
            if httpx.get(f"http://127.0.0.1:{server.port}/json/main.json").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prepcast", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def _one_line(r: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert needle in r.stderr, r.stderr
    assert len([x for x in r.stderr.splitlines() if x.startswith("prepcast")]) == 1, r.stderr


def test_serve_refuses_bad_arguments(tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    root = _root(tmp_path, keydir, packages[0])
    serve = ("difusor", "serve", "--root", str(root))
    r = _cli(*serve, "--port", "99999")
    assert r.returncode == 2 and "99999 is not a port" in r.stderr and "Traceback" not in r.stderr
    _one_line(_cli(*serve, "--port", "0", "--cert", str(tmp_path / "no.pem"), "--key",
                   str(tmp_path / "no.key")), 2, "no.pem: --cert: not found")
    (tmp_path / "bad.pem").write_bytes(b"\x00\xff not a certificate")
    _one_line(_cli(*serve, "--port", "0", "--cert", str(tmp_path / "bad.pem"), "--key",
                   str(tmp_path / "bad.pem")), 2, "cannot use them")
    _one_line(_cli(*serve, "--port", "0", "--access-log", str(tmp_path)), 2,
              "--access-log: is a directory")
    _one_line(_cli(*serve, "--port", "0", "--access-log", str(tmp_path / "no" / "a.log")), 2,
              "directory not found")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        _one_line(_cli(*serve, "--port", port), 2, f"cannot listen on 127.0.0.1:{port}")
    (tmp_path / "otra").mkdir()  # a folder of something else (an empty one is a fresh root)
    (tmp_path / "otra" / "notas.txt").write_text("no es un difusor")
    _one_line(_cli("difusor", "serve", "--root", str(tmp_path / "otra"), "--port", "0"), 2,
              "expected a difusor root")


def test_serve_a_package_folder_itself(packages: list[Path]) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "serve", "--root",
                             str(packages[0]), "--port", str(port)])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/json/main.json")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.status_code == 200
        assert r.content == (packages[0] / "json/main.json").read_bytes()
    finally:
        proc.terminate()
        proc.wait(10)
