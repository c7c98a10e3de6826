"""What the pre-flight check reports: :class:`Problem` s, and :class:`PreflightError` listing them
(light: the command line reports it as its message alone)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing a run would fail on: ``what`` is wrong (naming the file or key), and the ``fix``."""

    what: str
    fix: str


class PreflightError(RuntimeError):
    """Every problem the pre-flight check found, in one message; nothing has run."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        count = f"{len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        lines = [f"The pre-flight check found {count}; nothing has run:"]
        for number, problem in enumerate(self.problems, 1):
            lines += [f"{number}. {problem.what}", f"   Fix: {problem.fix}"]
        super().__init__("\n".join(lines))
