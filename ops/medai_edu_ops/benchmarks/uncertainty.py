"""`medai-edu bench uncertainty`: the lesson-3 segmenters on the multi-rater test sets.

For each shipped model (deterministic U-Net, Probabilistic U-Net, PHiSeg L = 1 and L = 5), with
``n_samples`` samples per test image, on the clean images and under each input shift of
:data:`medai_edu.data.shifts.SHIFTS`:

- GED², S_NCC and Dice of the mean (design §3.5);
- ``dis_ncc``: the NCC between the samples' disagreement map and the raters' disagreement map
  (:func:`medai_edu.metrics.disagreement_ncc`), per case, averaged. A model whose samples are
  all the same (the deterministic U-Net) has a constant map, which scores 0 by definition;
  cases where all raters agree (no lesion) score 0 for every model;
- ``ece``: the calibration of the sampled outlines against the raters' label frequencies. Per
  pixel, the predicted probability of lesion (core or rim) is the share of the model's samples
  (their argmax label maps, the outlines a clinician would see) that mark it, the observed
  frequency the share of the six raters who mark it. The binned expected calibration error
  (10 equal bins of the predicted probability, :func:`medai_edu.metrics.calibration_error`) is
  computed over the pixels that at least one rater or at least one sample marks as lesion, per
  case (0 for a case where nobody marks anything), and averaged over cases. Lower is better;
- ``ece_softmax``: the same with the mean softmax probability of lesion (1 - background) as the
  prediction, over the same pixels: how well the network's probabilities, rather than its
  outlines, match the raters (a single-answer network can have good probabilities and still
  show one outline).

Two test sets: the development test split (cases 1400-1699 of seed 42, :data:`LECTURE`; seen
during development, see ``datasets/multirater_lesions.md``) and a **final** test set of
:data:`FINAL_CASES` cases simulated with seed :data:`FINAL_SEED`, which development never used.
Paired bootstrap 95% intervals (cases resampled, :func:`medai_edu.metrics.paired_bootstrap`)
for the differences between PHiSeg L = 5 and each other model, on every measure and condition
of both sets. Sampling times for 1 and 100 samples of one image on the CPU (median of repeated
calls, image encoding included). The issue's targets are checked against what was measured.
The machine's load average at the start and end and the wall time are recorded: the sampling
times depend on what else the machine was doing.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from typing import Any, TypedDict

import numpy as np
import torch
from tqdm.auto import tqdm

from medai_edu import pretrained
from medai_edu.data.multirater import LECTURE, MultiRaterDataset, MultiRaterSettings
from medai_edu.data.shifts import CONDITIONS, SHIFTS, ShiftedDataset
from medai_edu.data.splits import FINAL_TEST_SEED
from medai_edu.device import get_device
from medai_edu.metrics import (
    calibration_error,
    dice_of_mean,
    disagreement_ncc,
    ged_squared,
    lesion_frequency,
    paired_bootstrap,
    sncc,
)
from medai_edu.models.segmentation import MODELS, SegmentationModel
from medai_edu.training.common import batched
from medai_edu.training.segmentation import weights_name
from medai_edu_ops.benchmarks import load_average
from medai_edu_ops.benchmarks.common import machine

SAMPLE_MS_BUDGET = 50.0
#: the final test set: a data seed that development never used, and its size
FINAL_SEED = FINAL_TEST_SEED
FINAL_CASES = 150
#: per-case measures, their names in the table, and whether lower is better
MEASURES = {"ged": "GED²", "sncc": "S_NCC", "dice": "Dice", "dis_ncc": "D_NCC", "ece": "ECE", "ece_softmax": "ECE_sm"}
LOWER_IS_BETTER = ("ged", "ece", "ece_softmax")
#: the bootstrapped differences: (model a, model b) -> mean(a) - mean(b)
COMPARISONS = (("phiseg_l5", "phiseg_l1"), ("phiseg_l5", "prob_unet"), ("phiseg_l5", "unet"))


class _Bootstrap(TypedDict):
    n_boot: int
    seed: int
    level: float


BOOTSTRAP: _Bootstrap = {"n_boot": 2000, "seed": 0, "level": 0.95}
SAMPLING_SEED = 0  # torch's generator is seeded with this before each model, set and condition


def final_settings(n_cases: int = FINAL_CASES, seed: int = FINAL_SEED) -> MultiRaterSettings:
    """The final test set: ``n_cases`` cases simulated like the lecture's, with an unused seed."""
    return replace(LECTURE, n_train=0, n_val=0, n_test=n_cases, seed=seed)


def pair_name(a: str, b: str) -> str:
    return f"{a}_vs_{b}"


def sampling_ms(model: SegmentationModel, image: torch.Tensor, n: int, repeats: int) -> float:
    """Median milliseconds for ``model.sample(image[None], n)`` on the model's device."""
    model.sample(image[None], n)  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(image[None], n)
        seconds.append(time.perf_counter() - start)
    return 1000 * statistics.median(seconds)


def case_scores(sample_probs: np.ndarray, raters: np.ndarray) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one image: softmax samples [N_s, C, H, W], rater maps [N_r, H, W]."""
    maps = sample_probs.argmax(1)
    frequency = lesion_frequency(raters, sample_probs.shape[1])
    drawn = lesion_frequency(maps, sample_probs.shape[1])
    region = (frequency > 0) | (drawn > 0)
    return {
        "ged": ged_squared(maps, raters, sample_probs.shape[1]),
        "sncc": sncc(sample_probs, raters),
        "dice": dice_of_mean(sample_probs, raters),
        "dis_ncc": disagreement_ncc(maps, raters, sample_probs.shape[1]),
        "ece": calibration_error(drawn, frequency, region),
        "ece_softmax": calibration_error(1.0 - sample_probs[:, 0].mean(0), frequency, region),
    }


@torch.no_grad()
def score_cases(
    model: SegmentationModel,
    dataset: Any,
    n_samples: int,
    limit: int | None,
    device: torch.device,
    seed: int = SAMPLING_SEED,
) -> dict[str, np.ndarray]:
    """Per-case values of every measure for the first ``limit`` images of ``dataset``."""
    torch.manual_seed(seed)
    model.eval()
    scores: dict[str, list[float]] = {key: [] for key in MEASURES}
    for images, masks, *_ in batched(dataset, 8, limit):
        probs = model.sample(images.to(device), n_samples).softmax(dim=2).cpu().double().numpy()
        for b in range(len(images)):
            for key, value in case_scores(probs[:, b], masks[b].numpy()).items():
                scores[key].append(value)
    return {key: np.asarray(values) for key, values in scores.items()}


def summarise(per_case: dict[str, np.ndarray], n_samples: int) -> dict[str, Any]:
    """Mean and standard deviation over cases of each measure (``ged_mean``, ``ged_std``, ...)."""
    row: dict[str, Any] = {"n_images": len(per_case["ged"]), "n_samples": n_samples}
    for key, values in per_case.items():
        row[f"{key}_mean"], row[f"{key}_std"] = float(values.mean()), float(values.std())
    return row


def bootstrap_differences(per_case: dict[str, dict[str, dict[str, np.ndarray]]]) -> dict[str, Any]:
    """``per_case[model][condition][measure]`` -> interval of each comparison, per condition and measure."""
    out: dict[str, Any] = {}
    for condition in CONDITIONS:
        out[condition] = {}
        for a, b in COMPARISONS:
            if a not in per_case or b not in per_case:
                continue
            out[condition][pair_name(a, b)] = {
                key: paired_bootstrap(per_case[a][condition][key], per_case[b][condition][key], **BOOTSTRAP)
                for key in MEASURES
            }
    return out


def targets(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The issue's targets for PHiSeg L = 5, each with the measured value and whether it is met."""
    phiseg, unet, prob = (models[name]["clean"] for name in ("phiseg_l5", "unet", "prob_unet"))
    one_sample = models["phiseg_l5"]["ms_1_sample"]
    return {
        "ged_below_prob_unet": {
            "measured": [phiseg["ged_mean"], prob["ged_mean"]],
            "met": phiseg["ged_mean"] < prob["ged_mean"],
        },
        "ged_below_unet": {
            "measured": [phiseg["ged_mean"], unet["ged_mean"]],
            "met": phiseg["ged_mean"] < unet["ged_mean"],
        },
        "sncc_at_least_0.7": {"measured": phiseg["sncc_mean"], "met": phiseg["sncc_mean"] >= 0.7},
        "dice_within_0.02_of_unet": {
            "measured": phiseg["dice_mean"] - unet["dice_mean"],
            "met": phiseg["dice_mean"] >= unet["dice_mean"] - 0.02,
        },
        "one_sample_at_most_50_ms": {"measured": one_sample, "met": one_sample <= SAMPLE_MS_BUDGET},
        # issue 13: a measure that a single-answer network fails
        "unet_fails_dis_ncc": {
            "measured": [unet["dis_ncc_mean"], phiseg["dis_ncc_mean"]],
            "met": unet["dis_ncc_mean"] == 0.0 < phiseg["dis_ncc_mean"],
        },
        "ece_below_unet": {
            "measured": [phiseg["ece_mean"], unet["ece_mean"]],
            "met": phiseg["ece_mean"] < unet["ece_mean"],
        },
    }


def run(
    n_images: int | None = None,
    n_samples: int = 100,
    device: str | None = None,
    progress: bool = True,
    timing_repeats: int = 20,
    final_cases: int = FINAL_CASES,
) -> dict[str, Any]:
    """Score every model; ``n_images=None`` uses all 300 development test images and ``final_cases``
    final test images (with ``n_images`` given, at most that many final ones too)."""
    started, load_start = time.perf_counter(), load_average()
    dev = get_device(device)
    test = MultiRaterDataset("test", progress=progress)
    final = MultiRaterDataset("test", final_settings(final_cases), progress=progress)
    n_images = len(test) if n_images is None else min(int(n_images), len(test))
    n_final = len(final) if n_images == len(test) else min(n_images, len(final))
    if n_images < 1 or n_samples < 1:
        raise ValueError(f"n_images and n_samples must be at least 1, got {n_images} and {n_samples}.")
    sets = {"dev": (test, n_images), "final": (final, n_final)}
    models: dict[str, dict[str, Any]] = {}
    per_case: dict[str, dict[str, dict[str, dict[str, np.ndarray]]]] = {"dev": {}, "final": {}}
    for name in tqdm(MODELS, desc="uncertainty benchmark", disable=not progress):
        model = pretrained.load_model(weights_name(name), device=dev)
        row: dict[str, Any] = {"final": {}}
        for set_name, (data, n) in sets.items():
            per_case[set_name][name] = {}
            for condition in CONDITIONS:
                shifted = data if condition == "clean" else ShiftedDataset(data, condition)
                scores = score_cases(model, shifted, n_samples, n, dev)
                per_case[set_name][name][condition] = scores
                (row if set_name == "dev" else row["final"])[condition] = summarise(scores, n_samples)
        cpu_model = model.cpu()  # timed on the CPU whatever device scored it (scoring is done)
        image = test[0][0]
        row["ms_1_sample"] = sampling_ms(cpu_model, image, 1, timing_repeats)
        row["ms_100_samples"] = sampling_ms(cpu_model, image, 100, max(3, timing_repeats // 4))
        row["parameters"] = sum(p.numel() for p in model.parameters())
        models[name] = row
    enough = min(n_images, n_final) >= 2
    return {
        "benchmark": "uncertainty",
        "data": {"split": "test", "n_images": n_images, "n_samples": n_samples, "raters": len(test.settings.raters)},
        "final_data": {
            "split": "test",
            "seed": final.settings.seed,
            "n_images": n_final,
            "n_samples": n_samples,
            "raters": len(final.settings.raters),
            "note": "simulated with a data seed that development (training, model choice, text) never used",
        },
        "shifts": SHIFTS,
        "measures": MEASURES,
        "models": models,
        "bootstrap": {
            **BOOTSTRAP,
            "pairs": "mean(a) - mean(b) over the same cases",
            "dev": bootstrap_differences(per_case["dev"]) if enough else {},
            "final": bootstrap_differences(per_case["final"]) if enough else {},
        },
        "targets": targets(models),
        "machine": {
            **machine(dev),
            "timing_device": "cpu",
            "timing_threads": torch.get_num_threads(),
            "load_average_start": load_start,
            "load_average_end": load_average(),
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
    }


def _scores_table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [title, f"{'model':<11}{'condition':<10}" + "".join(f"{label:>8}" for label in MEASURES.values())]
    for name, by_condition in rows.items():
        for condition in CONDITIONS:
            s = by_condition[condition]
            lines.append(f"{name:<11}{condition:<10}" + "".join(f"{s[f'{key}_mean']:>8.3f}" for key in MEASURES))
    return lines


def table(result: dict[str, Any]) -> str:
    """The benchmark as plain-text tables: scores per set, model and condition; bootstrap intervals;
    sampling times; targets; wall time and load average."""
    data, final, lines = result["data"], result["final_data"], []
    lines.append(
        f"Uncertainty benchmark: {data['n_samples']} samples per image, {data['raters']} raters, "
        f"on {result['machine']['device']}"
    )
    shifts = ", ".join(f"{kind} {strength:g}" for kind, strength in result["shifts"].items())
    lines.append(f"Input shifts: {shifts} (noise: std; contrast: factor; blur: sigma in px)")
    lines.append(
        "D_NCC: NCC of the samples' and the raters' disagreement maps (a constant map scores 0); "
        "ECE: calibration of the samples' outlines against the raters' label frequencies; "
        "ECE_sm: the same for the mean softmax. Lower is better for GED², ECE, ECE_sm."
    )
    lines += _scores_table(
        f"Development test split (seed {LECTURE.seed}, {data['n_images']} cases):",
        {name: row for name, row in result["models"].items()},
    )
    lines += _scores_table(
        f"Final test set (seed {final['seed']}, never used in development, {final['n_images']} cases):",
        {name: row["final"] for name, row in result["models"].items()},
    )
    boot = result["bootstrap"]
    lines.append(
        f"Paired bootstrap {boot['level']:.0%} intervals of mean(a) - mean(b) ({boot['n_boot']} resamples of "
        f"the cases, seed {boot['seed']}); * = the interval excludes 0:"
    )
    for set_name in ("dev", "final"):
        for condition, pairs in boot[set_name].items():
            for pair, intervals in pairs.items():
                cells = [
                    f"{MEASURES[k]} {v['difference']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}]{'*' if v['excludes_0'] else ' '}"
                    for k, v in intervals.items()
                ]
                lines.append(f"  {set_name:<6}{condition:<9}{pair:<24}" + "  ".join(cells))
    lines.append(f"Sampling one image on the CPU ({result['machine']['timing_threads']} threads):")
    lines.append(f"{'model':<11}{'1 sample ms':>13}{'100 samples ms':>16}{'parameters':>12}")
    for name, row in result["models"].items():
        lines.append(f"{name:<11}{row['ms_1_sample']:>13.1f}{row['ms_100_samples']:>16.1f}{row['parameters']:>12,}")
    lines.append("Targets for PHiSeg L=5 (development split):")
    for target, check in result["targets"].items():
        measured = check["measured"]
        shown = " vs ".join(f"{v:.3f}" for v in measured) if isinstance(measured, list) else f"{measured:.3f}"
        lines.append(f"  {target:<28}{shown:>18}  {'met' if check['met'] else 'NOT met'}")
    m = result["machine"]
    if "wall_seconds" in m:
        lines.append(
            f"Wall time {m['wall_seconds'] / 60:.1f} min; load average (1, 5, 15 min) at the start "
            f"{m['load_average_start']}, at the end {m['load_average_end']}"
        )
    return "\n".join(lines)
