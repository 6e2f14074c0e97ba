"""What lesson 1 (saliency vs attribution) says, bound to what was measured (:mod:`medai_edu.claims`); its steps: :mod:`.saliency`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache

import numpy as np
import torch

from medai_edu import attribution, claims
from medai_edu.data.toy import ToyBoxDataset
from medai_edu.lessons.saliency import (
    BENCHMARK,
    MANIFEST,
    MEASURED,
    N_LECTURE_IMAGES,
    N_TEST,
    TOP_FRACTION,
    Cases,
    _best_saliency,
    diseased_cases,
    evidence_counts,
    lesion_masks,
    load_classifier,
    load_generator,
    saliency_maps,
    score_maps,
    vagan_maps,
)

__all__ = ["CLAIMS", "DEFINITIONS"]

# --- what the lesson's figures and tables show, measured (for CLAIMS) --------------------------


@lru_cache(maxsize=1)
def _lecture_maps() -> tuple[Cases, dict[str, np.ndarray]]:
    """The lecture-mode cases and every method's maps on them, as the notebook computes them."""
    torch.manual_seed(0)
    cases = diseased_cases(N_LECTURE_IMAGES)
    maps = saliency_maps(load_classifier(), cases.images, progress=False)
    return cases, {**maps, "vagan": vagan_maps(load_generator(), cases.images)}


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
        "`python -m medai_edu.training classifier --out my_classifier` in a terminal: in JupyterLab, *File → New → Terminal*).",
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
