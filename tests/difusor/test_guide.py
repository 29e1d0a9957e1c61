"""The guide as a test: every command block of docs/difusor-setup.md that a Debian machine can
run is run as written, in a throwaway root (guide_runner.py), and the difusor it builds is then
used the way the institute uses it: the installed wheel, OpenSSH with the guide's accounts, the
daemon as its own user from the systemd unit, nginx with the generated site; two cuts pushed
over SFTP, served over HTTPS, and `prepcast difusor check` passing."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import tomllib
from pathlib import Path

import asyncssh
import pytest

from tests.difusor.difusor_web_servers import make_cert
from tests.difusor.guide_runner import Block, blocks, prepare, run, script, target_of

pytestmark = [pytest.mark.server, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SERVER_NAME = "prep.example.mx"


def role(block: Block) -> str:
    """What each block of the guide is, so that a new block cannot go untested unnoticed."""
    code = block.code
    if block.lang == "toml":
        return "daemon-config"
    if block.lang == "ini":
        return "daemon-unit"
    if block.lang != "sh":
        return "not-a-command"
    if "python3 -m venv /opt/prepcast" in code:
        return "install"
    if "webconf iis" in code:
        return "skip: IIS runs on Windows (checked as XML by test_webconf_check.py)"
    if "--layout rhel" in code:
        return "skip: RHEL commands (dnf, SELinux) (checked by test_webconf_check.py)"
    if "prepcast cut build" in code:
        return "skip: the institute's side (test_drill_embargo.py)"
    if "prepcast cut verify" in code:
        return "verify"
    if "prepcast difusor check" in code:
        return "sftp-check" if "--root" in code else "check"
    if code.lstrip().startswith("useradd") and "$DAEMON_USER" in code:
        return "daemon-only"
    if 'CHROOT="$PREP_ROOT"' in code:
        return "sftp-only"
    if "/etc/prepcast" in code or "prepcast-difusor" in code:
        return "daemon-only"
    if "webconf apache" in code:
        return "apache"
    if "webconf nginx" in code:
        return "nginx"
    return "all"


def test_every_block_of_the_guide_has_a_role() -> None:
    roles = [role(b) for b in blocks()]
    assert roles.count("install") == 1 and roles.count("daemon-config") == 1
    assert roles.count("daemon-unit") == 1 and roles.count("check") == 1
    assert roles.count("sftp-check") == 1 and roles.count("verify") == 1
    assert roles.count("sftp-only") == 1 and roles.count("daemon-only") >= 2
    assert roles.count("nginx") == 1 and roles.count("apache") == 1
    # the sshd block checks the configuration before any reload
    sshd = next(b.code for b in blocks() if "sshd_config.d" in b.code and b.lang == "sh")
    assert "sshd -t && systemctl reload" in sshd


def _daemon_config(block: Block) -> str:
    doc = tomllib.loads(block.code)
    for table in ("sftp", "purge", "clock"):  # OpenSSH mode; no network for NTP or a CDN here
        doc.pop(table, None)
    lines = []
    for k, v in doc.items():
        lines.append(f"{k} = {json.dumps(v)}" if not isinstance(v, bool)
                     else f"{k} = {'true' if v else 'false'}")
    return "\n".join(lines) + "\n"


def _write(path: str, body: str) -> str:
    return f"mkdir -p {Path(path).parent}\ncat > {path} <<'GUIDE_EOF'\n{body}GUIDE_EOF\n"


CLIENT = r'''
import asyncio, json, os, ssl, sys, time, urllib.request
from pathlib import Path
from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState

args = json.loads(sys.argv[1])
host_key = Path("/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
reg = Path(args["work"]) / "registry.toml"
reg.write_text(f"""concurrency = 1
[[difusor]]
name = "guia"
host = "127.0.0.1"
port = 22
user = "prep"
auth = "key"
key_file = "{args['key']}"
remote_root = "{args['remote_root']}"
mode = "{args['mode']}"
host_key = "{' '.join(host_key)}"
""")
result = {}

async def push(pkg):
    pusher = Pusher(load_registry(reg), DeliveryState(Path(args["work"]) / "state.sqlite"))
    try:
        report = await pusher.push(read_package(Path(pkg)))
        return [str(f) for f in report.failed]
    finally:
        await pusher.close()

for pkg in args["packages"]:
    result.setdefault("failed", []).extend(asyncio.run(push(pkg)))
    tag = read_package(Path(pkg)).cut_id.tag
    deadline = time.monotonic() + 40
    while not os.readlink("/srv/prep/www/current").endswith(tag) if os.path.islink("/srv/prep/www/current") else True:
        if time.monotonic() > deadline:
            result["timeout"] = tag
            break
        time.sleep(0.2)
ctx = ssl.create_default_context(cafile=args["ca"])
def get(path):
    try:
        r = urllib.request.urlopen(f"https://prep.example.mx{path}", context=ctx, timeout=10)
        return r.status, r.headers.get("Cache-Control"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Cache-Control"), b""
status, cache, body = get("/json/main.json")
result["main"] = [status, cache, body.decode()]
status, cache, _ = get("/db/0013/no-existe.zip")
result["missing"] = [status, cache]
result["live"] = os.readlink("/srv/prep/www/current")
Path(args["out"]).write_text(json.dumps(result))
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, keydir: Path) -> Path:
    """The guide's install block run once (it needs the network, for pip): what it left in
    /opt and /usr/local, for the runs below to start from."""
    work = tmp_path_factory.mktemp("guide-install")
    prepare(work)
    built = run(f"{sys.executable} -m pip wheel --quiet --no-deps --wheel-dir {work / 'home'} "
                f"{REPO}", net=True)
    assert built.returncode == 0, built.stderr
    steps = [b.code for b in blocks() if role(b) == "install"]
    done = run(script(steps, work=work, ov=work / "p1", net=True), net=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return work / "p1"


@pytest.mark.parametrize(("mode", "server"), [("daemon", "nginx"), ("sftp", "apache")])
def test_the_guide_end_to_end(tmp_path: Path, keydir: Path, packages: list[Path],
                              installed: Path, mode: str, server: str) -> None:
    work = Path(str(tmp_path))
    prepare(work)
    home = work / "home"
    # what the guide says the sysadmin has in hand: the institute's SSH public key and root
    # key, a certificate (certbot's job); prepcast is installed (the fixture ran its block)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(work / "institute_key"))
    (work / "institute_key").chmod(0o600)
    (home / "institute.pub").write_bytes(key.export_public_key())
    shutil.copy(keydir / "root.pub", home / "root.pub")
    cert, cert_key = make_cert(work, SERVER_NAME)
    guide = blocks()
    lower = {d: installed / d.replace("/", "_") / "u" for d in ("opt", "usr/local")}
    steps: list[str] = [f"echo '127.0.0.1 {SERVER_NAME}' >> /etc/hosts",
                        f"mkdir -p /etc/letsencrypt/live/{SERVER_NAME}",
                        f"cp {cert} /etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem",
                        f"cp {cert_key} /etc/letsencrypt/live/{SERVER_NAME}/privkey.pem",
                        f"export SSL_CERT_FILE={cert}",
                        "rm -f /run/sshd.pid /run/nginx.pid /run/apache2/apache2.pid"]
    if mode == "daemon":
        # a pared-down sshd_config (no `Subsystem sftp`, `UsePAM no`): the guide must add the
        # subsystem that SFTP needs and unlock the account useradd leaves locked; the other run
        # keeps Debian's stock one, whose `Subsystem sftp` must not be defined twice
        steps.append("printf 'Include /etc/ssh/sshd_config.d/*.conf\\nUsePAM no\\n"
                     "KbdInteractiveAuthentication no\\nPermitRootLogin no\\n' "
                     "> /etc/ssh/sshd_config")
    wanted = {"all", server, f"{mode}-only"}
    for b in guide:
        r = role(b)
        if r in wanted:
            steps.append(f"echo {shlex.quote('== guide: ' + b.section)} >&2\n" + b.code)
        elif mode == "daemon" and r == "daemon-config":
            steps.append(_write(target_of(b), _daemon_config(b)))
        elif mode == "daemon" and r == "daemon-unit":
            steps.append(_write(target_of(b), b.code))
    args = {"work": str(work), "key": str(work / "institute_key"), "ca": str(cert),
            "out": str(work / "result.json"), "packages": [str(p) for p in packages[:2]],
            "mode": mode, "remote_root": "/inbox" if mode == "daemon" else "/www"}
    steps.append(f"{sys.executable} - {json.dumps(json.dumps(args))} <<'CLIENT_EOF'\n{CLIENT}"
                 "CLIENT_EOF\n")
    steps += [b.code for b in guide if role(b) == ("check" if mode == "daemon" else "sftp-check")]
    if mode == "daemon":  # what is served, verified against the root key the guide installed
        steps += [b.code for b in guide if role(b) == "verify"]
    steps += ["kill $(cat \"$GUIDE_WORK/prepcast-difusor.pid\") 2>/dev/null || true",
              "nginx -s quit 2>/dev/null || true", "apache2ctl stop 2>/dev/null || true",
              "kill $(cat /run/sshd.pid) || true"]
    program = script(steps, work=work, net=False, lower=lower)
    (work / "program.sh").write_text(program)
    done = run(program, net=False, timeout=600)
    daemon_log = work / "prepcast-difusor.log"
    assert done.returncode == 0, (done.stdout[-4000:] + done.stderr[-4000:]
                                  + (daemon_log.read_text()[-2000:] if daemon_log.exists() else ""))
    result = json.loads((work / "result.json").read_text())
    assert result["failed"] == [] and "timeout" not in result, result
    assert result["live"].endswith(read_tag(packages[1]))
    status, cache, body = result["main"]
    assert status == 200 and cache == "no-cache, no-store, must-revalidate"
    assert body == (packages[1] / "json/main.json").read_text()
    assert result["missing"] == [404, "no-store"]
    assert "Listo: nada que corregir" in done.stdout
    if mode == "daemon":
        verified = [x for x in done.stdout.splitlines() if x.startswith("/srv/prep/www/current: ")]
        assert len(verified) == 1 and " verified: " in verified[0], done.stdout


def read_tag(package: Path) -> str:
    from prepcast.distribution.contents import read_package

    return read_package(package).cut_id.tag
