"""ipywidgets explorers and self-check quizzes.

A notebook calls the matching plotting function in `viz` once with the defaults before an
explorer, so that a headless run or a static render still shows the figure."""
from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as w
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display

from medai_edu import viz


def ppv_explorer() -> w.Widget:
    """Sliders for sensitivity, specificity and prevalence; the PPV curve follows them."""
    style = {"description_width": "110px"}
    sliders = {
        "sensitivity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Sensitivity", style=style),
        "specificity": w.FloatSlider(0.9, min=0.5, max=1.0, step=0.01, description="Specificity", style=style),
        "prevalence": w.FloatLogSlider(0.05, base=10, min=-3, max=-0.05, step=0.05,
                                       description="Prevalence", readout_format=".3f", style=style),
    }

    def draw(**values: float) -> None:
        fig = viz.plot_ppv_vs_prevalence(**values)
        display(fig)
        plt.close(fig)

    out = w.interactive_output(draw, sliders)
    box = w.VBox([*sliders.values(), out])
    display(box)
    return box


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


def attribution_explorer(images: np.ndarray, masks: np.ndarray, maps: Mapping[str, np.ndarray]) -> w.Widget:
    """Pick an image, a method and how many top pixels to outline; see image, map and truth.

    ``maps[method]`` holds precomputed maps ``[N, H, W]`` for the ``N`` images, so moving a
    slider only redraws.
    """
    if not maps:
        raise ValueError("maps is empty: compute at least one method's maps first.")
    style = {"description_width": "130px"}
    controls = {
        "index": w.IntSlider(0, min=0, max=len(images) - 1, description="Image", style=style),
        "method": w.Dropdown(options=[(viz.METHOD_LABELS.get(m, m), m) for m in maps], description="Method", style=style),
        "top_percent": w.IntSlider(5, min=0, max=50, description="Outline top %", style=style),
    }

    def draw(index: int, method: str, top_percent: int) -> None:
        fig = viz.plot_attribution(images[index], masks[index], maps[method][index], method,
                                   top_fraction=top_percent / 100 or None)
        display(fig)
        plt.close(fig)

    out = w.interactive_output(draw, controls)
    box = w.VBox([w.HBox(list(controls.values())[:2]), controls["top_percent"], out])
    display(box)
    return box
