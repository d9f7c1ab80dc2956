"""The one exception type that reaches the user as a one-line message instead of a traceback."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem the user can fix (bad file, missing column, wrong flag).

    The CLI prints it as one line, ``error: <where>: <problem>``, and exits with code 2.
    """

    def __init__(self, problem: str, where: str | Path | None = None) -> None:
        self.problem = problem
        self.where = str(where) if where is not None else None
        super().__init__(f"{self.where}: {problem}" if self.where else problem)
