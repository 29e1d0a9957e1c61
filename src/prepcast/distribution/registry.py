"""The registry of difusores now lives in :mod:`prepcast.registry`; this name stays for the
pusher (``Difusor``: name, host, port, user, auth, key_file, password, host_key, remote_root,
mode, active; ``Registry.active()``, ``concurrency``, ``keep_releases``, ``known_hosts``)."""

from prepcast.registry.load import load_registry
from prepcast.registry.model import AUTHS, MODES, Difusor, Registry

__all__ = ["AUTHS", "MODES", "Difusor", "Registry", "load_registry"]
