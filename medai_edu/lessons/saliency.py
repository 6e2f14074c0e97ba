"""Lesson 1 (saliency maps versus VA-GAN): the steps the notebook calls, one function each.

``CLAIMS`` (at the end) lists every quantitative or comparative sentence of the lesson with the
measurement behind it (design §5b); ``tests/test_claims.py`` checks that each still holds and
stands in the notebook as measured.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from medai_edu import attribution, claims, pretrained, results
from medai_edu.checks import Choice, Estimate
from medai_edu.data.toy import ToyBoxDataset, load_arrays, make_sample, split_indices, subtype_of
from medai_edu.measurements import MEASUREMENTS_DIR
from medai_edu.metrics import ncc, ncc_summary
from medai_edu.viz import METHOD_LABELS

__all__ = [
    "N_TEST",
    "LECTURE_IG_STEPS",
    "QUICK_IG_STEPS",
    "BENCHMARK_FILE",
    "MEASURED",
    "examples",
    "diseased_cases",
    "lesion_masks",
    "load_classifier",
    "load_generator",
    "classifier_accuracy",
    "saliency_maps",
    "vagan_maps",
    "score_maps",
    "evidence_experiment",
    "percent_called",
    "reference_benchmark",
    "train_small_vagan",
    "describe_small_run",
    "QUESTIONS",
    "ANSWERS",
    "CLAIMS",
]

if TYPE_CHECKING:
    import pandas as pd

    from medai_edu.models.vagan import MapGenerator
    from medai_edu.training.vagan import VAGANConfig

N_TEST = 500  # test images for the accuracy shown in the lesson (the benchmark uses all 2,000)
LECTURE_IG_STEPS, QUICK_IG_STEPS = 32, 8  # the benchmark uses the original 100
N_LECTURE_IMAGES = 8  # the notebook's N_IMAGES in lecture mode (the claims about its figures use it)
TOP_FRACTION = 0.05  # share of pixels outlined in Figure 2
BENCHMARK_FILE = MEASUREMENTS_DIR / "toy_benchmark.json"
BENCHMARK, MANIFEST = "toy_benchmark.json", "toy_vagan.json"

#: Wall-clock times of lecture-mode cells, measured by hand on the course's development machine
#: (2 CPU cores, shared with other workers; "load" = the mean 1-minute load average during the
#: cell, sampled every 30 s). The notebook's text quotes them through CLAIMS; measure again after
#: changing a cell's work. Training cell (2026-12-01, `train_small_vagan(60)`): 2,261 s at load
#: 4.0-6.9 (mean 6.0), test NCC 0.704 +- 0.115; its 25 warm-up steps took 73 s each there, while
#: the first 3 warm-up steps of an earlier, interrupted run at load 0.5-1.0 took 9.4 s each.
MEASURED = {
    "train_cell_minutes": 2260.9 / 60,
    "train_cell_load": 6.0,
    "train_warmup_step_idle": 9.4,
    "train_warmup_step_busy": 73.0,
    # lecture-mode run of the whole notebook (papermill, TRAIN_STEPS = 0; 2026-12-01): 96 s in all at
    # load 4.0-5.3 (mean 4.8, sampled every 10 s); every other cell took under 5 s
    "accuracy_cell_seconds": 12.5,
    "saliency_cell_seconds": 67.9,
    "cells_load": 4.8,
}


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


def load_classifier() -> results.LazyModel:
    """The shipped classifier, loaded when it first computes something live."""
    return results.LazyModel("toy_classifier")


def load_generator() -> results.LazyModel:
    """The shipped VA-GAN generator, loaded when it first computes something live."""
    return results.LazyModel("toy_vagan")


@results.computed_once()
def classifier_accuracy(classifier: nn.Module, n: int = N_TEST, progress: bool = True) -> float:
    """Accuracy on the first ``n`` test images (healthy and diseased), with a progress bar."""
    from medai_edu.training.common import batched

    data = ToyBoxDataset("test", limit=n)
    was_training, correct = classifier.training, 0
    classifier.eval()
    with torch.no_grad():
        for images, labels, _ in tqdm(list(batched(data, 50)), desc="classifying test images", disable=not progress):
            correct += int((classifier(images).argmax(1) == labels).sum())
    classifier.train(was_training)
    return correct / len(data)


@results.computed_once()
def saliency_maps(
    classifier: nn.Module, images: np.ndarray, quick: bool = False, progress: bool = True
) -> dict[str, np.ndarray]:
    """Every saliency method's map ``[N, H, W]`` for class "diseased" (a progress bar counts the images)."""
    steps = QUICK_IG_STEPS if quick else LECTURE_IG_STEPS
    options = {"integrated_gradients": {"steps": steps}}
    parts: dict[str, list[np.ndarray]] = {}
    for i in tqdm(range(len(images)), desc="saliency maps", unit="image", disable=not progress):
        maps = attribution.attribute_all(
            classifier, None, torch.from_numpy(images[i : i + 1])[:, None], options=options
        )
        for name, m in maps.items():
            parts.setdefault(name, []).append(m.numpy())
    return {name: np.concatenate(m) for name, m in parts.items()}


@results.computed_once()
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


@results.computed_once()
@torch.no_grad()
def evidence_experiment(classifier: nn.Module, n: int = 8) -> pd.DataFrame:
    """Probability of "diseased" when diseased test images are repainted with fewer lesions."""
    import pandas as pd

    variants = {
        "both lesions": ("centre", "corner"),
        "centre only": ("centre",),
        "corner only": ("corner",),
        "no lesion": (),
    }
    indices = ToyBoxDataset("test", only_label=1).indices[:n]
    rows = {}
    for name, boxes in variants.items():
        images = np.stack([make_sample(int(i), boxes=boxes).image for i in indices])[:, None]
        probability = torch.softmax(classifier(torch.from_numpy(images)), dim=1)[:, 1].numpy()
        rows[name] = {
            "mean probability of 'diseased'": probability.mean(),
            "called diseased": f"{(probability > 0.5).sum()} of {len(indices)}",
            "called diseased (%)": round(100 * float((probability > 0.5).mean()), 1),
        }
    return pd.DataFrame(rows).T.rename_axis("Image shows")


def percent_called(table: pd.DataFrame, variant: str) -> float:
    """From :func:`evidence_experiment`'s table: the percentage of ``variant`` images called diseased."""
    return float(table.loc[variant, "called diseased (%)"])


def reference_benchmark(path: Path = BENCHMARK_FILE) -> pd.DataFrame:
    """A shipped benchmark result (`medai-edu bench toy|brain --json PATH`) as a table of NCC per method.

    When the result has a final test set (made afterwards, from a seed the course's development never
    used), its NCC stands beside the first test set's.
    """
    import pandas as pd

    result = pretrained.read_result(path, path.stem.split("_")[0])
    table = pd.DataFrame(result["methods"]).T[["ncc_mean", "ncc_std", "seconds_per_image"]]
    table.columns = ["NCC mean", "NCC std", "seconds per image"]
    final = result.get("final_test")
    if final:
        other = pd.DataFrame(final["methods"]).T[["ncc_mean", "ncc_std"]]
        table["final test NCC mean"], table["final test NCC std"] = other["ncc_mean"], other["ncc_std"]
    table.index = [METHOD_LABELS.get(name, name) for name in table.index]
    print(
        f"Benchmark on {result['data']['n_images']} diseased test cases; classifier accuracy "
        f"{result['classifier']['test_accuracy']:.1%} on {result['classifier']['n_test']} test cases."
    )
    if final:
        print(
            f"Final test set (made afterwards from seed {final['data']['data_seed']}): "
            f"{final['data']['n_images']} diseased cases; classifier accuracy "
            f"{final['classifier']['test_accuracy']:.1%} on {final['classifier']['n_test']} cases."
        )
    return table.sort_values("NCC mean", ascending=False).round(3).rename_axis("Method")


def _small_config(steps: int, quick: bool = False) -> VAGANConfig:
    """The train-it-yourself run: VA-GAN's "quick" preset for ``steps`` generator steps (``quick``: tiny)."""
    import dataclasses

    from medai_edu.training.vagan import PRESETS, VAGANConfig

    config = dataclasses.replace(VAGANConfig(**PRESETS["quick"]), gen_steps=int(steps))
    if quick:
        config = dataclasses.replace(
            config, warmup_critic_steps=1, critic_steps=1, n_val=8, val_every=1, select_after=0
        )
    return config


def train_small_vagan(
    steps: int, quick: bool = False, progress: bool = True
) -> tuple[MapGenerator | None, pd.DataFrame | None]:
    """Train VA-GAN's "quick" preset (56 x 56 images) for ``steps`` generator steps.

    Returns (generator, a one-row table with the training time and the NCC on 200 diseased
    test images); ``steps=0`` only explains how to start it. ``quick`` (automatic checks) also
    shrinks the critic's warm-up and the evaluation, just to show that the code runs.
    """
    import pandas as pd

    from medai_edu.training.vagan import evaluate_ncc, train_vagan

    if steps <= 0:
        minutes = MEASURED["train_cell_minutes"]
        idle = minutes * MEASURED["train_warmup_step_idle"] / MEASURED["train_warmup_step_busy"]
        print(
            "Skipped. Set TRAIN_STEPS = 60 in the parameters cell at the top and run this cell again "
            f"to train your own VA-GAN (it took {minutes:.0f} minutes in our measurement on 2 CPU cores "
            f"shared with other busy work; about {idle:.0f} minutes on an idle machine, estimated)."
        )
        return None, None
    config = _small_config(steps, quick=quick)
    generator, history = train_vagan(config, progress=progress)
    test = ToyBoxDataset("test", size=config.size, only_label=1)
    scores = evaluate_ncc(generator, test, limit=16 if quick else 200)
    describe_small_run(scores["ncc_mean"], scores["n_images"], history, steps)
    row = {
        "generator steps": steps,
        "minutes": round(history["seconds"] / 60, 1),
        "NCC mean": round(scores["ncc_mean"], 3),
        "NCC std": round(scores["ncc_std"], 3),
        "test images": scores["n_images"],
    }
    return generator, pd.DataFrame([row], index=["your VA-GAN"])


def describe_small_run(ncc_mean: float, n_images: int, history: dict, steps: int = 60) -> None:
    """Print what the student's own training run reached, each comparison decided by its numbers."""
    best, shipped = _best_saliency(), claims.Field(BENCHMARK, "methods.vagan.ncc_mean").read()
    course_steps = claims.Field(MANIFEST, "training.gen_steps").read()
    print(f"Your VA-GAN's maps: NCC {ncc_mean:.3f} on {n_images} diseased test images.")
    claims.say(
        "That is higher than the best saliency method's NCC in the benchmark ({best:.3f}): your short run already "
        "matches the whole disease better than any saliency map did.",
        "That is not yet as high as the best saliency method's NCC in the benchmark ({best:.3f}): {steps} steps are "
        "a start, not a trained model.",
        ncc_mean > best,
        best=best,
        steps=steps,
    )
    print(f"The course's generator, trained for {course_steps:,} steps on full-size images, reaches {shipped:.3f}.")
    w, n = history["val_wasserstein"], history["val_ncc"]
    if len(w) >= 2:
        claims.say(
            "While it trained, W_val went up from {w0:.2f} to {w1:.2f} and ncc_val from {n0:.2f} to {n1:.2f}: "
            "the critic was still learning, so W_val says little about the maps.",
            "While it trained, W_val went from {w0:.2f} to {w1:.2f} and ncc_val from {n0:.2f} to {n1:.2f}.",
            w[-1] > w[0],
            w0=w[0],
            w1=w[-1],
            n0=n[0],
            n1=n[-1],
        )


@results.recipe("lesson 1: saliency vs attribution")
def notebook_results(quick: bool) -> None:
    """What the notebook computes, as it does (lecture or quick mode): stored by `medai-edu cache build`."""
    n_images = 3 if quick else N_LECTURE_IMAGES
    classifier = load_classifier()
    classifier_accuracy(classifier)
    cases = diseased_cases(n_images)
    saliency_maps(classifier, cases.images, quick=quick)
    evidence_experiment(classifier, n=n_images)
    vagan_maps(load_generator(), cases.images)


# --- what the lesson's figures and tables show, measured (for CLAIMS) --------------------------


@lru_cache(maxsize=1)
def _lecture_maps() -> tuple[Cases, dict[str, np.ndarray]]:
    """The lecture-mode cases and every method's maps on them, as the notebook computes them."""
    torch.manual_seed(0)
    cases = diseased_cases(N_LECTURE_IMAGES)
    maps = saliency_maps(load_classifier(), cases.images, progress=False)
    return cases, {**maps, "vagan": vagan_maps(load_generator(), cases.images)}


def lesion_masks(case: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(centre lesion, corner lesion) masks of the ``case``-th diseased test image."""
    index = int(ToyBoxDataset("test", only_label=1).indices[case])
    centre = make_sample(index, boxes=("centre",)).mask
    return centre, make_sample(index).mask - centre


@lru_cache(maxsize=1)
def figure2_top_pixels() -> dict[str, float]:
    """Figure 2: share of the occlusion map's outlined (top 5 %) pixels of the first image that lie
    within half an occlusion patch of the centre lesion, and of the corner lesion."""
    from scipy.ndimage import binary_dilation

    _, maps = _lecture_maps()
    m = maps["occlusion"][0]
    top = m >= np.quantile(m, 1 - TOP_FRACTION)
    near = attribution.TOY_OCCLUSION_PATCH // 2
    centre, corner = (binary_dilation(lesion > 0, iterations=near) for lesion in lesion_masks(0))
    return {"centre": float((top & centre).sum() / top.sum()), "corner": float((top & corner).sum() / top.sum())}


@lru_cache(maxsize=1)
def figure3_effect() -> dict[str, float]:
    """Figure 3: VA-GAN's mean disease effect on each lesion of the first image and its mean size elsewhere."""
    _, maps = _lecture_maps()
    effect = maps["vagan"][0]
    centre, corner = lesion_masks(0)
    outside = (centre + corner) == 0
    return {
        "centre": float(effect[centre > 0].mean()),
        "corner": float(effect[corner > 0].mean()),
        "outside": float(np.abs(effect[outside]).mean()),
    }


@lru_cache(maxsize=1)
def figure4_scores() -> dict[str, float]:
    """Figure 4: VA-GAN's and the best saliency method's mean NCC on the lecture's images."""
    cases, maps = _lecture_maps()
    scores = score_maps(maps, cases.masks)
    return {
        "vagan": scores["vagan"]["ncc_mean"],
        "best_saliency": max(v["ncc_mean"] for k, v in scores.items() if k != "vagan"),
    }


@lru_cache(maxsize=1)
def evidence_counts() -> dict[str, float]:
    """Section 4's table in lecture mode: how often each repainted image is called diseased."""
    table = evidence_experiment(load_classifier(), n=N_LECTURE_IMAGES)
    called = {k: int(v.split(" of ")[0]) for k, v in table["called diseased"].items()}
    return {
        "centre_called": called["centre only"],
        "corner_called": called["corner only"],
        "centre_p": float(table.loc["centre only", "mean probability of 'diseased'"]),
        "corner_p": float(table.loc["corner only", "mean probability of 'diseased'"]),
    }


def _history_after_selection_start() -> tuple[list[int], list[float]]:
    """The shipped VA-GAN run's validated steps (from ``select_after`` on) and their validation NCC."""
    manifest = claims.Field(MANIFEST, "metrics.history").read()
    start = claims.Field(MANIFEST, "training.select_after").read()
    keep = [i for i, step in enumerate(manifest["step"]) if step >= start]
    return [manifest["step"][i] for i in keep], [manifest["val_ncc"][i] for i in keep]


def _turns(values: list[float]) -> int:
    """How often a sequence changes direction (up -> down or down -> up)."""
    steps = np.sign(np.diff(values))
    return int((steps[1:] * steps[:-1] < 0).sum())


def _best_saliency(prefix: str = "") -> float:
    methods = claims.Field(BENCHMARK, f"{prefix}methods").read()
    return max(row["ncc_mean"] for name, row in methods.items() if name != "vagan")


#: lesson 1's ranking sentence: (placeholder, method), best saliency method first, VA-GAN last
_RANKED = (
    ("ig", "integrated_gradients"),
    ("occ", "occlusion"),
    ("gb", "guided_backprop"),
    ("vg", "vanilla_gradient"),
    ("gc", "grad_cam"),
    ("vagan", "vagan"),
)


def _ranking(prefix: str = "") -> tuple[str, ...]:
    methods = claims.Field(BENCHMARK, f"{prefix}methods").read()
    return tuple(sorted(methods, key=lambda name: -methods[name]["ncc_mean"]))


def _measured(key: str, what: str) -> claims.Computed:
    return claims.Computed(
        lambda: MEASURED[key], f"{what} (MEASURED[{key!r}] in medai_edu/lessons/saliency.py, by hand)"
    )


_F = claims.Field
_LINK = "../00_welcome/glossary.md#"
_INT = "{}"


class _ThreeDecimals(Mapping[str, str]):
    """Formats for benchmark NCC values: three decimals, as in the benchmark table, unless ``given``."""

    def __init__(self, **given: str) -> None:
        self._given = given

    def __getitem__(self, key: str) -> str:
        return self._given.get(key, "{:.3f}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._given)

    def __len__(self) -> int:
        return len(self._given)


_NCC = _ThreeDecimals()
#: how many times the best saliency method's NCC VA-GAN's is, the smaller of the two test sets ("far higher")
_VAGAN_OVER_BEST = claims.Computed(
    lambda: min(
        _F(BENCHMARK, "methods.vagan.ncc_mean").read() / _best_saliency(),
        _F(BENCHMARK, "final_test.methods.vagan.ncc_mean").read() / _best_saliency("final_test."),
    ),
    "VA-GAN's NCC over the best saliency method's, the smaller of the two test sets",
)

#: Every quantitative or comparative sentence of lesson 1, with the measurement behind it.
CLAIMS: list[claims.Claim] = [
    claims.Claim(
        "classifier_training_images",
        "It was [trained](" + _LINK + "training) on {n_train} images and comes with the course (to retrain it, type "
        "`medai-edu train classifier` in a terminal: in JupyterLab, *File → New → Terminal*).",
        {"n_train": claims.Computed(lambda: len(ToyBoxDataset("train")), "images in the toy data's training split")},
        lambda v: v["n_train"] > 0,
        {"n_train": "{:,}"},
    ),
    claims.Claim(
        "classifier_always_right",
        "On all {n_test} images of its [test set]("
        + _LINK
        + "test-set) (images kept apart from training, which we used while building the course) it was right {accuracy} "
        "of the time, and {final_accuracy} on the {final_n} images of a *final* test set, made afterwards from a "
        "different random [seed](" + _LINK + "seed), so that no choice made while building the course could be "
        "tuned to it.",
        {
            "n_test": _F(BENCHMARK, "classifier.n_test"),
            "accuracy": _F(BENCHMARK, "classifier.test_accuracy"),
            "final_n": _F(BENCHMARK, "final_test.classifier.n_test"),
            "final_accuracy": _F(BENCHMARK, "final_test.classifier.test_accuracy"),
        },
        lambda v: v["accuracy"] == 1.0 and v["final_accuracy"] == 1.0,  # the section's title: "always right"
        {"n_test": "{:,}", "final_n": "{:,}", "accuracy": "{:.1%}", "final_accuracy": "{:.1%}"},
    ),
    claims.Claim(
        "accuracy_cell_time",
        "The next cell checks it on {n} test images, with a progress bar; in our measurement it took {seconds} seconds "
        "on two [CPU](" + _LINK + "CPU) cores shared with other busy work (load average about {load}).",
        {
            "n": claims.Computed(lambda: N_TEST, "test images the notebook's accuracy cell classifies"),
            "seconds": _measured(
                "accuracy_cell_seconds", "lecture-mode accuracy cell (with loading the classifier), seconds"
            ),
            "load": _measured("cells_load", "1-minute load average during the lecture-mode run"),
        },
        lambda v: v["seconds"] > 0,
        {"n": _INT, "seconds": "{:.0f}", "load": "{:.0f}"},
    ),
    claims.Claim(
        "slow_methods",
        "Occlusion and integrated gradients are the slow ones: {occlusion} and {ig} seconds per image in the benchmark "
        "(one CPU thread on a busy shared machine), against {guided} for guided backprop.",
        {
            "occlusion": _F(BENCHMARK, "methods.occlusion.seconds_per_image"),
            "ig": _F(BENCHMARK, "methods.integrated_gradients.seconds_per_image"),
            "guided": _F(BENCHMARK, "methods.guided_backprop.seconds_per_image"),
        },
        lambda v: min(v["occlusion"], v["ig"]) > 3 * v["guided"],
        {"occlusion": "{:.2f}", "ig": "{:.2f}", "guided": "{:.3f}"},
    ),
    claims.Claim(
        "saliency_cell_time",
        "The next cell computes every map for the {n} diseased test images, with a progress bar that counts the images; "
        "in our measurement it took {seconds} seconds on two CPU cores shared with other busy work (load average about {load}).",
        {
            "n": claims.Computed(lambda: N_LECTURE_IMAGES, "the notebook's N_IMAGES in lecture mode"),
            "seconds": _measured("saliency_cell_seconds", "lecture-mode saliency cell, wall-clock seconds"),
            "load": _measured("cells_load", "1-minute load average during the lecture-mode run"),
        },
        lambda v: v["seconds"] > 0,
        {"n": _INT, "seconds": "{:.0f}", "load": "{:.0f}"},
    ),
    claims.Claim(
        "figure2_alt",
        "Alt text: three panels; the occlusion map is brightest on and around the centre lesion ({centre} of the outlined "
        "pixels lie within half an occlusion patch of it) and dark at the corner lesion ({corner} of them near it).",
        {
            "centre": claims.Computed(
                lambda: figure2_top_pixels()["centre"], "share of Figure 2's top 5 % near the centre lesion"
            ),
            "corner": claims.Computed(
                lambda: figure2_top_pixels()["corner"], "share of Figure 2's top 5 % near the corner lesion"
            ),
        },
        lambda v: v["centre"] >= 0.5 and v["corner"] <= 0.05,
        {"centre": "{:.0%}", "corner": "{:.0%}"},
    ),
    claims.Claim(
        "evidence_centre_enough",
        "For the course's classifier, the centre lesion alone is enough to be called diseased ({centre_called} of {n} "
        "images, mean probability {centre_p}), while the corner lesion alone leaves it unsure (mean probability "
        "{corner_p}; {corner_called} of {n} called diseased).",
        {
            "n": claims.Computed(lambda: N_LECTURE_IMAGES, "the notebook's N_IMAGES in lecture mode"),
            **{
                k: claims.Computed(lambda k=k: evidence_counts()[k], f"section 4's table: {k}")  # type: ignore[misc]  # mypy cannot type a lambda whose default binds the loop variable (python/mypy#15459)
                for k in ("centre_called", "corner_called", "centre_p", "corner_p")
            },
            "corner_confidence": claims.Computed(
                lambda: max(evidence_counts()["corner_p"], 1 - evidence_counts()["corner_p"]),
                "confidence max(p, 1 - p) of the mean probability with the corner lesion alone",
            ),
        },
        lambda v: (
            v["centre_called"] >= v["n"] - 1 and 0.2 <= v["corner_p"] <= 0.8 and v["corner_p"] < v["centre_p"] - 0.3
        ),
        {"n": _INT, "centre_called": _INT, "corner_called": _INT},
        words={"unsure": "corner_confidence"},
    ),
    claims.Claim(
        "figure3_alt",
        "Alt text: three panels; the middle panel is red at both marked lesions, more faintly at the corner one (mean "
        "effect {centre} at the centre lesion and {corner} at the corner one, on an image scale from -1 to 1), and "
        "nearly white elsewhere (mean size {outside}).",
        {
            k: claims.Computed(lambda k=k: figure3_effect()[k], f"Figure 3: VA-GAN's mean effect, {k}")  # type: ignore[misc]  # mypy cannot type a lambda whose default binds the loop variable (python/mypy#15459)
            for k in ("centre", "corner", "outside")
        },
        lambda v: v["centre"] > v["corner"] > 2 * v["outside"] > 0,
    ),
    claims.Claim(
        "benchmark_sets",
        "The table after it (Table 1) comes from the course's full measurement (`medai-edu bench toy`): {n_dev} diseased "
        "images of the first test set, which we used while building the course, and {n_final} diseased images of the "
        "final test set, made afterwards.",
        {"n_dev": _F(BENCHMARK, "data.n_images"), "n_final": _F(BENCHMARK, "final_test.data.n_images")},
        lambda v: v["n_dev"] >= 100 and v["n_final"] >= 100,
        {"n_dev": _INT, "n_final": _INT},
    ),
    claims.Claim(
        "figure4_alt",
        "Alt text: horizontal bars; VA-GAN's bar (NCC {vagan}) is far longer than those of the five saliency methods "
        "(the best reaches {best}).",
        {
            "vagan": claims.Computed(
                lambda: figure4_scores()["vagan"], "Figure 4: VA-GAN's mean NCC on the lecture's images"
            ),
            "best": claims.Computed(
                lambda: figure4_scores()["best_saliency"], "Figure 4: best saliency method's mean NCC"
            ),
        },
        lambda v: v["vagan"] >= v["best"] + 0.3,
    ),
    claims.Claim(
        "benchmark_ranking",
        "In the benchmark the saliency methods rank integrated gradients ({ig}), occlusion ({occ}), guided backprop "
        "({gb}), vanilla gradient ({vg}) and Grad-CAM ({gc}) on the first test set, in the same order on the "
        "final test set; VA-GAN scores {vagan} there and {vagan_final} on the final test set, far higher than all of them.",
        {
            **{key: _F(BENCHMARK, f"methods.{method}.ncc_mean") for key, method in _RANKED},
            "vagan_final": _F(BENCHMARK, "final_test.methods.vagan.ncc_mean"),
            "ratio": _VAGAN_OVER_BEST,
            "final_order": claims.Computed(
                lambda: _ranking("final_test."), "methods of the final test set, best NCC first"
            ),
        },
        lambda v: (
            v["ig"] > v["occ"] > v["gb"] > v["vg"] > v["gc"]
            and v["vagan"] >= v["ig"] + 0.3
            and v["final_order"] == ("vagan", *(method for _, method in _RANKED[:-1]))
            and v["vagan_final"] >= _best_saliency("final_test.") + 0.3
        ),
        _ThreeDecimals(final_order=_INT),
        words={"far better": "ratio"},
    ),
    claims.Claim(
        "course_run",
        "The course's VA-GAN trained for {hours} hours on a two-core computer, for {steps} generator steps; every "
        "{every} steps its generator was checked and a copy kept (a [checkpoint](" + _LINK + "checkpoint)).",
        {
            "hours": claims.Computed(
                lambda: _F(MANIFEST, "metrics.train_seconds").read() / 3600, "toy_vagan.json train_seconds / 3600"
            ),
            "steps": _F(MANIFEST, "training.gen_steps"),
            "every": _F(MANIFEST, "training.val_every"),
        },
        lambda v: v["hours"] > 0,
        {"hours": "{:.1f}", "steps": "{:,}", "every": _INT},
    ),
    claims.Claim(
        "course_run_oscillates",
        "Its maps got better and worse from one check to the next: from step {first} on, their NCC with the true masks "
        "of the [validation set](" + _LINK + "validation-set) (images held back from training to choose between "
        "versions) rose and fell, changing direction {turns} times, between {lo} and {hi}.",
        {
            "first": claims.Computed(
                lambda: _history_after_selection_start()[0][0], "first step the selection rules consider"
            ),
            "turns": claims.Computed(
                lambda: _turns(_history_after_selection_start()[1]), "direction changes of the validation NCC"
            ),
            "lo": claims.Computed(
                lambda: min(_history_after_selection_start()[1]), "lowest validation NCC from that step"
            ),
            "hi": claims.Computed(
                lambda: max(_history_after_selection_start()[1]), "highest validation NCC from that step"
            ),
        },
        lambda v: v["turns"] >= 4 and v["hi"] - v["lo"] >= 0.1,
        {"first": _INT, "turns": _INT},
    ),
    claims.Claim(
        "design_rule_failed",
        "The critic's estimate of the [Wasserstein distance](" + _LINK + 'Wasserstein-distance) between the "made '
        'healthy" and the real healthy images, which the design uses to choose, did not tell the good versions apart: '
        "its lowest value picked step {w_step}, whose maps scored an NCC of {w_test} on the first test set "
        "(recorded during training; that copy was not kept afterwards), against {n_test} for step {n_step}, the version "
        "with the best validation NCC. So we kept step {n_step}: the checkpoint whose maps best matched the true "
        "answers on the validation images, which only simulated data allow.",
        {
            "w_step": _F(BENCHMARK, "vagan_selection.wasserstein.step"),
            "w_test": _F(BENCHMARK, "vagan_selection.wasserstein.dev_test_recorded.ncc_mean"),
            "n_step": _F(BENCHMARK, "vagan_selection.ncc.step"),
            "n_test": _F(BENCHMARK, "vagan_selection.ncc.dev_test.ncc_mean"),
        },
        lambda v: v["w_test"] < v["n_test"] - 0.1,
        _ThreeDecimals(w_step=_INT, n_step=_INT),
    ),
    claims.Claim(
        "shipped_on_final_test",
        "We looked at test scores when we made that choice, so the final test set, made afterwards, is the fair "
        "measure of the shipped generator: there its maps score {final} (first test set: {dev}).",
        {
            "final": _F(BENCHMARK, "vagan_selection.ncc.final_test.ncc_mean"),
            "dev": _F(BENCHMARK, "vagan_selection.ncc.dev_test.ncc_mean"),
        },
        lambda v: v["final"] > 0,
        _NCC,
    ),
    claims.Claim(
        "train_cell_time",
        "In our measurement the {steps} steps took {minutes} minutes on two CPU cores shared with other busy work "
        "(load average about {load}); a progress bar shows the generator steps. The first steps of an earlier run, "
        "timed while the machine was idle, took {idle} seconds each against {busy} seconds under that load: at the idle pace the "
        "whole run would take about {estimate} minutes (an estimate, not a measurement).",
        {
            "steps": claims.Computed(lambda: 60, "TRAIN_STEPS the text asks for"),
            "minutes": _measured("train_cell_minutes", "lecture-mode training cell, wall-clock minutes"),
            "load": _measured("train_cell_load", "1-minute load average during that cell"),
            "idle": _measured("train_warmup_step_idle", "seconds per warm-up step, idle machine"),
            "busy": _measured("train_warmup_step_busy", "seconds per warm-up step, during the measured cell"),
            "estimate": claims.Computed(
                lambda: (
                    MEASURED["train_cell_minutes"]
                    * MEASURED["train_warmup_step_idle"]
                    / MEASURED["train_warmup_step_busy"]
                ),
                "measured minutes scaled by the idle/busy step times",
            ),
        },
        lambda v: v["minutes"] > 0 and v["idle"] < v["busy"],
        {
            "steps": _INT,
            "minutes": "{:.0f}",
            "load": "{:.0f}",
            "idle": "{:.0f}",
            "busy": "{:.0f}",
            "estimate": "{:.0f}",
        },
    ),
    claims.Claim(
        "summary_classifier_needs_part",
        'In the toy data, the classifier still answers "diseased" when the corner lesion is removed ({called} of {n} '
        "images), and the best saliency method's map reaches an NCC of only {best} with all the disease pixels.",
        {
            "called": claims.Computed(
                lambda: evidence_counts()["centre_called"], "section 4's table: centre only, called diseased"
            ),
            "n": claims.Computed(lambda: N_LECTURE_IMAGES, "the notebook's N_IMAGES in lecture mode"),
            "best": claims.Computed(_best_saliency, "best saliency method's NCC, development test split"),
        },
        lambda v: v["called"] >= v["n"] - 1 and v["best"] < 0.5,
        _ThreeDecimals(called=_INT, n=_INT),
    ),
    claims.Claim(
        "summary_vagan_far_higher",
        "NCC measures how well a map's pattern matches the truth: VA-GAN scores far higher than every saliency method "
        "here ({vagan} against at most {best} on the first test set, {vagan_final} against at most {best_final} "
        "on the final test set).",
        {
            "vagan": _F(BENCHMARK, "methods.vagan.ncc_mean"),
            "vagan_final": _F(BENCHMARK, "final_test.methods.vagan.ncc_mean"),
            "best": claims.Computed(_best_saliency, "best saliency method's NCC, development test split"),
            "best_final": claims.Computed(
                lambda: _best_saliency("final_test."), "best saliency method's NCC, final test set"
            ),
            "ratio": _VAGAN_OVER_BEST,
        },
        lambda v: v["vagan"] >= v["best"] + 0.3 and v["vagan_final"] >= v["best_final"] + 0.3,
        _NCC,
        words={"far better": "ratio"},
    ),
    claims.Claim(
        "limits_box",
        "It can show, on images in which we know every pixel the disease changed, that a saliency map may show only "
        "the feature a classifier needed, while a disease map recovers all of them: VA-GAN's NCC is at least {ratio} "
        "times the best saliency method's on both test sets.",
        {"ratio": _VAGAN_OVER_BEST},
        lambda v: v["ratio"] >= 1.5,
        {"ratio": "{:.1f}"},
    ),
]

#: Sentences the claims test would flag that define a setting rather than report a measurement.
DEFINITIONS = (
    "for example `read_best_saliency_ncc = 0.5`",  # the answer's format, not a result
    "The orange outline marks the 5 % most important pixels.",
    "orange outline = top 5 % of pixels",
)


#: The core questions of the lesson (no programming): the right answers and the explanations live
#: here, never in a notebook cell or an error message.
QUESTIONS = {
    "centre_only": Estimate(
        "predict_centre_only",
        75,
        100,
        unit="%",
        limits=(0, 100),
        predicted=True,
        why="The classifier only needs enough evidence to tell the classes apart, and it learnt to rely on the "
        "centre lesion: with the centre lesion alone it still calls (almost) every image diseased.",
        mistakes={
            50: "Half would mean the classifier needs both lesions equally. Look at the table: with the centre lesion "
            "alone, the classifier is almost always sure.",
            0: "Without the corner lesion, the classifier still sees the centre lesion, and that is the evidence it "
            "relies on: look at the table's row 'centre only'.",
            8: "The question asks for a percentage of the images, not their number: 8 of 8 images is 100 %.",
        },
    ),
    "best_saliency": Estimate(
        "read_best_saliency_ncc",
        0.30,
        0.36,
        limits=(-1, 1),
        why="Read the row of the saliency method with the highest NCC in Table 1 (the column for the first test "
        "set): no saliency method comes close to VA-GAN, because their maps miss the corner lesion.",
        mistakes={
            0.887: "That is VA-GAN's NCC. The question asks for the best of the five saliency methods.",
            0.282: "That is occlusion, the second-best saliency method; one method scores higher.",
        },
    ),
    "trust": Choice(
        "answer_trust",
        "B",
        {
            "A": "An accurate classifier needs only enough evidence to decide, not all of it: in this lesson its "
            "saliency maps marked mainly the centre lesion and missed the corner one.",
            "B": "A saliency map shows the evidence the classifier used, which can be only part of the disease. VA-GAN "
            "must remove every trace of the disease to fool its critic, so its map is meant to cover all of it.",
            "C": "Grad-CAM uses the network's own features, but it still shows only what the classifier relied on, "
            "and coarsely. No saliency method shows where the whole disease is.",
        },
    ),
}

#: where the right answers come from (a test checks each against its question: a number in its range,
#: a letter equal to the right one)
ANSWERS = {
    "centre_only": claims.Computed(
        lambda: 100 * evidence_counts()["centre_called"] / N_LECTURE_IMAGES, "section 4's table in lecture mode"
    ),
    "best_saliency": claims.Computed(_best_saliency, "best saliency method's NCC, first test set (Table 1)"),
}
