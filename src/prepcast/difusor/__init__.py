"""Difusor side: receive, verify, activate at the embargo, serve, log. See ``docs/difusor-setup.md``.

The public surface::

    DaemonConfig, load_config(path)        the daemon's TOML configuration
    Daemon(config).run()                   inbox -> verify -> embargo/clock -> activate -> purge
    ReleaseStore(root)                     releases/ and the current symlink, atomic switch
    EventLog, read_events(path)            the JSON event log (also to syslog)
    WebConf, render(kind, conf)            nginx / Apache 2.4 / IIS site configurations
    check_setup(config), check_sftp_only(root), check_site(url, root)   own checks (Spanish)
    EmbeddedServer(root, port=...)         the in-memory web server (uvicorn + uvloop)
"""

import typing as _typing

from prepcast._lazy import members as _members

if _typing.TYPE_CHECKING:
    from prepcast.difusor.activate import ReleaseStore, release_problems
    from prepcast.difusor.check import check_setup, check_sftp_only, check_site
    from prepcast.difusor.config import DaemonConfig, load_config
    from prepcast.difusor.daemon import Daemon
    from prepcast.difusor.events import EventLog, read_events
    from prepcast.difusor.serve import EmbeddedServer, EmbeddedSite
    from prepcast.difusor.webconf import WebConf, render

__all__ = [
    "Daemon",
    "DaemonConfig",
    "EmbeddedServer",
    "EmbeddedSite",
    "EventLog",
    "ReleaseStore",
    "WebConf",
    "check_setup",
    "check_sftp_only",
    "check_site",
    "load_config",
    "read_events",
    "release_problems",
    "render",
]

__getattr__, __dir__ = _members(__name__, {
    "ReleaseStore": "activate", "release_problems": "activate",
    "check_setup": "check", "check_sftp_only": "check", "check_site": "check",
    "DaemonConfig": "config", "load_config": "config",
    "Daemon": "daemon",
    "EventLog": "events", "read_events": "events",
    "EmbeddedServer": "serve", "EmbeddedSite": "serve",
    "WebConf": "webconf", "render": "webconf",
})
