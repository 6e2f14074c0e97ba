"""`medai-edu bench toy`: every attribution method against the ground truth of the toy data.

For the diseased (class-1) test images, each method's map is compared with the ground-truth
mask of *all* disease pixels (both boxes) by NCC. Saliency methods explain the shipped
classifier; VA-GAN's map comes from the shipped map generator. The classifier's accuracy is
measured on the whole test split. Times are wall-clock seconds per image on this machine.
"""
from __future__ import annotations

from typing import Any

from medai_edu import attribution, pretrained
from medai_edu.benchmarks.common import machine, score_methods
from medai_edu.data.toy import ToyBoxDataset
from medai_edu.device import get_device
from medai_edu.training.classifier import evaluate_accuracy

CLASSIFIER, GENERATOR = "toy_classifier", "toy_vagan"


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
        "methods": score_methods(classifier, generator, diseased, n_images, {"integrated_gradients": {"steps": ig_steps}},
                                 progress, desc="toy benchmark"),
        "settings": {"integrated_gradients_steps": ig_steps, "occlusion_patch": attribution.TOY_OCCLUSION_PATCH},
        "machine": machine(dev),
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
