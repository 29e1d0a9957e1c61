"""``prepcast keys``: the root key and the keyring of cut-signing keys."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.package import init_keys, revoke_key, rotate_keys
from prepcast.package.keys import ROOT_PUB, load_root_public
from prepcast.package.sign import key_id


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="create, rotate and revoke the keys that sign cut packages")
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION", parser_class=type(p))
    ks.required = True

    init = ks.add_parser("init", help="create a root key, a first cut key and the keyring")
    init.add_argument("--out", type=Path, required=True, metavar="KEYDIR")
    init.set_defaults(handler=_init)

    rot = ks.add_parser("rotate", help="a new active cut key; the old one is retired")
    rot.add_argument("--keys", type=Path, required=True, metavar="KEYDIR")
    rot.add_argument("--root", type=Path, metavar="ROOT_KEY",
                     help="the root private key, when kept outside KEYDIR")
    rot.set_defaults(handler=_rotate)

    rev = ks.add_parser("revoke", help="revoke a cut key (a new one replaces it if it was active)")
    rev.add_argument("--keys", type=Path, required=True, metavar="KEYDIR")
    rev.add_argument("--key", required=True, metavar="ID", help="id of the cut key to revoke")
    rev.add_argument("--root", type=Path, metavar="ROOT_KEY",
                     help="the root private key, when kept outside KEYDIR")
    rev.set_defaults(handler=_revoke)


def _init(args: argparse.Namespace) -> int:
    kid = init_keys(args.out)
    root_id = key_id(load_root_public(args.out / ROOT_PUB))
    print(f"keys created in {args.out}: give difusores {args.out / ROOT_PUB} "
          f"(root key id {root_id}, to confirm by another channel); active cut key {kid}")
    print("keep root.key offline: it is needed only to rotate or revoke cut keys")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    kid = rotate_keys(args.keys, args.root)
    print(f"active cut key {kid}; the previous one is retired")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    new = revoke_key(args.keys, args.key, args.root)
    print(f"cut key {args.key} revoked")
    if new:
        print(f"it was the active key: new active cut key {new}")
    return 0
