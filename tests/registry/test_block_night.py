"""A block during a running night: the runner reads the registry before every push
(``load_registry(path)`` handed to ``Pusher.use``), so the blocked difusor gets nothing from the
next cut on while the others do, and the next cut's public list no longer names it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from prepcast.distribution import DeliveryState, Difusor, LocalPeer, Pusher, read_package
from prepcast.registry import block, load_registry, public_list, set_status
from prepcast.registry.edit import add_difusores
from tests.distribution.dist_packages import make_keys, make_package

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>'


def test_a_block_takes_effect_at_the_next_push(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    make_keys(keys)
    p1 = make_package(tmp_path / "p1", keys, 1)
    p2 = make_package(tmp_path / "p2", keys, 2, previous=p1)
    reg = tmp_path / "registry.toml"
    (tmp_path / "logo.svg").write_text(LOGO)
    add_difusores(reg, [({"name": n, "host": "local", "user": f"prep-{n}", "auth": "password",
                          "remote_root": "/www", "nombre": n.title(),
                          "url": f"https://prep2024.{n}.mx", "logo": "logo.svg"}, "p", [])
                        for n in ("sol", "luna")], "uie", "registro")
    for n in ("sol", "luna"):
        set_status(str(reg), n, "validado", "pruebas", "uie")
        set_status(str(reg), n, "activo", "lista", "uie")

    def peer(d: Difusor) -> LocalPeer:
        return LocalPeer(d, tmp_path / "net" / d.name)

    def live(name: str) -> str:
        return os.readlink(tmp_path / "net" / name / "www" / "current")

    async def night() -> list[str]:
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"),
                        retry_delay=0.0, peer_factory=peer)
        try:
            first = await pusher.push(read_package(p1), wait_for_embargo=False)
            assert first.failed == []
            block(str(reg), "luna", "ataque DDoS al sitio", "uie")     # during the night
            left = await pusher.use(load_registry(reg))                 # before the next push
            second = await pusher.push(read_package(p2), wait_for_embargo=False)
            assert set(second.staged) == {"sol"} and second.failed == []
            return left
        finally:
            await pusher.close()

    assert asyncio.run(night()) == ["luna"]
    assert live("sol").endswith("0002") and live("luna").endswith("0001")
    assert [d["id"] for d in public_list(load_registry(reg))] == ["sol"]
