"""Friendly self-checks for the visible test cells of the exercises.

Each check either prints a short success message or raises `CheckFailed` whose message is a
hint written for a clinician learning to code: what was expected, what was given, what to try.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any


class CheckFailed(AssertionError):
    """An exercise answer is not right yet; the message is the hint."""


def passed(message: str = "Well done, that is correct.") -> None:
    print(f"✅ {message}")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise CheckFailed(f"{what} should be a number, but it is {type(value).__name__} ({value!r}).")
    number = float(value)
    if math.isnan(number):
        raise CheckFailed(f"{what} is NaN (not a number). Did you divide zero by zero?")
    return number


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except NotImplementedError:
        raise CheckFailed("Replace `raise NotImplementedError()` with your code, then run the cell again.") from None


def check_choice(answer: Any, options: Iterable[str]) -> None:
    """Visible check for a multiple-choice cell: the answer is one of the letters offered."""
    options = [o.upper() for o in options]
    if not isinstance(answer, str) or answer.strip().upper() not in options:
        raise CheckFailed(
            f"Write your answer as one letter in quotes, one of {', '.join(options)} "
            f"(for example answer = \"{options[0]}\"); you wrote {answer!r}."
        )
    print(f"Answer recorded: {answer.strip().upper()}. It is marked when the notebook is graded.")


def check_prevalence(prevalence: Any, tp: int, fp: int, fn: int, tn: int) -> None:
    total = tp + fp + fn + tn
    got = _number(prevalence, "prevalence")
    if math.isclose(got, (tp + fn) / total, rel_tol=1e-6):
        return passed(f"Prevalence = {got:.3f}: {got:.1%} of these patients have the disease.")
    if math.isclose(got, (tp + fp) / total, rel_tol=1e-6):
        raise CheckFailed(
            "You counted the patients the AI *flagged* (TP + FP). Prevalence counts the patients "
            "who really *have* the disease: TP + FN, divided by everyone."
        )
    if math.isclose(got, 100 * (tp + fn) / total, rel_tol=1e-6):
        raise CheckFailed("Give the prevalence as a fraction between 0 and 1, not a percentage.")
    raise CheckFailed(
        f"Expected a fraction of all {total} patients; got {got!r}. "
        "Prevalence = (patients with the disease) / (all patients) = (TP + FN) / (TP + FP + FN + TN)."
    )


_TRIAGE_FORMULAS = {
    "sensitivity": ("TP / (TP + FN)", "of the patients who have the disease, how many did the AI flag?"),
    "specificity": ("TN / (TN + FP)", "of the patients without the disease, how many did the AI clear?"),
    "ppv": ("TP / (TP + FP)", "of the patients the AI flagged, how many really have the disease?"),
}


def _triage_values(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "ppv": tp / (tp + fp),
        "negative predictive value": tn / (tn + fn),
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "false positive rate": fp / (fp + tn),
    }


def check_triage_metrics(triage_metrics: Callable[..., Any], tp: int, fp: int, fn: int, tn: int) -> None:
    """Visible check for `triage_metrics(tp, fp, fn, tn)` on one confusion matrix."""
    result = _call(triage_metrics, tp, fp, fn, tn)
    if not isinstance(result, dict) or set(result) != set(_TRIAGE_FORMULAS):
        raise CheckFailed(
            "triage_metrics should return a dictionary with the keys "
            f"{sorted(_TRIAGE_FORMULAS)}; it returned {result!r}."
        )
    truth = _triage_values(tp, fp, fn, tn)
    for key, (formula, meaning) in _TRIAGE_FORMULAS.items():
        got = _number(result[key], key)
        if math.isclose(got, truth[key], rel_tol=1e-6):
            continue
        mixed_up = [name for name, value in truth.items() if name != key and math.isclose(got, value, rel_tol=1e-6)]
        hint = f" Your value {got:.3f} is the {mixed_up[0]} instead." if mixed_up else f" You gave {got:.3f}."
        raise CheckFailed(f"{key} is not right yet.{hint} It answers: {meaning} Formula: {formula}.")
    passed("Sensitivity, specificity and positive predictive value are all correct.")


def check_ncc(ncc: Callable[[Any, Any], Any]) -> None:
    """Visible check for the NCC warm-up: Pearson correlation of two flattened maps."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    truth = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    got = _number(_call(ncc, a, b), "ncc(a, b)")
    if math.isclose(got, truth, abs_tol=1e-6):
        same = _number(_call(ncc, a, 3 * a + 2), "ncc(a, 3 * a + 2)")
        if not math.isclose(same, 1.0, abs_tol=1e-6):
            raise CheckFailed(f"A map and a brighter, higher-contrast copy of it (3 * a + 2) should give NCC = 1; you gave {same:.3f}.")
        return passed(f"NCC is right: {got:.3f} for two random maps, 1.0 for a map and a rescaled copy of it.")
    raw = float((a * b).mean())
    centred = float(((a - a.mean()) * (b - b.mean())).mean())
    if math.isclose(got, raw, rel_tol=1e-6) or math.isclose(got, float((a * b).sum()), rel_tol=1e-6):
        raise CheckFailed("You multiplied the maps directly. First subtract each map's mean, then divide by both standard deviations.")
    if math.isclose(got, centred, rel_tol=1e-6):
        raise CheckFailed("You subtracted the means (good) but did not divide by the two standard deviations (a.std() * b.std()).")
    raise CheckFailed(
        f"Expected {truth:.4f} for two random 8 x 8 maps, got {got:.4f}. NCC = mean((a - mean(a)) * (b - mean(b))) / (std(a) * std(b))."
    )


def check_critic_loss(critic_loss: Callable[..., Any]) -> None:
    """Visible check for the WGAN-GP critic loss exercise."""
    import torch

    healthy, generated, penalty = torch.tensor([1.0, 3.0]), torch.tensor([5.0, 9.0]), torch.tensor(0.3)
    result = _call(critic_loss, healthy, generated, penalty)
    if not isinstance(result, torch.Tensor) or result.numel() != 1:
        raise CheckFailed(f"critic_loss should return one number as a torch tensor (use .mean()), got {result!r}.")
    got = float(result)
    truth = (2.0 - 7.0) + 10 * 0.3
    hints = {  # the values that common mistakes give for these scores (all different)
        (7.0 - 2.0) + 10 * 0.3: "The sign of the Wasserstein part is flipped: the critic's loss is mean(D(healthy)) - mean(D(generated)).",
        2.0 - 7.0: "You left out the gradient penalty: add 10 * penalty.",
        (2.0 - 7.0) + 0.3: "The gradient penalty needs its weight: 10 * penalty.",
        (4.0 - 14.0) + 10 * 0.3: "Use the mean of the scores, not their sum.",
    }
    if math.isclose(got, truth, abs_tol=1e-6):
        return passed("The critic loss is right: low scores for healthy images, high for generated ones, plus the penalty.")
    for value, hint in hints.items():
        if math.isclose(got, value, abs_tol=1e-6):
            raise CheckFailed(hint)
    raise CheckFailed(f"For healthy scores [1, 3], generated scores [5, 9] and penalty 0.3 the loss is {truth:g}; you gave {got:g}.")


def check_volume_change(volume_change: Callable[..., Any]) -> None:
    """Visible check for the hippocampal volume exercise: percentage change from two masks."""
    import numpy as np

    without = np.zeros((10, 10), dtype=bool)
    without[2:7, 2:6] = True  # 20 pixels
    with_disease = without.copy()
    with_disease[2, 2:6] = False  # 16 pixels: a 20 % loss
    got = _number(_call(volume_change, with_disease, without, 4.0), "volume_change(...)")
    hints = {
        20.0: "The sign is flipped: a shrinking hippocampus gives a negative change (with - without).",
        -0.2: "Give the change in percent (multiply the fraction by 100).",
        -64.0: "You gave the change in square millimetres; the exercise asks for the percentage of the volume without the disease.",
        -25.0: "Divide by the volume *without* the disease (the subject's own baseline), not with it.",
    }
    if math.isclose(got, -20.0, abs_tol=1e-6):
        return passed("Right: 16 instead of 20 pixels is a 20 % loss (-20).")
    for value, hint in hints.items():
        if math.isclose(got, value, abs_tol=1e-6):
            raise CheckFailed(hint)
    raise CheckFailed(f"A mask of 20 pixels that shrinks to 16 is a change of -20 %; you gave {got:g}. "
                      "Count the pixels of each mask with mask.sum().")


def _matches(got: float, hints: dict[float, str]) -> None:
    """Raise the hint whose value ``got`` equals (a common mistake), if any."""
    for value, hint in hints.items():
        if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-9):
            raise CheckFailed(hint)


def check_reparameterise(reparameterise: Callable[..., Any]) -> None:
    """Visible check for the reparameterisation trick: z = mu + sigma * eps, gradients kept."""
    import torch

    mu = torch.tensor([1.0, 2.0], requires_grad=True)
    sigma = torch.tensor([0.5, 2.0], requires_grad=True)
    eps = torch.tensor([2.0, -1.0])
    z = _call(reparameterise, mu, sigma, eps)
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        raise CheckFailed(f"reparameterise should return a torch tensor shaped like mu {tuple(mu.shape)}, got {z!r}.")
    got = [float(v) for v in z.detach()]
    if got == [2.0, 0.0]:
        if not z.requires_grad:
            raise CheckFailed("The numbers are right, but the result lost its gradients. Keep it a torch calculation "
                              "(no .detach(), .numpy() or float()) so that training can adjust mu and sigma.")
        return passed("Right: z = mu + sigma * eps. The randomness sits in eps, so gradients reach mu and sigma.")
    hints = {
        (3.0, 1.0): "You added eps without scaling it: multiply eps by sigma (the standard deviation).",
        (1.5, -2.0): "You scaled eps by sigma squared (the variance); use sigma itself, the standard deviation.",
        (2.0, 3.0): "Check the order: z = mu + sigma * eps (the mean plus the scaled noise).",
    }
    for value, hint in hints.items():
        if all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, value)):
            raise CheckFailed(hint)
    raise CheckFailed(f"For mu = [1, 2], sigma = [0.5, 2] and eps = [2, -1] expected z = [2, 0]; you gave {got}. "
                      "Use the eps you are given (do not draw new random numbers).")


def check_kl(kl_diagonal: Callable[..., Any]) -> None:
    """Visible check for the KL divergence between two diagonal Gaussians (summed over the latents)."""
    import torch

    from medai_edu.models.segmentation import kl_diagonal_gaussians

    mu_q, sigma_q = torch.tensor([0.5, -1.0, 0.0]), torch.tensor([0.5, 1.0, 2.0])
    mu_p, sigma_p = torch.tensor([0.0, 0.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])
    same = _number(_call(kl_diagonal, mu_q, sigma_q, mu_q, sigma_q), "kl_diagonal(q, q)")
    got = _number(_call(kl_diagonal, mu_q, sigma_q, mu_p, sigma_p), "kl_diagonal(q, p)")
    truth = float(kl_diagonal_gaussians(mu_q, sigma_q, mu_p, sigma_p).sum())
    if math.isclose(got, truth, rel_tol=1e-5) and abs(same) < 1e-6:
        return passed(f"Right: KL = {truth:.4f} here, and 0 when the two Gaussians are the same.")
    if not abs(same) < 1e-6:
        raise CheckFailed(f"The KL divergence of a Gaussian with itself must be 0; you gave {same:g}. "
                          "Check the constant: subtract 1/2 for every latent number.")
    log_term, n = float(torch.log(sigma_p / sigma_q).sum()), len(mu_q)
    _matches(got, {
        float(kl_diagonal_gaussians(mu_p, sigma_p, mu_q, sigma_q).sum()): "You computed KL(p || q), the other direction. The posterior q comes first: "
                                  "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2.",
        truth + log_term: "The log term uses the standard deviations, log(sigma_p / sigma_q); you used the variances.",
        truth / n: "Sum over the latent numbers (.sum()), do not average them.",
    })
    raise CheckFailed(f"Expected {truth:.4f} for this example, got {got:.4f}. Per latent number: "
                      "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2; then sum them.")


def check_ged(ged: Callable[..., Any]) -> None:
    """Visible check for the generalised energy distance from distance matrices."""
    import numpy as np

    from medai_edu.metrics import ged_from_distances

    d_sy = np.array([[0.2, 0.6], [0.4, 0.8], [0.3, 0.5]])
    d_ss = np.array([[0.0, 0.3, 0.1], [0.3, 0.0, 0.2], [0.1, 0.2, 0.0]])
    d_yy = np.array([[0.0, 0.4], [0.4, 0.0]])
    got = _number(_call(ged, d_sy, d_ss, d_yy), "ged(d_sy, d_ss, d_yy)")
    truth = ged_from_distances(d_sy, d_ss, d_yy)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: D²_GED = {truth:.4f} for this small example.")
    off = lambda d: d[~np.eye(len(d), dtype=bool)].mean()  # noqa: E731
    _matches(got, {
        d_sy.mean() - d_ss.mean() - d_yy.mean(): "The samples-to-raters term counts twice: 2 * mean(d_sy).",
        2 * d_sy.mean() + d_ss.mean() + d_yy.mean(): "The two within-group terms are subtracted, not added.",
        2 * d_sy.mean() - off(d_ss) - off(d_yy): "Average over all entries, the zero diagonal included (as the paper's code does).",
        2 * d_sy.sum() - d_ss.sum() - d_yy.sum(): "Use the mean of each matrix (np.mean or .mean()), not its sum.",
    })
    raise CheckFailed(f"Expected {truth:.4f}, got {got:.4f}. D²_GED = 2 * mean(d_sy) - mean(d_ss) - mean(d_yy).")
