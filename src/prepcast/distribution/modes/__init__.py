"""Delivery modes: how a cut reaches one kind of difusor server, one strategy each.

==========  ===============================================================================
``sftp``    :class:`ReleasesMode` — the pusher builds ``releases/<cut>/`` and renames a new
            ``current`` symlink into place (SFTP-only difusores with OpenSSH)
``daemon``  :class:`InboxMode` — one archive per cut in the daemon's inbox; the daemon
            verifies and activates it, and the pusher reads back whether it did
``flat``    :class:`FlatMode` — cloud SFTP gateways without symlinks or atomic rename: every
            immutable file first, then ``index.html`` and ``json/main.json`` last
==========  ===============================================================================

Every mode speaks only to a :class:`~prepcast.distribution.transport.Peer`.
"""

from __future__ import annotations

from typing import Protocol

from prepcast.distribution.contents import PackageContents
from prepcast.distribution.modes._common import Context
from prepcast.distribution.modes.flat import FlatMode
from prepcast.distribution.modes.inbox import InboxMode
from prepcast.distribution.modes.releases import ReleasesMode
from prepcast.distribution.outcome import Outcome
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import Peer


class Mode(Protocol):
    """One delivery strategy; one instance serves every difusor of its mode."""

    async def check(self, peer: Peer, d: Difusor) -> Outcome | None:
        """What the difusor did with an earlier round's cut, when that is a failure."""
        ...

    async def stage(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        """Send the cut; the public does not see it yet."""
        ...

    async def activate(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        """Make the staged cut the one served (or confirm the difusor did)."""
        ...

    async def prune(self, peer: Peer, d: Difusor, live: PackageContents) -> None:
        """Remove what is no longer needed once ``live`` is served everywhere."""
        ...


def modes_for(ctx: Context) -> dict[str, Mode]:
    """One strategy per mode name (the registry's ``mode``; ``releases`` and ``inbox`` are
    other names of ``sftp`` and ``daemon``)."""
    releases, inbox, flat = ReleasesMode(ctx), InboxMode(ctx), FlatMode(ctx)
    return {"sftp": releases, "releases": releases, "daemon": inbox, "inbox": inbox, "flat": flat}


__all__ = ["Context", "FlatMode", "InboxMode", "Mode", "ReleasesMode", "modes_for"]
