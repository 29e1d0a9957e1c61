"""Institute side of distribution: the registry of difusores, the pusher and its state.

See ``docs/registry.md``. The public surface::

    load_registry(path) -> Registry            Difusor
    read_package(pkg_dir) -> PackageContents
    Pusher(registry, state).push(pkg) -> PushReport (staged / activated / refused Outcome per difusor)
    Peer                                       the transport interface: SftpPeer, LocalPeer
    PeerError (.retryable) and its kinds       typed transport errors
    ReleasesMode, InboxMode, FlatMode          one strategy per delivery mode
    DeliveryState(path)                        deliveries, holdings, refusals; status() per difusor
    LocalNetwork(workdir, trusted_root=...)    local difusores for the simulacro
"""

import typing as _typing

from prepcast._lazy import members as _members

if _typing.TYPE_CHECKING:
    from prepcast.distribution.contents import PackageContents, read_package
    from prepcast.distribution.local import LocalNetwork
    from prepcast.distribution.localdir import LocalPeer
    from prepcast.distribution.modes import FlatMode, InboxMode, ReleasesMode
    from prepcast.distribution.outcome import Outcome, PushReport
    from prepcast.distribution.push import Pusher
    from prepcast.distribution.registry import Difusor, Registry, load_registry
    from prepcast.distribution.sftp import SftpPeer
    from prepcast.distribution.state import Delivery, DeliveryState, DifusorStatus
    from prepcast.distribution.transport import (
        AuthenticationFailed,
        ConnectionLost,
        DifusorRefused,
        HostKeyRefused,
        IncompleteTransfer,
        NoSpace,
        Peer,
        PeerError,
        PermissionDenied,
        RemoteFailure,
        Rollback,
        Unreachable,
        Unsupported,
    )

__all__ = [
    "AuthenticationFailed",
    "ConnectionLost",
    "Delivery",
    "DeliveryState",
    "Difusor",
    "DifusorRefused",
    "DifusorStatus",
    "FlatMode",
    "HostKeyRefused",
    "InboxMode",
    "IncompleteTransfer",
    "LocalNetwork",
    "LocalPeer",
    "NoSpace",
    "Outcome",
    "PackageContents",
    "Peer",
    "PeerError",
    "PermissionDenied",
    "PushReport",
    "Pusher",
    "Registry",
    "ReleasesMode",
    "RemoteFailure",
    "Rollback",
    "SftpPeer",
    "Unreachable",
    "Unsupported",
    "load_registry",
    "read_package",
]

__getattr__, __dir__ = _members(__name__, {
    "PackageContents": "contents", "read_package": "contents",
    "LocalNetwork": "local",
    "LocalPeer": "localdir",
    "FlatMode": "modes", "InboxMode": "modes", "ReleasesMode": "modes",
    "Outcome": "outcome", "PushReport": "outcome",
    "Pusher": "push",
    "Difusor": "registry", "Registry": "registry", "load_registry": "registry",
    "SftpPeer": "sftp",
    "Delivery": "state", "DeliveryState": "state", "DifusorStatus": "state",
    "AuthenticationFailed": "transport", "ConnectionLost": "transport",
    "DifusorRefused": "transport", "HostKeyRefused": "transport",
    "IncompleteTransfer": "transport", "NoSpace": "transport", "Peer": "transport",
    "PeerError": "transport", "PermissionDenied": "transport", "RemoteFailure": "transport",
    "Rollback": "transport", "Unreachable": "transport", "Unsupported": "transport",
})
