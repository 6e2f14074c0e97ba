"""`medai-edu bench widgets`: how long a slider move takes to redraw each explorer.

A redraw is timed in Python, from the control change to the explorer's new image (the PNG with
its alt text, ready to send to the browser). What a user feels, up to the new image painted in
the browser, is measured by `medai-edu bench browser`.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np

from medai_edu import widgets


def _time_moves(build: Callable[[], Any], moves: Callable[[Any], list[Callable[[], None]]]) -> dict[str, float]:
    with mock.patch.object(widgets, "display", lambda obj: None):
        box = build()
        box._cache_on = False  # time real redraws, not cache hits
        seconds = []
        for move in moves(box):
            start = time.perf_counter()
            move()
            box.settle()
            seconds.append(time.perf_counter() - start)
    return {"median_ms": 1000 * statistics.median(seconds), "max_ms": 1000 * max(seconds), "moves": len(seconds)}


def _slider_moves(slider: Any, values: list[Any]) -> list[Callable[[], None]]:
    return [functools.partial(setattr, slider, "value", v) for v in values]


def run(repeats: int = 10) -> dict[str, dict[str, float]]:
    """Median and worst redraw time of each explorer over ``repeats`` slider moves."""
    from medai_edu.lessons import saliency
    from medai_edu.notebook import use_figure_style

    use_figure_style()  # the figure size and resolution the lessons use
    results = {
        "ppv_explorer": _time_moves(
            widgets.ppv_explorer,
            lambda box: _slider_moves(box.controls["prevalence"], list(np.geomspace(0.002, 0.8, repeats))),
        )
    }
    cases = saliency.diseased_cases(4)
    maps = {"grad_cam": cases.masks * 1.0, "vagan": cases.masks - 0.5}
    results["attribution_explorer"] = _time_moves(
        lambda: widgets.attribution_explorer(cases.images, cases.masks, maps),
        lambda box: _slider_moves(box.controls["image"], [1 + i % 4 for i in range(1, repeats + 1)]),  # from 1
    )
    results.update(_brain_explorers(repeats))
    results.update(_uncertainty_explorers(repeats))
    results.update(_referral_explorer(repeats))
    return results


def _referral_explorer(repeats: int) -> dict[str, dict[str, float]]:
    """Lesson 4: the referral curve (recomputed for the automation bias, then drawn)."""
    from medai_edu.lessons import human_with_ai

    study = human_with_ai.load_study(progress=False)
    return {
        "referral_explorer": _time_moves(
            lambda: widgets.referral_explorer(study),
            lambda box: _slider_moves(
                box.controls["automation_bias"], [round(0.1 * (i % 11), 2) for i in range(1, repeats + 1)]
            ),
        )
    }


def _brain_explorers(repeats: int) -> dict[str, dict[str, float]]:
    """Lesson 2: the map explorer (precomputed maps) and the severity explorer (stored states; a state
    not stored yet simulates and runs VA-GAN once)."""
    from medai_edu.lessons import alzheimer

    cases = alzheimer.ad_cases(4)
    maps = {"grad_cam": np.abs(cases.effects), "vagan": cases.effects}
    generator = alzheimer.load_generator()
    return {
        "brain_map_explorer": _time_moves(
            lambda: widgets.brain_map_explorer(cases, maps, alzheimer.close_up),
            lambda box: _slider_moves(box.controls["subject"], [1 + i % 4 for i in range(1, repeats + 1)]),  # from 1
        ),
        "severity_explorer": _time_moves(
            lambda: widgets.severity_explorer(lambda i, s: alzheimer.at_severity(generator, i, s), list(cases.indices)),
            lambda box: _slider_moves(
                box.controls["severity"],
                [alzheimer.SEVERITIES[(3 * i) % len(alzheimer.SEVERITIES)] for i in range(1, repeats + 1)],
            ),  # slider positions: their states come from the results cache once `medai-edu cache build` ran
        ),
    }


def _uncertainty_explorers(repeats: int) -> dict[str, dict[str, float]]:
    """Lesson 3: "draw another outline" (stored outlines, then PHiSeg live after the 24th) and the robustness
    explorer (precomputed)."""
    from medai_edu.lessons import uncertainty

    data = uncertainty.load_data(progress=False)
    cases = uncertainty.pick_cases(data, 2)
    images, masks = data.field("images")[cases], data.field("masks")[cases]
    phiseg = uncertainty.load_models(("phiseg_l5",))["phiseg_l5"]
    pool = uncertainty.SamplePool(phiseg, images)
    amounts = np.linspace(0, 1, repeats + 1)
    grid = uncertainty.robustness_grid(phiseg, images[0], 16, amounts)
    return {
        "sampling_explorer": _time_moves(
            lambda: widgets.sampling_explorer(pool, masks, uncertainty.latent_levels(phiseg), "PHiSeg"),
            lambda box: [box.children[0].children[1].click for _ in range(repeats)],
        ),
        "robustness_explorer": _time_moves(
            lambda: widgets.robustness_explorer(grid),
            lambda box: _slider_moves(box.controls["amount"], [round(float(a), 3) for a in amounts[1:]]),
        ),
    }


def table(result: dict[str, dict[str, float]]) -> str:
    lines = [f"{'explorer':<24}{'median ms':>10}{'max ms':>9}{'moves':>7}"]
    for name, row in result.items():
        lines.append(f"{name:<24}{row['median_ms']:>10.1f}{row['max_ms']:>9.1f}{row['moves']:>7}")
    return "\n".join(lines)
