"""What lesson 3 (uncertainty sampling) says, bound to what was measured (:mod:`medai_edu.claims`); its steps: :mod:`.uncertainty`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np

from medai_edu import claims, viz
from medai_edu.data.multirater import RATERS, disagreement
from medai_edu.lessons.uncertainty import (
    BENCHMARK,
    N_LECTURE_CASES,
    N_LECTURE_SAMPLES,
    RATER_NAMES,
    SHIFT_COLUMNS,
    STRONGEST_SHIFT,
    _lecture_images,
    _lecture_phiseg,
    lecture_shift_effects,
    level_spread,
)
from medai_edu.models.segmentation import MODELS

__all__ = ["CLAIMS", "DEFINITIONS"]

# --- what the lesson's text says, bound to its measurements (design §5b) ----------------------


@lru_cache(maxsize=1)
def lecture_level_spread() -> dict[str, dict[str, float]]:
    """:func:`level_spread` of five-level PHiSeg as the notebook measures it in lecture mode."""
    return level_spread(_lecture_phiseg(), _lecture_images(), N_LECTURE_SAMPLES)


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
