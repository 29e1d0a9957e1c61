"""The folder layout every difusor serves, whoever builds it (the pusher over SFTP, or the daemon).

::

    ROOT/
      current -> releases/0007        the web server's document root (a relative symlink)
      releases/0006/  releases/0007/  one whole package per cut (hard links between them)
      releases/.0008.partial/         a cut still arriving; never served
      quarantine/                     what the daemon moved aside from its inbox; never served

Activation renames a new symlink over ``current``: a reader sees one whole cut or the other.
Each release also keeps the previous cut's immutable files, so a reader that fetched the old
``json/main.json`` an instant before the switch still finds the data it names.
"""

from __future__ import annotations

import re

RELEASES = "releases"
CURRENT = "current"
QUARANTINE = "quarantine"
_RELEASE = re.compile(r"^(\d{4,})$")


def release_name(cut: int) -> str:
    return f"{cut:04d}"


def release_dir(cut: int) -> str:
    """The release of ``cut`` relative to the root (also the target of ``current``)."""
    return f"{RELEASES}/{release_name(cut)}"


def partial_dir(cut: int) -> str:
    return f"{RELEASES}/.{release_name(cut)}.partial"


def cut_of_release(name: str) -> int | None:
    """The cut a release folder (or ``current``'s target) names, or None."""
    m = _RELEASE.match(name.rstrip("/").rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


def inbox_name(cut: int) -> str:
    """The name of a cut's delta archive in a daemon's inbox."""
    return f"{cut:04d}.tar"


INBOX_ARCHIVE = re.compile(r"^(\d{4,})\.tar$")
