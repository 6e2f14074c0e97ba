"""Lesson 3's steps: cases, sampling pools, latent-level choices, disagreement scores, shifts, figures."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from medai_edu import viz  # noqa: E402
from medai_edu.data.multirater import disagreement  # noqa: E402
from medai_edu.data.shifts import ShiftedDataset, shift_image  # noqa: E402
from medai_edu.lessons import uncertainty as lesson  # noqa: E402
from medai_edu.models.segmentation import build_segmenter  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return lesson.load_data(progress=False)


@pytest.fixture(scope="module")
def phiseg():
    return lesson.load_models(("phiseg_l5",))["phiseg_l5"]


def test_picked_cases_have_clear_lesions_in_test_order(data):
    cases = lesson.pick_cases(data, 3)
    assert cases == sorted(cases) and len(cases) == 3
    assert all(lesson.LESION_KINDS[int(k)] == "clear" for k in data.field("kinds")[cases])


def test_sample_pool_keeps_and_grows_samples(data, phiseg):
    images = data.field("images")[:2]
    pool = lesson.SamplePool(phiseg, images, start=3)
    first = pool.get(1, None)
    assert first.shape == (3, 64, 64) and first.dtype == np.uint8 and set(np.unique(first)) <= {0, 1, 2}
    assert pool.get(1, None) is first  # moving a slider back shows the same samples
    grown = pool.draw_another(1, None)
    assert len(grown) == 4 and np.array_equal(grown[:3], first)
    assert pool.get(1, 4).shape == (3, 64, 64)  # one latent level at a time


def test_latent_level_choices_name_each_phiseg_level(phiseg):
    choices = lesson.latent_levels(phiseg)
    assert choices[0] == ("all levels", None)
    assert [level for _, level in choices[1:]] == [4, 3, 2, 1, 0]
    assert "coarsest, 2x2" in choices[1][0] and "finest, 32x32" in choices[-1][0]
    assert lesson.latent_levels(build_segmenter("unet")) == [("all levels", None)]


def test_deterministic_unet_has_no_disagreement(data):
    models = lesson.load_models(("unet",))
    cases = lesson.pick_cases(data, 2)
    scores = lesson.disagreement_scores(models, data.field("images")[cases], data.field("masks")[cases], 4)
    assert scores == {"unet": 0.0}


def test_shifts_are_deterministic_and_identity_at_zero(data):
    image = data.field("images")[0]
    assert np.array_equal(lesson.shift(image, "noise", 0.0), image)
    assert np.allclose(lesson.shift(image, "contrast", 0.0), image)
    assert np.allclose(lesson.shift(image, "blur", 0.0), image)
    assert np.array_equal(shift_image(image, "noise", 0.3, 7), shift_image(image, "noise", 0.3, 7))
    assert not np.array_equal(shift_image(image, "noise", 0.3, 7), shift_image(image, "noise", 0.3, 8))
    low = shift_image(image, "contrast", 0.5)
    assert np.isclose(low.std(), 0.5 * image.std(), rtol=1e-4)
    assert shift_image(image, "blur", 1.5).std() < image.std()
    shifted = ShiftedDataset(data, "noise")
    assert np.array_equal(shifted[3][0], shifted[3][0]) and np.array_equal(shifted[3][1], data[3][1])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda img: lesson.shift(img, "noise", 1.5), "between 0"),
        (lambda img: lesson.shift(img, "gamma", 0.5), "kind must be one of"),
        (lambda img: shift_image(img, "noise", -1.0), "0 or more"),
    ],
)
def test_bad_shift_settings_are_explained(data, call, message):
    with pytest.raises(ValueError, match=message):
        call(data.field("images")[0])


def test_robustness_grid_and_figures(data, phiseg):
    image, masks = data.field("images")[0], data.field("masks")[0]
    grid = lesson.robustness_grid(phiseg, image, 2, np.array([0.0, 1.0]))
    assert set(grid) == {(kind, a) for kind in ("noise", "contrast", "blur") for a in (0.0, 1.0)}
    cell = grid[("blur", 1.0)]
    assert np.array_equal(cell["disagreement"], disagreement(cell["samples"]))
    viz.plot_robustness(cell["image"][0], cell["samples"], cell["disagreement"], "blur")
    viz.plot_raters(image[0], masks, disagreement(masks), ["r"] * 6)
    viz.plot_single_answer(image[0], masks[0], disagreement(masks))
    viz.plot_samples(image[0], cell["samples"], masks, "PHiSeg")
    viz.plot_disagreement_pair(image[0], disagreement(cell["samples"]), disagreement(masks), "PHiSeg", 0.5)


def test_level_spread_measures_each_latent_level_coarse_to_fine(data, phiseg):
    images = data.field("images")[:2]
    spread = lesson.level_spread(phiseg, images, 4)
    assert list(spread) == ["2x2", "4x4", "8x8", "16x16", "32x32"]
    for size, row in spread.items():
        assert row["area spread (pixels)"] >= 0 and 0 <= row["pixels changed per outline"] <= 64 * 64 / 2, size
    assert lesson.level_spread(phiseg, images, 4) == spread  # seeded: the notebook repeats the text's numbers
    assert lesson.lesion_area(np.array([[[0, 1], [2, 0]], [[0, 0], [0, 0]]])).tolist() == [2, 0]


def test_shift_effects_average_lesion_share_and_disagreement(data, phiseg):
    images = data.field("images")[:2]
    effects = lesson.shift_effects(phiseg, images, 3)
    assert list(effects) == ["none", "noise", "contrast", "blur"]
    lesion, disagree = lesson.SHIFT_COLUMNS
    for kind, row in effects.items():
        assert 0 <= row[lesion] <= 100 and 0 <= row[disagree] <= 100 * 4 / 6, kind
    outlines = [lesson.sample_outlines(phiseg, image, 3) for image in images]  # different draws, same kind of number
    assert np.isclose(effects["none"][lesion], 100 * np.mean([(o > 0).mean() for o in outlines]), atol=5)


def test_figure_4_is_titled_with_its_own_cases_dncc(data, phiseg):
    """The title's number is the D_NCC of the case the figure shows, not an average over cases."""
    from medai_edu.metrics import ncc

    image, masks = data.field("images")[0], data.field("masks")[0]
    fig = lesson.show_disagreement(phiseg, image, masks, 6, "PHiSeg")
    torch.manual_seed(lesson.SAMPLING_SEED)  # show_disagreement draws with this seed (computed once per class)
    predicted = disagreement(lesson.sample_outlines(phiseg, image, 6))
    own = float(ncc(predicted[None], disagreement(masks)[None], batch=True)[0])
    assert f"(NCC with raters {own:.2f})" in fig.axes[1].get_title()


def test_reference_benchmark_tables(tmp_path):
    for final in (False, True):
        table = lesson.reference_benchmark(final=final)
        assert list(table.index) == list(lesson.MODEL_LABELS.values())
        assert {("clean", "GED²"), ("clean", "D_NCC"), ("clean", "ECE"), ("noise", "Dice")} <= set(table.columns)
    shipped = json.loads(lesson.BENCHMARK_FILE.read_text())
    assert table.loc["U-Net (one answer)", ("clean", "D_NCC")] == round(
        shipped["models"]["unet"]["final"]["clean"]["dis_ncc_mean"], 3
    )
    differences = lesson.benchmark_differences()
    assert len(differences) == 3 and list(differences.columns) == ["GED²", "S_NCC", "Dice", "D_NCC", "ECE"]
    interval = shipped["bootstrap"]["dev"]["clean"]["phiseg_l5_vs_phiseg_l1"]["ged"]
    assert differences.iloc[0]["GED²"].startswith(f"{interval['difference']:+.3f} [{interval['low']:+.3f}")
    with pytest.raises(FileNotFoundError, match="medai-edu bench uncertainty"):
        lesson.reference_benchmark(tmp_path / "missing.json")
    assert shipped["data"]["n_images"] == 300 and shipped["data"]["n_samples"] == 100
