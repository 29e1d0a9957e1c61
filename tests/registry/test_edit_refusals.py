"""What ``difusores add / edit / import`` refuse, every problem at once and nothing written: an SFTP
account or a site another difusor already has (pushes to one account collide on the same
folders), a logo the public list would refuse, a row twice in an imported form."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.in_process import prepcast

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>'
BAD_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2" onload="alert(1)">'
            '<rect width="4" height="2"/></svg>')


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return prepcast("difusores", *args, stdin=stdin)


def _add(reg: Path, name: str, *sets: str) -> subprocess.CompletedProcess[str]:
    args = [a for s in sets for a in ("--set", s)]
    return run("add", name, "--registry", str(reg), *args, "--password-stdin", stdin="clave\n")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_an_sftp_account_or_a_site_registered_twice_is_refused(tmp_path: Path) -> None:
    """Two names on one SFTP account (host, port, user) were accepted, and their pushes then
    collided on the same ``.partial`` folder."""
    reg = tmp_path / "registry.toml"
    assert _add(reg, "gemelo-a", "host=sftp.gemelo.mx", "user=prep",
                "url=https://prep2024.gemelo.mx").returncode == 0
    before = _files(tmp_path)
    r = _add(reg, "gemelo-b", "host=SFTP.gemelo.mx", "user=prep", "url=https://prep2024.b.mx")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "prep@SFTP.gemelo.mx:22 is already difusor 'gemelo-a'" in r.stderr
    r = _add(reg, "gemelo-c", "host=sftp.c.mx", "user=prep", "url=https://PREP2024.gemelo.mx/")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "the site https://prep2024.gemelo.mx:443/ is already difusor 'gemelo-a'" in r.stderr
    assert _files(tmp_path) == before
    # another port or another user is another account; edit is checked the same way
    assert _add(reg, "otro", "host=sftp.gemelo.mx", "port=2222", "user=prep").returncode == 0
    r = run("edit", "otro", "--registry", str(reg), "--set", "port=22")
    assert r.returncode == 2 and "already difusor 'gemelo-a'" in r.stderr, r.stderr
    # two rows of one form on one account: told once, at the later row
    form = tmp_path / "form.csv"
    form.write_text("name,host,user,password,contacto.email\nuno,sftp.x.mx,prep,p1,a@x.mx\n"
                    "dos,sftp.x.mx,prep,p2,b@x.mx\n")
    r = run("import", str(form), "--registry", str(reg))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"{form}:3: user: the SFTP account prep@sftp.x.mx:22 is already difusor 'uno'" \
        in r.stderr
    assert "Traceback" not in r.stderr


def test_a_logo_the_public_list_would_refuse_is_refused_on_add_and_edit(tmp_path: Path) -> None:
    """``edit --set logo=bad.svg`` (an SVG with ``onload``) passed, and the public list then
    refused it when the night's cut was built."""
    reg = tmp_path / "registry.toml"
    (tmp_path / "sol.svg").write_text(LOGO)
    (tmp_path / "bad.svg").write_text(BAD_LOGO)
    assert _add(reg, "nuevo", "host=h", "user=u", "logo=sol.svg").returncode == 0
    before = _files(tmp_path)
    r = run("edit", "nuevo", "--registry", str(reg), "--set", "logo=bad.svg")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "logo" in r.stderr and "refused" in r.stderr and "onload" in r.stderr
    r = _add(reg, "otro", "host=h", "user=v", "logo=bad.svg")
    assert r.returncode == 2 and "onload" in r.stderr, r.stderr
    assert _files(tmp_path) == before


def test_an_import_reports_every_problem_of_every_row_and_writes_nothing(tmp_path: Path) -> None:
    """A row twice in the form was reported alone, as "already registered", hiding the bad
    e-mail of another row; and the refused import still created the secrets file."""
    reg = tmp_path / "registry.toml"
    form = tmp_path / "form.csv"
    form.write_text(
        "Nombre del medio difusor,IP o dominio de cuenta SFTP,Usuario SFTP,Contraseña,"
        "Correo electrónico del contacto\n"
        "Periódico Águila,sftp.aguila.mx,prep,s3creta,ti@aguila.mx\n"
        "Radio Ñandú,sftp.nandu.mx,prep,otra,ti-at-nandu\n"
        "Periódico Águila,sftp.aguila.mx,prep,s3creta,ti@aguila.mx\n")
    r = run("import", str(form), "--registry", str(reg))
    assert r.returncode == 2, r.stderr
    assert f"{form}:3: contacto.email: contacto.email is not an email address" in r.stderr
    assert f"{form}:4: name: difusor 'periodico-aguila' is twice in the file (line 2 too)" \
        in r.stderr
    assert "already registered" not in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["form.csv"]
    # the same with a registry already there: it and its secrets stay as they were
    assert _add(reg, "sol", "host=h", "user=u").returncode == 0
    before = _files(tmp_path)
    r = run("import", str(form), "--registry", str(reg))
    assert r.returncode == 2 and "line 2 too" in r.stderr, r.stderr
    assert _files(tmp_path) == before
    (tmp_path / "secrets.toml").unlink()
    reg.write_text(reg.read_text().replace('secrets = "secrets.toml"\n', "")
                   .replace('auth = "password"', 'auth = "key"\nkey_file = "k"'))
    (tmp_path / "k").write_text("key")
    before = _files(tmp_path)
    assert run("import", str(form), "--registry", str(reg)).returncode == 2
    assert _files(tmp_path) == before       # no secrets file made for a refused import
