"""The folder layout every difusor serves, whoever builds it (the pusher over SFTP, or the daemon).

::

    ROOT/
      current -> releases/jornada-0007              the web server's document root (a relative symlink)
      releases/simulacro-2-0013/  releases/jornada-0006/  releases/jornada-0007/
                                                    one whole package per cut (hard links between them)
      releases/.jornada-0008.partial/               a cut still arriving; never served
      quarantine/                                   what the daemon moved aside from its inbox; never served
      .prepcast-difusor.lock                        held by the running daemon (one daemon per root)
      pushed.json                                   the institute's own root only: when each cut
                                                    finished going out to the difusores

A release is named by its cut's tag (:class:`prepcast.package.CutId`: ejercicio and cut number),
so a drill's cut 13 and the jornada's cut 13 are different releases, and releases sort in the
order they may be shown (every drill before the jornada).

Activation renames a new symlink over ``current``: a reader sees one whole cut or the other.
Each release also keeps the previous cut's immutable files, so a reader that fetched the old
``json/main.json`` an instant before the switch still finds the data it names.
"""

from __future__ import annotations

import re

from prepcast.package.ejercicio import CutId

RELEASES = "releases"
CURRENT = "current"
QUARANTINE = "quarantine"
DAEMON_LOCK = ".prepcast-difusor.lock"  # flock held by the daemon that owns the root
PUSHED = "pushed.json"  # in the institute's publish root: {"pushed": {tag: ISO time}}


def release_name(cut: CutId) -> str:
    return cut.tag


def release_dir(cut: CutId) -> str:
    """The release of ``cut`` relative to the root (also the target of ``current``)."""
    return f"{RELEASES}/{release_name(cut)}"


def partial_dir(cut: CutId) -> str:
    return f"{RELEASES}/.{release_name(cut)}.partial"


def cut_of_release(name: str) -> CutId | None:
    """The cut a release folder (or ``current``'s target) names, or None."""
    return CutId.from_tag(name)


def inbox_name(cut: CutId) -> str:
    """The name of a cut's delta archive in a daemon's inbox."""
    return f"{cut.tag}.tar"


INBOX_ARCHIVE = re.compile(r"^(.+)\.tar$")


def cut_of_archive(name: str) -> CutId | None:
    """The cut an inbox archive's name announces (still to be checked against its manifest)."""
    m = INBOX_ARCHIVE.match(name)
    return CutId.from_tag(m.group(1)) if m else None
