"""Every bad argument is one line on standard error and a documented exit status, never a
traceback (issue 15, item 10): each case performs the misuse through the real command (its
code, run in this process: what it prints and the status it exits with)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.in_process import prepcast


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return prepcast(*args)


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "binario.toml"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def _cases(tmp_path: Path, binary: Path) -> list[tuple[list[str], int, str]]:
    log = tmp_path / "access.log"
    log.write_text('127.0.0.1 - - [02/Jun/2024:20:00:00 -0600] "GET / HTTP/1.1" 200 5 "-" "x" 0.001\n')
    return [
        (["difusor", "run", "--config", str(binary)], 2, "not a text file"),
        (["difusor", "check", "--config", str(binary)], 2, "not a text file"),
        (["push", "--registry", str(binary), "--package", str(tmp_path), "--trust",
          str(binary)], 2, "binario.toml"),
        (["logs", "synth", "--lines", "10", "--out", str(tmp_path)], 2, "is a directory"),
        (["logs", "synth", "--lines", "10", "--out", str(tmp_path / "no" / "a.log")], 2,
         "directory not found"),
        # an output the system refuses: 1, naming the path given, never its hidden temporary
        (["logs", "synth", "--lines", "10", "--out", "/proc/prepcast-no.log"], 1,
         "prepcast: /proc/prepcast-no.log: No such file or directory"),
        (["keys", "init", "--out", "/proc/prepcast-keys"], 1, "prepcast: /proc/prepcast-keys: "),
        (["difusor", "webconf", "nginx", "--root", "/srv/prep/www", "--server-name", "x.mx",
          "--out", "/proc/prepcast.conf"], 1, "prepcast: /proc/prepcast.conf: cannot write"),
        (["report", "--logs", str(log), "--memory-limit", "lots", "--out", str(tmp_path / "r")],
         2, "--memory-limit"),
        (["difusor", "serve", "--root", str(tmp_path), "--port", "99999"], 2, "99999"),
        (["difusor", "check", "--root", str(tmp_path), "--sftp-user", "root", "--url",
          "notaurl"], 2, "--url 'notaurl': not an http:// or https:// URL"),
        (["difusor", "webconf", "nginx", "--root", "/srv/prep/www", "--server-name", "x",
          "--out", str(tmp_path)], 2, "is a directory"),
    ]


def test_each_bad_argument_is_one_line_and_an_exit_status(tmp_path: Path, binary: Path) -> None:
    for argv, status, needle in _cases(tmp_path, binary):
        r = _cli(*argv)
        assert r.returncode == status, (argv, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr, (argv, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        if status == 2 and lines and lines[0].startswith("usage:"):
            lines = [x for x in lines if x.startswith("prepcast")]  # argparse: usage + error
        assert len(lines) == 1, (argv, r.stderr)
        assert needle in lines[0], (argv, r.stderr)
