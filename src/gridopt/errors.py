"""Exceptions with messages a planner can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in a case: where it is and what is wrong."""

    file: str
    row: str
    column: str
    message: str

    def __str__(self) -> str:
        where = _clean(self.file)
        if self.row:
            where += f", row {_clean(self.row)}"
        if self.column:
            where += f", column {_clean(self.column)}"
        return f"{where}: {_clean(self.message, 400)}"


def _clean(text: object, limit: int = 120) -> str:
    """One printable line: control characters and line breaks escaped, very long text shortened."""
    s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} characters)"


class GridoptError(Exception):
    """Base class of gridopt's errors; the CLI maps each subclass to an exit code."""

    exit_code = 1


class CaseError(GridoptError):
    """A case (tables, time series, overlay) is invalid; carries every problem found."""

    exit_code = 1

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(GridoptError):
    """A call's options are wrong (dates outside the series, unknown region, ...)."""

    exit_code = 2


class SolveError(GridoptError):
    """The LP is infeasible or unbounded, or the solver failed."""

    exit_code = 3

    def __init__(self, message: str, status: str = "error"):
        self.status = status
        super().__init__(message)
