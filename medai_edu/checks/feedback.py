"""How a check speaks to the student: a short message with the hint last, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["GRADING_ENV", "GRADED_ENV", "CheckFailed", "render", "passed", "graded"]

GRADING_ENV = "NBGRADER_EXECUTION"  # set by nbgrader while it validates or autograds
GRADED_ENV = "MEDAI_EDU_GRADED"  # set by an instructor: students' work is graded, no answer feedback

RED, GREEN, BOLD, RESET = "\x1b[1;31m", "\x1b[1;32m", "\x1b[1m", "\x1b[0m"
HINT_MARK = "💡 Hint:"


class CheckFailed(AssertionError):
    """An answer is not right yet; the message is the hint.

    ``context`` lists short lines shown above the hint (for example the line of the student's
    code where Python stopped); ``title`` is the first line.
    """

    def __init__(self, hint: str, context: Iterable[str] = (), title: str = "Not right yet.") -> None:
        super().__init__(hint)
        self.hint = hint
        self.context = list(context)
        self.title = title

    def _render_traceback_(self) -> list[str]:
        """What a notebook shows instead of a traceback: the title, the context, the hint last."""
        return render(f"{RED}❌ {self.title}{RESET}", self.context, self.hint)


def render(title: str, context: list[str], hint: str) -> list[str]:
    return [title, *(f"   {line}" for line in context), "", f"{BOLD}{HINT_MARK}{RESET} {hint}"]


def passed(message: str = "Well done, that is correct.") -> None:
    print(f"✅ {message}")


def graded() -> bool:
    """True while nbgrader runs the notebook, or where an instructor marked the work as graded."""
    flag = os.environ.get(GRADED_ENV, "").strip().lower()
    return bool(os.environ.get(GRADING_ENV)) or flag not in ("", "0", "false", "no")
