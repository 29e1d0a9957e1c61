"""asyncssh formats the text of every packet's debug log line before the logger checks its level
(``SSHLogger.log`` converts the arguments, ``_log_packet`` builds the names); with hundreds of
SFTP requests per difusor and cut, that is about a quarter of the pusher's CPU. This skips the
work when the level is off, and changes nothing when debugging is on."""

from __future__ import annotations

import logging
from typing import Any

import asyncssh.logging as ssh_logging
import asyncssh.packet as ssh_packet

_done = False


def quiet_asyncssh_logging() -> None:
    global _done
    if _done:
        return
    _done = True
    logger_cls: Any = getattr(ssh_logging, "SSHLogger", None)
    packet_cls: Any = getattr(ssh_packet, "SSHPacketLogger", None)
    if logger_cls is None or packet_cls is None:  # pragma: no cover - another asyncssh layout
        return
    original_log = logger_cls.log
    original_packet = packet_cls._log_packet
    base = logging.getLogger("asyncssh")

    def log(self: Any, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if base.isEnabledFor(level):
            original_log(self, level, msg, *args, **kwargs)

    def log_packet(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(logger_cls, "_debug_level", 3) >= 3 and base.isEnabledFor(logging.DEBUG):
            original_packet(self, *args, **kwargs)

    logger_cls.log = log
    packet_cls._log_packet = log_packet
