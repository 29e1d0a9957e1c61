"""``prepcast push``: send a cut's package to every active difusor of the registry."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from prepcast.errors import TransportError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("push", help="send a cut to every difusor over SFTP (docs/registry.md); "
                       "exit 4 when any difusor failed or its daemon refused a cut")
    p.add_argument("--registry", required=True, type=Path, help="registry of difusores (TOML)")
    p.add_argument("--package", required=True, type=Path, action="append",
                   help="package directory; repeat to push several cuts in order")
    p.add_argument("--state", type=Path, default=Path("deliveries.sqlite"),
                   help="SQLite record of deliveries (default deliveries.sqlite)")
    p.add_argument("--no-wait", action="store_true",
                   help="activate at once even before not_before (drills only)")
    p.add_argument("--stage-only", action="store_true", help="send, but do not activate")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from prepcast.distribution.contents import read_package
    from prepcast.distribution.progress import PushProgress, print_report
    from prepcast.distribution.push import Pusher
    from prepcast.distribution.registry import load_registry
    from prepcast.distribution.state import DeliveryState

    registry = load_registry(args.registry)
    packages = [read_package(p) for p in args.package]
    state = DeliveryState(args.state)

    async def main() -> list[str]:
        failed: list[str] = []
        with PushProgress(enabled=not args.quiet) as progress:
            pusher = Pusher(registry, state, on_progress=progress.update)
            try:
                for pkg in packages:
                    progress.start_cut(pkg.cut, [d.name for d in registry.active()])
                    if args.stage_only:
                        staged = await pusher.stage_all(pkg)
                        failed += [n for n, o in staged.items() if not o.ok]
                        print_report(progress.console, pkg.cut, staged, {})
                        continue
                    report = await pusher.push(pkg, wait_for_embargo=not args.no_wait)
                    failed += report.failed
                    print_report(progress.console, pkg.cut, report.staged, report.activated,
                                 report.refused)
            finally:
                await pusher.close()
        return failed

    failed = asyncio.run(main())
    state.close()
    if failed:
        raise TransportError(f"{len(set(failed))} difusores failed: {', '.join(sorted(set(failed)))}"
                             f" (details above and in {args.state})")
    return 0
