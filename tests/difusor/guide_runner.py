"""Runs the command blocks of docs/difusor-setup.md as a sysadmin would, in a throwaway root.

The blocks run in one bash session (so the guide's variables carry over), as root, inside a
private mount namespace where /etc, /srv, /var, /opt, /usr/local and /run are overlays on
temporary folders: users, SSH and web server configurations and services exist only there and
vanish with it. The install block runs first with the network (pip); everything else runs in a
network namespace of its own, so the standard ports (22, 80, 443) are the guide's own.
What a Debian machine without systemd cannot do is a small shim: ``systemctl`` starts or reloads
sshd, nginx, Apache and the daemon's unit (as its ``User``), ``journalctl`` prints nothing.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "difusor-setup.md"
OVERLAID = ("etc", "srv", "var", "opt", "usr/local", "run")

SYSTEMCTL = r"""#!/bin/bash
# systemctl for a machine without systemd (the guide test): start or reload what the guide names
set -e
case "$1" in
  daemon-reload) exit 0 ;;
  reload|restart|start)
    case "$2" in
      ssh|sshd)
        if [ -f /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then
          kill -HUP "$(cat /run/sshd.pid)"
        else
          mkdir -p /run/sshd && /usr/sbin/sshd
        fi ;;
      nginx)
        if [ -f /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
          nginx -s reload
        else
          nginx
        fi ;;
      apache2) apache2ctl graceful 2>/dev/null || apache2ctl start ;;
      *) echo "systemctl shim: unknown unit $2" >&2; exit 1 ;;
    esac ;;
  enable)
    unit="/etc/systemd/system/${3%.service}.service"
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    user=$(sed -n 's/^User=//p' "$unit")
    group=$(sed -n 's/^Group=//p' "$unit")
    setpriv --reuid="$user" --regid="$group" --init-groups $exec_start \
        >>"$GUIDE_WORK/$3.log" 2>&1 </dev/null &
    echo $! >"$GUIDE_WORK/$3.pid" ;;
  *) echo "systemctl shim: $*" >&2; exit 1 ;;
esac
"""


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    before: str     # the paragraph just above the block
    section: str    # the ## heading it is under


def blocks(text: str | None = None) -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8") if text is None else text
    out: list[Block] = []
    section = ""
    lines = text.splitlines()
    i = 0
    para: list[str] = []
    gap = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section, para, gap = line[3:].strip(), [], False
        elif line.startswith("```"):
            lang = line[3:].strip()
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.append(Block(lang, "\n".join(lines[i + 1:j]) + "\n", "\n".join(para), section))
            i, para, gap = j, [], False
        elif line.strip():
            if gap:
                para, gap = [], False
            para.append(line)
        else:
            gap = True  # the paragraph stays the one above a block until another starts
        i += 1
    return out


def target_of(block: Block) -> str:
    """The file a configuration block is for, named just above it (`/etc/…`:)."""
    m = re.search(r"`(/[^`]+)`:\s*$", block.before)
    if not m:
        raise AssertionError(f"no file named above the {block.lang} block in {block.section}")
    return m.group(1)


def script(steps: list[str], *, work: Path, net: bool, ov: Path | None = None,
           lower: dict[str, Path] | None = None) -> str:
    """The bash program run under ``unshare``: overlays (in ``ov``), shims, then ``steps``."""
    lower = lower or {}
    ov_base = ov or work / "ov"
    head = ["set -euo pipefail", f"export GUIDE_WORK={shlex.quote(str(work))}"]
    for d in OVERLAID:
        ov = ov_base / d.replace("/", "_")
        extra = f"{lower[d]}:" if d in lower else ""
        head += [f"mkdir -p {ov}/u {ov}/w",
                 f"mount -t overlay overlay -o lowerdir={extra}/{d},upperdir={ov}/u,"
                 f"workdir={ov}/w /{d}"]
    if not net:
        head.append("ip link set lo up")
    head += [f"export PATH={work}/shims:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             f"cd {shlex.quote(str(work / 'home'))}"]
    return "\n".join(head + steps) + "\n"


def run(program: str, *, net: bool, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # a PID namespace of its own: whatever the guide started dies with it, even after a failure
    flags = ["--mount", "--propagation", "private", "--fork", "--pid", "--mount-proc"] + (
        [] if net else ["--net"])
    return subprocess.run(["unshare", *flags, "bash", "-c", program], capture_output=True,
                          text=True, timeout=timeout, check=False)


def prepare(work: Path) -> None:
    (work / "shims").mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    for name, body in (("systemctl", SYSTEMCTL), ("journalctl", "#!/bin/sh\nexit 0\n")):
        shim = work / "shims" / name
        shim.write_text(body)
        shim.chmod(0o755)
