"""The toy box data set follows design §3.1 and is deterministic by seed."""

import numpy as np
import pytest
import torch

from medai_edu.data import toy


def box_bounds(mask, rows, cols):
    """(row_min, row_max, col_min, col_max) of the mask pixels inside a window."""
    window = np.zeros_like(mask)
    window[rows, cols] = mask[rows, cols]
    r, c = np.nonzero(window)
    return r.min(), r.max() + 1, c.min(), c.max() + 1


def test_same_seed_same_image_other_seed_other_image():
    a, b = toy.make_sample(7, seed=3), toy.make_sample(7, seed=3)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.shift == b.shift
    assert not np.allclose(a.image, toy.make_sample(7, seed=4).image)
    assert not np.allclose(a.image, toy.make_sample(11, seed=3).image)


def test_value_range_dtype_and_labels():
    for index, subtype in enumerate((0, 0, 1, 2)):
        s = toy.make_sample(index)
        assert s.image.shape == (112, 112) and s.image.dtype == np.float32
        assert s.image.min() == pytest.approx(-1.0) and s.image.max() == pytest.approx(1.0)
        assert s.subtype == subtype and s.label == int(subtype > 0)
    assert toy.make_sample(0).mask.sum() == 0  # healthy: empty ground truth


def test_box_positions_and_shift_range_follow_the_design():
    shifts = []
    for index in range(2, 802, 4):  # 200 subtype-A images
        s = toy.make_sample(index)
        assert s.subtype == 1
        centre = np.zeros_like(s.mask)
        centre[46:66, 46:66] = 1
        np.testing.assert_array_equal(s.mask[:70, :70], centre[:70, :70])  # centre box, never moved
        dr, dc = s.shift
        assert box_bounds(s.mask, slice(70, 112), slice(70, 112)) == (78 + dr, 98 + dr, 78 + dc, 98 + dc)
        assert s.mask.sum() == 800  # two separate 20 x 20 boxes
        shifts += [dr, dc]
    assert set(shifts) == set(range(-5, 5))  # integers in [-5, 4], all of them occur
    b = toy.make_sample(3)
    dr, dc = b.shift
    assert b.subtype == 2
    assert box_bounds(b.mask, slice(0, 42), slice(0, 42)) == (14 + dr, 34 + dr, 14 + dc, 34 + dc)


def test_boxes_are_brighter_than_background():
    s = toy.make_sample(2)
    assert s.image[s.mask == 1].mean() - s.image[s.mask == 0].mean() > 0.3


def test_background_is_smooth_noise():
    img = toy.make_sample(0).image
    neighbour_corr = np.corrcoef(img[:, :-1].ravel(), img[:, 1:].ravel())[0, 1]
    assert 0.8 < neighbour_corr < 0.99  # sigma 2.5 smoothing: strongly, not perfectly, correlated


def test_split_sizes_are_stratified_disjoint_and_complete():
    parts = {name: toy.split_indices(name) for name in toy.SPLITS}
    assert {k: len(v) for k, v in parts.items()} == {"train": 6400, "val": 1600, "test": 2000}
    union = np.concatenate(list(parts.values()))
    assert len(np.unique(union)) == 10_000
    for name, ix in parts.items():
        counts = np.bincount([toy.subtype_of(int(i)) for i in ix])
        np.testing.assert_array_equal(counts / len(ix), [0.5, 0.25, 0.25])
    np.testing.assert_array_equal(parts["test"], toy.split_indices("test", seed=42))
    assert not np.array_equal(parts["test"], toy.split_indices("test", seed=1))


def test_dataset_items_and_filters():
    ds = toy.ToyBoxDataset("val")
    image, label, mask = ds[0]
    assert image.shape == (1, 112, 112) and image.dtype == torch.float32
    assert mask.shape == (1, 112, 112) and label in (0, 1)
    sick = toy.ToyBoxDataset("test", only_label=1)
    assert len(sick) == 1000 and set(sick.labels) == {1}
    assert sick[5][2].sum() == 800
    few = toy.ToyBoxDataset("train", limit=8)
    assert len(few) == 8 and set(few.labels) == {0, 1}


def test_small_variant_scales_the_geometry():
    geo = toy.geometry(56)
    assert (geo.half_width, geo.offset, geo.centre) == (5, 16, 28)
    s = toy.make_sample(2, size=56)
    assert s.image.shape == (56, 56) and s.mask.sum() == 2 * 10 * 10
    assert s.mask[23:33, 23:33].all()


@pytest.mark.parametrize("size", [50, 16, 112.0])
def test_bad_sizes_are_explained(size):
    with pytest.raises((ValueError, TypeError), match="size"):
        toy.geometry(size)


def test_bad_split_and_index_are_explained():
    with pytest.raises(ValueError, match="'training'"):
        toy.split_indices("training")
    with pytest.raises(IndexError, match="10000"):
        toy.make_sample(10_000)
    with pytest.raises(ValueError, match="only_label"):
        toy.ToyBoxDataset("test", only_label=2)


def test_a_box_can_be_left_out_with_the_same_background():
    full = toy.make_sample(6)
    no_centre, no_corner = toy.make_sample(6, boxes=("corner",)), toy.make_sample(6, boxes=("centre",))
    assert no_centre.mask.sum() == no_corner.mask.sum() == 400
    assert no_centre.mask[46:66, 46:66].sum() == 0 and no_corner.mask[46:66, 46:66].all()
    np.testing.assert_array_equal(no_centre.mask + no_corner.mask, full.mask)
    assert no_centre.shift == full.shift and no_centre.label == 1
    outside = full.mask == 0  # background pixels agree up to the [-1, 1] rescaling
    assert np.corrcoef(full.image[outside], no_centre.image[outside])[0, 1] > 0.999
    with pytest.raises(ValueError, match="boxes"):
        toy.make_sample(6, boxes="centre")
