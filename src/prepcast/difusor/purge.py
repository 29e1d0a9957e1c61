"""After a cut goes live: ask the difusor's CDN to forget the mutable entry points.

Either or both, as configured: a command (``purge_command``, ``{cut}`` and ``{ejercicio}``
replaced in its arguments) and a webhook (``purge_webhook``, a JSON POST naming the cut and
the paths to purge). Each outcome is an event (``purged`` or ``purge_failed``); a failed purge
never undoes an activation.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from typing import Any

import httpx

from prepcast.difusor.config import DaemonConfig
from prepcast.difusor.reasons import purge_es
from prepcast.package import CutId

PURGED_PATHS = ["/", "/index.html", "/json/main.json"]


async def purge_cdn(config: DaemonConfig, cut_id: CutId,
                    emit: Callable[..., dict[str, Any]]) -> None:
    """Run the purge command and call the webhook of ``config`` for ``cut_id``; ``emit`` is
    the daemon's :meth:`~prepcast.difusor.events.EventLog.emit`."""
    cut = cut_id.cut
    if config.purge_command:
        argv = [a.replace("{cut}", str(cut)).replace("{ejercicio}", cut_id.ejercicio.name)
                for a in config.purge_command]
        try:
            done = await asyncio.to_thread(
                subprocess.run, argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            emit("purge_failed", cut=cut, command=argv, error=purge_es(str(exc)))
        else:
            if done.returncode == 0:
                emit("purged", cut=cut, command=argv)
            else:
                emit("purge_failed", cut=cut, command=argv, status=done.returncode,
                     stderr=done.stderr.decode(errors="replace")[-500:])
    if config.purge_webhook:
        body = {"cut": cut, "ejercicio": cut_id.ejercicio.name, "paths": PURGED_PATHS}
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                r = await client.post(config.purge_webhook, json=body)
            ok = r.is_success
            detail: dict[str, Any] = {"status": r.status_code}
        except httpx.HTTPError as exc:
            ok, detail = False, {"error": purge_es(str(exc) or type(exc).__name__)}
        emit("purged" if ok else "purge_failed", cut=cut, webhook=config.purge_webhook, **detail)
