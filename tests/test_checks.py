"""The self-checks: right answers pass, feedback respects grading, and nothing gives an answer away.

The typical mistakes and their diagnoses are a table of their own, run in a real kernel
(tests/novice_mistakes.py, tests/test_novice_mistakes.py).
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from conftest import ROOT

from medai_edu import checks
from medai_edu.checks import CheckFailed, Choice, Estimate, check_choice, check_estimate, hints

CHOICE = Choice(
    "answer_test", "C", {"A": "A confuses sensitivity with PPV.", "B": "B needs equal flags.", "C": "C: 9 of 108."}
)
ESTIMATE = Estimate("predict_test", 27, 37, why="45 of 140 flags are right.", unit="%", limits=(0, 100), predicted=True)


@pytest.fixture
def self_learner(monkeypatch):
    monkeypatch.delenv(checks.GRADING_ENV, raising=False)
    monkeypatch.delenv(checks.GRADED_ENV, raising=False)


def _shown(excinfo) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(excinfo.value._render_traceback_()))


def test_a_failed_check_shows_a_title_its_context_and_the_hint_last():
    failure = CheckFailed("Do this.", context=["in f, line 2: x = 1"], title="Not yet.")
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in failure._render_traceback_()]
    assert lines == ["❌ Not yet.", "   in f, line 2: x = 1", "", "💡 Hint: Do this."]


def test_self_learner_is_told_a_right_choice_and_why(self_learner, capsys):
    check_choice(" c", CHOICE)
    assert "Right: C. C: 9 of 108." in capsys.readouterr().out


def test_a_wrong_choice_explains_that_option_only(self_learner):
    with pytest.raises(CheckFailed) as excinfo:
        check_choice("A", CHOICE)
    shown = _shown(excinfo)
    assert "A confuses sensitivity with PPV." in shown
    assert "9 of 108" not in shown and "equal flags" not in shown, "a wrong answer must not give the right one away"


@pytest.mark.parametrize(
    "variable, value",
    [("NBGRADER_EXECUTION", "autograde"), ("NBGRADER_EXECUTION", "validate"), ("MEDAI_EDU_GRADED", "1")],
)
def test_under_grading_answers_are_only_recorded(monkeypatch, capsys, variable, value):
    monkeypatch.setenv(variable, value)
    check_choice("A", CHOICE)
    check_choice("C", CHOICE)
    check_estimate(50, ESTIMATE, measured=32.1)
    out = capsys.readouterr().out
    assert out.count("It is marked when the notebook is graded.") == 3
    assert "Right" not in out and "9 of 108" not in out and "confuses" not in out and "45 of 140" not in out


def test_a_prediction_is_told_how_far_off_and_why(self_learner, capsys):
    with pytest.raises(CheckFailed) as excinfo:
        check_estimate(60, ESTIMATE, measured=32.1)
    assert "You predicted 60 %; this run gives 32.1 %: 27.9 percentage points too high. 45 of 140" in _shown(excinfo)
    check_estimate(30, ESTIMATE, measured=32.1)
    assert "You predicted 30 %; this run gives 32.1 %: 2.1 percentage points too low. Right." in capsys.readouterr().out


def test_questions_refuse_an_impossible_key():
    with pytest.raises(ValueError, match="needs an explanation"):
        Choice("answer_x", "D", {"A": "a", "B": "b"})
    with pytest.raises(ValueError, match="within the limits"):
        Estimate("read_x", 50, 120, why="", limits=(0, 100))


def test_no_check_cell_holds_an_answer_or_a_key():
    """The answers live in the library: a check cell names its question, never a letter, a range or a key."""
    call = re.compile(r'^checks\.check_(choice|estimate)\(\w+, lesson\.QUESTIONS\["\w+"\](, measured=[^)]*\))?\)?$')
    for path in sorted((ROOT / "course").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "check_choice" in cell.source or "check_estimate" in cell.source:
                first = cell.source.strip().splitlines()[0]
                assert call.match(first), f"{path.name}: {first!r}"
                assert "key=" not in cell.source and "mc1:" not in cell.source


# --------------------------------------------------------------------------------------------
# The programmers' checks accept right answers
# --------------------------------------------------------------------------------------------


def _right_answers():
    import torch

    from medai_edu import referral
    from medai_edu.metrics import calibration_error, ged_from_distances
    from medai_edu.models.segmentation import kl_diagonal_gaussians

    def triage(tp, fp, fn, tn):
        return {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "ppv": tp / (tp + fp)}

    return [
        (checks.check_triage_metrics, (triage, 45, 95, 5, 855)),
        (checks.check_ncc, (lambda a, b: float(np.corrcoef(a.ravel(), b.ravel())[0, 1]),)),
        (checks.check_critic_loss, (lambda h, g, p: h.mean() - g.mean() + 10 * p,)),
        (checks.check_volume_change, (lambda w, wo, px: float(100 * (w.sum() - wo.sum()) / wo.sum()),)),
        (checks.check_reparameterise, (lambda mu, sigma, eps: mu + sigma * eps,)),
        (checks.check_kl, (lambda *args: kl_diagonal_gaussians(*args).sum(),)),
        (checks.check_ged, (lambda *d: ged_from_distances(*(np.asarray(m) for m in d)),)),
        (checks.check_team_accuracy, (referral.team_accuracy,)),
        (checks.check_capacity_threshold, (referral.threshold_for_capacity,)),
        (checks.check_ece, (lambda p, y, bins: calibration_error(p, y, bins=bins),)),
        (
            checks.check_kl,
            (lambda mq, sq, mp, sp: (torch.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5).sum(),),
        ),
    ]


def test_every_programmers_check_accepts_a_right_answer(capsys):
    answers = _right_answers()
    for check, args in answers:
        check(*args)
    assert capsys.readouterr().out.count("✅") == len(answers)


def test_an_error_from_a_library_is_never_reported_as_the_placeholder():
    def kl(mu_q, sigma_q, mu_p, sigma_p):
        raise NotImplementedError("\"bitwise_xor_cpu\" not implemented for 'Float'")  # what torch raises for ^

    with pytest.raises(CheckFailed) as excinfo:
        checks.check_kl(kl)
    assert "placeholder" not in _shown(excinfo)


def test_a_caret_is_caught_also_where_it_gives_a_number():
    """`x ^ 2` on whole numbers is no error in Python, just a wrong value: the check names the caret."""
    with pytest.raises(CheckFailed, match=r"Python writes powers as `\*\*`"):
        checks.check_triage_metrics(
            lambda tp, fp, fn, tn: {"sensitivity": tp ^ 1, "specificity": 1, "ppv": 1}, 45, 95, 5, 855
        )


def test_a_failed_definition_is_reported_before_the_old_version_runs():
    hints.forget_failures()
    hints._FAILED["my_ncc"] = hints.Failure("SyntaxError: invalid syntax (line 2: x = (1 +)", None)
    try:

        def my_ncc(a, b):  # the version from before the failed cell, right or not
            return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

        with pytest.raises(CheckFailed) as excinfo:
            checks.check_ncc(my_ncc)
        assert "Your cell above that defines `my_ncc` stopped with an error: SyntaxError" in _shown(excinfo)
    finally:
        hints.forget_failures()


def test_names_a_cell_defines_are_read_without_running_it():
    source = "import torch\n\n\ndef kl(a, b):\n    x = 1\n    return x\nanswer_x = 'B'\nvalue: float = 2\nif x == 1:\n    y = 2"
    assert hints.defined_names(source) == ["kl", "answer_x", "value"]


def test_the_set_up_cell_installs_the_hints_and_importing_checks_does_not():
    """Hints under failed cells come from a lesson's set-up cell (notebook.start), not as a side effect of an import."""
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import medai_edu.checks\n"
        "assert not shell.custom_exceptions, 'importing checks installed a handler'\n"
        "from medai_edu import notebook\n"
        "notebook.start(True)\n"
        "assert NameError in shell.custom_exceptions, 'notebook.start installed no hints'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
