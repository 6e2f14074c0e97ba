"""ipywidgets explorers and self-check quizzes.

An explorer shows its controls and, below them, an ordinary figure output drawn with the
defaults, so a headless run or a static render shows it too. Moving a control redraws that
figure in place through its display handle. (Explorers deliberately avoid ipywidgets' Output
widget: nbclient, which papermill and nbgrader use, can hang when output is captured into one
while a cell runs.)"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as w
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from medai_edu import viz


def _explorer(controls: Mapping[str, w.ValueWidget], draw: Callable[..., Figure], box: w.Widget,
              actions: Mapping[w.Button, Callable[..., None]] | None = None) -> w.Widget:
    """Show ``box`` (holding the controls) and the figure ``draw(**values)``; redraw on change.

    ``actions`` maps buttons to functions called with the controls' values before the redraw.
    """

    def values() -> dict:
        return {name: control.value for name, control in controls.items()}

    def figure() -> Figure:
        fig = draw(**values())
        plt.close(fig)  # shown once through the handle, not again by the inline backend
        return fig

    display(box)
    handle = display(figure(), display_id=True)

    def redraw(_: object) -> None:
        if handle is not None:
            handle.update(figure())

    for control in controls.values():
        control.observe(redraw, names="value")
    for button, action in (actions or {}).items():
        button.on_click(lambda _, act=action: (act(**values()), redraw(None)))
    return box


def ppv_explorer() -> w.Widget:
    """Sliders for sensitivity, specificity and prevalence; the PPV curve follows them."""
    style = {"description_width": "110px"}
    sliders = {
        "sensitivity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Sensitivity", style=style),
        "specificity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Specificity", style=style),
        "prevalence": w.FloatLogSlider(0.05, base=10, min=-3, max=-0.05, step=0.05,
                                       description="Prevalence", readout_format=".3f", style=style),
    }
    return _explorer(sliders, viz.plot_ppv_vs_prevalence, w.VBox(list(sliders.values())))


def quiz(question: str, options: Mapping[str, str], correct: str, explanations: Mapping[str, str]) -> w.Widget:
    """A self-check multiple-choice question: pick an answer, press Check, read why."""
    if correct not in options:
        raise ValueError(f"correct answer {correct!r} is not one of the options {list(options)}.")
    choice = w.RadioButtons(options=[(f"{key}. {text}", key) for key, text in options.items()],
                            value=None, layout=w.Layout(width="auto"))
    button = w.Button(description="Check", button_style="primary")
    feedback = w.HTML()

    def on_check(_: object) -> None:
        if choice.value is None:
            feedback.value = "Pick an answer first."
            return
        verdict = "✅ Right." if choice.value == correct else "❌ Not quite."
        feedback.value = f"<b>{verdict}</b> {explanations.get(choice.value, '')}"

    button.on_click(on_check)
    box = w.VBox([w.HTML(f"<b>{question}</b>"), choice, button, feedback])
    display(box)
    return box


def attribution_explorer(
    images: np.ndarray, masks: np.ndarray, maps: Mapping[str, np.ndarray], method: str | None = None
) -> w.Widget:
    """Pick an image, a method and how many top pixels to outline; see image, map and truth.

    ``maps[method]`` holds precomputed maps ``[N, H, W]`` for the ``N`` images, so moving a
    control only redraws; ``method`` is the one shown first (default: the first in ``maps``).
    """
    if not maps:
        raise ValueError("maps is empty: compute at least one method's maps first.")
    if method is not None and method not in maps:
        raise ValueError(f"method {method!r} has no maps; choose one of {', '.join(maps)}.")
    style = {"description_width": "130px"}
    controls = {
        "index": w.IntSlider(0, min=0, max=len(images) - 1, description="Image", style=style),
        "method": w.Dropdown(options=[(viz.METHOD_LABELS.get(m, m), m) for m in maps], value=method or next(iter(maps)),
                             description="Method", style=style),
        "top_percent": w.IntSlider(5, min=0, max=50, description="Outline top %", style=style),
    }

    def draw(index: int, method: str, top_percent: int) -> Figure:
        return viz.plot_attribution(images[index], masks[index], maps[method][index], method,
                                    top_fraction=top_percent / 100 or None)

    return _explorer(controls, draw, w.VBox([w.HBox([controls["index"], controls["method"]]), controls["top_percent"]]))


def brain_map_explorer(cases, maps: Mapping[str, np.ndarray], close_up: Callable[[np.ndarray], tuple[slice, slice]],
                       method: str | None = None) -> w.Widget:
    """Pick a subject, a method and the overlay strength; see the map, a hippocampus close-up, the truth.

    ``cases`` holds ``images``, ``effects`` and ``hippocampus`` arrays [N, H, W]; ``maps[method]``
    the precomputed maps; ``close_up(hippocampus_mask)`` gives the close-up window.
    """
    if method is not None and method not in maps:
        raise ValueError(f"method {method!r} has no maps; choose one of {', '.join(maps)}.")
    style = {"description_width": "110px"}
    controls = {
        "index": w.IntSlider(0, min=0, max=len(cases.images) - 1, description="Subject", style=style),
        "method": w.Dropdown(options=[(viz.METHOD_LABELS.get(m, m), m) for m in maps], value=method or next(iter(maps)),
                             description="Method", style=style),
        "overlay": w.FloatSlider(0.6, min=0.0, max=1.0, step=0.05, description="Overlay strength", style=style),
    }

    def draw(index: int, method: str, overlay: float) -> Figure:
        return viz.plot_brain_map(cases.images[index], cases.effects[index], maps[method][index], method,
                                  cases.hippocampus[index], overlay, close_up(cases.hippocampus[index]))

    return _explorer(controls, draw, w.VBox([w.HBox([controls["index"], controls["method"]]), controls["overlay"]]))


def severity_explorer(subject: Callable[[int, float], dict], subjects: list[int]) -> w.Widget:
    """Move the disease severity of a simulated subject; ``subject(index, severity)`` gives the panels."""
    style = {"description_width": "110px"}
    controls = {
        "index": w.Dropdown(options=[(f"subject {int(i)}", int(i)) for i in subjects], value=int(subjects[0]),
                            description="Subject", style=style),
        "severity": w.FloatSlider(0.8, min=0.0, max=1.5, step=0.05, description="Severity", style=style),
    }

    def draw(index: int, severity: float) -> Figure:
        return viz.plot_severity(**subject(index, severity))

    return _explorer(controls, draw, w.HBox(list(controls.values())))


def sampling_explorer(pool, masks: np.ndarray, levels: list[tuple[str, int | None]], title: str) -> w.Widget:
    """Pick a case and which latent levels vary; press the button to draw another outline.

    ``pool`` is a :class:`~medai_edu.lessons.uncertainty.SamplePool` over the cases' images;
    ``masks[case]`` are the raters' label maps; ``levels`` the (label, level) choices.
    """
    style = {"description_width": "110px"}
    controls = {
        "case": w.IntSlider(0, min=0, max=len(masks) - 1, description="Case", style=style),
        "level": w.Dropdown(options=levels, value=levels[0][1], description="Latent levels", style=style,
                            layout=w.Layout(width="360px")),
    }
    button = w.Button(description="Draw another plausible outline", button_style="primary", layout=w.Layout(width="260px"))

    def draw(case: int, level: int | None) -> Figure:
        return viz.plot_samples(pool.images[case][0], pool.get(case, level), masks[case], title)

    return _explorer(controls, draw, w.VBox([w.HBox(list(controls.values())), button]), {button: pool.draw_another})


def robustness_explorer(grid: Mapping[tuple[str, float], dict]) -> w.Widget:
    """Choose a kind of input shift and its amount; see the model's samples and their disagreement.

    ``grid[(kind, amount)]`` holds the shifted ``image`` [1, H, W], the sampled label maps
    ``samples`` and their ``disagreement`` map (:func:`medai_edu.lessons.uncertainty.robustness_grid`).
    """
    style = {"description_width": "110px"}
    kinds = list(dict.fromkeys(kind for kind, _ in grid))
    amounts = sorted({amount for _, amount in grid})
    controls = {
        "kind": w.Dropdown(options=kinds, value=kinds[0], description="Shift", style=style),
        "amount": w.SelectionSlider(options=amounts, value=amounts[0], description="Amount", style=style),
    }

    def draw(kind: str, amount: float) -> Figure:
        cell = grid[(kind, amount)]
        caption = f"Scan with {kind} shift {amount:.1f}\n(0 = none, 1 = strongest)"
        return viz.plot_robustness(cell["image"][0], cell["samples"], cell["disagreement"], caption)

    return _explorer(controls, draw, w.HBox(list(controls.values())))
