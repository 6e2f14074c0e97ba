"""The self-checks accept right answers and explain the common wrong ones."""

from __future__ import annotations

import pytest

from medai_edu.checks import (
    CheckFailed,
    check_choice,
    check_ged,
    check_kl,
    check_prevalence,
    check_reparameterise,
    check_triage_metrics,
)

COUNTS = dict(tp=45, fp=95, fn=5, tn=855)


def right(tp, fp, fn, tn):
    return {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "ppv": tp / (tp + fp)}


def test_right_triage_metrics_pass(capsys):
    check_triage_metrics(right, **COUNTS)
    assert "correct" in capsys.readouterr().out


def test_ppv_swapped_for_sensitivity_is_named():
    def swapped(tp, fp, fn, tn):
        return {**right(tp, fp, fn, tn), "sensitivity": tp / (tp + fp)}

    with pytest.raises(CheckFailed, match=r"sensitivity is not right yet\. Your value 0\.321 is the ppv instead"):
        check_triage_metrics(swapped, **COUNTS)


def test_unfinished_exercise_gets_a_hint():
    def unfinished(tp, fp, fn, tn):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="placeholder line `raise NotImplementedError"):
        check_triage_metrics(unfinished, **COUNTS)


@pytest.mark.parametrize("returned", [(0.9, 0.9, 0.3), {"sens": 0.9}])
def test_wrong_return_shape_is_explained(returned):
    with pytest.raises(CheckFailed, match="should return a dictionary with the keys"):
        check_triage_metrics(lambda *counts: returned, **COUNTS)


def test_non_numbers_are_explained():
    with pytest.raises(CheckFailed, match="should be a number, but it is str"):
        check_triage_metrics(lambda *c: {"sensitivity": "0.9", "specificity": 1, "ppv": 1}, **COUNTS)


@pytest.mark.parametrize(
    "value, hint",
    [((45 + 95) / 1000, "patients the AI \\*flagged\\*"), (5.0, "not a percentage"), (0.7, "Expected a fraction")],
)
def test_prevalence_hints(value, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_prevalence(value, **COUNTS)


def test_prevalence_passes(capsys):
    check_prevalence(0.05, **COUNTS)
    assert "5.0%" in capsys.readouterr().out


@pytest.mark.parametrize("answer", ["D", 3, "", None, "AB"])
def test_choice_must_be_one_offered_letter(answer):
    with pytest.raises(CheckFailed, match="one letter in quotes"):
        check_choice(answer, "ABC")


def test_choice_accepts_lower_case(capsys):
    check_choice(" c ", "ABC")
    assert "Answer recorded: C" in capsys.readouterr().out


def test_ncc_check_accepts_pearson(capsys):
    import numpy as np

    from medai_edu.checks import check_ncc

    check_ncc(lambda a, b: float(np.corrcoef(a.ravel(), b.ravel())[0, 1]))
    assert "NCC is right" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, b: float((a * b).mean()), "multiplied the maps directly"),
        (lambda a, b: float(((a - a.mean()) * (b - b.mean())).mean()), "did not divide by the two standard deviations"),
        (lambda a, b: 0.5, "Expected"),
    ],
)
def test_ncc_check_names_the_mistake(wrong, hint):
    from medai_edu.checks import check_ncc

    with pytest.raises(CheckFailed, match=hint):
        check_ncc(wrong)


def test_critic_loss_check(capsys):
    from medai_edu.checks import check_critic_loss

    check_critic_loss(lambda h, g, p: h.mean() - g.mean() + 10 * p)
    assert "critic loss is right" in capsys.readouterr().out
    for wrong, hint in [
        (lambda h, g, p: g.mean() - h.mean() + 10 * p, "sign of the Wasserstein part is flipped"),
        (lambda h, g, p: h.mean() - g.mean(), "left out the gradient penalty"),
        (lambda h, g, p: h.mean() - g.mean() + p, "needs its weight"),
        (lambda h, g, p: h.sum() - g.sum() + 10 * p, "mean of the scores"),
        (lambda h, g, p: 1.0, "torch tensor"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check_critic_loss(wrong)


def test_lesson3_checks_accept_right_answers(capsys):
    import numpy as np

    from medai_edu.metrics import ged_from_distances
    from medai_edu.models.segmentation import kl_diagonal_gaussians

    check_reparameterise(lambda mu, sigma, eps: mu + sigma * eps)
    check_kl(lambda *args: kl_diagonal_gaussians(*args).sum())
    check_ged(lambda *d: ged_from_distances(*(np.asarray(m) for m in d)))
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, sigma, eps: mu + eps, "without scaling"),
        (lambda mu, sigma, eps: mu + sigma**2 * eps, "sigma squared"),
        (lambda mu, sigma, eps: (mu + sigma * eps).detach(), "lost its gradients"),
    ],
)
def test_reparameterise_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_reparameterise(wrong)


def _kl(mu_q, sigma_q, mu_p, sigma_p):
    import torch

    return torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mq, sq, mp, sp: _kl(mp, sp, mq, sq).sum(), "other direction"),
        (lambda *a: _kl(*a).mean(), "do not average"),
        (lambda *a: (_kl(*a) + 0.5).sum(), "must be 0"),
    ],
)
def test_kl_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_kl(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda sy, ss, yy: sy.mean() - ss.mean() - yy.mean(), "counts twice"),
        (lambda sy, ss, yy: 2 * sy.mean() + ss.mean() + yy.mean(), "subtracted"),
        (lambda sy, ss, yy: 2 * sy.sum() - ss.sum() - yy.sum(), "not its sum"),
        (lambda sy, ss, yy: 1.0, "Expected"),
    ],
)
def test_ged_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_ged(wrong)


# --------------------------------------------------------------------------------------------
# A novice's typical mistakes get a one-paragraph hint, shown last, with no library traceback
# --------------------------------------------------------------------------------------------


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _shown(excinfo) -> str:
    """What a notebook shows for a failed check (IPython uses ``_render_traceback_``)."""
    return _strip_ansi("\n".join(excinfo.value._render_traceback_()))


def _assert_friendly(shown: str, hint: str) -> None:
    last = shown.strip().splitlines()[-1]
    assert last.startswith("💡 Hint:"), f"the hint must be the last line shown:\n{shown}"
    assert hint in last, f"expected {hint!r} in the hint:\n{shown}"
    for library_trace in ("Traceback", 'File "', "site-packages", "medai_edu/checks.py", "numpy/", "torch/"):
        assert library_trace not in shown, f"{library_trace!r} shown to the student:\n{shown}"


def _ncc_missing_mean(a, b):
    return ((a - a.mean()) * (b - b.mean())) / (a.std() * b.std())


def _ncc_method_not_called(a, b):
    return ((a - a.mean) * (b - b.mean())).mean() / (a.std() * b.std())


def _critic_loss_numpy(scores_healthy, scores_generated, penalty):
    import numpy as np

    return np.mean(scores_healthy) - np.mean(scores_generated) + 10 * penalty


def _kl_math_log(mu_q, sigma_q, mu_p, sigma_p):
    import math

    return (math.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5).sum()


def _ged_torch(d_sy, d_ss, d_yy):
    import torch

    return 2 * torch.mean(d_sy) - torch.mean(d_ss) - torch.mean(d_yy)


def _reparameterise_numpy(mu, sigma, eps):
    import numpy as np

    return mu + np.multiply(sigma, eps)


def _triage_undefined_name(tp, fp, fn, tn):
    sensitivity = tp / (tp + fn)
    return {"sensitivity": sensitivity, "specificity": specificty, "ppv": tp / (tp + fp)}  # noqa: F821 (the typo)


def _triage_used_before_defined(tp, fp, fn, tn):
    ppv = tp / (tp + fp)
    specificity = tn / (tn + fp)
    result = {"sensitivity": sensitivity, "specificity": specificity, "ppv": ppv}  # noqa: F821
    sensitivity = tp / (tp + fn)  # noqa: F841 (the novice's mistake under test)
    return result


def _triage_unfinished(tp, fp, fn, tn):
    # YOUR CODE HERE
    raise NotImplementedError()


def _triage_no_return(tp, fp, fn, tn):
    {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "ppv": tp / (tp + fp)}


def _corrcoef_matrix(a, b):
    import numpy as np

    return np.corrcoef(a.ravel(), b.ravel())


def _corrcoef_unflattened(a, b):
    import numpy as np

    return np.corrcoef(a, b)


def _corrcoef_rows(a, b):
    import numpy as np

    return float(np.corrcoef(a, b)[0, 1])


def _volume_mm2(mask_with, mask_without, pixel_area_mm2):
    return float((mask_with.sum() - mask_without.sum()) * pixel_area_mm2)


def _volume_pixels(mask_with, mask_without, pixel_area_mm2):
    return float(mask_with.sum() - mask_without.sum())


MISTAKES = {
    "np.corrcoef returns a 2 x 2 matrix": ("check_ncc", (_corrcoef_matrix,), "np.corrcoef gives a 2 x 2 table"),
    "np.corrcoef on unflattened maps": ("check_ncc", (_corrcoef_unflattened,), "treats every row of a 2-D map"),
    "np.corrcoef(a, b)[0, 1] without .ravel()": ("check_ncc", (_corrcoef_rows,), "Flatten both maps"),
    "NCC without .mean()": ("check_ncc", (_ncc_missing_mean,), "put `.mean()` around it"),
    ".mean without brackets": ("check_ncc", (_ncc_method_not_called,), "`a.mean()` runs it"),
    "np.mean on torch tensors": (
        "check_critic_loss",
        (_critic_loss_numpy,),
        "`np.mean` does not work on PyTorch tensors",
    ),
    "math.log on tensors": ("check_kl", (_kl_math_log,), "Use `torch.log(...)`"),
    "torch.mean on NumPy arrays": ("check_ged", (_ged_torch,), "use NumPy: `np.mean(d)`"),
    "NumPy on a tensor that needs gradients": (
        "check_reparameterise",
        (_reparameterise_numpy,),
        "NumPy cannot follow the gradients",
    ),
    "a name that is never defined": (
        "check_triage_metrics",
        (_triage_undefined_name, 45, 95, 5, 855),
        "uses the name `specificty`, but nothing has given `specificty` a value",
    ),
    "a name used before its line": (
        "check_triage_metrics",
        (_triage_used_before_defined, 45, 95, 5, 855),
        "move the line `sensitivity = ...` above the first line that uses `sensitivity`",
    ),
    "raise NotImplementedError() left in place": (
        "check_triage_metrics",
        (_triage_unfinished, 45, 95, 5, 855),
        "Delete that line and write your own code",
    ),
    "no return line": ("check_triage_metrics", (_triage_no_return, 45, 95, 5, 855), "without a `return` line"),
    "answer without quotes (a number)": ("check_choice", (3, "ABC"), "one letter in quotes"),
    "volume change in mm²": (
        "check_volume_change",
        (_volume_mm2,),
        "You gave the change in square millimetres (-16 mm² here)",
    ),
    "volume change in pixels": ("check_volume_change", (_volume_pixels,), "You gave the change in pixels"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_typical_mistake_gets_its_hint_last_without_a_library_traceback(mistake):
    from medai_edu import checks

    check, args, hint = MISTAKES[mistake]
    with pytest.raises(CheckFailed) as excinfo:
        getattr(checks, check)(*args)
    _assert_friendly(_shown(excinfo), hint)


def test_an_error_in_the_students_function_names_their_line():
    with pytest.raises(CheckFailed) as excinfo:
        check_kl(_kl_math_log)
    shown = _shown(excinfo)
    assert "in _kl_math_log, line" in shown and "math.log(sigma_p / sigma_q)" in shown
    assert "ValueError: only one element tensors" in shown


def test_an_unknown_error_in_the_students_function_still_gets_a_friendly_message():
    def broken(tp, fp, fn, tn):
        return {"sensitivity": [tp][3]}

    with pytest.raises(CheckFailed) as excinfo:
        check_triage_metrics(broken, **COUNTS)
    shown = _shown(excinfo)
    _assert_friendly(
        shown, "Your function stopped with an error before it gave an answer: IndexError: list index out of range"
    )
    assert 'return {"sensitivity": [tp][3]}' in shown


def test_volume_change_check_accepts_percent_and_names_other_units(capsys):
    from medai_edu.checks import check_volume_change

    check_volume_change(lambda w, wo, px: float(100 * (w.sum() - wo.sum()) / wo.sum()))
    assert "20 % loss" in capsys.readouterr().out
    for wrong, hint in [
        (lambda w, wo, px: float((w.sum() - wo.sum()) / wo.sum()), "in percent"),
        (lambda w, wo, px: float(100 * (wo.sum() - w.sum()) / wo.sum()), "sign is flipped"),
        (lambda w, wo, px: float(100 * (w.sum() - wo.sum()) / w.sum()), r"\*without\* the disease"),
        (lambda w, wo, px: float(100 * (w.sum() - wo.sum()) * px / wo.sum()), "units are mixed"),
    ]:
        with pytest.raises(CheckFailed, match=hint):
            check_volume_change(wrong)


@pytest.mark.parametrize(
    "answer, hint", [("B.", "Write only the letter"), (None, "no answer"), (2, "which is not text")]
)
def test_choice_hints(answer, hint):
    with pytest.raises(CheckFailed) as excinfo:
        check_choice(answer, "ABC")
    _assert_friendly(_shown(excinfo), hint)


# --------------------------------------------------------------------------------------------
# Multiple choice: right or wrong and why for self-learners, only "recorded" under grading
# --------------------------------------------------------------------------------------------

KEY_EXPLANATIONS = {
    "A": "A confuses sensitivity with PPV.",
    "B": "B needs as many true as false flags.",
    "C": "C: 9 of 108 flags are right.",
}


@pytest.fixture
def self_learner(monkeypatch):
    from medai_edu import checks

    monkeypatch.delenv(checks.GRADING_ENV, raising=False)
    monkeypatch.delenv(checks.GRADED_ENV, raising=False)


def test_key_holds_the_answer_without_showing_it():
    from medai_edu.checks import seal, unseal

    key = seal("c", KEY_EXPLANATIONS)
    assert key.startswith("mc1:") and "C:" not in key and "flags" not in key
    assert unseal(key) == ("C", KEY_EXPLANATIONS)
    with pytest.raises(ValueError, match="needs an explanation"):
        seal("D", KEY_EXPLANATIONS)


def test_self_learner_is_told_a_right_answer_and_why(self_learner, capsys):
    from medai_edu.checks import seal

    check_choice(" c", "ABC", key=seal("C", KEY_EXPLANATIONS))
    assert "Right: C. C: 9 of 108 flags are right." in capsys.readouterr().out


def test_self_learner_is_told_a_wrong_answer_and_why(self_learner):
    from medai_edu.checks import seal

    with pytest.raises(CheckFailed) as excinfo:
        check_choice("A", "ABC", key=seal("C", KEY_EXPLANATIONS))
    shown = _shown(excinfo)
    _assert_friendly(shown, "A is not the best answer. A confuses sensitivity with PPV. Think it over")
    assert "9 of 108" not in shown, "a wrong answer must not give the right one away"


@pytest.mark.parametrize(
    "variable, value",
    [("NBGRADER_EXECUTION", "autograde"), ("NBGRADER_EXECUTION", "validate"), ("MEDAI_EDU_GRADED", "1")],
)
def test_under_grading_the_answer_is_only_recorded(monkeypatch, capsys, variable, value):
    from medai_edu.checks import seal

    monkeypatch.setenv(variable, value)
    key = seal("C", KEY_EXPLANATIONS)
    check_choice("A", "ABC", key=key)  # wrong, but nothing is revealed
    check_choice("C", "ABC", key=key)
    out = capsys.readouterr().out
    assert out.count("It is marked when the notebook is graded.") == 2
    assert "Right" not in out and "flags" not in out


def test_without_a_key_the_answer_is_only_recorded(self_learner, capsys):
    check_choice("A", "ABC")
    assert "Answer recorded: A" in capsys.readouterr().out


def test_every_notebook_key_agrees_with_its_hidden_test():
    """A multiple-choice key in a lesson must name the letter its hidden test grades as right."""
    import re

    import nbformat
    from conftest import ROOT

    from medai_edu.checks import unseal

    call = re.compile(r'check_choice\((\w+),\s*"([A-Z]+)"(?:,\s*key="([^"]+)")?\)')
    graded = re.compile(r'assert (\w+)\.strip\(\)\.upper\(\) == "([A-Z])"')
    keyed = 0
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            found = call.search(cell.source)
            if cell.cell_type != "code" or not found:
                continue
            variable, options, key = found.groups()
            hidden = graded.search(cell.source)
            assert hidden and hidden.group(1) == variable, f"{path.name}: {variable} has no hidden test"
            if key:
                keyed += 1
                correct, explanations = unseal(key)
                assert correct == hidden.group(2), (
                    f"{path.name}: the key of {variable} says {correct}, the hidden test {hidden.group(2)}"
                )
                assert set(explanations) == set(options), f"{path.name}: explain every option of {variable}"
    assert keyed >= 2, "lesson 0's multiple-choice checks should carry keys"


# --------------------------------------------------------------------------------------------
# In a real notebook kernel: hints for errors raised in the student's own cells
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hints_in_a_notebook_kernel():
    import nbclient
    import nbformat
    from notebooks import KERNEL

    cells = {
        "import": "from medai_edu import checks",
        "no quotes": "answer_screening = A",
        "placeholder": "# YOUR CODE HERE\nraise NotImplementedError()",
        "check": "def my_ncc(a, b):\n    return ((a - a.mean()) * (b - b.mean())) / (a.std() * b.std())\n\n"
        "checks.check_ncc(my_ncc)",
        "math.log": "import math, torch\nmath.log(torch.ones(3))",
        "not run": "checks.check_choice(answer_other, 'ABC')",
        "other error": "[1, 2][5]",
    }
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells.values()])
    nbclient.NotebookClient(nb, kernel_name=KERNEL, allow_errors=True, timeout=120).execute()
    errors = {}
    for name, cell in zip(cells, nb.cells):
        found = [o for o in cell.outputs if o.output_type == "error"]
        errors[name] = _strip_ansi("\n".join(found[0].traceback)) if found else None
    assert errors["import"] is None
    expected = {
        "no quotes": 'Put the letter in quotes: `answer_screening = "A"`',
        "placeholder": "Delete that line and write your own code",
        "check": "put `.mean()` around it",
        "math.log": "Use `torch.log(...)`",
        "not run": "`answer_other` has no value yet",
    }
    for name, hint in expected.items():
        assert errors[name] is not None, f"{name}: the cell must still fail (so that nbgrader and papermill see it)"
        _assert_friendly(errors[name], hint)
    assert "IndexError" in errors["other error"] and "Hint" not in errors["other error"], "no hint: the usual traceback"
