"""The checks of the optional exercises "for programmers": each calls the student's function on a
small example and names the mistake that the result reveals (a hint only when the value shows it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medai_edu.checks.feedback import CheckFailed, passed
from medai_edu.checks.hints import HINT_RETURNED_NONE
from medai_edu.checks.hints import call as _call

if TYPE_CHECKING:
    import torch

__all__ = [
    "check_triage_metrics",
    "check_ncc",
    "check_critic_loss",
    "check_volume_change",
    "check_reparameterise",
    "check_kl",
    "check_ged",
    "check_team_accuracy",
    "check_capacity_threshold",
    "check_ece",
]


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def _number(value: Any, what: str) -> float:
    """The student's result as one float, or a hint saying why it is not one number."""
    if value is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what=what))
    if hasattr(value, "detach"):
        value = value.detach()
    shape = _shape(value)
    if shape is not None and math.prod(shape) != 1:
        size = " x ".join(str(s) for s in shape) or "no"
        raise CheckFailed(
            f"{what} should be one number, but it is {math.prod(shape)} numbers (shape {size}). "
            "Reduce them to the single number the exercise asks for."
        )
    if isinstance(value, (list, tuple, dict, set)):
        raise CheckFailed(f"{what} should be one number, but it is a {type(value).__name__} ({value!r}).")
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise CheckFailed(f"{what} should be a number, but it is {type(value).__name__} ({value!r}).")
    number = float(value)
    if math.isnan(number):
        raise CheckFailed(f"{what} is NaN (not a number). Did you divide zero by zero?")
    return number


def _matches(got: float, hints: dict[float, str]) -> None:
    """Raise the hint whose value ``got`` equals (a common mistake), if any."""
    for value, hint in hints.items():
        if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-9):
            raise CheckFailed(hint)


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
    if result is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="triage_metrics(...)"))
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
        if math.isclose(got, 100 * truth[key], rel_tol=1e-6):
            raise CheckFailed(f"{key} should be a fraction between 0 and 1, not a percentage: leave out the * 100.")
        mixed_up = [name for name, value in truth.items() if name != key and math.isclose(got, value, rel_tol=1e-6)]
        hint = f" Your value {got:.3f} is the {mixed_up[0]} instead." if mixed_up else f" You gave {got:.3f}."
        raise CheckFailed(f"{key} is not right yet.{hint} It answers: {meaning} Formula: {formula}.")
    passed("Sensitivity, specificity and positive predictive value are all correct.")


HINT_CORRCOEF = (
    "np.corrcoef gives a 2 x 2 table of correlations, not one number: its diagonal holds each map's "
    "correlation with itself (always 1) and the two other entries hold the NCC you want. Take one of "
    "them: `np.corrcoef(a.ravel(), b.ravel())[0, 1]`."
)
HINT_CORRCOEF_ROWS = (
    "np.corrcoef treats every row of a 2-D map as a separate variable, so it compared rows with rows{what}. "
    "Flatten both maps into one long row first and take the entry that pairs them: "
    "`np.corrcoef(a.ravel(), b.ravel())[0, 1]`."
)
HINT_MISSING_MEAN = (
    "Your function gives a whole map of {n} numbers (shape {shape}) instead of one number. The product "
    "`(a - a.mean()) * (b - b.mean())` is a map, one value per pixel, and NCC is its *mean*: put `.mean()` "
    "around it, `((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())`."
)


def check_ncc(ncc: Callable[[Any, Any], Any]) -> None:
    """Visible check for the NCC warm-up: Pearson correlation of two flattened maps."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    truth = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    result = _call(ncc, a, b)
    shape = _shape(result)
    if shape is not None and math.prod(shape) > 1:
        values = np.asarray(result, dtype=float)
        if shape == (2, 2) and np.allclose(np.diag(values), 1):
            raise CheckFailed(HINT_CORRCOEF)
        if shape == (16, 16) and np.allclose(np.diag(values), 1):
            raise CheckFailed(HINT_CORRCOEF_ROWS.format(what=" and gave a 16 x 16 table"))
        if shape == a.shape:
            raise CheckFailed(HINT_MISSING_MEAN.format(n=values.size, shape=" x ".join(map(str, shape))))
    got = _number(result, "ncc(a, b)")
    if math.isclose(got, truth, abs_tol=1e-6):
        same = _number(_call(ncc, a, 3 * a + 2), "ncc(a, 3 * a + 2)")
        if not math.isclose(same, 1.0, abs_tol=1e-6):
            raise CheckFailed(
                f"A map and a brighter, higher-contrast copy of it (3 * a + 2) should give NCC = 1; you gave {same:.3f}."
            )
        return passed(f"NCC is right: {got:.3f} for two random maps, 1.0 for a map and a rescaled copy of it.")
    centred = float(((a - a.mean()) * (b - b.mean())).mean())
    _matches(
        got,
        {
            float(np.corrcoef(a, b)[0, 1]): HINT_CORRCOEF_ROWS.format(
                what=" (this number pairs the first two rows of a)"
            ),
            float(
                (a * b).mean()
            ): "You multiplied the maps directly. First subtract each map's mean, then divide by both standard deviations.",
            float(
                (a * b).sum()
            ): "You multiplied the maps directly. First subtract each map's mean, then divide by both standard deviations.",
            centred: "You subtracted the means (good) but did not divide by the two standard deviations (a.std() * b.std()).",
            truth
            * a.size: "You summed the pixel-wise products: NCC uses their mean. Use `.mean()` instead of `.sum()`.",
            truth
            * (a.size - 1)
            / a.size: "You divided by the sample standard deviations (ddof=1). Use `a.std()` and `b.std()` "
            "as they are, so that a map compared with itself gives exactly 1.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.4f} for two random 8 x 8 maps, got {got:.4f}. NCC = mean((a - mean(a)) * (b - mean(b))) / (std(a) * std(b))."
    )


def check_critic_loss(critic_loss: Callable[..., Any]) -> None:
    """Visible check for the WGAN-GP critic loss exercise."""
    import torch

    healthy = torch.tensor([1.0, 3.0], requires_grad=True)  # scores take part in training: NumPy fails on them
    generated = torch.tensor([5.0, 9.0], requires_grad=True)
    result = _call(critic_loss, healthy, generated, torch.tensor(0.3))
    if result is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="my_critic_loss(...)"))
    if not isinstance(result, torch.Tensor) or result.numel() != 1:
        raise CheckFailed(f"critic_loss should return one number as a torch tensor (use .mean()), got {result!r}.")
    got = float(result.detach())
    truth = (2.0 - 7.0) + 10 * 0.3
    hints = {  # the values that common mistakes give for these scores (all different)
        (7.0 - 2.0)
        + 10
        * 0.3: "The sign of the Wasserstein part is flipped: the critic's loss is mean(D(healthy)) - mean(D(generated)).",
        2.0 - 7.0: "You left out the gradient penalty: add 10 * penalty.",
        (2.0 - 7.0) + 0.3: "The gradient penalty needs its weight: 10 * penalty.",
        (4.0 - 14.0) + 10 * 0.3: "Use the mean of the scores, not their sum.",
    }
    if math.isclose(got, truth, abs_tol=1e-6):
        return passed(
            "The critic loss is right: low scores for healthy images, high for generated ones, plus the penalty."
        )
    for value, hint in hints.items():
        if math.isclose(got, value, abs_tol=1e-6):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"For healthy scores [1, 3], generated scores [5, 9] and penalty 0.3 the loss is {truth:g}; you gave {got:g}."
    )


def check_volume_change(volume_change: Callable[..., Any]) -> None:
    """Visible check for the hippocampal volume exercise: percentage change from two masks."""
    import numpy as np

    pixel_area = 4.0
    without = np.zeros((10, 10), dtype=bool)
    without[2:7, 2:6] = True  # 20 pixels = 80 mm²
    with_disease = without.copy()
    with_disease[2, 2:6] = False  # 16 pixels = 64 mm²: a 20 % loss
    got = _number(_call(volume_change, with_disease, without, pixel_area), "volume_change(...)")
    lost_pixels, lost_mm2 = 16 - 20, (16 - 20) * pixel_area  # -4 pixels, -16 mm²
    hints = {
        20.0: "The sign is flipped: a shrinking hippocampus gives a negative change (with - without).",
        -0.2: "Give the change in percent (multiply the fraction by 100).",
        lost_mm2: "You gave the change in square millimetres (-16 mm² here); the exercise asks for the change as a "
        "percentage of the area without the disease: divide by that area and multiply by 100.",
        -lost_mm2: "You gave the change in square millimetres, with the sign flipped; the exercise asks for the change "
        "(with - without) as a percentage of the area without the disease.",
        lost_pixels: "You gave the change in pixels (-4 here); the exercise asks for the change as a percentage of the "
        "area without the disease: divide by that area and multiply by 100.",
        -25.0: "Divide by the volume *without* the disease (the subject's own baseline), not with it.",
        80.0: "That is the share of the area that remains (80 %); the change is that share minus 100 %.",
        0.8: "That is the ratio of the two areas; the change in percent is 100 * (with - without) / without.",
        100 * lost_mm2 / 20: "The units are mixed: an area in mm² was divided by an area in pixels. Use the same unit "
        "above and below the fraction line (multiply both by the pixel area, or neither).",
    }
    if math.isclose(got, -20.0, abs_tol=1e-6):
        return passed("Right: 16 instead of 20 pixels is a 20 % loss (-20).")
    _matches(got, hints)
    raise CheckFailed(
        f"A mask of 20 pixels that shrinks to 16 is a change of -20 %; you gave {got:g}. "
        "Count the pixels of each mask with mask.sum()."
    )


def check_reparameterise(reparameterise: Callable[..., Any]) -> None:
    """Visible check for the reparameterisation trick: z = mu + sigma * eps, gradients kept."""
    import torch

    mu = torch.tensor([1.0, 2.0], requires_grad=True)
    sigma = torch.tensor([0.5, 2.0], requires_grad=True)
    eps = torch.tensor([2.0, -1.0])
    z = _call(reparameterise, mu, sigma, eps)
    if z is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="reparameterise(...)"))
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        raise CheckFailed(f"reparameterise should return a torch tensor shaped like mu {tuple(mu.shape)}, got {z!r}.")
    got = [float(v) for v in z.detach()]
    if got == [2.0, 0.0]:
        if not z.requires_grad:
            raise CheckFailed(
                "The numbers are right, but the result lost its gradients. Keep it a torch calculation "
                "(no .detach(), .numpy() or float()) so that training can adjust mu and sigma."
            )
        return passed("Right: z = mu + sigma * eps. The randomness sits in eps, so gradients reach mu and sigma.")
    hints = {
        (3.0, 1.0): "You added eps without scaling it: multiply eps by sigma (the standard deviation).",
        (1.5, -2.0): "You scaled eps by sigma squared (the variance); use sigma itself, the standard deviation.",
        (2.0, 3.0): "Check the order: z = mu + sigma * eps (the mean plus the scaled noise).",
    }
    for value, hint in hints.items():
        if all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, value)):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"For mu = [1, 2], sigma = [0.5, 2] and eps = [2, -1] expected z = [2, 0]; you gave {got}. "
        "Use the eps you are given (do not draw new random numbers)."
    )


def _kl_variants(
    mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, sigma_p: torch.Tensor
) -> list[tuple[Any, str]]:
    """What typical mistakes give for KL(q || p), each with its hint (per latent number, not yet summed)."""
    import torch

    log = torch.log
    right_fraction = (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2)
    return [
        (
            log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5,
            "You computed KL(p || q), the other direction: the posterior q comes first. Per latent number: "
            "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2.",
        ),
        (
            log(sigma_p**2 / sigma_q**2) + right_fraction - 0.5,
            "The log term uses the standard deviations, log(sigma_p / sigma_q); you used the variances (sigma²).",
        ),
        (
            log(sigma_q / sigma_p) + right_fraction - 0.5,
            "The log term is upside down: log(sigma_p / sigma_q), with sigma_p on top.",
        ),
        (
            log(sigma_p / sigma_q) + right_fraction,
            "The constant is missing: subtract 1/2 for every latent number (- 0.5 at the end of the formula).",
        ),
        (
            log(sigma_p / sigma_q) + right_fraction + 0.5,
            "The constant has the wrong sign: it is - 1/2, not + 1/2.",
        ),
        (
            log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / sigma_p**2 - 0.5,
            "The fraction's denominator is 2 sigma_p²: you left out the 2.",
        ),
        (
            log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / 2 * sigma_p**2 - 0.5,
            "Brackets: `... / 2 * sigma_p**2` divides by 2 and then *multiplies* by sigma_p². Write "
            "`/ (2 * sigma_p**2)`.",
        ),
        (
            log(sigma_p / sigma_q) + (sigma_q + (mu_q - mu_p) ** 2) / (2 * sigma_p) - 0.5,
            "The fraction uses the variances: sigma_q² on top and 2 sigma_p² below (you used sigma_q and sigma_p).",
        ),
        (
            log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)) / (2 * sigma_p**2) - 0.5,
            "The difference of the means is squared: (mu_q - mu_p)².",
        ),
    ]


def check_kl(kl_diagonal: Callable[..., Any]) -> None:
    """Visible check for the KL divergence between two diagonal Gaussians (summed over the latents).

    The inputs take part in training (they require gradients): NumPy on them fails, as it should.
    """
    import torch

    from medai_edu.models.segmentation import kl_diagonal_gaussians

    def example(*values: list[float]) -> list[torch.Tensor]:
        return [torch.tensor(v, requires_grad=True) for v in values]

    q = example([0.5, -1.0, 0.0], [0.5, 1.0, 2.0])
    p = example([0.0, 0.0, 1.0], [1.0, 2.0, 1.0])
    result = _call(kl_diagonal, *q, *p)
    if result is not None and not isinstance(result, torch.Tensor):
        raise CheckFailed(
            f"kl_diagonal should return a torch tensor (use `torch.log` and tensor arithmetic), got "
            f"{type(result).__name__}. Training needs a tensor that keeps its gradients."
        )
    got = _number(result, "kl_diagonal(q, p)")
    same = _number(_call(kl_diagonal, *q, *q), "kl_diagonal(q, q)")
    with torch.no_grad():
        truth = float(kl_diagonal_gaussians(*q, *p).sum())
        variants = [(float(v.sum()), hint) for v, hint in _kl_variants(*q, *p)]
        variants.append((truth / len(q[0]), "Sum over the latent numbers (.sum()), do not average them (.mean())."))
    if math.isclose(got, truth, rel_tol=1e-5) and abs(same) < 1e-6:
        return passed(f"Right: KL = {truth:.4f} here, and 0 when the two Gaussians are the same.")
    _matches(got, dict(variants))
    if abs(same) >= 1e-6:
        raise CheckFailed(
            f"The KL divergence of a Gaussian with itself must be 0; yours gives {same:g} (and {got:.4f} instead "
            f"of {truth:.4f} for the example). Compare your line with the formula term by term."
        )
    raise CheckFailed(
        f"Expected {truth:.4f} for this example, got {got:.4f}. Per latent number: "
        "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2; then sum them."
    )


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
    _matches(
        got,
        {
            d_sy.mean() - d_ss.mean() - d_yy.mean(): "The samples-to-raters term counts twice: 2 * mean(d_sy).",
            2 * d_sy.mean() + d_ss.mean() + d_yy.mean(): "The two within-group terms are subtracted, not added.",
            2 * d_sy.mean()
            - off(d_ss)
            - off(d_yy): "Average over all entries, the zero diagonal included (as the paper's code does).",
            2 * d_sy.sum() - d_ss.sum() - d_yy.sum(): "Use the mean of each matrix (np.mean or .mean()), not its sum.",
        },
    )
    raise CheckFailed(f"Expected {truth:.4f}, got {got:.4f}. D²_GED = 2 * mean(d_sy) - mean(d_ss) - mean(d_yy).")


def check_team_accuracy(team_accuracy: Callable[..., Any]) -> None:
    """Visible check for lesson 4's referral curve point: the team's accuracy at one referral share."""
    import numpy as np

    from medai_edu import referral

    model = np.array([True, False, True, False, False, True, True, True])
    reader = np.array([False, True, True, True, True, False, True, False])
    conf = np.array([0.95, 0.55, 0.9, 0.6, 0.52, 0.99, 0.7, 0.8])
    got = _number(_call(team_accuracy, model, reader, conf, 0.25), "team_accuracy(..., share=0.25)")
    truth = referral.team_accuracy(model, reader, conf, 0.25)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: referring the 2 least confident of 8 cases, the team is right in {truth:.0%} of them.")
    most = np.zeros(8, bool)
    most[np.argsort(conf)[-2:]] = True
    _matches(
        got,
        {
            100 * truth: "Give the accuracy as a share between 0 and 1, not in percent.",
            8 * truth: "Divide the number of right decisions by the number of cases.",
            float(np.where(most, reader, model).mean()): "You referred the *most* confident cases; the reader should "
            "get the *least* confident ones (np.argsort sorts from the smallest value up).",
            float(model.mean()): "That is the model alone: on the referred cases, use the reader's answer.",
            float(reader.mean()): "That is the reader alone: only the referred cases go to the reader.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.3f}, got {got:.3f}. Refer the round(share * n) cases with the lowest confidence; on those "
        "count the reader's correctness, on the rest the model's; return the mean."
    )


def check_capacity_threshold(capacity_threshold: Callable[..., Any]) -> None:
    """Visible check for lesson 4's threshold exercise: the highest threshold within the reader's capacity."""
    import numpy as np

    from medai_edu import referral

    conf = np.array([0.91, 0.55, 0.73, 0.99, 0.62, 0.88, 0.51, 0.97, 0.8, 0.66])
    got = _number(_call(capacity_threshold, conf, 0.3), "capacity_threshold(confidences, 0.3)")
    truth = referral.threshold_for_capacity(conf, 0.3)
    ordered = np.sort(conf)
    if math.isclose(got, truth, abs_tol=1e-12):
        return passed(f"Right: below {truth:.2f} lie 3 of the 10 cases, 30 % of them.")
    referred = int((conf < got).sum())
    _matches(
        got,
        {
            float(
                ordered[2]
            ): "With this threshold only 2 cases lie below it; the reader can read 3. Cases *below* the "
            "threshold are referred, so the threshold is the next confidence after the last referred case.",
            float(ordered[4]): "Now 4 cases lie below the threshold, more than the reader can read (3).",
            3.0: "Return the threshold (a confidence between 0.5 and 1), not the number of cases.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.2f}, got {got:g}, which refers {referred} of 10 cases. Sort the confidences, take "
        "k = floor(capacity * n) and return the k-th smallest confidence counted from 0 (sorted[k])."
    )


def check_ece(ece: Callable[..., Any]) -> None:
    """Visible check for lesson 4's expected calibration error of probabilities against outcomes."""
    import numpy as np

    from medai_edu.metrics import calibration_bins, calibration_error

    p = np.array([0.05, 0.12, 0.18, 0.35, 0.62, 0.71, 0.88, 0.93, 0.97, 1.0])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1, 1])
    got = _number(_call(ece, p, y, 5), "ece(probabilities, labels, 5)")
    truth = calibration_error(p, y, bins=5)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: ECE = {truth:.3f} for this small example with 5 bins.")
    table = calibration_bins(p, y, bins=5)
    used = table["count"] > 0
    gaps = np.abs(table["predicted"] - table["observed"])[used]
    _matches(
        got,
        {
            float(gaps.mean()): "Weight each bin by its number of cases (n_b / n), do not average the bins equally.",
            float(np.abs(p - y).mean()): "Compare bin averages, not each case with its outcome: first group the cases "
            "into bins of the probability.",
            float(abs(p.mean() - y.mean())): "Group the cases into bins first; one average over all cases hides "
            "miscalibration.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.4f}, got {got:.4f}. Put case i in bin min(int(p_i * bins), bins - 1); per non-empty bin "
        "take |mean probability - share with the disease|, weight it by the bin's share of cases, and add up."
    )
