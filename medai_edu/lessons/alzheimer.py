"""Lesson 2 (Alzheimer's disease maps): the steps the notebook calls, one function each."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from torch import nn

from medai_edu import attribution, claims, results, viz
from medai_edu.checks import Choice, Estimate
from medai_edu.data import get_dataset
from medai_edu.data.brain import OCCLUSION_PATCH, simulate
from medai_edu.data.brain import hippocampus_window as close_up  # the notebook's close-up
from medai_edu.data.brain_reference import BrainReference, load_reference
from medai_edu.lessons.saliency import LECTURE_IG_STEPS, QUICK_IG_STEPS
from medai_edu.lessons.saliency import reference_benchmark as _reference_benchmark
from medai_edu.measurements import MEASUREMENTS_DIR
from medai_edu.metrics import ncc, ncc_summary
from medai_edu.training.classifier import classifier_scores

__all__ = [
    "PIXEL_AREA_MM2",
    "SEVERITIES",
    "close_up",
    "load_data",
    "reference",
    "load_classifier",
    "load_generator",
    "classifier_summary",
    "ad_cases",
    "all_maps",
    "score_maps",
    "at_severity",
    "show_subject",
    "hippocampus_masks",
    "reference_benchmark",
    "QUESTIONS",
    "ANSWERS",
]

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

BENCHMARK_FILE = MEASUREMENTS_DIR / "brain_benchmark.json"
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

    load_cohort(LECTURE, progress)


def reference() -> BrainReference:
    """The template slice and its atlas labels."""
    return load_reference(2)


def load_classifier() -> results.LazyModel:
    """The shipped classifier, loaded when it first computes something live."""
    return results.LazyModel("brain_classifier")


def load_generator() -> results.LazyModel:
    """The shipped VA-GAN generator, loaded when it first computes something live."""
    return results.LazyModel("brain_vagan")


@results.computed_once("medai_edu.training.classifier")
def classifier_summary(classifier: nn.Module) -> dict[str, float]:
    """Accuracy and ROC AUC on the test subjects (MCI and AD)."""
    return classifier_scores(classifier, get_dataset("brain", "test"), next(classifier.parameters()).device)


def ad_cases(n: int) -> ADCases:
    """The first ``n`` AD test subjects."""
    data = get_dataset("brain", "test", only_label=1, limit=n)
    return ADCases(
        data.field("images")[:, 0],
        data.field("effects")[:, 0],
        data.field("hippocampus"),
        data.severities,
        data.indices,
    )


@results.computed_once()
def all_maps(
    classifier: nn.Module, generator: nn.Module, images: np.ndarray, quick: bool = False, progress: bool = True
) -> dict[str, np.ndarray]:
    """Every method's map ``[N, H, W]`` for class "AD" (VA-GAN: the disease effect); a progress bar counts the subjects."""
    from tqdm.auto import tqdm

    options = {
        "integrated_gradients": {"steps": QUICK_IG_STEPS if quick else LECTURE_IG_STEPS},
        "occlusion": {"patch": OCCLUSION_PATCH},
    }
    parts: dict[str, list[np.ndarray]] = {}
    for i in tqdm(range(len(images)), desc="maps", unit="subject", disable=not progress):
        maps = attribution.attribute_all(
            classifier, generator, torch.from_numpy(images[i : i + 1])[:, None], options=options
        )
        for name, m in maps.items():
            parts.setdefault(name, []).append(m.numpy())
    return {name: np.concatenate(m) for name, m in parts.items()}


def score_maps(maps: dict[str, np.ndarray], effects: np.ndarray) -> dict[str, dict[str, float]]:
    """NCC with the true effect per method (VA-GAN signed; saliency against the effect's size)."""
    return {
        name: ncc_summary(ncc(m, attribution.compared_with(name, torch.from_numpy(effects)), batch=True))
        for name, m in maps.items()
    }


@results.computed_once()
def at_severity(generator: nn.Module, index: int, severity: float) -> dict[str, np.ndarray | float]:
    """Subject ``index`` of the cohort re-simulated at ``severity``, with VA-GAN's map of it."""
    subject = simulate(index, severity)
    vagan = attribution.make("vagan", generator).attribute(torch.from_numpy(subject.image)[None, None])[0].numpy()
    return dict(
        image=subject.image,
        effect=subject.effect,
        vagan_map=vagan,
        hippocampus=subject.hippocampus,
        ventricles=subject.ventricles,
        severity=float(severity),
        volume_change=hippocampal_change(index, severity),
    )


def show_subject(generator: nn.Module, index: int, severity: float) -> Figure:
    """Figure 2's panels for subject ``index`` at ``severity`` (0 = no Alzheimer's change)."""
    return viz.plot_severity(**at_severity(generator, index, severity))


def hippocampal_change(index: int, severity: float) -> float:
    """The subject's hippocampal area change on the slice at ``severity``, in percent (the explorer's title)."""
    subject = simulate(index, severity)
    return float(100 * (subject.hippocampus.sum() / subject.hippocampus_without.sum() - 1))


def hippocampus_masks(index: int, severity: float) -> tuple[np.ndarray, np.ndarray]:
    """(mask with the disease, mask of the same subject without it) for the volume exercise."""
    subject = simulate(index, severity)
    return subject.hippocampus > 0.5, subject.hippocampus_without > 0.5


#: the notebook's N_SUBJECTS in lecture and in quick mode (what the results cache stores)
NOTEBOOK_SUBJECTS = {False: 8, True: 2}
#: the severity explorer's slider positions (from no disease to 1.5 in steps of 0.05)
SEVERITIES = [round(0.05 * k, 2) for k in range(31)]


@results.recipe("lesson 2: Alzheimer maps")
def notebook_results(quick: bool) -> None:
    """What the notebook computes (lecture or quick mode), with every state of the severity explorer in
    lecture mode: stored by `medai-edu cache build`."""
    load_data(progress=False)
    classifier, generator = load_classifier(), load_generator()
    cases = ad_cases(NOTEBOOK_SUBJECTS[quick])
    for index in cases.indices:
        for severity in SEVERITIES if not quick else [0.8]:
            at_severity(generator, int(index), severity)
    classifier_summary(classifier)
    all_maps(classifier, generator, cases.images, quick=quick)


def reference_benchmark() -> pd.DataFrame:
    """The shipped result of `medai-edu bench brain` as a table (NCC per method)."""
    return _reference_benchmark(BENCHMARK_FILE)


def _first_subject() -> int:
    return int(ad_cases(1).indices[0])


#: The core questions of the lesson (no programming): the right answers and the explanations live
#: here, never in a notebook cell or an error message.
QUESTIONS = {
    "severity_zero": Choice(
        "answer_severity_zero",
        "B",
        {
            "A": "The true effect is empty at severity 0, but VA-GAN's map is not: it sees only the scan, never the "
            "person's scan without the disease, so it marks what looks 'more AD than MCI' in this anatomy.",
            "B": "At severity 0 the simulation adds no change, so the true effect is empty; VA-GAN sees only the scan "
            "and still marks a little where this person's anatomy (for example large ventricles) looks like AD. A "
            "map is an estimate from one scan, not a measurement of change.",
            "C": "At severity 0 the simulation adds no Alzheimer's change at all, so the true effect is empty.",
        },
    ),
    "hippocampus": Estimate(
        "read_hippocampal_change",
        -38,
        -34,
        unit="%",
        limits=(-100, 100),
        why="Set the explorer of Section 2 to the first subject and severity 1.00 and read the scan panel's title: "
        "the hippocampus lost about a third of its area on this slice, which the MTA scale sees as a wider "
        "temporal horn and choroidal fissure.",
        mistakes={
            36: "A loss is a negative change: write the number with its minus sign, as the title shows it.",
            -30: "That is the change at the explorer's starting severity, 0.80. Move the severity slider to 1.00.",
        },
    ),
    "map": Choice(
        "answer_map",
        "A",
        {
            "A": "Fluid is dark on T1-weighted MRI: where the ventricles are larger, dark CSF takes the place of brighter "
            "tissue at their edges, so the map is blue (darker with the disease) there. One scan per person shows "
            "larger ventricles than an MCI scan would have, not that they grew: enlargement over time needs two scans "
            "of the same person.",
            "B": "Shrinking ventricles would put brighter tissue where dark fluid was, and the map would be red "
            "(brighter with the disease) there, not blue.",
            "C": "A VA-GAN map is not the classifier's evidence: it shows how the scan must change to look like the "
            "other group. And what a classifier looks at is not proof of where the disease is.",
        },
    ),
}


def _severity_zero_answer() -> str:
    """The letter the data support for "severity 0": B when the true effect is empty and VA-GAN's map is not."""
    generator, index = load_generator(), _first_subject()
    zero, full = at_severity(generator, index, 0.0), at_severity(generator, index, 1.0)
    vagan_zero, vagan_full = np.abs(zero["vagan_map"]).max(), np.abs(full["vagan_map"]).max()
    if np.abs(zero["effect"]).max() > 0:
        return "C"
    return "B" if vagan_zero > 0.1 * vagan_full else "A"


#: where the right answers come from (a test checks each against its question: a number in its range,
#: a letter equal to the right one)
ANSWERS = {
    "severity_zero": claims.Computed(_severity_zero_answer, "true effect and VA-GAN's map at severity 0 vs 1"),
    "hippocampus": claims.Computed(
        lambda: hippocampal_change(_first_subject(), 1.0), "first AD test subject's hippocampal change at severity 1"
    ),
}
