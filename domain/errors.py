"""Typed errors: each carries the exit code of DESIGN "Exit codes" and one line for the user."""

from __future__ import annotations


class SynthError(Exception):
    """Base error. `str(error)` is the one line shown on stderr."""

    exit_code = 1

    def __init__(self, what: str, todo: str = "") -> None:
        self.what = what.rstrip(".")
        self.todo = todo.rstrip(".")
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.what}. {self.todo}." if self.todo else f"{self.what}."


class CheckFailed(SynthError):
    """A check found a difference (replay mismatch) or a stage yielded nothing."""

    exit_code = 1


class BadInput(SynthError):
    """Bad input or usage, found before any work starts: no run folder is created."""

    exit_code = 2


class Unreachable(SynthError):
    """A model or source is unreachable or refused us after the run started: resumable."""

    exit_code = 3


class BudgetReached(SynthError):
    exit_code = 4


class Interrupted(SynthError):
    exit_code = 130
