"""Figures and widgets: they draw, and extreme settings do not crash."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medai_edu import viz, widgets  # noqa: E402


def test_ppv_follows_bayes_rule():
    # 90 % sensitive and specific, 1 % prevalence: 0.009 / (0.009 + 0.099)
    assert viz.ppv_curve(0.9, 0.9, np.array([0.01]))[0] == pytest.approx(0.009 / 0.108)
    assert viz.ppv_curve(1.0, 1.0, np.array([0.5]))[0] == pytest.approx(1.0)


@pytest.mark.parametrize("sens, spec, prev", [(0.5, 0.5, 0.001), (1.0, 1.0, 0.999), (0.0, 1.0, 0.5)])
def test_extreme_settings_draw(sens, spec, prev):
    fig = viz.plot_ppv_vs_prevalence(sens, spec, prev)
    assert fig.axes[0].get_ylabel()


def test_out_of_range_settings_are_explained():
    with pytest.raises(ValueError, match="prevalence must be between 0 and 1, got 5"):
        viz.plot_ppv_vs_prevalence(prevalence=5)


def test_confusion_matrix_has_a_colour_bar():
    fig = viz.plot_confusion(45, 95, 5, 855)
    assert any(ax.get_ylabel() == "number of patients" for ax in fig.axes)


def test_workload_figure_labels_growth():
    fig = viz.plot_workload_gap()
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["+31%", "+18%"]


class FakeDisplay:
    """Records what an explorer shows; figures come back through the display handle."""

    def __init__(self) -> None:
        self.figures: list = []

    def __call__(self, obj, display_id=False):
        if isinstance(obj, matplotlib.figure.Figure):
            self.figures.append(obj)
        return self

    def update(self, obj) -> None:
        self.figures.append(obj)


def test_ppv_explorer_redraws_at_slider_extremes(monkeypatch):
    shown = FakeDisplay()
    monkeypatch.setattr(widgets, "display", shown)
    box = widgets.ppv_explorer()
    sensitivity, specificity, prevalence = box.children
    for slider in (sensitivity, specificity):
        slider.value = slider.min
        slider.value = slider.max
    prevalence.value = prevalence.base**prevalence.min
    prevalence.value = prevalence.base**prevalence.max
    assert len(shown.figures) == 7, "one figure at start and one per slider move"
    assert shown.figures[-1].axes[0].get_title() == "Sensitivity 100%, specificity 100%"


def test_attribution_explorer_starts_with_the_chosen_method(monkeypatch):
    shown = FakeDisplay()
    monkeypatch.setattr(widgets, "display", shown)
    images, masks = np.zeros((2, 8, 8)), np.ones((2, 8, 8))
    box = widgets.attribution_explorer(images, masks, {"grad_cam": masks, "vagan": -masks}, method="vagan")
    assert shown.figures[0].axes[1].get_title() == viz.METHOD_LABELS["vagan"]
    index = box.children[0].children[0]
    index.value = 1
    assert len(shown.figures) == 2
    with pytest.raises(ValueError, match="no maps; choose one of grad_cam"):
        widgets.attribution_explorer(images, masks, {"grad_cam": masks}, method="occlusion")


def test_quiz_gives_feedback():
    box = widgets.quiz("Q?", {"A": "yes", "B": "no"}, correct="B", explanations={"B": "because"})
    choice, button, feedback = box.children[1:]
    button.click()
    assert "Pick an answer" in feedback.value
    choice.value = "A"
    button.click()
    assert "Not quite" in feedback.value
    choice.value = "B"
    button.click()
    assert "Right" in feedback.value and "because" in feedback.value


def test_quiz_rejects_an_impossible_answer_key():
    with pytest.raises(ValueError, match="not one of the options"):
        widgets.quiz("Q?", {"A": "yes"}, correct="C", explanations={})


def test_sampling_explorer_draws_another_outline_per_click(monkeypatch):
    from medai_edu.lessons.uncertainty import SamplePool, latent_levels
    from medai_edu.models.segmentation import build_segmenter

    shown = FakeDisplay()
    monkeypatch.setattr(widgets, "display", shown)
    model = build_segmenter("phiseg_l5", n0=2).eval()
    images, masks = np.zeros((2, 1, 64, 64), np.float32), np.zeros((2, 6, 64, 64), np.uint8)
    pool = SamplePool(model, images, start=2)
    box = widgets.sampling_explorer(pool, masks, latent_levels(model), "PHiSeg")
    (case, level), button = box.children[0].children, box.children[1]
    button.click()
    button.click()
    assert len(pool.get(0, None)) == 4 and "sample 4" in shown.figures[-1].axes[0].get_title()
    level.value = 0  # only the finest level varies: a fresh pool of 2
    case.value = 1
    assert len(shown.figures) == 5 and "sample 2" in shown.figures[-1].axes[0].get_title()


def test_robustness_explorer_moves_through_the_grid(monkeypatch):
    shown = FakeDisplay()
    monkeypatch.setattr(widgets, "display", shown)
    cell = {"image": np.zeros((1, 8, 8)), "samples": np.zeros((3, 8, 8), np.uint8), "disagreement": np.zeros((8, 8))}
    grid = {(kind, amount): cell for kind in ("noise", "blur") for amount in (0.0, 0.5, 1.0)}
    box = widgets.robustness_explorer(grid)
    kind, amount = box.children
    assert list(kind.options) == ["noise", "blur"] and list(amount.options) == [0.0, 0.5, 1.0]
    amount.value = 1.0
    kind.value = "blur"
    assert len(shown.figures) == 3 and "blur shift 1.0" in shown.figures[-1].axes[0].get_title()
