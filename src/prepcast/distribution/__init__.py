"""Institute side of distribution: the registry of difusores, the pusher over SFTP, its state.

See ``docs/registry.md``. The public surface::

    load_registry(path) -> Registry            Difusor
    read_package(pkg_dir) -> PackageContents
    Pusher(registry, state).push(pkg) -> PushReport (staged / activated Outcome per difusor)
    DeliveryState(path)                        deliveries, holdings
    LocalNetwork(workdir, trusted_root=...)    local difusores for the simulacro
"""

from prepcast.distribution.contents import PackageContents, read_package
from prepcast.distribution.local import LocalNetwork
from prepcast.distribution.push import Outcome, Pusher, PushReport
from prepcast.distribution.registry import Difusor, Registry, load_registry
from prepcast.distribution.state import Delivery, DeliveryState

__all__ = [
    "Delivery",
    "DeliveryState",
    "Difusor",
    "LocalNetwork",
    "Outcome",
    "PackageContents",
    "PushReport",
    "Pusher",
    "Registry",
    "load_registry",
    "read_package",
]
