"""The errors prepcast raises, as one small tree.

::

    PrepcastError                    anything prepcast reports to a user
    ├── InputError                   a file or setting the user gave is wrong (file, line, field)
    │   └── (problems: list[Problem]) every problem found, so an operator fixes them in one pass
    ├── IntegrityError               untrusted data failed a check: signature, hash, rules, rollback
    └── TransportError               a network peer failed: SFTP, SSH, HTTP

Only the command line (:mod:`prepcast.cli`) turns these into messages and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input: where it is and what is wrong."""

    source: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        if not self.source:
            return self.message
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class PrepcastError(Exception):
    """Root of every error prepcast reports to a user."""


class InputError(PrepcastError):
    """Something the user gave (file, option, configuration) is wrong."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(
        cls, source: str | Path, message: str, line: int | None = None, field: str | None = None
    ) -> InputError:
        return cls(Problem(str(source), message, line, field))


class IntegrityError(PrepcastError):
    """Untrusted data failed a check (signature, hash, size, rollback, rules)."""

    def __init__(self, failures: list[str] | str) -> None:
        if isinstance(failures, str):
            failures = [failures]
        self.failures: list[str] = list(failures)
        super().__init__("\n".join(self.failures))


class TransportError(PrepcastError):
    """A network peer (SFTP/SSH server, HTTP server) failed or refused."""
