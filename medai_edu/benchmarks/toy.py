"""`medai-edu bench toy`: every attribution method against the ground truth of the toy data.

For the diseased (class-1) test images, each method's map is compared with the ground-truth
mask of *all* disease pixels (both boxes) by NCC. Saliency methods explain the shipped
classifier; VA-GAN's map comes from the shipped map generator. The classifier's accuracy is
measured on the whole test split. Times are wall-clock seconds per image on this machine.
"""
from __future__ import annotations

import platform
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from medai_edu import attribution, pretrained
from medai_edu.data.toy import ToyBoxDataset
from medai_edu.device import get_device
from medai_edu.metrics import ncc, ncc_summary
from medai_edu.training.classifier import evaluate_accuracy
from medai_edu.training.common import batched

CLASSIFIER, GENERATOR = "toy_classifier", "toy_vagan"
BATCH = 16


def _method_rows(
    classifier: torch.nn.Module, generator: torch.nn.Module, data: ToyBoxDataset, n_images: int, ig_steps: int, progress: bool
) -> dict[str, dict[str, Any]]:
    scores: dict[str, list[np.ndarray]] = {name: [] for name in attribution.METHODS}
    seconds: dict[str, float] = {}
    options = {"integrated_gradients": {"steps": ig_steps}}
    for images, _, masks in tqdm(list(batched(data, BATCH, n_images)), desc="toy benchmark", disable=not progress):
        maps = attribution.attribute_all(classifier, generator, images, options=options, seconds=seconds)
        for name, m in maps.items():
            scores[name].append(ncc(m, masks[:, 0], batch=True))
    rows = {}
    for name, parts in scores.items():
        values = np.concatenate(parts)
        rows[name] = {**ncc_summary(values), "seconds_per_image": seconds[name] / len(values)}
    return rows


def run(n_images: int | None = 200, ig_steps: int = 100, device: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the benchmark; ``n_images=None`` uses all 1,000 class-1 test images."""
    dev = get_device(device)
    classifier = pretrained.load_model(CLASSIFIER, device=dev)
    generator = pretrained.load_model(GENERATOR, device=dev)
    size = pretrained.load_manifest(CLASSIFIER)["data"]["size"]
    diseased = ToyBoxDataset("test", size=size, only_label=1)
    n_images = len(diseased) if n_images is None else min(int(n_images), len(diseased))
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}.")
    test = ToyBoxDataset("test", size=size)
    accuracy = evaluate_accuracy(classifier, test, device=dev)
    return {
        "benchmark": "toy",
        "data": {"split": "test", "class": 1, "n_images": n_images, "size": size},
        "classifier": {"test_accuracy": accuracy, "n_test": len(test)},
        "methods": _method_rows(classifier, generator, diseased, n_images, ig_steps, progress),
        "settings": {"integrated_gradients_steps": ig_steps, "occlusion_patch": attribution.TOY_OCCLUSION_PATCH},
        "machine": {"device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "python": platform.python_version()},
    }


def table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table."""
    data, lines = result["data"], []
    lines.append(f"Toy benchmark: {data['n_images']} diseased test images of {data['size']} x {data['size']} px "
                 f"on {result['machine']['device']}")
    lines.append(f"Classifier test accuracy: {result['classifier']['test_accuracy']:.4f} "
                 f"({result['classifier']['n_test']} images)")
    lines.append(f"{'method':<22}{'NCC mean':>10}{'NCC std':>10}{'s / image':>11}")
    for name, row in sorted(result["methods"].items(), key=lambda item: -item[1]["ncc_mean"]):
        lines.append(f"{name:<22}{row['ncc_mean']:>10.3f}{row['ncc_std']:>10.3f}{row['seconds_per_image']:>11.4f}")
    return "\n".join(lines)
