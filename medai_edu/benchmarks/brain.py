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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from medai_edu import attribution, pretrained
from medai_edu.attribution import compared_with
from medai_edu.benchmarks.common import Extra, machine, score_methods
from medai_edu.data import get_dataset
from medai_edu.data.brain import OCCLUSION_PATCH, hippocampus_window
from medai_edu.data.splits import FINAL_TEST_SEED
from medai_edu.device import get_device
from medai_edu.metrics import ncc
from medai_edu.training.classifier import classifier_scores

CLASSIFIER, GENERATOR = "brain_classifier", "brain_vagan"


def _region_scores(data: Any) -> Extra:
    """Per image: mean |map| in the hippocampus, the ventricles and elsewhere (each over the mean
    |map| of the slice), and the NCC of |map| with |true effect|."""
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
        return {
            "hippocampus": inside(h),
            "ventricles": inside(v),
            "elsewhere": inside(rest),
            "ncc_magnitude": ncc(magnitude, np.abs(effects[indices.start : indices.stop]), batch=True),
            "hippocampus_window_ncc": np.asarray(window),
        }

    return extra


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
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}.")
    options = {"integrated_gradients": {"steps": ig_steps}, "occlusion": {"patch": OCCLUSION_PATCH}}
    regions = _region_scores(ad)
    effects = torch.from_numpy(ad.field("effects")[:n_images, 0])
    truth = {
        k: float(v.mean())
        for k, v in regions("truth", effects, range(n_images)).items()
        if k not in ("ncc_magnitude", "hippocampus_window_ncc")
    }
    return {
        "data": {
            "split": "test",
            "class": "AD",
            "data_seed": seed,
            "n_images": n_images,
            "shape": list(ad[0][0].shape[1:]),
        },
        "classifier": classifier_scores(classifier, get_dataset("brain", "test", seed=seed), dev),
        "methods": score_methods(
            classifier, generator, ad, n_images, options, progress, truth=compared_with, extra=regions, desc=desc
        ),
        "true_effect_regions": truth,
    }


def run(
    n_images: int | None = None,
    ig_steps: int = 100,
    device: str | None = None,
    progress: bool = True,
    final_seed: int = FINAL_TEST_SEED,
) -> dict[str, Any]:
    """Run the benchmark on the AD test subjects (``n_images=None``: all of them) of the development
    cohort and of the final test cohort."""
    dev = get_device(device)
    classifier = pretrained.load_model(CLASSIFIER, device=dev)
    generator = pretrained.load_model(GENERATOR, device=dev)
    result = {
        "benchmark": "brain",
        **_score_split(classifier, generator, 42, n_images, ig_steps, dev, progress, "brain benchmark"),
        "final_test": _score_split(
            classifier, generator, final_seed, n_images, ig_steps, dev, progress, "final test set"
        ),
    }
    result["targets"] = targets(result)
    result["settings"] = {"integrated_gradients_steps": ig_steps, "occlusion_patch": OCCLUSION_PATCH}
    result["machine"] = machine(dev)
    return result


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Issue 13's target for the lecture's close-up: VA-GAN's hippocampus-window NCC >= 0.5 and at
    least 0.2 above the best saliency method's, on each test set."""
    out = {}
    for name, part in (("development", result), ("final", result["final_test"])):
        window = {m: row["hippocampus_window_ncc"] for m, row in part["methods"].items()}
        vagan = window.pop(attribution.VAGANMap.name)
        best = max(window, key=window.get)
        out[name] = {
            "vagan": vagan,
            "best_saliency": best,
            "best_saliency_ncc": window[best],
            "met": bool(vagan >= 0.5 and vagan >= window[best] + 0.2),
        }
    return out


def table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table (both test sets)."""
    lines = [
        f"Brain benchmark on {result['machine']['device']}, {result['machine']['threads']} threads, "
        f"load average {result['machine']['load_average']}"
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
            f"{'method':<22}{'NCC mean':>9}{'NCC std':>9}{'|NCC|':>7}{'window':>8}{'hippo':>7}{'ventr':>7}{'other':>7}{'s / image':>11}"
        )
        for name, row in sorted(part["methods"].items(), key=lambda item: -item[1]["ncc_mean"]):
            lines.append(
                f"{name:<22}{row['ncc_mean']:>9.3f}{row['ncc_std']:>9.3f}{row['ncc_magnitude']:>7.3f}"
                f"{row['hippocampus_window_ncc']:>8.3f}{row['hippocampus']:>7.2f}{row['ventricles']:>7.2f}"
                f"{row['elsewhere']:>7.2f}{row['seconds_per_image']:>11.4f}"
            )
        t = part["true_effect_regions"]
        lines.append(
            f"{'(true effect)':<22}{'':>9}{'':>9}{'':>7}{'':>8}{t['hippocampus']:>7.2f}{t['ventricles']:>7.2f}{t['elsewhere']:>7.2f}"
        )
    lines.append(
        "NCC: VA-GAN signed vs the signed effect, saliency vs |effect|; |NCC|: |map| vs |effect|; window: NCC inside "
        "the close-up windows around the hippocampi. hippo/ventr/other: mean |map| there / mean |map| over the slice."
    )
    for name, t in result["targets"].items():
        lines.append(
            f"Target ({name} test set): VA-GAN window NCC {t['vagan']:.3f} >= 0.5 and >= best saliency "
            f"({t['best_saliency']}, {t['best_saliency_ncc']:.3f}) + 0.2: {'met' if t['met'] else 'NOT met'}"
        )
    return "\n".join(lines)
