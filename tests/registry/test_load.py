"""The registry: every problem at once with its line; secrets must be 0600; documented settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prepcast.distribution.registry import load_registry
from prepcast.errors import InputError
from tests.cli.in_process import prepcast

ROOT = Path(__file__).resolve().parents[2]


def _refused(tmp_path: Path, text: str) -> InputError:
    """The refusal of loading a registry ``r.toml`` holding ``text`` (its key file ``k`` there)."""
    reg = tmp_path / "r.toml"
    reg.write_text(text)
    (tmp_path / "k").write_text("key")
    with pytest.raises(InputError) as err:
        load_registry(reg)
    return err.value


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = str(_refused(
        tmp_path,
        'concurrency = 0\n\n[[difusor]]\nname = "ok"\nhost = "a"\nuser = "u"\nauth = "key"\n'
        'key_file = "k"\n\n[[difusor]]\nname = "Bad Name"\nhost = "b"\nuser = "u"\n'
        'auth = "password"\nmode = "ftp"\nport = 70000\ncolour = "red"\n'))
    assert re.search(r"r\.toml:1: concurrency: concurrency must be a positive integer", text)
    # each problem names the line of its own setting
    for line, field in ((11, "name"), (15, "mode"), (16, "port"), (17, "colour"), (14, "auth")):
        assert re.search(rf"r\.toml:{line}: {field}: ", text), (field, text)
    assert "r.toml:3" not in text and "r.toml:4" not in text  # the first difusor is fine


def test_secrets_must_be_0600(tmp_path: Path) -> None:
    (tmp_path / "secrets.toml").write_text('[passwords]\nx = "p"\n')
    (tmp_path / "secrets.toml").chmod(0o644)
    reg = tmp_path / "r.toml"
    reg.write_text('secrets = "secrets.toml"\n[[difusor]]\nname = "x"\nhost = "h"\nuser = "u"\n'
                   'auth = "password"\n')
    with pytest.raises(InputError, match="must be 0600") as err:
        load_registry(reg)
    assert "no password" not in str(err.value)  # the refused file is the one problem
    (tmp_path / "secrets.toml").chmod(0o600)
    assert load_registry(reg).difusores[0].password == "p"


def test_push_command_reports_a_bad_registry_without_traceback(tmp_path: Path) -> None:
    reg = tmp_path / "r.toml"
    reg.write_text("[[difusor]]\nname = 1\n")
    r = prepcast("push", "--registry", str(reg), "--package", str(tmp_path), "--trust", str(reg))
    assert r.returncode == 2
    assert "r.toml:2: name:" in r.stderr and "Traceback" not in r.stderr


def test_every_setting_is_documented() -> None:
    registry_doc = (ROOT / "docs/registry.md").read_text()
    for key in ("name", "host", "port", "user", "auth", "key_file", "remote_root", "mode",
                "host_key", "active", "secrets", "known_hosts", "concurrency", "keep_releases"):
        assert f"`{key}`" in registry_doc, key
    setup = (ROOT / "docs/difusor-setup.md").read_text()
    from prepcast.difusor.config import DaemonConfig

    names = {"sftp_listen": "listen", "sftp_port": "port", "sftp_host_key": "host_key",
             "sftp_authorized_keys": "authorized_keys", "ntp_server": "ntp_server",
             "ntp_port": "ntp_server", "max_clock_offset": "max_offset",
             "purge_command": "command", "purge_webhook": "webhook"}
    for field in DaemonConfig.__dataclass_fields__:
        assert f"{names.get(field, field)} =" in setup, field


def test_a_top_level_typo_is_refused_with_its_line(tmp_path: Path) -> None:
    text = str(_refused(tmp_path, '# registry\nconcurency = 3\n\n[checks]\nmin_free_gbs = 1\n'
                                  '[[difusor]]\nname = "a"\nhost = "h"\nuser = "u"\n'
                                  'auth = "key"\nkey_file = "k"\n'))
    assert "r.toml:2: concurency: unknown setting (did you mean 'concurrency'?)" in text
    assert "r.toml:5: checks.min_free_gbs: unknown setting (did you mean 'min_free_gb'?)" in text


FORM = '''url_host_pattern = "prep2024.*"

[[difusor]]
name = "el-sol"
host = "sftp.elsol.mx"
user = "prep"
auth = "key"
key_file = "k"
nombre = "El Sol de Toluca"
url = "https://prep2024.elsol.mx"
url_prueba = "https://pruebas.elsol.mx"
entidad = "México"
razon_social = "Editorial El Sol S.A. de C.V."
ip_registro = "203.0.113.9"
logo = "logo.svg"
diagrama = "diagrama.pdf"
carta = "carta.pdf"

[difusor.representante]
nombre = "Luisa Pérez"
telefono = "722 275 7300"
email = "direccion@elsol.mx"

[difusor.contacto]
nombre = "Ana Ruiz"
telefono = "722 111 2233"
telefono_trabajo = "722 275 7300"
extension = "8400"
email = "ti@elsol.mx"

[difusor.servidor]
software = "Debian 12, nginx 1.22"
hardware = "16 GB RAM, 500 GB SSD"
energia = "UPS 3 kVA y planta"
red = "firewall, CDN con DDoS"
ancho_banda = "1 Gb/s"
tipo_internet = "fibra dedicada"

[[difusor.personal]]
nombre = "Ana Ruiz"
rol = "Responsable técnica"
telefono = "722 111 2233"
email = "ti@elsol.mx"
'''


def _form(tmp_path: Path, text: str = FORM) -> Path:
    for name in ("k", "logo.svg", "diagrama.pdf", "carta.pdf"):
        (tmp_path / name).write_text("x")
    reg = tmp_path / "r.toml"
    reg.write_text(text)
    return reg


def test_every_field_of_the_forms_is_kept(tmp_path: Path) -> None:
    d = load_registry(_form(tmp_path)).difusores[0]
    assert d.nombre == "El Sol de Toluca" and d.url == "https://prep2024.elsol.mx"
    assert d.url_prueba == "https://pruebas.elsol.mx" and d.entidad == "México"
    assert d.contacto.extension == "8400" and d.representante.email == "direccion@elsol.mx"
    assert d.servidor.ancho_banda == "1 Gb/s" and d.personal[0].rol == "Responsable técnica"
    assert d.diagrama == tmp_path / "diagrama.pdf" and d.status == "aspirante"


def test_the_host_name_rule_and_bad_form_values_all_at_once(tmp_path: Path) -> None:
    text = (FORM.replace("https://prep2024.elsol.mx", "https://www.elsol.mx")
            .replace('ip_registro = "203.0.113.9"', 'ip_registro = "203.0.113"')
            .replace('email = "ti@elsol.mx"\n\n[difusor.servidor]',
                     'email = "ti-at-elsol"\n\n[difusor.servidor]')
            .replace('tipo_internet = "fibra dedicada"', 'tipo_internet = "fibra"\nrack = 2'))
    with pytest.raises(InputError) as err:
        load_registry(_form(tmp_path, text))
    text_err = str(err.value)
    assert "r.toml:10: url: the institute requires the server to be named 'prep2024.*'" in text_err
    assert "r.toml:14: ip_registro: not an IP address" in text_err
    assert "r.toml:29: contacto.email: contacto.email is not an email address" in text_err
    assert "r.toml:38: servidor.rack: unknown setting" in text_err


def test_the_history_sets_the_status_and_blocks_stop_pushes(tmp_path: Path) -> None:
    from prepcast.registry import block, set_status, unblock

    reg = _form(tmp_path, FORM.replace('logo = "logo.svg"', 'logo = "logo.svg"'))
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>')
    assert [d.name for d in load_registry(reg).active()] == ["el-sol"]
    set_status(str(reg), "el-sol", "validado", "pasó las pruebas", "uie")
    set_status(str(reg), "el-sol", "activo", "lista publicada", "uie")
    assert [d.name for d in load_registry(reg).public()] == ["el-sol"]
    block(str(reg), "el-sol", "ataque DDoS", "uie")
    after = load_registry(reg)
    assert after.active() == [] and after.public() == []
    unblock(str(reg), "el-sol", "mitigado", "uie")
    assert load_registry(reg).difusores[0].status == "activo"


def test_a_ca_file_that_is_not_pem_is_refused_at_load(tmp_path: Path) -> None:
    reg = tmp_path / "r.toml"
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    reg.write_text('# registry\n\n[checks]\nca_file = "logo.svg"\n')
    with pytest.raises(InputError) as err:
        load_registry(reg)
    text = str(err.value)
    assert "r.toml:4: checks.ca_file: " in text and "logo.svg" in text and "PEM" in text, text
    r = prepcast("difusores", "check", "--all", "--registry", str(reg))
    assert r.returncode == 2 and "PEM" in r.stderr and "Traceback" not in r.stderr


def test_a_duplicate_among_other_problems_and_line_order(tmp_path: Path) -> None:
    err = _refused(tmp_path, '[[difusor]]\nname = "a"\nhost = "h"\nuser = "u"\nauth = "key"\n'
                             'key_file = "k"\n\n[[difusor]]\nname = "a"\nhost = "h"\nuser = "u"\n'
                             'port = 0\nauth = "nope"\n\nconcurrency = 0\n')
    lines = [p.line for p in err.problems]
    assert "duplicate difusor name 'a'" in str(err), str(err)
    assert lines == sorted(lines), str(err)


ELECTION = '''nombre = "DIPUTACIONES LOCALES"
institute = "QROO"
entidad_id = 23
entidad = "QUINTANA ROO"
year = 2019
utc_offset = "-05:00"
start = 2019-06-02T18:47:00-05:00
end = 2019-06-03T05:47:00-05:00
cut_minutes = 330
rules = "qroo-2019"

[[partidos]]
id = "PAN"
nombre = "PAN"

[[elecciones]]
id = "DIP_LOC"
'''


def test_an_election_file_or_a_folder_given_as_the_registry(tmp_path: Path) -> None:
    """Regression: `push --registry election.toml` printed one "unknown setting" line per setting
    of the election instead of saying the file is no registry, and a folder given as the
    registry answered "cannot read registry: Is a directory"."""
    election = tmp_path / "election.toml"
    election.write_text(ELECTION)
    r = prepcast("push", "--registry", str(election), "--package", str(tmp_path), "--trust",
                 str(election))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"{election}: this is not a registry of difusores (no [[difusor]] entries" in r.stderr
    assert "unknown setting" not in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(InputError, match="a folder, not a registry file"):
        load_registry(tmp_path)
    # a registry with a misspelled table still gets its hint, line by line
    text = str(_refused(tmp_path, '[[difusores]]\nname = "a"\n'))
    assert "difusores: unknown setting (did you mean 'difusor'?)" in text


def test_an_election_file_with_its_difusores_deadlines_is_no_registry_either(
        tmp_path: Path) -> None:
    """The election's ``[difusores]`` table (the deliverables' dates) is close to ``difusor``:
    ``difusores list --registry election.toml`` printed one "unknown setting" line per setting
    of the election, as if the file were a registry with a typo."""
    election = tmp_path / "election.toml"
    election.write_text(ELECTION + "\n[difusores]\nregistro = 2024-05-15\nlogo = 2024-05-20\n")
    r = prepcast("difusores", "list", "--registry", str(election))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"{election}: this is not a registry of difusores (no [[difusor]] entries" in r.stderr
    # a registry whose every setting is misspelt is still read as one, with its hints
    text = str(_refused(tmp_path, 'concurency = 3\n\n[[difusores]]\nname = "a"\n'))
    assert "concurency: unknown setting (did you mean 'concurrency'?)" in text
