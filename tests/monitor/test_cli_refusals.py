"""Misused monitor commands answer with one clear message and a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.cli import main


@pytest.mark.parametrize(("extra", "message"), [
    (["--round", "0"], "--round must be more than 0"),
    (["--lag-bound", "-1"], "--lag-bound must be 0 or more"),
    (["--smtp", "mail:xx"], "--smtp: port must be a number"),
    (["--webhook", "notaurl"], "--webhook 'notaurl': not an http:// or https:// URL"),
    (["--webhook", "ftp://x.mx/h"], "not an http:// or https:// URL"),
])
def test_run_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 extra: list[str], message: str) -> None:
    reg, pub = tmp_path / "r.toml", tmp_path / "root.pub"
    reg.write_text("")
    pub.write_text("")
    code = main(["monitor", "run", "--registry", str(reg), "--trust", str(pub),
                 "--reference", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_run_refuses_missing_files_and_a_folder_that_is_no_publish_root(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["monitor", "run", "--registry", str(tmp_path / "no.toml"), "--trust",
                 str(tmp_path / "no.pub"), "--reference", str(tmp_path)])
    assert code == 2 and "--registry: no such file" in capsys.readouterr().err
    reg, pub = tmp_path / "r.toml", tmp_path / "root.pub"
    reg.write_text("")
    pub.write_bytes(b"not a key")
    code = main(["monitor", "run", "--registry", str(reg), "--trust", str(pub),
                 "--reference", str(tmp_path), "--once", "--state", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err


def test_dashboard_and_password_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    users = tmp_path / "users"
    users.write_text("uie:plain-text\n")
    code = main(["monitor", "dashboard", "--registry", str(tmp_path / "r.toml"), "--users",
                 str(users)])
    assert code == 2 and "expected user:scrypt$" in capsys.readouterr().err
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("corta\n"))
    code = main(["monitor", "password", "--users", str(users), "--user", "uie"])
    assert code == 2 and "at least 10 characters" in capsys.readouterr().err
    code = main(["monitor", "availability", "--state", str(tmp_path), "--month", "junio"])
    assert code == 2 and "--month: month must be YYYY-MM" in capsys.readouterr().err


def test_availability_of_a_folder_that_is_no_monitor_state(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `--state /nope` printed nothing, exit 0."""
    code = main(["monitor", "availability", "--state", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and f"{tmp_path / 'nope'}: not a monitor state" in err, err


def test_dashboard_on_a_port_taken_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a port taken gave uvicorn's own error and exit 3."""
    import io
    import socket

    users, reg = tmp_path / "users", tmp_path / "r.toml"
    reg.write_text("")
    monkeypatch.setattr("sys.stdin", io.StringIO("una-clave-larga\n"))
    assert main(["monitor", "password", "--users", str(users), "--user", "uie"]) == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["monitor", "dashboard", "--registry", str(reg), "--users", str(users),
                     "--listen", f"127.0.0.1:{port}", "--state", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().endswith("cannot listen: Address already in use"), err
    assert err.count("\n") == 1 and not (tmp_path / "s").exists()


def test_run_and_dashboard_given_a_folder_as_the_registry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `monitor run --registry FOLDER` answered "no such file" for a folder that
    exists."""
    folder = tmp_path / "vacio"
    folder.mkdir()
    pub = tmp_path / "root.pub"
    pub.write_text("")
    code = main(["monitor", "run", "--registry", str(folder), "--trust", str(pub),
                 "--reference", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err == (f"prepcast: {folder}: --registry: a folder, not a file: give "
                                 "the registry file (difusores.toml)\n"), err
    code = main(["monitor", "run", "--registry", str(pub), "--trust", str(folder),
                 "--reference", str(tmp_path)])
    assert code == 2 and "--trust: a folder, not a file" in capsys.readouterr().err
