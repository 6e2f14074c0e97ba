"""Lesson 2 (Alzheimer's disease maps): the steps the notebook calls, one function each."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from medai_edu import attribution, pretrained
from medai_edu.benchmarks.brain import OCCLUSION_PATCH, classifier_scores, compared_with
from medai_edu.data import get_dataset
from medai_edu.data.brain import hippocampus_window as close_up  # noqa: F401 (the notebook's close-up)
from medai_edu.data.brain import simulate
from medai_edu.data.brain_reference import load_reference
from medai_edu.lessons.saliency import LECTURE_IG_STEPS, QUICK_IG_STEPS
from medai_edu.lessons.saliency import reference_benchmark as _reference_benchmark
from medai_edu.metrics import ncc, ncc_summary

BENCHMARK_FILE = Path(pretrained.PRETRAINED_DIR) / "brain_benchmark.json"
PIXEL_AREA_MM2 = 4.0  # 2 mm x 2 mm pixels


class ADCases(NamedTuple):
    """AD test subjects: arrays of shape [N, H, W] and one value per subject."""

    images: np.ndarray
    effects: np.ndarray  # true disease effect (image minus the same subject without AD)
    hippocampus: np.ndarray  # hippocampus mask in the subject's anatomy
    severities: np.ndarray
    indices: np.ndarray  # subject numbers in the cohort


def load_data(progress: bool = True) -> None:
    """Build (first time, with a progress bar) or read the lecture cohort from the cache."""
    from medai_edu.data.brain import LECTURE, load_cohort

    load_cohort(LECTURE, progress)  # positional, as BrainDataset calls it: one read, one copy in memory


def reference():
    """The template slice and its atlas labels."""
    return load_reference(2)


def load_classifier() -> nn.Module:
    return pretrained.load_model("brain_classifier")


def load_generator() -> nn.Module:
    return pretrained.load_model("brain_vagan")


def classifier_summary(classifier: nn.Module) -> dict[str, float]:
    """Accuracy and ROC AUC on the test subjects (MCI and AD)."""
    return classifier_scores(classifier, get_dataset("brain", "test"), next(classifier.parameters()).device)


def ad_cases(n: int) -> ADCases:
    """The first ``n`` AD test subjects."""
    data = get_dataset("brain", "test", only_label=1, limit=n)
    return ADCases(data.field("images")[:, 0], data.field("effects")[:, 0], data.field("hippocampus"), data.severities, data.indices)


def all_maps(classifier: nn.Module, generator: nn.Module, images: np.ndarray, quick: bool = False,
             progress: bool = True) -> dict[str, np.ndarray]:
    """Every method's map ``[N, H, W]`` for class "AD" (VA-GAN: the disease effect); a progress bar counts the subjects."""
    from tqdm.auto import tqdm

    options = {"integrated_gradients": {"steps": QUICK_IG_STEPS if quick else LECTURE_IG_STEPS},
               "occlusion": {"patch": OCCLUSION_PATCH}}
    parts: dict[str, list[np.ndarray]] = {}
    for i in tqdm(range(len(images)), desc="maps", unit="subject", disable=not progress):
        maps = attribution.attribute_all(classifier, generator, torch.from_numpy(images[i : i + 1])[:, None], options=options)
        for name, m in maps.items():
            parts.setdefault(name, []).append(m.numpy())
    return {name: np.concatenate(m) for name, m in parts.items()}


def score_maps(maps: dict[str, np.ndarray], effects: np.ndarray) -> dict[str, dict[str, float]]:
    """NCC with the true effect per method (VA-GAN signed; saliency against the effect's size)."""
    return {name: ncc_summary(ncc(m, compared_with(name, torch.from_numpy(effects)), batch=True)) for name, m in maps.items()}


def at_severity(generator: nn.Module, index: int, severity: float) -> dict[str, np.ndarray | float]:
    """Subject ``index`` of the cohort re-simulated at ``severity``, with VA-GAN's map of it."""
    subject = simulate(index, severity)
    vagan = attribution.make("vagan", generator).attribute(torch.from_numpy(subject.image)[None, None])[0].numpy()
    change = 100 * (subject.hippocampus.sum() / subject.hippocampus_without.sum() - 1)
    return dict(image=subject.image, effect=subject.effect, vagan_map=vagan, hippocampus=subject.hippocampus,
                ventricles=subject.ventricles, severity=float(severity), volume_change=float(change))


def hippocampus_masks(index: int, severity: float) -> tuple[np.ndarray, np.ndarray]:
    """(mask with the disease, mask of the same subject without it) for the volume exercise."""
    subject = simulate(index, severity)
    return subject.hippocampus > 0.5, subject.hippocampus_without > 0.5


def reference_benchmark():
    """The shipped result of `medai-edu bench brain` as a table (NCC per method)."""
    return _reference_benchmark(BENCHMARK_FILE)
