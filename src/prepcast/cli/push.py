"""``prepcast push``: send a cut's package to every active difusor of the registry."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prepcast.errors import InputError, IntegrityError, PrepcastError, Problem, TransportError

if TYPE_CHECKING:
    from prepcast.distribution.contents import PackageContents
    from prepcast.distribution.registry import Registry
    from prepcast.distribution.state import DeliveryState

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("push", help="send a cut to every difusor over SFTP (docs/registry.md); "
                       "exit 4 when any difusor failed or its daemon refused a cut")
    p.add_argument("--registry", required=True, type=Path, help="registry of difusores (TOML)")
    p.add_argument("--package", required=True, type=Path, action="append",
                   help="package directory; repeat to push several cuts in order")
    p.add_argument("--trust", required=True, type=Path, metavar="ROOT_PUBKEY",
                   help="the institute's root public key (KEYDIR/root.pub): every package is "
                        "verified against it (signature, manifest, every file, expiry) before "
                        "anything is sent; one that fails is refused, exit 3")
    p.add_argument("--state", type=Path, default=Path("deliveries.sqlite"),
                   help="SQLite record of deliveries (default deliveries.sqlite)")
    p.add_argument("--no-wait", action="store_true",
                   help="activate at once even before not_before (drills only)")
    p.add_argument("--stage-only", action="store_true", help="send, but do not activate")
    p.add_argument("--replace-same-cut", action="store_true",
                   help="a difusor that serves this cut as another package has it replaced; "
                        "without it, that difusor is refused the cut (one cut, one package)")
    p.add_argument("--verify-reused", action="store_true",
                   help="read back and hash every file of the live release before it is reused in the "
                        "next one (sftp mode), so a file changed at the difusor is sent again; "
                        "costs reading back what was not sent (default: sizes only)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def _verified(pkg: Path, trust: Path) -> PackageContents:
    """The package's contents once it verifies against ``trust`` now (IntegrityError, exit 3,
    naming the package, otherwise): nothing is sent of a package the difusores would refuse."""
    from prepcast.distribution.contents import read_package
    from prepcast.package import verify_package

    if not pkg.is_dir():
        raise InputError.at(pkg, "no such package directory (--package)")
    if not trust.is_file():
        raise InputError.at(trust, "no such file (--trust)")
    try:
        m = verify_package(pkg, trust, now=datetime.now(UTC))
    except IntegrityError as exc:
        # a failure that already names the package is not prefixed again
        raise IntegrityError([f if f.startswith(f"{pkg}:") else f"{pkg}: {f}"
                              for f in exc.failures]
                             + [f"{pkg}: refused, nothing sent"]) from None
    contents = read_package(pkg, {rel: (e.sha256, e.size) for rel, e in m.files.items()})
    if contents.digest != m.digest:
        raise IntegrityError(f"{pkg}: the manifest changed while it was read; nothing sent")
    return contents


def _check_keys(path: Path, registry: Registry) -> None:
    """Refuse, before connecting anywhere, the active difusores whose ``key_file`` is not a
    private key (one line each, exit 2)."""
    from prepcast.distribution.sftp import unreadable_key

    problems = [Problem(str(path), why, field=f"difusor {d.name}")
                for d in registry.active() if (why := unreadable_key(d)) is not None]
    if problems:
        raise InputError([*problems, Problem(str(path), "nothing sent")])


def open_state(path: Path) -> DeliveryState:
    """The delivery state at ``path``; one clear message otherwise: a file that is not a
    delivery state is a bad file (exit 2), a place the system will not let us write exit 1."""
    import sqlite3

    from prepcast.distribution.state import DeliveryState

    try:
        return DeliveryState(path)
    except sqlite3.OperationalError as exc:  # cannot open or create it, locked, read-only
        raise PrepcastError(f"{path}: cannot open the delivery state (--state): {exc}") from None
    except sqlite3.DatabaseError as exc:  # a file that is not SQLite
        raise InputError.at(path, f"not a delivery state (--state): {exc}") from None


#: After Ctrl-C, how long the push has to stop by itself before it is stopped outright.
INTERRUPT_GRACE = 3.0


def _quiet_after_interrupt() -> None:
    """After Ctrl-C, the transfers it cut end with errors (asyncio's never-retrieved tasks, the
    pusher's "connection closed; resuming"): the user asked to stop, the CLI says only that."""
    for name in ("asyncio", "asyncssh", "prepcast.distribution"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def run_interruptible(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` in an event loop of its own until it ends or Ctrl-C stops it.

    Ctrl-C cancels ``work`` (KeyboardInterrupt once it has stopped); a transfer that does not
    stop when cancelled does not keep the push alive: INTERRUPT_GRACE seconds after Ctrl-C the
    loop is stopped and closed with whatever is still running (asyncio.run would wait for it for
    ever)."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(work)
    watchdog: list[asyncio.TimerHandle] = []

    def interrupted() -> None:
        _quiet_after_interrupt()  # before the cancellation reaches any transfer
        task.cancel()
        if not watchdog:
            watchdog.append(loop.call_later(INTERRUPT_GRACE, loop.stop))

    loop.add_signal_handler(signal.SIGINT, interrupted)
    try:
        done = loop.run_until_complete(task)
    except (asyncio.CancelledError, RuntimeError):  # RuntimeError: stopped by the watchdog
        if not watchdog:
            raise
        raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        _quiet_after_interrupt()
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        _close_loop(loop, stopped=bool(watchdog))
    if watchdog:  # the work swallowed the cancellation and ended anyway
        raise KeyboardInterrupt
    return done


def _close_loop(loop: asyncio.AbstractEventLoop, *, stopped: bool) -> None:
    """Cancel what is left and close ``loop``; after the watchdog stopped it, wait a second at
    most, then close what still runs (its cleanup needs a loop: it ends without one, quietly)."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    try:
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=1.0 if stopped else None))
        if not stopped:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "coroutine ... was never awaited" of their cleanup
        for t in pending:
            if not t.done():
                with contextlib.suppress(Exception):
                    t.get_coro().close()


def run(args: argparse.Namespace) -> int:
    from prepcast.distribution.registry import load_registry

    registry = load_registry(args.registry)
    _check_keys(args.registry, registry)
    packages = [_verified(p, args.trust) for p in args.package]
    # one push at a time to the registry's difusores, whatever --state each records into
    from prepcast.distribution.pushlock import hold_named_lock, hold_registry_lock

    holder = f"a push (pid {os.getpid()})"
    locks = [hold_registry_lock(args.registry, holder)]
    try:
        state = open_state(args.state)
        try:
            locks.append(hold_named_lock(args.state, args.state.with_name(args.state.name + ".lock"),
                                         "--state", holder))
        except PrepcastError:
            state.close()
            raise
        return _run(args, registry, packages, state)
    finally:
        for fd in locks:
            os.close(fd)


def _run(args: argparse.Namespace, registry: Registry, packages: list[PackageContents],
         state: DeliveryState) -> int:
    from prepcast.distribution.progress import PushProgress, print_report
    from prepcast.distribution.push import Pusher

    if not registry.active():
        held = len(registry.difusores)
        print(f"prepcast: {args.registry}: no difusor to push to ({held} in the registry, none "
              "active: blocked, dropped, not yet activo or active = false); nothing sent",
              file=sys.stderr)
        state.close()
        return 0

    async def push_all() -> list[str]:
        failed: list[str] = []
        with PushProgress(enabled=not args.quiet) as progress:
            pusher = Pusher(registry, state, on_progress=progress.update,
                            replace_same_cut=args.replace_same_cut,
                            verify_reused=args.verify_reused)
            try:
                for pkg in packages:
                    progress.start_cut(pkg.cut, [d.name for d in registry.active()])
                    if args.stage_only:
                        staged = await pusher.stage_all(pkg)
                        failed += [n for n, o in staged.items() if not o.ok]
                        print_report(progress.console, pkg.cut, staged, {})
                        continue
                    wait = (pkg.not_before - datetime.now(UTC)).total_seconds()
                    if wait > 1 and not args.no_wait:
                        print(f"prepcast: cut {pkg.cut}: staging now, activating at its embargo "
                              f"{pkg.not_before.isoformat()} (in {wait / 60:.0f} min; --no-wait "
                              "for drills)", file=sys.stderr, flush=True)
                    report = await pusher.push(pkg, wait_for_embargo=not args.no_wait)
                    failed += report.failed
                    print_report(progress.console, pkg.cut, report.staged, report.activated,
                                 report.refused)
            finally:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pusher.close(), INTERRUPT_GRACE)
        return failed

    try:
        failed = run_interruptible(push_all())
    finally:
        state.end_running(result="interrupted", error="interrupted (Ctrl-C)")
        state.close()
    if failed:
        raise TransportError(f"{len(set(failed))} difusores failed: {', '.join(sorted(set(failed)))}"
                             f" (details above and in {args.state})")
    return 0
