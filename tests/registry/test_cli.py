"""``prepcast difusores`` as an operator uses it: register, import a form, edit, status, block,
pending deadlines; passwords only in the 0600 secrets file and never printed."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest

from prepcast.errors import InputError
from prepcast.registry import load_registry, read_history
from prepcast.registry.edit import add_difusores
from tests.cli.in_process import prepcast

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>'


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return prepcast("difusores", *args, stdin=stdin)


def test_add_edit_show_never_print_the_password(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    (tmp_path / "sol.svg").write_text(LOGO)
    r = run("add", "el-sol", "--registry", str(reg), "--set", "host=sftp.elsol.mx",
            "--set", "user=prep", "--set", "nombre=El Sol", "--set", "url=https://prep2024.elsol.mx",
            "--set", "logo=sol.svg", "--set", "contacto.email=ti@elsol.mx",
            "--personal", "Ana Ruiz|TI|722 111 2233|ana@elsol.mx", "--password-stdin",
            stdin="muy-secreta-42\n")
    assert r.returncode == 0, r.stderr
    secrets = tmp_path / "secrets.toml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert "muy-secreta-42" in secrets.read_text()
    assert "muy-secreta-42" not in reg.read_text()
    d = load_registry(reg).get("el-sol")
    assert d is not None and d.password == "muy-secreta-42" and d.auth == "password"
    assert "muy-secreta-42" not in repr(d)
    for args in (("show", "el-sol"), ("show", "el-sol", "--json"), ("list",), ("list", "--json"),
                 ("history", "el-sol")):
        out = run(*args, "--registry", str(reg))
        assert out.returncode == 0 and "muy-secreta-42" not in out.stdout + out.stderr
    assert "(en " in run("show", "el-sol", "--registry", str(reg)).stdout
    r = run("edit", "el-sol", "--registry", str(reg), "--set", "port=2222", "--set",
            "contacto.telefono=722 275 7300", "--password-stdin", stdin="otra-clave\n")
    assert r.returncode == 0, r.stderr
    d = load_registry(reg).get("el-sol")
    assert d is not None and d.port == 2222 and d.password == "otra-clave"
    assert d.contacto.email == "ti@elsol.mx" and d.contacto.telefono == "722 275 7300"
    assert read_history(tmp_path / "historial.jsonl").status_of("el-sol") == "aspirante"


def test_a_bad_edit_changes_nothing(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    assert run("add", "a", "--registry", str(reg), "--set", "host=h", "--set", "user=u",
               "--password-stdin", stdin="p\n").returncode == 0
    before = reg.read_bytes(), (tmp_path / "secrets.toml").read_bytes()
    r = run("edit", "a", "--registry", str(reg), "--set", "port=0", "--set", "url=ftp://x",
            "--set", "porto=22", "--password-stdin", stdin="nueva\n")
    # every problem at once: the unknown --set and what the registry says of the others
    assert r.returncode == 2, r.stderr
    assert "--set: porto: unknown setting" in r.stderr
    assert "port: port must be 1-65535" in r.stderr and "url: url must be a full address" in r.stderr
    assert "no password" not in r.stderr
    assert "Traceback" not in r.stderr
    assert (reg.read_bytes(), (tmp_path / "secrets.toml").read_bytes()) == before
    r = run("add", "b", "--registry", str(reg), "--set", "password=x")
    assert r.returncode == 2 and "--password-stdin" in r.stderr


CSV = (
    "Nombre del medio difusor,Dirección del sitio web del difusor (URL),Sitio de prueba,"
    "IP o dominio de cuenta SFTP,Usuario SFTP,Contraseña,Nombre del contacto,"
    "Correo electrónico del contacto,Teléfono del contacto,Extensión,Entidad,personal\n"
    "Radio Universidad,https://prep2024.radio-uni.mx,https://pruebas.radio-uni.mx,203.0.113.7,"
    "prep,clave-uno,Luis Díaz,luis@radio-uni.mx,443 322 1400,1125,Michoacán,"
    '"Luis Díaz|soporte|443 322 1400|luis@radio-uni.mx; Eva Sol|redes|443 111 0000|eva@radio-uni.mx"\n'
    "Canal 9,https://prep2024.canal9.mx,,198.51.100.4,difusion,clave-dos,Marta León,"
    "marta@canal9.mx,55 1234 5678,,Michoacán,\n"
)


def test_import_a_registration_form(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    reg.write_text('url_host_pattern = "prep2024.*"\n')
    form = tmp_path / "registro.csv"
    form.write_text(CSV)
    r = run("import", str(form), "--registry", str(reg), "--set", "remote_root=/www")
    assert r.returncode == 0, r.stderr
    registry = load_registry(reg)
    uni = registry.get("radio-universidad")
    assert uni is not None and uni.host == "203.0.113.7" and uni.password == "clave-uno"
    assert uni.url_prueba == "https://pruebas.radio-uni.mx" and uni.contacto.extension == "1125"
    assert [p.nombre for p in uni.personal] == ["Luis Díaz", "Eva Sol"]
    assert registry.get("canal-9") is not None and "clave" not in reg.read_text()
    assert read_history(registry.history).status_of("canal-9") == "aspirante"


def test_import_reports_every_problem_with_the_rows_line(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    reg.write_text('url_host_pattern = "prep2024.*"\n')
    form = tmp_path / "registro.csv"
    form.write_text(CSV.replace("https://prep2024.canal9.mx", "https://www.canal9.mx")
                    .replace("luis@radio-uni.mx,443", "luis-radio-uni,443"))
    r = run("import", str(form), "--registry", str(reg))
    assert r.returncode == 2
    assert "registro.csv:2: contacto.email:" in r.stderr
    assert "registro.csv:3: url: the institute requires the server to be named" in r.stderr
    assert reg.read_text() == 'url_host_pattern = "prep2024.*"\n'
    assert not (tmp_path / "secrets.toml").exists() or "clave" not in (
        tmp_path / "secrets.toml").read_text()


def test_status_moves_are_checked_and_recorded(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    assert run("add", "sol", "--registry", str(reg), "--set", "host=h", "--set", "user=u",
               "--set", "url=https://prep2024.sol.mx", "--password-stdin",
               stdin="p\n").returncode == 0
    r = run("status", "sol", "activo", "--registry", str(reg), "--reason", "ya")
    assert r.returncode == 2 and "it can move to: validado" in r.stderr
    assert run("status", "sol", "validado", "--registry", str(reg), "--reason", "pruebas",
               "--by", "uie-ana").returncode == 0
    r = run("status", "sol", "activo", "--registry", str(reg), "--reason", "lista")
    assert r.returncode == 2 and "no logo" in r.stderr
    r = run("block", "sol", "--registry", str(reg), "--reason", "ataque", "--by", "uie-ana")
    assert r.returncode == 0
    assert load_registry(reg).active() == []
    for way_out in ("activo", "validado", "aspirante"):   # out of bloqueado only by unblock
        r = run("status", "sol", way_out, "--registry", str(reg), "--reason", "x")
        assert r.returncode == 2 and "it can move to: baja (or unblock" in r.stderr, r.stderr
    assert run("unblock", "sol", "--registry", str(reg), "--reason", "resuelto").returncode == 0
    assert load_registry(reg).get("sol").status == "validado"  # type: ignore[union-attr]
    assert run("status", "sol", "baja", "--registry", str(reg), "--reason", "renuncia").returncode == 0
    r = run("unblock", "sol", "--registry", str(reg), "--reason", "x")
    assert r.returncode == 2 and "not blocked" in r.stderr
    events = read_history(tmp_path / "historial.jsonl").of("sol")
    assert [(e.value, e.by) for e in events][1:3] == [("validado", "uie-ana"),
                                                       ("bloqueado", "uie-ana")]


def test_an_edited_history_is_refused(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    add_difusores(reg, [({"name": "a", "host": "h", "user": "u", "auth": "password"}, "p", [])],
                  "uie", "registro")
    run("block", "a", "--registry", str(reg), "--reason", "ataque")
    hist = tmp_path / "historial.jsonl"
    lines = hist.read_text().splitlines()
    assert load_registry(reg).get("a").status == "bloqueado"  # type: ignore[union-attr]
    # someone rewrites who registered it: the line after it no longer follows
    hist.write_text("\n".join([lines[0].replace('"uie"', '"otro"'), lines[1]]) + "\n")
    with pytest.raises(InputError, match=r"historial\.jsonl:2: prev: the history was edited"):
        load_registry(reg)


def test_pending_lists_what_each_difusor_owes(tmp_path: Path, small_election: Path) -> None:
    election = tmp_path / "election"
    election.mkdir()
    generated = (small_election / "election.toml").read_text()
    assert "\n[difusores]\n" in generated  # the generated election has the calls' dates
    without = generated.split("\n[difusores]\n")[0]
    (election / "election.toml").write_text(
        without
        + "\n[difusores]\nregistro = 2024-05-15\nlogo = 2024-05-20\nvalidacion = 2024-05-21\n"
          "simulacros = [2024-05-12, 2024-05-26]\ninforme = 2024-06-15\n")
    reg = tmp_path / "registry.toml"
    (tmp_path / "sol.svg").write_text(LOGO)
    add_difusores(reg, [({"name": "sol", "host": "h", "user": "u", "auth": "password",
                          "nombre": "El Sol", "url": "https://prep2024.sol.mx",
                          "url_prueba": "https://p.sol.mx", "entidad": "México",
                          "logo": "sol.svg", "contacto.nombre": "Ana",
                          "contacto.email": "a@sol.mx", "contacto.telefono": "5512345678"},
                         "p", []),
                        ({"name": "luna", "host": "h", "user": "u2", "auth": "password"}, "q", [])],
                  "uie", "registro")
    assert run("deliver", "sol", "simulacro-1", "--registry", str(reg)).returncode == 0
    r = run("pending", "--registry", str(reg), "--election", str(election), "--today",
            "2024-05-22", "--json")
    assert r.returncode == 0, r.stderr
    owed = {(o["difusor"], o["entregable"]): o for o in json.loads(r.stdout)}
    assert set(owed) == {("sol", "validacion"), ("sol", "simulacro-2"), ("sol", "informe"),
                         ("luna", "registro"), ("luna", "logo"), ("luna", "validacion"),
                         ("luna", "simulacro-1"), ("luna", "simulacro-2"), ("luna", "informe")}
    assert owed[("luna", "registro")]["vencido"] is True
    assert "url" in owed[("luna", "registro")]["falta"]
    assert owed[("sol", "simulacro-2")]["vencido"] is False
    r = run("pending", "--registry", str(reg), "--election", str(small_election), "--json")
    assert r.returncode == 0, r.stderr  # the README's command on a drill
    assert {o["entregable"] for o in json.loads(r.stdout)} >= {"registro", "informe"}
    (election / "election.toml").write_text(without)
    r = run("pending", "--registry", str(reg), "--election", str(election))
    assert r.returncode == 2 and "no [difusores] table" in r.stderr


def test_add_with_an_unwritable_history_registers_nothing(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    assert run("add", "a", "--registry", str(reg), "--set", "host=h", "--set", "user=u",
               "--password-stdin", stdin="p\n").returncode == 0
    reg.write_text('history = "/proc/nope/h.jsonl"\n' + reg.read_text())
    before = reg.read_bytes(), (tmp_path / "secrets.toml").read_bytes()
    r = run("add", "b", "--registry", str(reg), "--set", "host=h", "--set", "user=u2",
            "--password-stdin", stdin="q\n")
    assert r.returncode == 2, r.stderr
    assert "/proc/nope/h.jsonl" in r.stderr and "Traceback" not in r.stderr
    assert (reg.read_bytes(), (tmp_path / "secrets.toml").read_bytes()) == before


def test_add_into_a_missing_folder_names_the_registry(tmp_path: Path) -> None:
    reg = tmp_path / "newdir" / "r.toml"
    r = run("add", "a", "--registry", str(reg), "--set", "host=h", "--set", "user=u",
            "--password-stdin", stdin="p\n")
    assert r.returncode == 2 and "does not exist" in r.stderr, r.stderr
    assert str(reg) in r.stderr and ".r.toml." not in r.stderr, r.stderr
    assert not reg.parent.exists()


def _one_difusor(tmp_path: Path) -> tuple[Path, bytes]:
    """A registry holding difusor ``a`` (an unroutable host), and its history's bytes."""
    reg = tmp_path / "registry.toml"
    assert run("add", "a", "--registry", str(reg), "--set", "host=192.0.2.1",
               "--set", "user=u", "--password-stdin", stdin="p\n").returncode == 0
    return reg, (tmp_path / "historial.jsonl").read_bytes()


def test_check_refuses_a_bad_out_before_any_check(tmp_path: Path) -> None:
    reg, history = _one_difusor(tmp_path)
    notdir = tmp_path / "README.md"
    notdir.write_text("x")
    r = run("check", "a", "--registry", str(reg), "--out", str(notdir / "x"))
    assert r.returncode == 2 and str(notdir / "x") in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == "" and (tmp_path / "historial.jsonl").read_bytes() == history


def test_check_refuses_a_bad_trust_key_before_any_check(tmp_path: Path) -> None:
    reg, history = _one_difusor(tmp_path)
    notkey = tmp_path / "root.pub"
    notkey.write_text("not a key\n")
    for bad in (tmp_path / "missing.pub", notkey):
        r = run("check", "a", "--registry", str(reg), "--trust", str(bad))
        assert r.returncode == 2 and str(bad) in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stdout == "" and (tmp_path / "historial.jsonl").read_bytes() == history


def test_check_all_on_an_empty_registry_says_so(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    reg.write_text("")
    r = run("check", "--all", "--registry", str(reg))
    assert r.returncode == 0 and "no difusor to check" in r.stdout, (r.stdout, r.stderr)
    r = run("check", "--all", "--json", "--registry", str(reg))
    assert r.returncode == 0 and json.loads(r.stdout) == [] and "no difusor" in r.stderr


def test_a_bad_personal_is_named_once(tmp_path: Path) -> None:
    r = run("add", "a", "--registry", str(tmp_path / "r.toml"), "--set", "host=h",
            "--set", "user=u", "--personal", "a|b", "--password-stdin", stdin="p\n")
    assert r.returncode == 2
    assert r.stderr.strip() == "prepcast: --personal: write 'nombre|rol|telefono|email; …'"


def test_add_errors_never_cite_lines_past_the_end_of_the_file(tmp_path: Path) -> None:
    reg = tmp_path / "registry.toml"
    assert run("add", "a", "--registry", str(reg), "--set", "host=h", "--set", "user=u",
               "--password-stdin", stdin="p\n").returncode == 0
    n = len(reg.read_text().splitlines())
    r = run("add", "b", "--registry", str(reg), "--set", "host=h", "--set", "user=u2",
            "--set", "port=0", "--password-stdin", stdin="p\n")
    assert r.returncode == 2 and "--set: port: port must be 1-65535" in r.stderr, r.stderr
    cited = [int(m) for m in re.findall(r"registry\.toml:(\d+):", r.stderr)]
    assert all(line <= n for line in cited), (n, r.stderr)
