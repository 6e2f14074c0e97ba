"""`medai-edu bench brain`: attribution maps on the simulated AD cohort against the true effect maps.

For the AD test subjects every method's map is compared with the subject's ground-truth disease
effect (its image minus the same subject without the disease) by NCC. VA-GAN's map is a signed
effect (-M(x)) and is compared with the signed effect; saliency maps are importance without a
sign and are compared with the effect's magnitude. ``ncc_magnitude`` compares |map| with |effect|
for every method. The region scores are the mean |map| inside the hippocampus labels, inside the
ventricle labels and elsewhere, each divided by the mean |map| over the whole slice (1 = no focus);
the same scores of the true effect's magnitude are given for comparison.
The classifier's accuracy and ROC AUC are measured on the whole test split.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from medai_edu import attribution, pretrained
from medai_edu.benchmarks.common import Extra, machine, score_methods
from medai_edu.data import get_dataset
from medai_edu.device import get_device
from medai_edu.metrics import ncc
from medai_edu.training.common import predict

CLASSIFIER, GENERATOR = "brain_classifier", "brain_vagan"
OCCLUSION_PATCH = 8  # pixels (16 mm), about a hippocampus cross-section


def compared_with(method: str, effect: torch.Tensor) -> torch.Tensor:
    """What a method's map is compared with: the signed effect for VA-GAN, its size for saliency."""
    return effect if method == attribution.VAGANMap.name else effect.abs()


def classifier_scores(classifier: torch.nn.Module, data: Any, device: torch.device) -> dict[str, Any]:
    """Accuracy and ROC AUC (probability of AD) on ``data`` (a :class:`~medai_edu.data.brain.BrainDataset`)."""
    from sklearn.metrics import roc_auc_score

    images = torch.from_numpy(data.field("images"))
    classifier.eval()
    p_ad = predict(lambda x: torch.softmax(classifier(x), 1)[:, 1], images, device).numpy()
    labels = data.labels
    return {"test_accuracy": float(((p_ad > 0.5) == labels).mean()), "test_auc": float(roc_auc_score(labels, p_ad)),
            "n_test": len(labels)}


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
        return {"hippocampus": inside(h), "ventricles": inside(v), "elsewhere": inside(rest),
                "ncc_magnitude": ncc(magnitude, np.abs(effects[indices.start : indices.stop]), batch=True)}

    return extra


def run(n_images: int | None = None, ig_steps: int = 100, device: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the benchmark on the AD test subjects (``n_images=None``: all of them)."""
    dev = get_device(device)
    classifier = pretrained.load_model(CLASSIFIER, device=dev)
    generator = pretrained.load_model(GENERATOR, device=dev)
    ad = get_dataset("brain", "test", only_label=1)
    n_images = len(ad) if n_images is None else min(int(n_images), len(ad))
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}.")
    options = {"integrated_gradients": {"steps": ig_steps}, "occlusion": {"patch": OCCLUSION_PATCH}}
    regions = _region_scores(ad)
    effects = torch.from_numpy(ad.field("effects")[:n_images, 0])
    truth = {k: float(v.mean()) for k, v in regions("truth", effects, range(n_images)).items() if k != "ncc_magnitude"}
    return {
        "benchmark": "brain",
        "data": {"split": "test", "class": "AD", "n_images": n_images, "shape": list(ad[0][0].shape[1:])},
        "classifier": classifier_scores(classifier, get_dataset("brain", "test"), dev),
        "methods": score_methods(classifier, generator, ad, n_images, options, progress, truth=compared_with,
                                 extra=regions, desc="brain benchmark"),
        "true_effect_regions": truth,
        "settings": {"integrated_gradients_steps": ig_steps, "occlusion_patch": OCCLUSION_PATCH},
        "machine": machine(dev),
    }


def table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table."""
    data, c, lines = result["data"], result["classifier"], []
    lines.append(f"Brain benchmark: {data['n_images']} AD test subjects, {' x '.join(map(str, data['shape']))} px, "
                 f"on {result['machine']['device']}")
    lines.append(f"Classifier (MCI vs AD, {c['n_test']} test subjects): accuracy {c['test_accuracy']:.3f}, AUC {c['test_auc']:.3f}")
    lines.append(f"{'method':<22}{'NCC mean':>9}{'NCC std':>9}{'|NCC|':>7}{'hippo':>7}{'ventr':>7}{'other':>7}{'s / image':>11}")
    for name, row in sorted(result["methods"].items(), key=lambda item: -item[1]["ncc_mean"]):
        lines.append(f"{name:<22}{row['ncc_mean']:>9.3f}{row['ncc_std']:>9.3f}{row['ncc_magnitude']:>7.3f}"
                     f"{row['hippocampus']:>7.2f}{row['ventricles']:>7.2f}{row['elsewhere']:>7.2f}{row['seconds_per_image']:>11.4f}")
    t = result["true_effect_regions"]
    lines.append(f"{'(true effect)':<22}{'':>9}{'':>9}{'':>7}{t['hippocampus']:>7.2f}{t['ventricles']:>7.2f}{t['elsewhere']:>7.2f}")
    lines.append("NCC: VA-GAN signed vs the signed effect, saliency vs |effect|; |NCC|: |map| vs |effect|. "
                 "hippo/ventr/other: mean |map| there / mean |map| over the slice.")
    return "\n".join(lines)
