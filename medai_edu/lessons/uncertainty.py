"""Lesson 3 (segmentation uncertainty): the steps the notebook calls, one function each.

``CLAIMS`` (at the end) lists every quantitative or comparative sentence of the lesson with the
measurement behind it (design §5b); ``tests/test_claims.py`` checks that each still holds and
stands in the notebook as measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from medai_edu import claims, pretrained, results, viz
from medai_edu.checks import Choice, Estimate
from medai_edu.data.multirater import LESION_KINDS, RATER_STYLES, RATERS, SIZE, MultiRaterDataset, disagreement
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
    "CLAIMS",
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
    are drawn once per class (:func:`stored_outlines`); outlines after those are drawn live.
    """

    def __init__(self, model: Segmenter, images: np.ndarray, start: int = 12, stored: int = 24) -> None:
        self.model, self.images, self.start, self.stored = model, images, start, stored
        self.pools: dict[tuple[int, int | None], np.ndarray] = {}

    def get(self, case: int, level: int | None) -> np.ndarray:
        key = (case, level)
        if key not in self.pools:
            self.pools[key] = self._stored(case, level)[: self.start]
        return self.pools[key]

    def _stored(self, case: int, level: int | None) -> np.ndarray:
        return stored_outlines(self.model, self.images[case], level, self.stored)

    def draw_another(self, case: int, level: int | None) -> np.ndarray:
        shown = self.get(case, level)
        stored = self._stored(case, level)
        more = stored[len(shown)][None] if len(shown) < len(stored) else None
        if more is None:
            more = sample_outlines(self.model, self.images[case], 1, level)
        self.pools[(case, level)] = np.concatenate([shown, more])
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


# --- what the lesson's text says, bound to its measurements (design §5b) ----------------------
BENCHMARK = BENCHMARK_FILE.name


@lru_cache(maxsize=1)
def _lecture_phiseg() -> results.LazyModel:
    return load_models(("phiseg_l5",))["phiseg_l5"]


@lru_cache(maxsize=1)
def _lecture_images() -> np.ndarray:
    data = load_data(progress=False)
    return data.field("images")[pick_cases(data, N_LECTURE_CASES)]


@lru_cache(maxsize=1)
def lecture_level_spread() -> dict[str, dict[str, float]]:
    """:func:`level_spread` of five-level PHiSeg as the notebook measures it in lecture mode."""
    return level_spread(_lecture_phiseg(), _lecture_images(), N_LECTURE_SAMPLES)


@lru_cache(maxsize=1)
def lecture_shift_effects() -> dict[str, dict[str, float]]:
    """:func:`shift_effects` of five-level PHiSeg as the notebook measures it in lecture mode."""
    return shift_effects(_lecture_phiseg(), _lecture_images(), N_LECTURE_SAMPLES)


def _spread(size: str, what: str) -> claims.Computed:
    return claims.Computed(lambda: lecture_level_spread()[size][what], f"{what}, only the {size} level drawn")


def _levels(*sizes: str) -> dict[str, claims.Computed]:
    return {
        f"{size}_{short}": _spread(size, what)
        for size in sizes
        for short, what in (("area", "area spread (pixels)"), ("changed", "pixels changed per outline"))
    }


def _level_value(key: str) -> float:
    """One value of :func:`_levels` by its key, e.g. ``"4x4_area"``."""
    return _levels(key.split("_")[0])[key].read()


def _effect(kind: str, what: str) -> claims.Computed:
    return claims.Computed(
        lambda: lecture_shift_effects()[kind][what], f"{what} of PHiSeg's samples, scan change {kind!r}"
    )


_LECTURE = {
    "n": claims.Computed(lambda: N_LECTURE_SAMPLES, "the notebook's N_SAMPLES in lecture mode"),
    "cases": claims.Computed(lambda: N_LECTURE_CASES, "the notebook's N_CASES in lecture mode"),
}
_WHOLE = {"n": "{:d}", "cases": "{:d}"}
_PIXELS = {f"{size}_{what}": "{:.0f}" for size in ("2x2", "4x4", "8x8", "32x32") for what in ("area", "changed")}
_SHARE = {f"{kind}_{what}": "{:.1f} %" for kind in ("none", *STRONGEST_SHIFT) for what in ("lesion", "disagreement")}


def _effects(*kinds: str) -> dict[str, claims.Computed]:
    return {
        f"{kind}_{what}": _effect(kind, label)
        for kind in kinds
        for what, label in zip(("lesion", "disagreement"), SHIFT_COLUMNS)
    }


def _score(model: str, key: str, condition: str = "clean", final: bool = False) -> claims.Field:
    return claims.Field(BENCHMARK, f"models.{model}.{'final.' if final else ''}{condition}.{key}_mean")


def _models(key: str, condition: str = "clean", final: bool = False) -> dict[str, claims.Field]:
    return {name: _score(name, key, condition, final) for name in MODELS}


def _interval(pair: str, key: str, condition: str = "clean", final: bool = False) -> dict[str, claims.Field]:
    path = f"bootstrap.{'final' if final else 'dev'}.{condition}.{pair}.{key}"
    return {end: claims.Field(BENCHMARK, f"{path}.{end}") for end in ("difference", "low", "high", "excludes_0")}


def _others(key: str, condition: str, pick: Callable[[Iterable[float]], float]) -> claims.Computed:
    others = [name for name in MODELS if name != "phiseg_l5"]
    return claims.Computed(
        lambda: pick(_score(m, key, condition).read() for m in others),
        f"{pick.__name__} of the other models' {key} under {condition}",
    )


_N_BENCH = {"n": claims.Field(BENCHMARK, "data.n_images")}
_N_FINAL = {"n": claims.Field(BENCHMARK, "final_data.n_images")}
_DIFF = {"difference": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}"}
_BY_MODEL = {m: "{:.3f}" for m in MODELS}


def _load_at_end() -> float:
    return float(claims.Field(BENCHMARK, "machine.load_average_end").read()[0])


def _raters_colour_bar_top() -> float:
    """The top of the colour bar of the raters' disagreement map in Figure 1, as the figure draws it."""
    masks = np.zeros((len(RATER_NAMES), 4, 4), np.uint8)
    with viz.offscreen():
        fig = viz.plot_raters(np.zeros((4, 4)), masks, disagreement(masks), RATER_NAMES)
    return max(im.get_clim()[1] for ax in fig.axes for im in ax.get_images() if im.colorbar is not None)


def _largest_disagreement() -> float:
    """The largest disagreement (percent) six label maps over three labels can have: a 2-2-2 split."""
    split = np.array([0, 0, 1, 1, 2, 2], np.uint8)[:, None, None]
    return 100 * float(disagreement(split).max())


CLAIMS = [
    claims.Claim(
        "disagreement_scale",
        "0 % = all six agree; 50 % = three against three; at most {top} %, when the six split two, two and two "
        "over the three labels (background, core, rim).",
        {
            "top": claims.Computed(_largest_disagreement, "largest disagreement of 6 label maps over 3 labels (%)"),
            "bar": claims.Computed(_raters_colour_bar_top, "top of Figure 1's disagreement colour bar (%)"),
            "half": claims.Computed(
                lambda: 100 * float(disagreement(np.array([0, 0, 0, 1, 1, 1], np.uint8)[:, None, None]).max()),
                "disagreement of a 3-3 split (%)",
            ),
        },
        lambda v: abs(v["top"] - v["bar"]) < 0.5 and abs(v["half"] - 50) < 1e-9,
        {"top": "{:.0f}"},
    ),
    claims.Claim(
        "middle_levels_change_the_whole_lesion",
        "Drawn alone, the 4 x 4 and 8 x 8 levels change the lesion's size most: its area varies by {4x4_area} and "
        "{8x8_area} pixels (standard deviation over {n} outlines, averaged over the first {cases} cases). The finest, "
        "32 x 32, level changes the area by only {32x32_area} pixels, yet each outline differs from the majority in "
        "{32x32_changed} pixels: it moves the border here and there. The coarsest, 2 x 2, level hardly changes "
        "anything ({2x2_area} pixels of area, {2x2_changed} pixels per outline).",
        {
            **_LECTURE,
            **_levels("2x2", "4x4", "8x8", "32x32"),
            "coarsest_kept": claims.Computed(
                lambda: max(
                    _level_value("2x2_area") / max(_level_value("4x4_area"), _level_value("8x8_area")),
                    _level_value("2x2_changed") / max(_level_value(f"{k}_changed") for k in ("4x4", "8x8", "32x32")),
                ),
                "the 2 x 2 level's change as a share of the largest other level's (area and pixels per outline)",
            ),
        },
        lambda v: (
            min(v["4x4_area"], v["8x8_area"]) > 3 * max(v["2x2_area"], v["32x32_area"])
            and v["32x32_changed"] > 3 * v["2x2_changed"]
        ),
        {**_WHOLE, **_PIXELS},
        words={"hardly": "coarsest_kept"},
    ),
    claims.Claim(
        "noise_adds_lesion_and_disagreement",
        "With the strongest noise, PHiSeg's samples mark {noise_lesion} of the patch as lesion instead of "
        "{none_lesion}, and their average disagreement rises from {none_disagreement} to {noise_disagreement} "
        "(averages over the first {cases} cases, {n} samples each).",
        {**_LECTURE, **_effects("none", "noise")},
        lambda v: v["noise_lesion"] > 2 * v["none_lesion"] and v["noise_disagreement"] > 1.5 * v["none_disagreement"],
        {**_WHOLE, **_SHARE},
    ),
    claims.Claim(
        "low_contrast_loses_the_lesion_confidently",
        "At the lowest contrast they mark only {contrast_lesion} as lesion and disagree less, "
        "{contrast_disagreement} on average.",
        _effects("none", "contrast"),
        lambda v: (
            v["contrast_lesion"] < 0.75 * v["none_lesion"] and v["contrast_disagreement"] < v["none_disagreement"]
        ),
        _SHARE,
    ),
    claims.Claim(
        "blur_leaves_the_disagreement_flat",
        "With the strongest blur they mark {blur_lesion} as lesion, and the disagreement stays about where it was "
        "({blur_disagreement}).",
        _effects("none", "blur"),
        lambda v: (
            v["blur_lesion"] < v["none_lesion"]
            and abs(v["blur_disagreement"] - v["none_disagreement"]) < 0.2 * v["none_disagreement"]
        ),
        _SHARE,
    ),
    claims.Claim(
        "phiseg_matches_the_raters_spread",
        "On the {n} test cases, both PHiSeg models match the raters' spread far better than the U-Net (GED² {phiseg_l5} "
        "with five levels and {phiseg_l1} with one, against {unet}) and better than the Probabilistic U-Net "
        "({prob_unet}).",
        {
            **_N_BENCH,
            **_models("ged"),
            "ratio": claims.Computed(
                lambda: _score("unet", "ged").read() / max(_score(m, "ged").read() for m in ("phiseg_l5", "phiseg_l1")),
                "the U-Net's GED² over the worse PHiSeg model's",
            ),
        },
        lambda v: (
            max(v["phiseg_l5"], v["phiseg_l1"]) < v["prob_unet"] and v["unet"] > 2 * max(v["phiseg_l5"], v["phiseg_l1"])
        ),
        {"n": "{:d}", **_BY_MODEL},
        words={"far better": "ratio"},
    ),
    claims.Claim(
        "sncc_does_not_separate_one_answer",
        "S_NCC does not separate the two kinds of network: the U-Net, which always draws the same outline, scores "
        "{unet}, as high as five-level PHiSeg's {phiseg_l5} (the difference, {difference}, lies within chance: its "
        "bootstrap interval in Table 3 runs from {low} to {high}) and higher than the Probabilistic U-Net's "
        "{prob_unet}. On the final test set five-level PHiSeg scores slightly higher than the U-Net ({final_l5} "
        "against {final_unet}; interval of the difference from {final_low} to {final_high}, clear of 0), but the "
        "U-Net still scores higher than the Probabilistic U-Net ({final_prob_unet}).",
        {
            **_models("sncc"),
            **_interval("phiseg_l5_vs_unet", "sncc"),
            "final_l5": _score("phiseg_l5", "sncc", final=True),
            "final_unet": _score("unet", "sncc", final=True),
            "final_prob_unet": _score("prob_unet", "sncc", final=True),
            **{f"final_{k}": f for k, f in _interval("phiseg_l5_vs_unet", "sncc", final=True).items()},
            "final_ratio": claims.Computed(
                lambda: _score("phiseg_l5", "sncc", final=True).read() / _score("unet", "sncc", final=True).read(),
                "five-level PHiSeg's S_NCC over the U-Net's, final test set",
            ),
        },
        lambda v: (
            not v["excludes_0"]
            and v["unet"] > v["prob_unet"]
            and v["final_excludes_0"]
            and v["final_l5"] > v["final_unet"] > v["final_prob_unet"]
        ),
        {
            **_BY_MODEL,
            **_DIFF,
            "final_l5": "{:.3f}",
            "final_unet": "{:.3f}",
            "final_prob_unet": "{:.3f}",
            "final_low": "{:+.3f}",
            "final_high": "{:+.3f}",
        },
        words={"a little": "final_ratio"},
    ),
    claims.Claim(
        "unet_fails_dncc",
        "D_NCC does separate them: the U-Net scores {unet}, because its outlines never differ, while the sampling "
        "models reach {prob_unet} (Probabilistic U-Net) to {phiseg_l5} (PHiSeg, five levels).",
        _models("dis_ncc"),
        lambda v: (
            v["unet"] == 0.0 < v["prob_unet"] == min(v["prob_unet"], v["phiseg_l1"], v["phiseg_l5"])
            and v["phiseg_l5"] == max(v["prob_unet"], v["phiseg_l1"], v["phiseg_l5"])
        ),
        _BY_MODEL,
    ),
    claims.Claim(
        "calibration",
        "The outlines of five-level PHiSeg are also the best calibrated: ECE {phiseg_l5}, against {phiseg_l1} with one "
        "level, {prob_unet} for the Probabilistic U-Net and {unet} for the U-Net's single outline.",
        {**_models("ece"), **{f"final_{m}": f for m, f in _models("ece", final=True).items()}},
        lambda v: all(
            v[f"{p}phiseg_l5"] < v[f"{p}phiseg_l1"] < v[f"{p}prob_unet"] < v[f"{p}unet"] for p in ("", "final_")
        ),
        _BY_MODEL,
    ),
    claims.Claim(
        "unet_probabilities_are_hidden_by_its_outline",
        "The U-Net's probabilities themselves are calibrated better than its outline (ECE {softmax} against "
        "{outline}), but a clinician is shown the outline.",
        {
            "softmax": _score("unet", "ece_softmax"),
            "outline": _score("unet", "ece"),
            "final_softmax": _score("unet", "ece_softmax", final=True),
            "final_outline": _score("unet", "ece", final=True),
        },
        lambda v: v["softmax"] < v["outline"] and v["final_softmax"] < v["final_outline"],
        {"softmax": "{:.3f}", "outline": "{:.3f}"},
    ),
    claims.Claim(
        "dice",
        "Sampling costs a little accuracy: the five-level model's average outline overlaps the raters' with a Dice of "
        "{phiseg_l5}, the U-Net's single answer with {unet}; the difference, {difference} (from {low} to {high}), is "
        "small but more than chance.",
        {
            "phiseg_l5": _score("phiseg_l5", "dice"),
            "unet": _score("unet", "dice"),
            **_interval("phiseg_l5_vs_unet", "dice"),
            "final_high": _interval("phiseg_l5_vs_unet", "dice", final=True)["high"],
            "ratio": claims.Computed(
                lambda: _score("unet", "dice").read() / _score("phiseg_l5", "dice").read(),
                "the U-Net's Dice over five-level PHiSeg's",
            ),
        },
        lambda v: (
            v["excludes_0"]
            and v["phiseg_l5"] < v["unet"] < v["phiseg_l5"] + 0.02
            and v["final_high"] < 0  # the same on the final test set
        ),
        {"phiseg_l5": "{:.3f}", "unet": "{:.3f}", **_DIFF},
        words={"a little": "ratio"},
    ),
    claims.Claim(
        "one_sample_time",
        "Drawing one outline with five-level PHiSeg took {ms} milliseconds on the course's two-core CPU, which was "
        "busy with other work at the time (load average {load}).",
        {
            "ms": claims.Field(BENCHMARK, "models.phiseg_l5.ms_1_sample"),
            "load": claims.Computed(_load_at_end, "1-minute load average at the end of the benchmark"),
        },
        lambda v: v["ms"] <= 50,
        {"ms": "{:.0f}", "load": "{:.1f}"},
    ),
    claims.Claim(
        "five_vs_one_level",
        "Five latent levels and one are about the same: five levels come out slightly lower in GED² on these {n} "
        "cases ({difference}, from {low} to {high}) and on the final test set ({final_difference}, from {final_low} "
        "to {final_high}), but both intervals end close to 0, and a difference this small need not hold on other "
        "data.",
        {
            **_N_BENCH,
            **_interval("phiseg_l5_vs_phiseg_l1", "ged"),
            **{f"final_{k}": f for k, f in _interval("phiseg_l5_vs_phiseg_l1", "ged", final=True).items()},
            "ratio": claims.Computed(
                lambda: max(
                    _score("phiseg_l1", "ged", final=f).read() / _score("phiseg_l5", "ged", final=f).read()
                    for f in (False, True)
                ),
                "one-level PHiSeg's GED² over five levels', the larger of the two test sets",
            ),
        },
        lambda v: v["difference"] < 0 and v["final_difference"] < 0 and max(v["high"], v["final_high"]) > -0.01,
        {"n": "{:d}", **_DIFF, **{f"final_{k}": f for k, f in _DIFF.items()}},
        words={"about the same": "ratio", "a little": "ratio"},
    ),
    claims.Claim(
        "final_test_set",
        "On a final test set of {n} new cases, made afterwards from a different random [seed](../00_welcome/glossary.md#seed), GED² comes out in "
        "the same order: {phiseg_l5} (PHiSeg, five levels), {phiseg_l1} (one level), {prob_unet} (Probabilistic "
        "U-Net), {unet} (U-Net).",
        {**_N_FINAL, **_models("ged", final=True)},
        lambda v: v["phiseg_l5"] < v["phiseg_l1"] < v["prob_unet"] < v["unet"],
        {"n": "{:d}", **_BY_MODEL},
    ),
    claims.Claim(
        "benchmark_changes_are_milder",
        "The benchmark applies milder changes than the strongest ones of Table 4 to all {n} test cases.",
        {**_N_BENCH, **{kind: claims.Field(BENCHMARK, f"shifts.{kind}") for kind in STRONGEST_SHIFT}},
        lambda v: (
            v["noise"] < STRONGEST_SHIFT["noise"]
            and v["contrast"] > STRONGEST_SHIFT["contrast"]
            and v["blur"] < STRONGEST_SHIFT["blur"]
        ),
        {"n": "{:d}"},
    ),
    claims.Claim(
        "noise_robustness",
        "Under noise, five-level PHiSeg's average outline keeps a Dice of {phiseg_l5} with the raters, against {low} to "
        "{high} for the other models (the bootstrap intervals of all three differences exclude 0).",
        {
            "phiseg_l5": _score("phiseg_l5", "dice", "noise"),
            "low": _others("dice", "noise", min),
            "high": _others("dice", "noise", max),
            **{
                f"{final}{pair}_excludes_0": _interval(pair, "dice", "noise", final=bool(final))["excludes_0"]
                for pair in ("phiseg_l5_vs_phiseg_l1", "phiseg_l5_vs_prob_unet", "phiseg_l5_vs_unet")
                for final in ("", "final_")
            },
            "final_phiseg_l5": _score("phiseg_l5", "dice", "noise", final=True),
            "final_high": claims.Computed(
                lambda: max(_score(m, "dice", "noise", final=True).read() for m in MODELS if m != "phiseg_l5"),
                "the other models' best Dice under noise, final test set",
            ),
        },
        lambda v: (
            v["phiseg_l5"] > v["high"]
            and v["final_phiseg_l5"] > v["final_high"]
            and all(x for k, x in v.items() if k.endswith("excludes_0"))
        ),
        {
            "phiseg_l5": "{:.3f}",
            "low": "{:.3f}",
            "high": "{:.3f}",
            **{
                f"{pair}_excludes_0": "{}"
                for pair in ("phiseg_l5_vs_phiseg_l1", "phiseg_l5_vs_prob_unet", "phiseg_l5_vs_unet")
            },
        },
    ),
    claims.Claim(
        "contrast_defeats_every_model",
        "Lower contrast defeats every model: Dice between {low} and {high}, and D_NCC at most {dncc}: the samples' "
        "disagreement no longer sits where the raters disagree.",
        {
            "low": claims.Computed(
                lambda: min(_score(m, "dice", "contrast").read() for m in MODELS), "lowest Dice under contrast"
            ),
            "high": claims.Computed(
                lambda: max(_score(m, "dice", "contrast").read() for m in MODELS), "highest Dice under contrast"
            ),
            "dncc": claims.Computed(
                lambda: max(_score(m, "dis_ncc", "contrast").read() for m in MODELS), "highest D_NCC under contrast"
            ),
            "clean": claims.Computed(lambda: min(_score(m, "dice").read() for m in MODELS), "lowest clean Dice"),
            "dncc_kept": claims.Computed(
                lambda: max(
                    _score(m, "dis_ncc", "contrast").read() / _score(m, "dis_ncc").read() for m in MODELS if m != "unet"
                ),
                "the largest share of its clean D_NCC a sampling model keeps under contrast",
            ),
        },
        lambda v: v["high"] < 0.5 * v["clean"] and v["dncc"] < 0.2,
        {"low": "{:.3f}", "high": "{:.3f}", "dncc": "{:.3f}"},
        words={"no longer": "dncc_kept"},
    ),
    claims.Claim(
        "hurried_rater_errs",
        "the hurried rater misses small faint lesions in {miss} of cases, and the models learn those misses as if they "
        "were plausible readings.",
        {
            "miss": claims.Computed(
                lambda: RATERS[-1].miss_subtle, "the hurried rater's chance of missing a faint lesion"
            )
        },
        lambda v: 0 < v["miss"] < 1,
        {"miss": "{:.0%}"},
    ),
]

#: sentences the claims test flags that define a term or a method rather than report a measurement
DEFINITIONS = (
    "The middle 95 % of these differences is a",
    "0 % = all six agree",
    "for example `predict_unet_dncc = 0.5`",  # the answer's format, not a result
    "recomputes the difference between two models thousands of times",
    "with the 95 % bootstrap interval in brackets",
    "RECIST 1.1",  # the name of the criteria, not a measurement
)


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
