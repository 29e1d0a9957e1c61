"""The command line: the one place that parses arguments, prints, and turns errors into exit codes.

Each area has its own module here with ``register(subparsers)``; a command's handler takes the
parsed arguments and returns an exit status. Errors from :mod:`prepcast.errors` become one clear
message on standard error and a non-zero status; nothing else reaches the user as a traceback
unless ``PREPCAST_DEBUG`` is set.

Exit status: 0 done; 1 the system refused (a file that cannot be written, a full disk) or another
failure; 2 a bad argument, file or setting; 3 untrusted data failed a check (signature, hash,
rollback); 4 a network peer failed (SFTP, HTTP); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path

from prepcast import __version__
from prepcast.errors import InputError, IntegrityError, PrepcastError, TransportError

# Every module under prepcast.cli with a ``register(subparsers)`` adds its subcommands; this is
# the order `prepcast --help` lists them in (modules not named here come after, by name).
COMMAND_ORDER = (
    "simulacro",
    "election",
    "results",
    "database",
    "keys",
    "cut",
    "push",
    "difusor",
    "report",
    "logs",
)

EXIT_INPUT = 2
EXIT_INTEGRITY = 3
EXIT_TRANSPORT = 4
EXIT_OTHER = 1

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of command ``only`` alone (a run imports only what its
    command needs)."""
    parser = _Parser(
        prog="prepcast",
        description="Publishing Mexico's preliminary election results (PREP).",
    )
    parser.add_argument("--version", action="version", version=f"prepcast {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in [only] if only else command_modules():
        import_module(f"prepcast.cli.{name}").register(sub)
    return parser


def command_modules() -> list[str]:
    """The modules of this package that add subcommands, in help order."""
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
    return sorted(found, key=lambda n: (rank.get(n, len(rank)), n))


def _command_of(argv: Sequence[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in command_modules() else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(argv)
    parser = build_parser(command)
    if command is not None:  # a command may rewrite its own arguments first (prepare_argv)
        argv = getattr(import_module(f"prepcast.cli.{command}"), "prepare_argv", list)(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as exc:
        return _fail(exc, EXIT_INPUT)
    except IntegrityError as exc:
        return _fail(exc, EXIT_INTEGRITY)
    except TransportError as exc:
        return _fail(exc, EXIT_TRANSPORT)
    except PrepcastError as exc:
        return _fail(exc, EXIT_OTHER)
    except KeyboardInterrupt:
        print("prepcast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except UnicodeDecodeError as exc:  # a binary file where a text file was expected
        return _fail(InputError(f"a file given is not text in UTF-8 ({exc.reason} at byte "
                                f"{exc.start})"), EXIT_INPUT)
    except OSError as exc:  # the system refused: an unwritable output, a full disk, ...
        where = f"{_given_name(exc.filename)}: " if exc.filename else ""
        return _fail(PrepcastError(f"{where}{exc.strerror or exc}"), EXIT_OTHER)


# the temporary names outputs are written under before their rename: ``.NAME.tmp``,
# ``.NAME.tmp-PID``, ``.NAME.XXXXXXXX.tmp`` (mkstemp)
_TEMPORARY = re.compile(r"^\.(?P<name>.+?)(\.[A-Za-z0-9_]{8})?\.tmp(-\d+)?$")


def _given_name(filename: object) -> str:
    """The path the user gave for a temporary name a system refusal names (never the hidden
    ``.NAME.tmp`` the user never typed)."""
    path = Path(os.fsdecode(filename)) if isinstance(filename, str | bytes) else None
    if path is None:
        return str(filename)
    hidden = _TEMPORARY.match(path.name)
    return str(path.with_name(hidden["name"])) if hidden else str(path)


def _fail(exc: Exception, status: int) -> int:
    if os.environ.get("PREPCAST_DEBUG"):
        raise exc
    for line in str(exc).splitlines() or [type(exc).__name__]:
        print(f"prepcast: {line}", file=sys.stderr)
    return status
