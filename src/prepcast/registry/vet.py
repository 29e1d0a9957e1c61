"""What ``add``, ``edit`` and ``import`` refuse of the difusores they add or change, beyond the
registry's own checks: an SFTP account (host, port, user) or a site (``url``, ``url_prueba``)
another difusor already has — two difusores on one account would have their pushes collide on
the same folders —, and a logo the public list would refuse (so the night's cut is never the
first to find out). A dropped difusor (``baja``) no longer holds its account or site."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from prepcast.errors import Problem
from prepcast.registry.logos import LogoError, clean_logo_file
from prepcast.registry.model import Difusor, Registry


def vet(registry: Registry, names: Sequence[str]) -> list[Problem]:
    """The problems of the difusores ``names`` (just added or edited), each naming the other
    difusor it collides with; a pair both in ``names`` is told once, at the later one."""
    source = str(registry.path)
    out: list[Problem] = []
    order = [d.name for d in registry.difusores]
    for d in registry.difusores:
        if d.name not in names:
            continue
        for o in registry.difusores:
            if o.name == d.name or o.status == "baja" or (
                    o.name in names and order.index(o.name) > order.index(d.name)):
                continue
            if _account(d) == _account(o):
                out.append(Problem(source, f"the SFTP account {d.user}@{d.host}:{d.port} is "
                                   f"already difusor {o.name!r}'s: each difusor gives the "
                                   "institute an account of its own", d.line, "user"))
            shared = sorted(_sites(d) & _sites(o))
            if shared:
                out.append(Problem(source, f"the site {shared[0]} is already difusor "
                                   f"{o.name!r}'s", d.line, "url"))
        if d.logo is not None and d.logo.is_file():
            try:
                clean_logo_file(d.logo, registry.logo_max_bytes)
            except LogoError as exc:
                out.append(Problem(source, f"logo {d.logo} refused: {exc} (the public list "
                                   "would refuse it)", d.line, "logo"))
    return out


def _account(d: Difusor) -> tuple[str, int, str]:
    return d.host.lower().rstrip("."), d.port, d.user


def _sites(d: Difusor) -> set[str]:
    """The difusor's sites, as ``https://host:port/path`` (case and default port aside)."""
    out = set()
    for url in filter(None, (d.url, d.url_prueba)):
        p = urlsplit(url)
        port = p.port or (443 if p.scheme == "https" else 80)
        out.add(f"{p.scheme}://{(p.hostname or '').lower()}:{port}{p.path.rstrip('/')}/")
    return out
