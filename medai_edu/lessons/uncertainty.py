"""Lesson 3 (segmentation uncertainty): the steps the notebook calls, one function each."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from medai_edu import pretrained
from medai_edu.benchmarks.common import read_result
from medai_edu.benchmarks.uncertainty import CONDITIONS
from medai_edu.data.multirater import LESION_KINDS, RATER_STYLES, SIZE, MultiRaterDataset, disagreement
from medai_edu.data.shifts import NO_SHIFT, check_kind, shift_image
from medai_edu.metrics import ncc
from medai_edu.models.segmentation import MODELS
from medai_edu.training.segmentation import weights_name

BENCHMARK_FILE = Path(pretrained.PRETRAINED_DIR) / "uncertainty_benchmark.json"
MODEL_LABELS = {"unet": "U-Net (one answer)", "prob_unet": "Probabilistic U-Net", "phiseg_l1": "PHiSeg, 1 level",
                "phiseg_l5": "PHiSeg, 5 levels"}
#: the robustness demo's largest shift of each kind (its slider goes from no shift to this)
STRONGEST_SHIFT = {"noise": 0.6, "contrast": 0.2, "blur": 3.0}
#: one word per rater ("reference", "tight", ...), from :data:`~medai_edu.data.multirater.RATER_STYLES`
RATER_NAMES = [style.split(":")[0] for style in RATER_STYLES.values()]
CLEAR = next(kind for kind, name in LESION_KINDS.items() if name == "clear")


def load_data(progress: bool = True) -> MultiRaterDataset:
    """The 300 test cases (simulated on the first run, with a progress bar; then read from disk)."""
    return MultiRaterDataset("test", progress=progress)


def pick_cases(data: MultiRaterDataset, n: int) -> list[int]:
    """The first ``n`` test cases with a clear lesion (cases in test-set order, not hand-picked)."""
    kinds = data.field("kinds")
    return [int(i) for i in np.flatnonzero(kinds == CLEAR)[:n]]


def load_models(names: tuple[str, ...] = tuple(MODELS)) -> dict[str, nn.Module]:
    """The shipped lesson-3 models by name ('unet', 'prob_unet', 'phiseg_l1', 'phiseg_l5')."""
    return {name: pretrained.load_model(weights_name(name)) for name in names}


def sample_outlines(model: nn.Module, image: np.ndarray | torch.Tensor, n: int, level: int | None = None) -> np.ndarray:
    """``n`` label maps [n, H, W] drawn by ``model`` for one image [1, H, W].

    ``level`` (PHiSeg only) draws only that latent level afresh (0 = finest), the others fixed.
    """
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None].to(next(model.parameters()).device)
    logits = model.sample(x, n) if level is None else model.sample_level(x, level, n)
    return logits[:, 0].argmax(1).cpu().numpy().astype(np.uint8)


def latent_levels(model: nn.Module) -> list[tuple[str, int | None]]:
    """Choices for the sampling widget: all levels together, then each PHiSeg level coarse to fine."""
    choices: list[tuple[str, int | None]] = [("all levels", None)]
    if hasattr(model, "latent_sizes"):
        sizes = model.latent_sizes((SIZE, SIZE))
        for level in reversed(range(len(sizes))):
            name = {0: "finest, ", len(sizes) - 1: "coarsest, "}.get(level, "") if len(sizes) > 1 else ""
            choices.append((f"only level {level + 1} ({name}{'x'.join(map(str, sizes[level]))})", level))
    return choices


class SamplePool:
    """Outlines drawn by a model, kept per (case, latent level) so that moving a slider back is instant.

    ``get`` draws ``start`` outlines the first time a (case, level) is shown; ``draw_another``
    adds one freshly drawn outline and returns the grown pool (newest last).
    """

    def __init__(self, model: nn.Module, images: np.ndarray, start: int = 12) -> None:
        self.model, self.images, self.start = model, images, start
        self.pools: dict[tuple[int, int | None], np.ndarray] = {}

    def get(self, case: int, level: int | None) -> np.ndarray:
        key = (case, level)
        if key not in self.pools:
            self.pools[key] = sample_outlines(self.model, self.images[case], self.start, level)
        return self.pools[key]

    def draw_another(self, case: int, level: int | None) -> np.ndarray:
        pool = np.concatenate([self.get(case, level), sample_outlines(self.model, self.images[case], 1, level)])
        self.pools[(case, level)] = pool
        return pool


def disagreement_scores(models: dict[str, nn.Module], images: np.ndarray, masks: np.ndarray,
                        n_samples: int) -> dict[str, float]:
    """Per model, the NCC between its samples' disagreement map and the raters', averaged over cases.

    Both maps use the same definition (:func:`~medai_edu.data.multirater.disagreement`); a model
    whose samples never differ has a constant map, which scores NCC 0.
    """
    raters = disagreement(masks)  # [cases, H, W]
    scores = {}
    for name, model in models.items():
        predicted = np.stack([disagreement(sample_outlines(model, image, n_samples)) for image in images])
        scores[name] = float(np.mean(ncc(predicted, raters, batch=True)))
    return scores


def shift(image: np.ndarray, kind: str, amount: float) -> np.ndarray:
    """``image`` under a shift of ``kind`` ('noise', 'contrast', 'blur'): ``amount`` 0 = none, 1 = the strongest."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be between 0 (no shift) and 1 (strongest), got {amount!r}.")
    check_kind(kind)
    strength = NO_SHIFT[kind] + amount * (STRONGEST_SHIFT[kind] - NO_SHIFT[kind])
    return shift_image(image, kind, strength, seed=0)


def robustness_grid(model: nn.Module, image: np.ndarray, n_samples: int, amounts: np.ndarray) -> dict[tuple[str, float], dict]:
    """For each shift kind and amount (rounded to 3 decimals): the shifted image, the model's
    sampled outlines and their disagreement map."""
    grid = {}
    for kind in STRONGEST_SHIFT:
        for amount in amounts:
            shifted = shift(image, kind, float(amount))
            samples = sample_outlines(model, shifted, n_samples)
            grid[(kind, round(float(amount), 3))] = {"image": shifted, "samples": samples, "disagreement": disagreement(samples)}
    return grid


def reference_benchmark(path: Path = BENCHMARK_FILE):
    """The shipped `medai-edu bench uncertainty` result: one row per model, columns per condition."""
    import pandas as pd

    result = read_result(path, "uncertainty")
    rows = {}
    for name, row in result["models"].items():
        scores = {(condition, label): row[condition][f"{key}_mean"] for condition in CONDITIONS
                  for key, label in (("ged", "GED²"), ("sncc", "S_NCC"), ("dice", "Dice"))}
        rows[MODEL_LABELS.get(name, name)] = {**scores, ("time", "1 sample (ms)"): row["ms_1_sample"]}
    data = result["data"]
    print(f"Benchmark on {data['n_images']} test cases, {data['n_samples']} samples each, {data['raters']} raters.")
    return pd.DataFrame.from_dict(rows, orient="index").round(3)
