"""Lesson 2's steps: cases, maps compared with the right ground truth, severity and volume, figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from medai_edu import viz  # noqa: E402
from medai_edu.attribution import compared_with  # noqa: E402
from medai_edu.lessons import alzheimer as lesson  # noqa: E402


@pytest.fixture(scope="module")
def cases():
    return lesson.ad_cases(3)


def test_cases_are_ad_test_subjects_with_effects(cases):
    assert cases.images.shape == cases.effects.shape == cases.hippocampus.shape == (3, 80, 80)
    assert (cases.severities >= 0.35).all() and (np.abs(cases.effects).max(axis=(1, 2)) > 0).all()


def test_saliency_is_scored_against_the_size_of_the_effect_and_vagan_against_its_sign(cases):
    effect = torch.from_numpy(cases.effects)
    assert torch.equal(compared_with("vagan", effect), effect)
    assert torch.equal(compared_with("grad_cam", effect), effect.abs())
    scores = lesson.score_maps(
        {"vagan": cases.effects, "occlusion": np.abs(cases.effects), "grad_cam": -np.abs(cases.effects)}, cases.effects
    )
    assert scores["vagan"]["ncc_mean"] == pytest.approx(1.0) and scores["occlusion"]["ncc_mean"] == pytest.approx(1.0)
    assert scores["grad_cam"]["ncc_mean"] == pytest.approx(-1.0)


def test_close_up_holds_the_left_hippocampus(cases):
    rows, cols = lesson.close_up(cases.hippocampus[0])
    inside = cases.hippocampus[0][rows, cols].sum()
    left_half = cases.hippocampus[0][:, :40].sum()
    assert inside == left_half > 0 and cols.stop <= 80


def test_more_severe_disease_loses_more_hippocampus():
    generator = lesson.load_generator()
    index = int(lesson.ad_cases(1).indices[0])
    none, mild, severe = (lesson.at_severity(generator, index, s) for s in (0.0, 0.5, 1.5))
    assert none["volume_change"] == pytest.approx(0.0, abs=1e-6) and np.abs(none["effect"]).max() == 0
    assert severe["volume_change"] < mild["volume_change"] < 0
    assert severe["vagan_map"].shape == (80, 80)
    with_mask, without_mask = lesson.hippocampus_masks(index, 1.0)
    assert with_mask.dtype == bool and with_mask.sum() < without_mask.sum()


def test_brain_figures_draw_at_extreme_settings(cases):
    ref = lesson.reference()
    assert viz.plot_brain_reference(ref.template, ref.hippocampus, ref.ventricles).axes
    for overlay, method in ((0.0, "vagan"), (1.0, "grad_cam")):
        fig = viz.plot_brain_map(
            cases.images[0],
            cases.effects[0],
            np.zeros((80, 80)),
            method,
            cases.hippocampus[0],
            overlay,
            lesson.close_up(cases.hippocampus[0]),
        )
        assert any(ax.get_ylabel() for ax in fig.axes)  # colour bars say what the colours mean
    empty = np.zeros((80, 80))
    assert viz.plot_severity(cases.images[0], empty, empty, empty, empty, 0.0, 0.0).axes
