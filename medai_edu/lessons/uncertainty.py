"""Lesson 3 (segmentation uncertainty): the steps the notebook calls, one function each.

Its ``CLAIMS`` (:mod:`medai_edu.lessons.uncertainty_claims`) list every quantitative or comparative
sentence of the lesson with the measurement behind it (design §5b); ``tests/test_claims.py``
checks that each still holds and stands in the notebook as measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from medai_edu import claims, pretrained, results, viz
from medai_edu.checks import Choice, Estimate
from medai_edu.data.multirater import LESION_KINDS, RATER_STYLES, SIZE, MultiRaterDataset, disagreement
from medai_edu.data.shifts import CONDITIONS, NO_SHIFT, check_kind, shift_image
from medai_edu.measurements import MEASUREMENTS_DIR
from medai_edu.metrics import ncc
from medai_edu.models.segmentation import MODELS, PHiSeg
from medai_edu.training.segmentation import weights_name

__all__ = [
    "MODEL_LABELS",
    "RATER_NAMES",
    "SAMPLING_SEED",
    "SHIFT_COLUMNS",
    "BENCHMARK_FILE",
    "Segmenter",
    "load_data",
    "pick_cases",
    "load_models",
    "sample_outlines",
    "latent_levels",
    "stored_outlines",
    "SamplePool",
    "disagreement_scores",
    "shift",
    "robustness_grid",
    "lesion_area",
    "level_spread",
    "shift_effects",
    "show_disagreement",
    "reference_benchmark",
    "benchmark_differences",
    "lecture_shift_effects",
    "QUESTIONS",
    "ANSWERS",
]

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

BENCHMARK_FILE = MEASUREMENTS_DIR / "uncertainty_benchmark.json"
MODEL_LABELS = {
    "unet": "U-Net (one answer)",
    "prob_unet": "Probabilistic U-Net",
    "phiseg_l1": "PHiSeg, 1 level",
    "phiseg_l5": "PHiSeg, 5 levels",
}
#: the robustness demo's largest shift of each kind (its slider goes from no shift to this)
STRONGEST_SHIFT = {"noise": 0.6, "contrast": 0.2, "blur": 3.0}
#: one word per rater ("reference", "tight", ...), from :data:`~medai_edu.data.multirater.RATER_STYLES`
RATER_NAMES = [style.split(":")[0] for style in RATER_STYLES.values()]
CLEAR = next(kind for kind, name in LESION_KINDS.items() if name == "clear")
#: the notebook's N_CASES and N_SAMPLES in lecture mode (the claims about its measurements use them)
N_LECTURE_CASES, N_LECTURE_SAMPLES = 6, 24
#: the notebook's N_CASES, N_SAMPLES and SHIFT_STEPS in lecture and in quick mode (what the results cache stores)
NOTEBOOK_SETTINGS = {False: (N_LECTURE_CASES, N_LECTURE_SAMPLES, 6), True: (2, 4, 2)}
SAMPLING_SEED = 0  # torch's generator is seeded with this before the lesson's measurements


def load_data(progress: bool = True) -> MultiRaterDataset:
    """The 300 test cases (simulated on the first run, with a progress bar; then read from disk)."""
    return MultiRaterDataset("test", progress=progress)


def pick_cases(data: MultiRaterDataset, n: int) -> list[int]:
    """The first ``n`` test cases with a clear lesion (cases in test-set order, not hand-picked)."""
    kinds = data.field("kinds")
    return [int(i) for i in np.flatnonzero(kinds == CLEAR)[:n]]


def load_models(names: tuple[str, ...] = tuple(MODELS)) -> dict[str, results.LazyModel]:
    """The shipped lesson-3 models by name ('unet', 'prob_unet', 'phiseg_l1', 'phiseg_l5'), each loaded
    when it first computes something live (precomputed results need no model)."""
    return {name: results.LazyModel(weights_name(name)) for name in names}


class Segmenter(Protocol):
    """A lesson-3 model as the lesson uses it: one of :data:`MODELS` (a PHiSeg also draws single latent
    levels), or a :class:`~medai_edu.results.LazyModel` that loads one when first used."""

    def parameters(self) -> Iterator[nn.Parameter]: ...

    def sample(self, x: torch.Tensor, n: int = 1) -> torch.Tensor: ...


def sample_outlines(model: Segmenter, image: np.ndarray | torch.Tensor, n: int, level: int | None = None) -> np.ndarray:
    """``n`` label maps [n, H, W] drawn by ``model`` for one image [1, H, W].

    ``level`` (PHiSeg only) draws only that latent level afresh (0 = finest), the others fixed.
    """
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None].to(next(model.parameters()).device)
    logits = model.sample(x, n) if level is None else cast(PHiSeg, model).sample_level(x, level, n)
    return logits[:, 0].argmax(1).cpu().numpy().astype(np.uint8)


@results.computed_once()
def latent_levels(model: Segmenter) -> list[tuple[str, int | None]]:
    """Choices for the sampling widget: all levels together, then each PHiSeg level coarse to fine."""
    choices: list[tuple[str, int | None]] = [("all levels", None)]
    if isinstance(model, PHiSeg):
        sizes = model.latent_sizes((SIZE, SIZE))
        for level in reversed(range(len(sizes))):
            name = {0: "finest, ", len(sizes) - 1: "coarsest, "}.get(level, "") if len(sizes) > 1 else ""
            choices.append((f"only level {level + 1} ({name}{'x'.join(map(str, sizes[level]))})", level))
    return choices


@results.computed_once()
def stored_outlines(
    model: Segmenter, image: np.ndarray, level: int | None, n: int, seed: int = SAMPLING_SEED
) -> np.ndarray:
    """:func:`sample_outlines` with torch's generator seeded: the sampling explorer's outlines of one
    case and level, computed once per class."""
    torch.manual_seed(seed)
    return sample_outlines(model, image, n, level)


class SamplePool:
    """Outlines drawn by a model, kept per (case, latent level) so that moving a slider back is instant.

    ``get`` shows ``start`` outlines the first time a (case, level) is shown; ``draw_another`` adds one
    more and returns the grown pool (newest last). The first ``stored`` outlines of each (case, level)
    are drawn once per class (:func:`stored_outlines`); outlines after those are drawn live. An outline,
    once drawn, stays: the first ``n`` outlines of a (case, level) are always the same ones.
    """

    def __init__(self, model: Segmenter, images: np.ndarray, start: int = 12, stored: int = 24) -> None:
        self.model, self.images, self.start, self.stored = model, images, start, stored
        self.pools: dict[tuple[int, int | None], np.ndarray] = {}  # the outlines shown
        self.drawn: dict[tuple[int, int | None], np.ndarray] = {}  # every outline drawn so far, in order

    def get(self, case: int, level: int | None) -> np.ndarray:
        key = (case, level)
        if key not in self.pools:
            self.pools[key] = self.outlines(case, level, self.start)
        return self.pools[key]

    def count(self, case: int, level: int | None) -> int:
        """How many outlines :meth:`get` shows for (case, level) (``start`` before it is first shown)."""
        return len(self.pools[(case, level)]) if (case, level) in self.pools else self.start

    def outlines(self, case: int, level: int | None, n: int) -> np.ndarray:
        """The first ``n`` outlines of (case, level), drawing those not drawn yet (and keeping them)."""
        key = (case, level)
        if key not in self.drawn:
            self.drawn[key] = self._stored(case, level)
        missing = n - len(self.drawn[key])
        if missing > 0:
            live = sample_outlines(self.model, self.images[case], missing, level)
            self.drawn[key] = np.concatenate([self.drawn[key], live])
        return self.drawn[key][:n]

    def _stored(self, case: int, level: int | None) -> np.ndarray:
        return stored_outlines(self.model, self.images[case], level, self.stored)

    def draw_another(self, case: int, level: int | None) -> np.ndarray:
        self.pools[(case, level)] = self.outlines(case, level, len(self.get(case, level)) + 1)
        return self.pools[(case, level)]


@results.computed_once()
def disagreement_scores(
    models: dict[str, Segmenter], images: np.ndarray, masks: np.ndarray, n_samples: int, seed: int = SAMPLING_SEED
) -> dict[str, float]:
    """Per model, the NCC between its samples' disagreement map and the raters', averaged over cases.

    Both maps use the same definition (:func:`~medai_edu.data.multirater.disagreement`); a model
    whose samples never differ has a constant map, which scores NCC 0.
    """
    torch.manual_seed(seed)
    raters = disagreement(masks)  # [cases, H, W]
    scores = {}
    for name, model in tqdm(models.items(), desc="models"):
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


@results.computed_once()
def robustness_grid(
    model: Segmenter, image: np.ndarray, n_samples: int, amounts: np.ndarray, seed: int = SAMPLING_SEED
) -> dict[tuple[str, float], dict]:
    """For each shift kind and amount (rounded to 3 decimals): the shifted image, the model's
    sampled outlines and their disagreement map (the explorer's every state, computed once per class)."""
    torch.manual_seed(seed)
    grid = {}
    steps = [(kind, amount) for kind in STRONGEST_SHIFT for amount in amounts]
    for kind, amount in tqdm(steps, desc="scan changes"):
        shifted = shift(image, kind, float(amount))
        samples = sample_outlines(model, shifted, n_samples)
        grid[(kind, round(float(amount), 3))] = {
            "image": shifted,
            "samples": samples,
            "disagreement": disagreement(samples),
        }
    return grid


def lesion_area(outlines: np.ndarray) -> np.ndarray:
    """Pixels marked lesion (core or rim) in each label map of ``outlines`` [n, H, W]."""
    return (np.asarray(outlines) > 0).sum(axis=(-2, -1))


@results.computed_once()
def level_spread(
    model: PHiSeg, images: np.ndarray, n_samples: int, seed: int = SAMPLING_SEED
) -> dict[str, dict[str, float]]:
    """What each PHiSeg latent level alone changes, per level (named by its size, coarse to fine),
    over ``n_samples`` outlines in which only that level is drawn afresh, averaged over ``images``:
    the standard deviation of the lesion's area (pixels marked core or rim), and the pixels in which
    an outline differs from the samples' majority (the sum of their disagreement map)."""
    torch.manual_seed(seed)
    sizes = model.latent_sizes((SIZE, SIZE))
    spread = {}
    for level in tqdm(reversed(range(len(sizes))), total=len(sizes), desc="latent levels"):
        outlines = [sample_outlines(model, image, n_samples, level) for image in images]
        spread["x".join(map(str, sizes[level]))] = {
            "area spread (pixels)": float(np.mean([lesion_area(o).std() for o in outlines])),
            "pixels changed per outline": float(np.mean([disagreement(o).sum() for o in outlines])),
        }
    return spread


SHIFT_COLUMNS = ("patch marked lesion (%)", "mean disagreement (%)")


@results.computed_once()
def shift_effects(
    model: Segmenter, images: np.ndarray, n_samples: int, seed: int = SAMPLING_SEED
) -> dict[str, dict[str, float]]:
    """What the strongest change of each kind does to ``model``'s outlines, averaged over ``images``, in
    percent: the share of the patch its samples mark as lesion and the mean of their disagreement map,
    for the original scans ('none') and each kind of :data:`STRONGEST_SHIFT`."""
    torch.manual_seed(seed)
    effects = {}
    for kind in tqdm(("none", *STRONGEST_SHIFT), desc="scan changes"):
        samples = [
            sample_outlines(model, image if kind == "none" else shift(image, kind, 1.0), n_samples) for image in images
        ]
        lesion, disagree = SHIFT_COLUMNS
        effects[kind] = {
            lesion: 100 * float(np.mean([(s > 0).mean() for s in samples])),
            disagree: 100 * float(np.mean([disagreement(s).mean() for s in samples])),
        }
    return effects


@results.computed_once()
def disagreement_pair(
    model: Segmenter, image: np.ndarray, masks: np.ndarray, n_samples: int, seed: int = SAMPLING_SEED
) -> tuple[np.ndarray, np.ndarray, float]:
    """The model's samples' disagreement map, the raters' and their NCC (D_NCC), for one case."""
    torch.manual_seed(seed)
    predicted = disagreement(sample_outlines(model, image, n_samples))
    raters = disagreement(masks)
    return predicted, raters, float(ncc(predicted[None], raters[None], batch=True)[0])


def show_disagreement(model: Segmenter, image: np.ndarray, masks: np.ndarray, n_samples: int, title: str) -> Figure:
    """Figure: the model's samples' disagreement map next to the raters', titled with this case's own D_NCC."""
    predicted, raters, score = disagreement_pair(model, image, masks, n_samples)
    return viz.plot_disagreement_pair(image[0], predicted, raters, title, score)


@results.recipe("lesson 3: uncertainty sampling")
def notebook_results(quick: bool) -> None:
    """What the notebook computes, as it does (lecture or quick mode): stored by `medai-edu cache build`."""
    n_cases, n_samples, shift_steps = NOTEBOOK_SETTINGS[quick]
    data = load_data(progress=False)
    cases = pick_cases(data, n_cases)
    images, masks = data.field("images")[cases], data.field("masks")[cases]
    models = load_models(("unet", "prob_unet", "phiseg_l5"))
    phiseg = models["phiseg_l5"]
    pool = SamplePool(phiseg, images)
    for case in range(len(images)):
        for _, level in latent_levels(phiseg):
            pool._stored(case, level)
    stored_outlines(models["unet"], images[0], None, 1)  # the one-answer figure
    stored_outlines(phiseg, images[0], None, n_samples)  # the GED exercise
    level_spread(phiseg, images, n_samples)
    disagreement_scores(models, images, masks, n_samples)
    disagreement_pair(phiseg, images[0], masks[0], n_samples)
    robustness_grid(phiseg, images[0], n_samples, np.linspace(0, 1, shift_steps))
    shift_effects(phiseg, images, n_samples)


#: the benchmark's columns in the lesson's table: (condition, measure key, label)
TABLE_COLUMNS = [
    ("clean", key, label)
    for key, label in (("ged", "GED²"), ("sncc", "S_NCC"), ("dis_ncc", "D_NCC"), ("ece", "ECE"), ("dice", "Dice"))
]
TABLE_COLUMNS += [(condition, "dice", "Dice") for condition in CONDITIONS[1:]]


def reference_benchmark(path: Path = BENCHMARK_FILE, final: bool = False) -> pd.DataFrame:
    """The shipped `medai-edu bench uncertainty` result as a table: one row per model; every measure
    on the clean scans, Dice under each change of the scans, the time for one sample.
    ``final=True`` shows the final test set instead of the development test split."""
    import pandas as pd

    result = pretrained.read_result(path, "uncertainty")
    rows = {}
    for name, row in result["models"].items():
        scores = row["final"] if final else row
        rows[MODEL_LABELS.get(name, name)] = {
            **{(condition, label): scores[condition][f"{key}_mean"] for condition, key, label in TABLE_COLUMNS},
            ("time", "1 sample (ms)"): row["ms_1_sample"],
        }
    data = result["final_data" if final else "data"]
    which = "final test set (never used in development)" if final else "development test split"
    print(f"Benchmark, {which}: {data['n_images']} cases, {data['n_samples']} samples each, {data['raters']} raters.")
    return pd.DataFrame.from_dict(rows, orient="index").round(3).rename_axis("Model")


def benchmark_differences(path: Path = BENCHMARK_FILE, condition: str = "clean", final: bool = False) -> pd.DataFrame:
    """Five-level PHiSeg minus each other model on the ``condition`` scans, with the benchmark's
    paired bootstrap 95% intervals: one row per comparison, one column per measure."""
    import pandas as pd

    result = pretrained.read_result(path, "uncertainty")
    pairs = result["bootstrap"]["final" if final else "dev"][condition]
    rows = {}
    for pair, intervals in pairs.items():
        other = MODEL_LABELS[pair.split("_vs_")[1]]
        rows[f"PHiSeg, 5 levels minus {other}"] = {
            result["measures"][key]: f"{v['difference']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}]"
            + ("" if v["excludes_0"] else " (n.s.)")
            for key, v in intervals.items()
            if key in ("ged", "sncc", "dis_ncc", "ece", "dice")
        }
    print(f"Differences on the {condition} scans, 95% intervals; n.s. = the interval includes 0 (not significant).")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Comparison")


BENCHMARK = BENCHMARK_FILE.name


@lru_cache(maxsize=1)
def _lecture_phiseg() -> results.LazyModel:
    return load_models(("phiseg_l5",))["phiseg_l5"]


@lru_cache(maxsize=1)
def _lecture_images() -> np.ndarray:
    data = load_data(progress=False)
    return data.field("images")[pick_cases(data, N_LECTURE_CASES)]


@lru_cache(maxsize=1)
def lecture_shift_effects() -> dict[str, dict[str, float]]:
    """:func:`shift_effects` of five-level PHiSeg as the notebook measures it in lecture mode."""
    return shift_effects(_lecture_phiseg(), _lecture_images(), N_LECTURE_SAMPLES)


#: The core questions of the lesson (no programming): the right answers and the explanations live
#: here, never in a notebook cell or an error message.
QUESTIONS = {
    "raters": Choice(
        "answer_raters",
        "B",
        {
            "A": "In the centre of the lesion the image is clearly abnormal, and all six raters label it the same: "
            "the disagreement map is dark there.",
            "B": "The raters agree on the clearly abnormal centre and differ along the border, where the image fades "
            "from abnormal to normal: the disagreement map is a bright ring around the lesion.",
            "C": "Far from the lesion every rater labels background: the disagreement map is dark there.",
        },
    ),
    "unet_dncc": Estimate(
        "predict_unet_dncc",
        0.0,
        0.05,
        limits=(-1, 1),
        predicted=True,
        why="The U-Net draws the same outline every time, so its outlines never disagree: its disagreement map is "
        "empty, and an empty map matches no pattern, so its D_NCC is 0. A single outline cannot show where experts "
        "would disagree.",
        mistakes={
            1: "1 would mean the U-Net's outlines disagree exactly where the raters do, but its outlines never differ "
            "from each other at all.",
        },
    ),
    "noise": Choice(
        "answer_noise",
        "A",
        {
            "A": "With strong noise the samples start marking noisy tissue as lesion, and disagree about it: the "
            "average disagreement in the right panel's title rises several-fold.",
            "B": "Move the amount from 0 to 1 with Shift = noise and compare the titles: the average disagreement "
            "changes a lot.",
            "C": "The samples still differ from each other under noise, more than before: the disagreement does not "
            "fall to zero.",
        },
    ),
    "safety_net": Choice(
        "answer_safety_net",
        "B",
        {
            "A": "The scan is not clearer at low contrast, it is harder to read; the model marks less lesion because "
            "it no longer sees it, and its outlines agree more while they miss it.",
            "B": "At the lowest contrast the samples mark less lesion and agree more: the model misses the lesion and "
            "looks surer. Its uncertainty reflects its training raters, not how unusual a scan is, so scans unlike "
            "the training data need checks of their own.",
            "C": "Lower contrast made every model worse: in the benchmark, Dice fell far below its value on the "
            "clean scans.",
        },
    ),
}


def _noise_answer(seeds: tuple[int, ...] = (0, 1, 2)) -> str:
    """The letter the data support for the explorer question: A when the strongest noise multiplies the first
    case's average disagreement by 2 or more, whatever the seed of the samples."""
    model, image = _lecture_phiseg(), _lecture_images()[0]
    ratios = []
    for seed in seeds:
        torch.manual_seed(seed)
        before = disagreement(sample_outlines(model, image, N_LECTURE_SAMPLES)).mean()
        after = disagreement(sample_outlines(model, shift(image, "noise", 1.0), N_LECTURE_SAMPLES)).mean()
        ratios.append(after / max(before, 1e-9))
    return "A" if min(ratios) >= 2 else ("C" if max(ratios) == 0 else "B")


def _safety_net_answer() -> str:
    effects = lecture_shift_effects()
    lesion, disagree = SHIFT_COLUMNS
    less = effects["contrast"][lesion] < effects["none"][lesion]
    surer = effects["contrast"][disagree] < effects["none"][disagree]
    return "B" if less and surer else "A"


#: where the right answers come from (a test checks each against its question: a number in its range,
#: a letter equal to the right one)
ANSWERS = {
    "unet_dncc": claims.Field(BENCHMARK, "models.unet.clean.dis_ncc_mean"),
    "noise": claims.Computed(_noise_answer, "first case: average disagreement, strongest noise vs none"),
    "safety_net": claims.Computed(_safety_net_answer, "Table 4: lesion share and disagreement, contrast vs none"),
}
