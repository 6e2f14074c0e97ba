"""Shared by the attribution benchmarks: every method's maps scored against a ground truth."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from medai_edu import attribution
from medai_edu.metrics import ncc, ncc_summary
from medai_edu.training.common import batched
from medai_edu_ops.benchmarks import load_average

BATCH = 16
#: extra per-image scores: (method name, maps [B, *S], batch indices) -> {score name: values [B]}
Extra = Callable[[str, torch.Tensor, range], dict[str, np.ndarray]]


def score_methods(
    classifier: torch.nn.Module,
    generator: torch.nn.Module,
    data: Any,
    n_images: int,
    options: dict[str, dict],
    progress: bool,
    truth: Callable[[str, torch.Tensor], torch.Tensor] | None = None,
    extra: Extra | None = None,
    desc: str = "benchmark",
) -> dict[str, dict[str, Any]]:
    """NCC (mean, std) and seconds per image of every method on the first ``n_images`` of ``data``.

    ``truth(method, ground_truth)`` turns the data set's ground truth into what that method is
    compared with (default: unchanged); ``extra`` adds more per-image scores, averaged per method.
    """
    scores: dict[str, dict[str, list[np.ndarray]]] = {name: {"ncc": []} for name in attribution.METHODS}
    seconds: dict[str, float] = {}
    start = 0
    for images, _, target in tqdm(list(batched(data, BATCH, n_images)), desc=desc, disable=not progress):
        maps = attribution.attribute_all(classifier, generator, images, options=options, seconds=seconds)
        indices = range(start, start + len(images))
        for name, m in maps.items():
            wanted = target[:, 0] if truth is None else truth(name, target[:, 0])
            scores[name]["ncc"].append(ncc(m, wanted, batch=True))
            for key, values in (extra(name, m, indices) if extra else {}).items():
                scores[name].setdefault(key, []).append(values)
        start += len(images)
    rows = {}
    for name, parts in scores.items():
        values = np.concatenate(parts.pop("ncc"))
        rows[name] = {**ncc_summary(values), "seconds_per_image": seconds[name] / len(values)}
        rows[name].update({key: float(np.concatenate(v).mean()) for key, v in parts.items()})
    return rows


def machine(device: torch.device) -> dict[str, Any]:
    """Where a benchmark ran, with the load average (1, 5, 15 min) at its end."""
    load = load_average()
    return {
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average": load,
    }
