"""The core questions: multiple choice and numbers (predicted before a run, or read off a figure).

A lesson module defines its questions (``QUESTIONS``); the notebook's check cell passes the
student's answer and the question, for example ``checks.check_choice(answer_trust,
lesson.QUESTIONS["trust"])``. The right answer and the explanations live here in the library,
so no cell and no error message ever shows them. Self-learners are told whether they are right
and why; while the work is graded (:func:`~medai_edu.checks.feedback.graded`) a multiple-choice
answer is only recorded, and a prediction is compared with the run, which shows the value anyway.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from medai_edu.checks import hints
from medai_edu.checks.feedback import CheckFailed, graded, passed

__all__ = ["Choice", "Estimate", "check_choice", "check_estimate"]


@dataclass(frozen=True)
class Choice:
    """A multiple-choice question: the answer variable, the right letter and why each option is right or wrong."""

    variable: str
    correct: str
    explanations: Mapping[str, str]

    def __post_init__(self) -> None:
        if self.correct not in self.explanations:
            raise ValueError(f"{self.variable}: the right answer {self.correct!r} needs an explanation.")
        hints.register_answer(self.variable)

    @property
    def options(self) -> list[str]:
        return sorted(self.explanations)


@dataclass(frozen=True)
class Estimate:
    """A question answered with a number: predicted before a run, or read off a figure.

    Answers from ``low`` to ``high`` are right. ``unit`` is shown after the number ("%" or a word);
    ``why`` explains the answer; ``mistakes`` maps the values that typical mistakes give to a hint;
    ``limits`` are the values that make sense at all (a percentage lies from 0 to 100).
    """

    variable: str
    low: float
    high: float
    why: str
    unit: str = ""
    mistakes: Mapping[float, str] = field(default_factory=dict)
    limits: tuple[float, float] = (-math.inf, math.inf)
    predicted: bool = False  # True: the student commits to it before the run that measures it

    def __post_init__(self) -> None:
        if not self.limits[0] <= self.low <= self.high <= self.limits[1]:
            raise ValueError(f"{self.variable}: the accepted range must lie within the limits.")
        hints.register_answer(self.variable)

    def show(self, value: float) -> str:
        number = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}".removesuffix(".0")
        return f"{number} {self.unit}".strip() if self.unit != "%" else f"{number} %"


def _answer_cell_ran(variable: str) -> None:
    failed = hints.failed_definition(variable)
    if failed is not None:
        raise failed


def check_choice(answer: Any, question: Choice) -> None:
    """Visible check of a multiple-choice answer: one of the offered letters, in quotes."""
    _answer_cell_ran(question.variable)
    options = question.options
    example = f'{question.variable} = "{options[0]}"'
    if answer is Ellipsis or not isinstance(answer, str):
        what = "the three dots, no answer yet" if answer is Ellipsis else f"{answer!r}, which is not text"
        raise CheckFailed(
            f"Write your answer as one letter in quotes, one of {', '.join(options)} (for example {example}), "
            f"and run that cell; you wrote {what}. The quotes make it text."
        )
    letter = answer.strip().upper()
    if letter not in options:
        extra = " Write only the letter, without the option's text or punctuation." if letter[:1] in options else ""
        raise CheckFailed(
            f"Write your answer as one letter in quotes, one of {', '.join(options)} (for example {example}); "
            f"you wrote {answer!r}.{extra}"
        )
    if graded():
        print(f"Answer recorded: {letter}. It is marked when the notebook is graded.")
        return
    why = question.explanations[letter]
    if letter == question.correct:
        return passed(f"Right: {letter}. {why}")
    raise CheckFailed(
        f"{letter} is not the best answer. {why} Think it over and try another letter.",
        title=f"Answer {letter}: not quite.",
    )


_NUMBER_IN_TEXT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(%|percent)?\s*$")


def _as_number(answer: Any, question: Estimate) -> float:
    example = f"{question.variable} = 40" if question.unit == "%" else f"{question.variable} = 0.5"
    if answer is Ellipsis:
        raise CheckFailed(
            f"Replace the three dots `...` in the cell above by your number (for example `{example}`) and run "
            "that cell, then this one."
        )
    if isinstance(answer, str):
        found = _NUMBER_IN_TEXT.match(answer)
        fixed = f"{question.variable} = {found.group(1).replace(',', '.')}" if found else example
        raise CheckFailed(
            f"Write the number without quotes{' and without %' if '%' in answer else ''}: `{fixed}`. "
            "In quotes, Python reads it as text, not as a number."
        )
    if isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(v, int) for v in answer):
        raise CheckFailed(
            f"Python writes decimals with a point: `{answer[0]}.{answer[1]}`, not `{answer[0]},{answer[1]}` "
            "(with a comma Python reads two numbers)."
        )
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise CheckFailed(f"Write one number (for example `{example}`); you wrote {answer!r}.")
    value = float(answer)
    if math.isnan(value):
        raise CheckFailed(f"Write one number (for example `{example}`); you wrote nan (not a number).")
    return value


def _unit_mix_up(value: float, question: Estimate) -> str | None:
    """A hint when the number is right but written as a fraction instead of a percentage (or the reverse)."""
    if question.unit == "%" and question.low > 1 and 0 < abs(value) <= 1:
        if question.low <= 100 * value <= question.high:
            return f"The question asks for a percentage: {value:g} as a fraction is {100 * value:g} %. Write {100 * value:g}."
    if question.unit != "%" and question.high <= 1 and 1 < abs(value) <= 100:
        if question.low <= value / 100 <= question.high:
            return f"Write it as a number between 0 and 1, as the figure shows it: {value / 100:g}, not {value:g}."
    return None


def _matched_mistake(value: float, question: Estimate) -> str | None:
    for wrong, hint in question.mistakes.items():
        if math.isclose(value, wrong, rel_tol=1e-3, abs_tol=0.005 * max(1.0, abs(wrong))):
            return hint
    return None


def check_estimate(answer: Any, question: Estimate, measured: float | None = None) -> None:
    """Visible check of a number: a prediction compared with the run that ``measured`` it, or a value read off."""
    _answer_cell_ran(question.variable)
    value = _as_number(answer, question)
    low, high = question.limits
    mixed_up = _unit_mix_up(value, question)
    if mixed_up and not graded():
        raise CheckFailed(mixed_up)
    if not low <= value <= high:
        raise CheckFailed(
            f"{question.show(value)} is not possible here: the answer lies between {question.show(low)} "
            f"and {question.show(high)}."
        )
    compared = ""
    if measured is not None:
        off = value - float(measured)
        points = " percentage points" if question.unit == "%" else ""
        size = f"{abs(off):.3g}{points}"
        direction = (
            "exactly right" if math.isclose(off, 0, abs_tol=1e-9) else f"{size} too {'high' if off > 0 else 'low'}"
        )
        verb = "predicted" if question.predicted else "wrote"
        compared = f"You {verb} {question.show(value)}; this run gives {question.show(float(measured))}: {direction}. "
    right = question.low <= value <= question.high
    if graded():
        print(f"{compared}Answer recorded: {question.show(value)}. It is marked when the notebook is graded.")
        return
    if right:
        return passed(f"{compared}Right. {question.why}")
    hint = _matched_mistake(value, question) or question.why
    raise CheckFailed(f"{compared}{hint}", title="Not quite." if not compared else "Not quite: see how far off.")
