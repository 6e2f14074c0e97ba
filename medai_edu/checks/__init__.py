"""Friendly self-checks for the lessons' answers, and hints for a novice's typical errors.

Each check either prints a short success message or raises :class:`CheckFailed`, whose message
is a hint written for a clinician who has never programmed: what was expected, what was given,
what to try. In a notebook :class:`CheckFailed` shows as a short message with the hint last, not
as a traceback; a lesson's set-up cell (:func:`medai_edu.notebook.start`) installs hints for errors
raised in the student's own cells (:func:`.hints.install_friendly_errors`). Importing this package
changes nothing.

- Core questions (:mod:`.questions`): :func:`check_choice` for multiple choice and
  :func:`check_estimate` for a number predicted before a run or read off a figure. The right
  answer lives in the lesson's ``QUESTIONS`` in the library, never in a cell or an error message.
- Exercises for programmers (:mod:`.exercises`): ``check_ncc``, ``check_kl``, ... call the
  student's function on a small example and name the mistake its result reveals.
"""

from medai_edu.checks.exercises import (
    check_capacity_threshold,
    check_critic_loss,
    check_ece,
    check_ged,
    check_kl,
    check_ncc,
    check_reparameterise,
    check_team_accuracy,
    check_triage_metrics,
    check_volume_change,
)
from medai_edu.checks.feedback import GRADED_ENV, GRADING_ENV, CheckFailed, graded, passed
from medai_edu.checks.hints import friendly_traceback, hint_for, install_friendly_errors
from medai_edu.checks.questions import Choice, Estimate, check_choice, check_estimate

__all__ = [
    "GRADED_ENV",
    "GRADING_ENV",
    "CheckFailed",
    "Choice",
    "Estimate",
    "check_capacity_threshold",
    "check_choice",
    "check_critic_loss",
    "check_ece",
    "check_estimate",
    "check_ged",
    "check_kl",
    "check_ncc",
    "check_reparameterise",
    "check_team_accuracy",
    "check_triage_metrics",
    "check_volume_change",
    "friendly_traceback",
    "graded",
    "hint_for",
    "install_friendly_errors",
    "passed",
]
