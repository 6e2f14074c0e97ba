"""The self-checks accept right answers and explain the common wrong ones."""
from __future__ import annotations

import pytest

from medai_edu.checks import (
    CheckFailed, check_choice, check_ged, check_kl, check_prevalence, check_reparameterise, check_triage_metrics,
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

    with pytest.raises(CheckFailed, match="Replace `raise NotImplementedError"):
        check_triage_metrics(unfinished, **COUNTS)


@pytest.mark.parametrize("returned", [None, (0.9, 0.9, 0.3), {"sens": 0.9}])
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


@pytest.mark.parametrize("wrong, hint", [
    (lambda mu, sigma, eps: mu + eps, "without scaling"),
    (lambda mu, sigma, eps: mu + sigma**2 * eps, "sigma squared"),
    (lambda mu, sigma, eps: (mu + sigma * eps).detach(), "lost its gradients"),
])
def test_reparameterise_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_reparameterise(wrong)


def _kl(mu_q, sigma_q, mu_p, sigma_p):
    import torch

    return torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


@pytest.mark.parametrize("wrong, hint", [
    (lambda mq, sq, mp, sp: _kl(mp, sp, mq, sq).sum(), "other direction"),
    (lambda *a: _kl(*a).mean(), "do not average"),
    (lambda *a: (_kl(*a) + 0.5).sum(), "must be 0"),
])
def test_kl_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_kl(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (lambda sy, ss, yy: sy.mean() - ss.mean() - yy.mean(), "counts twice"),
    (lambda sy, ss, yy: 2 * sy.mean() + ss.mean() + yy.mean(), "subtracted"),
    (lambda sy, ss, yy: 2 * sy.sum() - ss.sum() - yy.sum(), "not its sum"),
    (lambda sy, ss, yy: 1.0, "Expected"),
])
def test_ged_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_ged(wrong)
