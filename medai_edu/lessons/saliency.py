"""Lesson 1 (saliency maps versus VA-GAN): the steps the notebook calls, one function each."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from medai_edu import attribution, pretrained
from medai_edu.benchmarks.common import read_result
from medai_edu.data.toy import ToyBoxDataset, load_arrays, make_sample, split_indices, subtype_of
from medai_edu.metrics import ncc, ncc_summary
from medai_edu.training.classifier import evaluate_accuracy
from medai_edu.viz import METHOD_LABELS

N_TEST = 500  # test images for the accuracy shown in the lesson (the benchmark uses all 2,000)
LECTURE_IG_STEPS, QUICK_IG_STEPS = 32, 8  # the benchmark uses the original 100
BENCHMARK_FILE = Path(pretrained.PRETRAINED_DIR) / "toy_benchmark.json"


class Cases(NamedTuple):
    images: np.ndarray  # [N, H, W] in [-1, 1]
    masks: np.ndarray  # [N, H, W], 1 = disease pixel
    titles: list[str]


def _cases(indices: list[int], titles: list[str]) -> Cases:
    images, _, masks = load_arrays(indices)
    return Cases(images[:, 0], masks[:, 0], titles)


def examples() -> Cases:
    """One healthy image and one of each diseased subtype, from the test split."""
    test = split_indices("test")
    picks = [int(next(i for i in test if subtype_of(int(i)) == k)) for k in (0, 1, 2)]
    return _cases(picks, ["healthy", "diseased, subtype A", "diseased, subtype B"])


def diseased_cases(n: int) -> Cases:
    """The first ``n`` diseased test images (both subtypes alternate)."""
    data = ToyBoxDataset("test", only_label=1)
    n = min(int(n), len(data))
    return _cases([int(i) for i in data.indices[:n]], [f"test image {i}" for i in range(n)])


def load_classifier() -> nn.Module:
    return pretrained.load_model("toy_classifier")


def load_generator() -> nn.Module:
    return pretrained.load_model("toy_vagan")


def classifier_accuracy(classifier: nn.Module, n: int = N_TEST) -> float:
    """Accuracy on the first ``n`` test images (healthy and diseased)."""
    return evaluate_accuracy(classifier, ToyBoxDataset("test"), limit=n)


def saliency_maps(classifier: nn.Module, images: np.ndarray, quick: bool = False) -> dict[str, np.ndarray]:
    """Every saliency method's map ``[N, H, W]`` for class "diseased"."""
    steps = QUICK_IG_STEPS if quick else LECTURE_IG_STEPS
    maps = attribution.attribute_all(
        classifier, None, torch.from_numpy(images)[:, None], options={"integrated_gradients": {"steps": steps}}
    )
    return {name: m.numpy() for name, m in maps.items()}


def vagan_maps(generator: nn.Module, images: np.ndarray) -> np.ndarray:
    """VA-GAN's disease effect ``-M(x)`` ``[N, H, W]``."""
    return attribution.make("vagan", generator).attribute(torch.from_numpy(images)[:, None]).numpy()


def score_maps(maps: dict[str, np.ndarray], masks: np.ndarray) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of the NCC with the ground truth, per method."""
    rows = {}
    for name, m in maps.items():
        values = ncc(m, masks, batch=True)
        rows[name] = ncc_summary(values)
    return rows


@torch.no_grad()
def evidence_experiment(classifier: nn.Module, n: int = 8):
    """Probability of "diseased" when diseased test images are repainted with fewer lesions."""
    import pandas as pd

    variants = {"both lesions": ("centre", "corner"), "centre only": ("centre",), "corner only": ("corner",), "no lesion": ()}
    indices = ToyBoxDataset("test", only_label=1).indices[:n]
    rows = {}
    for name, boxes in variants.items():
        images = np.stack([make_sample(int(i), boxes=boxes).image for i in indices])[:, None]
        probability = torch.softmax(classifier(torch.from_numpy(images)), dim=1)[:, 1].numpy()
        rows[name] = {"mean P(diseased)": probability.mean(), "called diseased": f"{(probability > 0.5).sum()} of {len(indices)}"}
    return pd.DataFrame(rows).T


def reference_benchmark(path: Path = BENCHMARK_FILE):
    """A shipped benchmark result (`medai-edu bench toy|brain --json PATH`) as a table of NCC per method."""
    import pandas as pd

    result = read_result(path, path.stem.split("_")[0])
    table = pd.DataFrame(result["methods"]).T[["ncc_mean", "ncc_std", "seconds_per_image"]]
    table.index = [METHOD_LABELS.get(name, name) for name in table.index]
    table.columns = ["NCC mean", "NCC std", "seconds per image"]
    print(f"Benchmark on {result['data']['n_images']} diseased test cases; classifier accuracy "
          f"{result['classifier']['test_accuracy']:.1%} on {result['classifier']['n_test']} test cases.")
    return table.sort_values("NCC mean", ascending=False).round(3)



def train_small_vagan(steps: int, quick: bool = False):
    """Train VA-GAN's "quick" preset (56 x 56 images) for ``steps`` generator steps.

    Returns (generator, a one-row table with the training time and the NCC on 200 diseased
    test images); ``steps=0`` only explains how to start it. ``quick`` (automatic checks) also
    shrinks the critic's warm-up and the evaluation, just to show that the code runs.
    """
    import dataclasses

    import pandas as pd

    from medai_edu.training.vagan import PRESETS, VAGANConfig, evaluate_ncc, train_vagan

    if steps <= 0:
        print("Skipped. Set TRAIN_STEPS = 60 in the parameters cell at the top and run this cell again "
              "to train your own VA-GAN (about 4 to 5 minutes on 2 CPU cores).")
        return None, None
    config = dataclasses.replace(VAGANConfig(**PRESETS["quick"]), gen_steps=int(steps))
    if quick:
        config = dataclasses.replace(config, warmup_critic_steps=1, critic_steps=1, n_val=8, val_every=1, select_after=0)
    generator, history = train_vagan(config, progress=True)
    test = ToyBoxDataset("test", size=config.size, only_label=1)
    scores = evaluate_ncc(generator, test, limit=16 if quick else 200)
    row = {"generator steps": steps, "minutes": round(history["seconds"] / 60, 1),
           "NCC mean": round(scores["ncc_mean"], 3), "NCC std": round(scores["ncc_std"], 3),
           "test images": scores["n_images"]}
    return generator, pd.DataFrame([row], index=["your VA-GAN"])
