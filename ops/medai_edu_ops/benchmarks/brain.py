"""`medai-edu bench brain`: attribution maps on the simulated AD cohort against the true effect maps.

For the AD test subjects every method's map is compared with the subject's ground-truth disease
effect (its image minus the same subject without the disease) by NCC. VA-GAN's map is a signed
effect (-M(x)) and is compared with the signed effect; saliency maps are importance without a
sign and are compared with the effect's magnitude. ``ncc_magnitude`` compares |map| with |effect|
for every method. The region scores are the mean |map| inside the hippocampus labels, inside the
ventricle labels and elsewhere, each divided by the mean |map| over the whole slice (1 = no focus);
the same scores of the true effect's magnitude are given for comparison.
``hippocampus_window_ncc`` is the lecture's close-up question: the NCC of the map with the
true effect (compared as above) inside the close-up window around each hippocampus
(:func:`~medai_edu.data.brain.hippocampus_window`, the lesson's close-up), averaged over the
left and right windows. The classifier's accuracy and ROC AUC are measured on the whole test split.

Two test sets are scored: the development test split (data seed 42, used while the course was
built, see ``docs/decisions.md``), under ``methods``, and a final test set (``final_test``): the
test split of a cohort drawn with :data:`~medai_edu.data.splits.FINAL_TEST_SEED`, which
development never used.

Every mean NCC (whole slice and hippocampus window) has a 95 % bootstrap interval over the test
subjects (``ncc_ci95``, ``hippocampus_window_ncc_ci95``; seeded, see :data:`BOOTSTRAP`), and each
target gives the paired bootstrap interval of VA-GAN's lead over the best saliency method
(``lead_ci95``: the same subjects resampled for both maps). ``--weights DIR`` scores a candidate
VA-GAN generator from another folder; the classifier is always the shipped one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from medai_edu import attribution, pretrained
from medai_edu.attribution import compared_with
from medai_edu.data import get_dataset
from medai_edu.data.brain import OCCLUSION_PATCH, hippocampus_window
from medai_edu.data.splits import FINAL_TEST_SEED
from medai_edu.device import get_device
from medai_edu.metrics import ncc, paired_bootstrap
from medai_edu.training.classifier import classifier_scores
from medai_edu_ops.benchmarks.common import Extra, machine, score_methods

CLASSIFIER, GENERATOR = "brain_classifier", "brain_vagan"
#: resampling of the test subjects behind every 95 % interval (seeded: the same maps give the same interval)
BOOTSTRAP = {"n_boot": 2000, "seed": 0}
#: the per-image scores that get intervals: NCC over the whole slice and in the hippocampus windows
INTERVAL_SCORES = ("ncc", "hippocampus_window_ncc")
#: the targets: (name, score, lowest VA-GAN value, lead over the best saliency method); "window" is
#: issue 13's (the lecture's close-up), "whole_brain" issue 25's
TARGETS = (("window", "hippocampus_window_ncc", 0.5, 0.2), ("whole_brain", "ncc", 0.75, 0.2))

PerImage = dict[str, dict[str, list[np.ndarray]]]  # method -> score -> per-image values, batch by batch


def _region_scores(data: Any, kept: PerImage) -> Extra:
    """Per image: mean |map| in the hippocampus, the ventricles and elsewhere (each over the mean
    |map| of the slice), and the NCC of |map| with |true effect|. The per-image values of
    :data:`INTERVAL_SCORES` are also appended to ``kept`` (for the bootstrap)."""
    hippocampus, ventricles = data.field("hippocampus"), data.field("ventricles")
    effects = data.field("effects")[:, 0]

    def extra(method: str, maps: torch.Tensor, indices: range) -> dict[str, np.ndarray]:
        magnitude = maps.detach().abs().numpy()
        whole = magnitude.mean(axis=(1, 2)) + 1e-12
        h, v = hippocampus[indices.start : indices.stop], ventricles[indices.start : indices.stop]
        rest = ~(h | v)
        inside = lambda mask: (magnitude * mask).sum(axis=(1, 2)) / np.maximum(mask.sum(axis=(1, 2)), 1) / whole  # noqa: E731
        truth = compared_with(method, torch.from_numpy(effects[indices.start : indices.stop])).numpy()
        m = maps.detach().numpy()
        window = [
            np.mean([ncc(m[i][w], truth[i][w]) for w in (hippocampus_window(h[i], side) for side in ("left", "right"))])
            for i in range(len(m))
        ]
        scores = {
            "hippocampus": inside(h),
            "ventricles": inside(v),
            "elsewhere": inside(rest),
            "ncc_magnitude": ncc(magnitude, np.abs(effects[indices.start : indices.stop]), batch=True),
            "hippocampus_window_ncc": np.asarray(window),
        }
        per_image = {"ncc": ncc(m, truth, batch=True), "hippocampus_window_ncc": scores["hippocampus_window_ncc"]}
        for key, values in per_image.items():
            kept.setdefault(method, {}).setdefault(key, []).append(values)
        return scores

    return extra


def _interval(values: np.ndarray) -> list[float]:
    """95 % bootstrap interval of the mean of ``values`` (one per test subject)."""
    result = paired_bootstrap(values, np.zeros_like(values), **BOOTSTRAP)
    return [result["low"], result["high"]]


def _score_split(
    classifier: torch.nn.Module,
    generator: torch.nn.Module,
    seed: int,
    n_images: int | None,
    ig_steps: int,
    dev: torch.device,
    progress: bool,
    desc: str,
) -> dict[str, Any]:
    """Every method on the AD test subjects of the cohort drawn with ``seed``."""
    ad = get_dataset("brain", "test", seed=seed, only_label=1)
    n_images = len(ad) if n_images is None else min(int(n_images), len(ad))
    if n_images < 2:
        raise ValueError(f"n_images must be at least 2 (for the bootstrap intervals), got {n_images}.")
    options = {"integrated_gradients": {"steps": ig_steps}, "occlusion": {"patch": OCCLUSION_PATCH}}
    kept: PerImage = {}
    regions = _region_scores(ad, kept)
    effects = torch.from_numpy(ad.field("effects")[:n_images, 0])
    truth = {
        k: float(v.mean())
        for k, v in regions("truth", effects, range(n_images)).items()
        if k not in ("ncc_magnitude", "hippocampus_window_ncc")
    }
    methods = score_methods(
        classifier, generator, ad, n_images, options, progress, truth=compared_with, extra=regions, desc=desc
    )
    per_image = {method: {k: np.concatenate(v) for k, v in scores.items()} for method, scores in kept.items()}
    for method, row in methods.items():
        row.update({f"{key}_ci95": _interval(per_image[method][key]) for key in INTERVAL_SCORES})
    return {
        "data": {
            "split": "test",
            "class": "AD",
            "data_seed": seed,
            "n_images": n_images,
            "shape": list(ad[0][0].shape[1:]),
        },
        "classifier": classifier_scores(classifier, get_dataset("brain", "test", seed=seed), dev),
        "methods": methods,
        "true_effect_regions": truth,
        "targets": targets(per_image),
    }


def run(
    n_images: int | None = None,
    ig_steps: int = 100,
    device: str | None = None,
    progress: bool = True,
    final_seed: int = FINAL_TEST_SEED,
    weights: str | None = None,
) -> dict[str, Any]:
    """Run the benchmark on the AD test subjects (``n_images=None``: all of them) of the development
    cohort and of the final test cohort; ``weights``: a folder with another ``brain_vagan`` to score."""
    dev = get_device(device)
    classifier = pretrained.load_model(CLASSIFIER, device=dev)
    generator = pretrained.load_model(GENERATOR, weights, device=dev)
    manifest = pretrained.load_manifest(GENERATOR, weights)
    return {
        "benchmark": "brain",
        "vagan_weights": {"sha256": manifest["sha256"], "command": manifest["command"]},
        **_score_split(classifier, generator, 42, n_images, ig_steps, dev, progress, "brain benchmark"),
        "final_test": _score_split(
            classifier, generator, final_seed, n_images, ig_steps, dev, progress, "final test set"
        ),
        "settings": {"integrated_gradients_steps": ig_steps, "occlusion_patch": OCCLUSION_PATCH, **BOOTSTRAP},
        "machine": machine(dev),
    }


def targets(per_image: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """The :data:`TARGETS` on one test set: VA-GAN's mean score at least ``lowest`` and at least
    ``lead`` above the best saliency method's, with the paired bootstrap interval of that lead."""
    out = {}
    vagan = attribution.VAGANMap.name
    for name, key, lowest, lead in TARGETS:
        mean = {m: float(scores[key].mean()) for m, scores in per_image.items()}
        value = mean.pop(vagan)
        best = max(mean, key=lambda m: mean[m])
        difference = paired_bootstrap(per_image[vagan][key], per_image[best][key], **BOOTSTRAP)
        out[name] = {
            "vagan": value,
            "best_saliency": best,
            "best_saliency_ncc": mean[best],
            "lead_ci95": [difference["low"], difference["high"]],
            "wanted": {"vagan_at_least": lowest, "lead_at_least": lead},
            "met": bool(value >= lowest and value >= mean[best] + lead),
        }
    return out


def _ci(interval: list[float]) -> str:
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table (both test sets), with 95 % bootstrap intervals and the targets."""
    lines = [
        f"Brain benchmark on {result['machine']['device']}, {result['machine']['threads']} threads, "
        f"load average {result['machine']['load_average']}; VA-GAN weights {result['vagan_weights']['sha256'][:12]}"
    ]
    for title, part in (("Development test split", result), ("Final test set", result["final_test"])):
        data, c = part["data"], part["classifier"]
        lines.append(
            f"{title} (data seed {data['data_seed']}): {data['n_images']} AD test subjects, "
            f"{' x '.join(map(str, data['shape']))} px"
        )
        lines.append(
            f"Classifier (MCI vs AD, {c['n_test']} test subjects): accuracy {c['test_accuracy']:.3f}, AUC {c['test_auc']:.3f}"
        )
        lines.append(
            f"{'method':<22}{'NCC':>7}{'95% interval':>17}{'window':>8}{'95% interval':>17}{'|NCC|':>7}"
            f"{'hippo':>7}{'ventr':>7}{'other':>7}{'s / image':>11}"
        )
        for name, row in sorted(part["methods"].items(), key=lambda item: -item[1]["ncc_mean"]):
            lines.append(
                f"{name:<22}{row['ncc_mean']:>7.3f}{_ci(row['ncc_ci95']):>17}{row['hippocampus_window_ncc']:>8.3f}"
                f"{_ci(row['hippocampus_window_ncc_ci95']):>17}{row['ncc_magnitude']:>7.3f}{row['hippocampus']:>7.2f}"
                f"{row['ventricles']:>7.2f}{row['elsewhere']:>7.2f}{row['seconds_per_image']:>11.4f}"
            )
        t = part["true_effect_regions"]
        lines.append(
            f"{'(true effect)':<22}{'':>56}{t['hippocampus']:>7.2f}{t['ventricles']:>7.2f}{t['elsewhere']:>7.2f}"
        )
        for name, target in part["targets"].items():
            wanted = target["wanted"]
            lines.append(
                f"Target {name}: VA-GAN {target['vagan']:.3f} >= {wanted['vagan_at_least']} and >= best saliency "
                f"({target['best_saliency']}, {target['best_saliency_ncc']:.3f}) + {wanted['lead_at_least']}: "
                f"{'met' if target['met'] else 'NOT met'}; lead "
                f"{target['vagan'] - target['best_saliency_ncc']:.3f}, 95% interval {_ci(target['lead_ci95'])}"
            )
    lines.append(
        "NCC: VA-GAN signed vs the signed effect, saliency vs |effect|; |NCC|: |map| vs |effect|; window: NCC inside "
        "the close-up windows around the hippocampi. hippo/ventr/other: mean |map| there / mean |map| over the slice. "
        "Intervals: 95% bootstrap over the test subjects (the lead: paired, the same subjects for both maps)."
    )
    return "\n".join(lines)
