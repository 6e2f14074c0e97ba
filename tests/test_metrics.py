"""NCC: hand-checked values, batch mode, and clear errors for bad input."""

import numpy as np
import pytest
import torch

from medai_edu.metrics import ncc


def test_hand_checked_values():
    assert ncc([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert ncc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    a = np.random.default_rng(0).normal(size=(8, 8))
    assert ncc(a, 3 * a + 7) == pytest.approx(1.0)  # brightness and contrast do not matter
    assert ncc(a, a.T) == pytest.approx(np.corrcoef(a.ravel(), a.T.ravel())[0, 1])


def test_batch_mode_gives_one_value_per_image_and_accepts_tensors():
    maps = torch.tensor([[[1.0, 2.0, 3.0]], [[1.0, 3.0, 2.0]]])
    target = torch.tensor([[[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]])
    np.testing.assert_allclose(ncc(maps, target, batch=True), [1.0, 0.5])
    assert ncc(maps, target) == pytest.approx(np.corrcoef(maps.ravel(), target.ravel())[0, 1])


def test_constant_map_scores_zero():
    assert ncc(np.zeros((4, 4)), np.eye(4)) == 0.0
    assert ncc(np.eye(4), np.full((4, 4), 2.0)) == 0.0
    np.testing.assert_array_equal(
        ncc(np.stack([np.zeros((3, 3)), np.eye(3)]), np.stack([np.eye(3)] * 2), batch=True), [0.0, 1.0]
    )


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        ncc(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        ncc([1.0, np.nan, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="target.*infinite"):
        ncc([1.0, 2.0, 3.0], [1.0, np.inf, 3.0])
    with pytest.raises(TypeError, match="pred"):
        ncc("not a map", [1, 2])
    with pytest.raises(ValueError, match="batch=True"):
        ncc([1.0, 2.0], [2.0, 1.0], batch=True)
