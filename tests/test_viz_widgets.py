"""Figures and widgets: they draw, and extreme settings do not crash."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medai_edu import figure_html, viz, widgets  # noqa: E402


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


@pytest.fixture
def shown(monkeypatch) -> list:
    """What the explorers display (instead of a notebook)."""
    displayed: list = []
    monkeypatch.setattr(widgets, "display", displayed.append)
    return displayed


def _title(explorer, panel: int = 0) -> str:
    explorer.settle()
    return explorer.last_figure.axes[panel].get_title()


def test_ppv_explorer_redraws_at_slider_extremes(shown):
    box = widgets.ppv_explorer()
    assert shown == [widgets.NAME_SLIDER_HANDLES, box] and 'alt="Figure' in box.figure.value
    sensitivity, specificity, prevalence = box.controls.values()
    for slider in (sensitivity, specificity):
        slider.value = slider.min
        box.settle()
        slider.value = slider.max
        box.settle()
    prevalence.value = prevalence.base**prevalence.min
    prevalence.value = prevalence.base**prevalence.max
    assert _title(box) == "Sensitivity 100%, specificity 100%"
    assert 6 <= box.draws <= 7, "one figure at start and one per slider move (the last two may merge)"


def test_explorer_draws_the_newest_values_and_skips_stale_ones(shown):
    box = widgets.ppv_explorer()
    sensitivity = box.controls["sensitivity"]
    for value in np.arange(0.5, 1.0, 0.01):  # a fast drag: 50 changes
        sensitivity.value = round(float(value), 2)
    assert _title(box) == "Sensitivity 99%, specificity 90%"
    assert box.draws < 50, "stale slider values are skipped, not drawn one by one"
    before = box.draws
    sensitivity.value = 0.9  # the first figure's setting: taken from the cache
    box.settle()
    assert box.draws == before and "Sensitivity 90%" in box.figure.value


def test_explorer_draws_the_next_step_ahead(shown, monkeypatch):
    monkeypatch.setattr(widgets, "PREFETCH", True)
    box = widgets.ppv_explorer()
    box.controls["specificity"].value = 0.91
    box.settle(ahead=True)
    assert box.drawn_ahead == 1, "one more step up (one step back is the first figure, in the cache)"
    before = box.draws
    box.controls["specificity"].value = 0.92  # the next step up: drawn ahead already
    box.settle()
    assert box.draws == before and "Sensitivity 90%, specificity 92%" in box.figure.value
    box.controls["specificity"].value = 0.91  # and back: in the cache
    box.settle()
    assert box.draws == before


def test_explorer_figure_is_an_image_with_alt_text_in_every_renderer(shown):
    box = widgets.ppv_explorer()
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<img src="data:image/png;base64,')
    assert "legend: positive predictive value, your setting: 32%" in bundle["text/html"]


def test_explorer_shows_a_drawing_error_in_place_of_the_figure(shown):
    def draw(value: int):
        if value:
            raise ValueError("no figure for this value")
        return viz.plot_ppv_vs_prevalence()

    slider = widgets.w.IntSlider(0)
    box = widgets.Explorer({"value": slider}, draw, slider)
    slider.value = 1
    box.settle()
    assert 'role="alert"' in box.figure.value and "no figure for this value" in box.figure.value


def test_attribution_explorer_starts_with_the_chosen_method(shown):
    images, masks = np.zeros((2, 8, 8)), np.ones((2, 8, 8))
    box = widgets.attribution_explorer(images, masks, {"grad_cam": masks, "vagan": -masks}, method="vagan")
    assert _title(box, 1) == viz.METHOD_LABELS["vagan"]
    image = box.controls["image"]
    assert (image.value, image.min, image.max) == (1, 1, 2), "images are counted from 1"
    image.value = 2
    box.settle()
    assert box.draws == 2
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


@pytest.fixture
def sampling(shown):
    """A sampling explorer over two blank cases, with an untrained five-level PHiSeg drawing 2 outlines first."""
    from medai_edu.lessons.uncertainty import SamplePool, latent_levels
    from medai_edu.models.segmentation import build_segmenter

    model = build_segmenter("phiseg_l5", n0=2).eval()
    images, masks = np.zeros((2, 1, 64, 64), np.float32), np.zeros((2, 6, 64, 64), np.uint8)
    pool = SamplePool(model, images, start=2)
    box = widgets.sampling_explorer(pool, masks, latent_levels(model), "PHiSeg")
    return box, pool, masks


def test_sampling_explorer_draws_another_outline_per_click(sampling):
    box, pool, _ = sampling
    case, level = box.controls["case"], box.controls["choice"]
    assert level.label == "all levels", "the dropdown starts on its first choice, not blank"
    assert (case.value, case.min) == (1, 1), "cases are counted from 1"
    button = box.children[0].children[1]
    button.click()
    button.click()
    box.settle()
    assert "outline 4 of this case and levels" in box.figure.value and len(pool.get(0, None)) == 4
    level.value = len(level.options) - 1  # only the finest level varies: a fresh pool of 2
    case.value = 2
    box.settle()
    assert "outline 2 of this case and levels" in box.figure.value and len(pool.get(1, 0)) == 2
    note = box.children[0].children[2].value
    assert "keeps its own outlines" in note and "starts at 2" in note, "the explorer says when its count starts anew"


def test_sampling_explorer_caches_by_outlines_shown_and_never_shows_a_stale_figure(sampling, monkeypatch):
    """Coming back to a case, or pressing after the next press was drawn ahead, takes the figure from the
    cache; every figure shown is the one a fresh drawing of the pool's current outlines gives."""
    monkeypatch.setattr(widgets, "PREFETCH", True)
    box, pool, masks = sampling
    case, button = box.controls["case"], box.children[0].children[1]

    def fresh(i: int) -> str:  # the figure of case i's outlines as shown now, drawn anew
        with viz.offscreen():
            fig = viz.plot_samples(pool.images[i][0], pool.get(i, None), masks[i], "PHiSeg")
        return figure_html.img_html(figure_html.png_bytes(fig), figure_html.describe(fig))

    button.click()
    box.settle(ahead=True)
    assert "outline 3 of" in box.figure.value and box.figure.value == fresh(0)
    assert box.drawn_ahead >= 1, "the figure after the next press is drawn while the explorer is idle"
    draws = box.draws
    button.click()  # its figure was drawn ahead: taken from the cache, with the new outline
    box.settle(ahead=True)
    assert box.draws == draws and "outline 4 of" in box.figure.value and box.figure.value == fresh(0)
    case.value = 2
    box.settle(ahead=True)
    assert "outline 2 of" in box.figure.value and box.figure.value == fresh(1)
    draws = box.draws
    case.value = 1  # back to a case already seen, with as many outlines as before: from the cache
    box.settle()
    assert box.draws == draws and box.figure.value == fresh(0)
    button.click()
    box.settle()
    assert "outline 5 of" in box.figure.value and box.figure.value == fresh(0)
    draws = box.draws
    case.value = 2  # its pool did not grow: its figure, from the cache
    box.settle()
    assert box.draws == draws and box.figure.value == fresh(1)


def test_robustness_explorer_moves_through_the_grid(shown):
    cell = {"image": np.zeros((1, 8, 8)), "samples": np.zeros((3, 8, 8), np.uint8), "disagreement": np.zeros((8, 8))}
    grid = {(kind, amount): cell for kind in ("noise", "blur") for amount in (0.0, 0.5, 1.0)}
    box = widgets.robustness_explorer(grid)
    kind, amount = box.controls.values()
    assert list(kind.options) == ["noise", "blur"] and list(amount.options) == [0.0, 0.5, 1.0]
    amount.value = 1.0
    kind.value = "blur"
    assert "blur shift 1.0" in _title(box)


COLOUR_BLIND_SAFE = {"viridis", "cividis", "gray", "RdBu_r"}  # magnitudes, grey scans, signed effects centred at 0


def test_figures_use_only_colour_blind_safe_maps():
    """No jet, rainbow or other unsafe colour map anywhere in the library; the default map is viridis."""
    import re
    from pathlib import Path

    from medai_edu import notebook

    used = set()
    for path in Path(viz.__file__).parent.rglob("*.py"):
        used |= set(re.findall(r"""cmap\s*=\s*["']([\w.]+)["']""", path.read_text()))
    assert used and used <= COLOUR_BLIND_SAFE, (
        f"colour maps that are not colour-blind-safe: {sorted(used - COLOUR_BLIND_SAFE)}"
    )
    notebook.use_figure_style()
    assert matplotlib.rcParams["image.cmap"] == "viridis"


def test_every_image_panel_has_a_colour_bar_or_is_a_scan(shown):
    """Each coloured map in the explorers' figures comes with a colour bar saying what the colour means."""
    images, masks = np.zeros((1, 8, 8)), np.ones((1, 8, 8))
    box = widgets.attribution_explorer(images, masks, {"grad_cam": masks})
    fig = box.last_figure
    coloured = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name != "gray"]
    assert coloured and all(im.colorbar is not None for im in coloured)
    assert "colour bar: importance for &#x27;diseased&#x27;" in box.figure.value


def test_tables_have_no_empty_header_cells():
    import re

    import pandas as pd

    from medai_edu.figure_html import table_html

    plain = pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "y"])
    levels = pd.DataFrame({("clean", "Dice"): [0.8], ("noise", "Dice"): [0.7]}, index=["U-Net"])
    numbered = pd.DataFrame({"a": [1, 2]})
    for table in (plain, levels, numbered):
        headers = re.findall(r"<th[^>]*>(.*?)</th>", table_html(table), flags=re.S)
        assert headers and all(h.strip() for h in headers), headers
    assert "<td>U-Net</td>" in table_html(levels) and "<td>1</td>" in table_html(numbered)


def test_explorers_show_full_labels_and_say_when_colour_scales_are_per_image(shown):
    """No dropdown cuts its longest label ('VA-GAN (disease effect)'); explorers whose maps are scaled per image
    say so under their controls."""
    images, masks = np.zeros((2, 8, 8)), np.ones((2, 8, 8))
    maps = {name: masks for name in viz.METHOD_LABELS}
    box = widgets.attribution_explorer(images, masks, maps, method="vagan")
    dropdown = box.controls["method"]
    assert dropdown.layout.width == "auto"  # the browser sizes it to its longest label
    notes = [child.value for child in box.children[0].children if isinstance(child, widgets.w.HTML)]
    assert any("its own colour scale" in note for note in notes)
    assert "scale of this image" in " ".join(ax.get_ylabel() for ax in box.last_figure.axes)
