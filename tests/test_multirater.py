"""Lesson 3's multi-rater lesions: real anatomy, ambiguous borders, six raters with documented styles."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from medai_edu.data import brain, cache, multirater
from medai_edu.data.brain_reference import load_reference

TINY = dataclasses.replace(multirater.LECTURE, n_train=8, n_val=2, n_test=4)
REFERENCE, TIGHT, GENEROUS, SMOOTH, JAGGED, HURRIED = range(6)


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    for path in cache.cache_dir().glob("brain_reference_2d.*"):  # spare the 5 s template build
        shutil.copy(path, tmp_path)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path))
    multirater.load_multirater.cache_clear()
    yield tmp_path
    multirater.load_multirater.cache_clear()


@pytest.fixture(scope="module")
def sample():
    """150 cases of the lecture set, simulated without the cache."""
    cases = [multirater.simulate_case(i) for i in range(150)]
    return np.stack([c.masks for c in cases]), np.array([c.kind for c in cases])


def first_clear_case() -> tuple[int, multirater.MultiRaterCase]:
    return next((i, c) for i, c in enumerate(map(multirater.simulate_case, range(20))) if c.kind == 2)


def outline_length(mask: np.ndarray) -> int:
    """Number of pixel edges between the drawn area (any label) and the background."""
    drawn = np.pad(mask > 0, 1).astype(int)
    return int(np.abs(np.diff(drawn, axis=0)).sum() + np.abs(np.diff(drawn, axis=1)).sum())


def test_the_api_describes_six_raters_and_three_classes():
    assert multirater.N_RATERS == len(multirater.RATERS) == len(multirater.RATER_STYLES) == 6
    assert multirater.CLASS_NAMES == {0: "background", 1: "lesion core", 2: "oedema rim"}
    with pytest.raises(ValueError, match="split must be one of 'train', 'val', 'test'"):
        multirater.LECTURE.split_range("training")
    assert list(TINY.split_range("test")) == [10, 11, 12, 13]


def test_cases_are_deterministic_by_seed():
    a, b = multirater.simulate_case(5), multirater.simulate_case(5)
    for field in ("image", "soft", "masks"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    other_seed = multirater.simulate_case(5, dataclasses.replace(multirater.LECTURE, seed=7))
    assert not np.array_equal(a.image, other_seed.image) and not np.array_equal(
        a.image, multirater.simulate_case(6).image
    )


def test_a_lesion_darkens_real_anatomy_inside_white_matter_with_a_fainter_rim():
    index, case = first_clear_case()
    anatomy = brain.simulate(index, 0.0).image[multirater.CROP]
    darkening = anatomy - case.image
    np.testing.assert_allclose(darkening[case.soft[1] == 0], 0, atol=1e-6)  # elsewhere: the brain as it was
    assert darkening.min() > -1e-6
    core, rim = case.masks[REFERENCE] == 1, case.masks[REFERENCE] == 2
    assert darkening[core].mean() > 2 * darkening[rim].mean() > 0
    template = load_reference(2).template[multirater.CROP]
    assert np.average(template, weights=case.soft[0]) > 0.7  # sits in bright (white) matter
    assert ((case.soft[1] > 0.1) & (case.soft[1] < 0.8)).sum() > 20  # soft, ambiguous borders
    assert (case.soft[0] <= case.soft[1] + 1e-6).all()  # the core lies inside the whole lesion


def test_arrays_shapes_dtypes_classes_and_dataset(tmp_cache):
    arrays = multirater.load_multirater(TINY, progress=False)
    assert arrays["images"].shape == (14, 1, 64, 64) and arrays["images"].dtype == np.float32
    assert arrays["masks"].shape == (14, 6, 64, 64) and arrays["masks"].dtype == np.uint8
    assert arrays["soft"].shape == (14, 2, 64, 64) and arrays["soft"].dtype == np.float32
    assert set(np.unique(arrays["masks"])) == {0, 1, 2} and 0 <= arrays["soft"].min() and arrays["soft"].max() <= 1
    ds = multirater.MultiRaterDataset("val", TINY)
    image, masks = ds[1]
    assert len(ds) == 2 and list(ds.indices) == [8, 9]
    assert image.shape == (1, 64, 64) and image.dtype == torch.float32
    assert masks.shape == (6, 64, 64) and masks.dtype == torch.int64
    np.testing.assert_array_equal(masks.numpy(), arrays["masks"][9])
    assert len(multirater.MultiRaterDataset("train", TINY, limit=3)) == 3 and ds.field("kinds").shape == (2,)


def test_generous_rater_draws_more_than_reference_and_tight_less(sample):
    masks, kinds = sample
    area = (masks > 0).sum(axis=(2, 3)).mean(axis=0)
    assert area[GENEROUS] > 1.2 * area[REFERENCE] > 1.2 * 1.2 * area[TIGHT]
    assert ((masks[:, TIGHT] > 0) <= (masks[:, GENEROUS] > 0)).mean() > 0.999  # nearly nested outlines
    assert (masks[kinds == 0] == 0).all()  # nobody marks a lesion that is not there


def test_jagged_outlines_are_longer_than_smooth_ones_for_the_same_case(sample):
    masks, kinds = sample
    clear = np.flatnonzero(kinds == 2)
    longer = [outline_length(masks[i, JAGGED]) > outline_length(masks[i, SMOOTH]) for i in clear]
    assert np.mean(longer) > 0.9
    assert np.mean([outline_length(masks[i, SMOOTH]) <= outline_length(masks[i, REFERENCE]) for i in clear]) > 0.8


def test_hurried_rater_misses_faint_lesions_and_merges_the_rim(sample):
    masks, kinds = sample
    marked = (masks > 0).any(axis=(2, 3))  # [case, rater]
    missed = ~marked[:, HURRIED] & marked[:, GENEROUS]
    assert missed.sum() >= 5 and (kinds[missed] == 1).all()  # only small faint lesions are missed
    assert marked[kinds == 2].all()  # clear lesions: every rater marks them
    merged = (
        marked[:, HURRIED] & ~(masks[:, HURRIED] == 2).any(axis=(1, 2)) & (masks[:, REFERENCE] == 2).any(axis=(1, 2))
    )
    assert 0.15 < merged[kinds == 2].mean() < 0.6
    assert marked[kinds == 1, TIGHT].mean() < marked[kinds == 1, REFERENCE].mean()  # tight leaves faint ones out


def test_each_rater_varies_from_case_to_case():
    _, case = first_clear_case()
    exact = multirater.rate(case.soft, case.kind, multirater.RaterStyle(), np.random.default_rng(0))
    np.testing.assert_array_equal(exact > 0, case.soft[1] > 0.5)
    areas = {
        int((multirater.rate(case.soft, case.kind, multirater.RaterStyle(), np.random.default_rng(k), 0.05) > 0).sum())
        for k in range(5)
    }
    assert len(areas) > 2


def test_disagreement_of_a_hand_made_case():
    columns = np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 2, 0], [0, 0, 0, 1, 1, 1], [2, 2, 2, 2, 2, 2]])
    masks = columns.T[:, None, :]  # [6 raters, 1 row, 4 columns]
    np.testing.assert_allclose(multirater.disagreement(masks), [[0, 2 / 6, 0.5, 0]])
    batch = multirater.disagreement(torch.from_numpy(np.stack([masks, masks])))
    assert batch.shape == (2, 1, 4) and batch.dtype == np.float32
    with pytest.raises(ValueError, match="masks must be"):
        multirater.disagreement(np.zeros((6, 4)))


def test_cache_is_reused_and_rebuilt_after_corruption(tmp_cache, monkeypatch):
    first = multirater.load_multirater(TINY, progress=False)
    name = f"multirater_seed42_n{TINY.n_total}"
    assert json.loads((tmp_cache / f"{name}.json").read_text())["sha256"]
    multirater.load_multirater.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(multirater, "_generate", lambda *a: pytest.fail("the cached file should have been read"))
        np.testing.assert_array_equal(multirater.load_multirater(TINY, progress=False)["masks"], first["masks"])
    data = tmp_cache / f"{name}.npz"
    data.write_bytes(data.read_bytes()[:-1000])  # a half-written file
    multirater.load_multirater.cache_clear()
    with pytest.warns(UserWarning, match="corrupted.*generated again"):
        again = multirater.load_multirater(TINY, progress=False)
    np.testing.assert_array_equal(again["images"], first["images"])
    assert cache.load(name, multirater._settings_record(TINY)) is not None  # repaired
