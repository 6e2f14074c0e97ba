"""Segmentation metrics (design §3.5) on small hand-computed cases, empty masks included."""
import numpy as np
import pytest
import torch

from medai_edu.metrics import (
    dice,
    dice_of_mean,
    ged_from_distances,
    ged_squared,
    iou_distance,
    iou_distance_matrix,
    sncc,
)

EMPTY = np.zeros((2, 3), dtype=int)


def test_dice_by_hand_and_empty_masks():
    pred = np.array([[1, 1, 0], [0, 2, 0]])
    target = np.array([[1, 0, 0], [0, 2, 2]])
    # class 1: 2*1/(2+1); class 2: 2*1/(1+2)
    assert dice(pred, target) == pytest.approx(2 / 3)
    assert dice(EMPTY, EMPTY) == 1.0  # nothing to find, nothing found: perfect agreement
    lesion = np.array([[0, 1, 0], [0, 0, 0]])
    assert dice(EMPTY, lesion) == pytest.approx(0.5)  # class 1 missed (0), class 2 absent in both (1)
    assert dice(EMPTY, lesion, num_classes=2) == 0.0
    assert dice(torch.tensor(pred), torch.tensor(pred)) == 1.0


def test_iou_distance_by_hand_and_empty_masks():
    a, b = np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])
    assert iou_distance(a, b, num_classes=2) == pytest.approx(0.5)  # IoU 1/2
    assert iou_distance(a, b) == pytest.approx(0.25)  # mean of IoU 1/2 (class 1) and 1 (class 2 absent in both)
    assert iou_distance(EMPTY, EMPTY) == 0.0
    assert iou_distance(EMPTY, np.ones((2, 3), dtype=int), num_classes=2) == 1.0
    maps = np.stack([EMPTY, np.ones((2, 3), dtype=int), 2 * np.ones((2, 3), dtype=int)])
    np.testing.assert_allclose(iou_distance_matrix(maps, maps), [[0, 0.5, 0.5], [0.5, 0, 1], [0.5, 1, 0]])


def test_ged_by_hand():
    samples = np.array([[[1, 0]], [[0, 1]]])
    raters = np.array([[[1, 0]]])
    # d(S1,Y)=0, d(S2,Y)=1 -> E[d(S,Y)] = 0.5; d_ss = [[0,1],[1,0]] -> 0.5; d_yy = 0
    assert ged_squared(samples, raters, num_classes=2) == pytest.approx(2 * 0.5 - 0.5 - 0)
    assert ged_squared(raters, raters, num_classes=2) == 0.0
    assert ged_squared(samples, samples, num_classes=2) == pytest.approx(0.0)  # same spread as the raters


def test_ged_with_empty_masks():
    empty, lesion = np.zeros((3, 2, 2), dtype=int), np.ones((2, 2, 2), dtype=int)
    assert ged_squared(empty, empty[:2]) == 0.0
    assert ged_squared(empty, lesion, num_classes=2) == pytest.approx(2.0)  # every sample-rater distance is 1
    assert ged_squared(empty, lesion) == pytest.approx(1.0)  # class 2 is absent in all maps: distance 0.5


def test_ged_from_distances_by_hand():
    d_sy = [[0.2, 0.4], [0.6, 0.8], [0.0, 1.0]]  # mean 0.5
    d_ss = np.array([[0, 0.3, 0.6], [0.3, 0, 0.0], [0.6, 0.0, 0]])  # mean 1.8/9 = 0.2
    d_yy = [[0, 0.4], [0.4, 0]]  # mean 0.2
    assert ged_from_distances(d_sy, d_ss, d_yy) == pytest.approx(1.0 - 0.2 - 0.2)
    with pytest.raises(ValueError, match=r"d_sy.*\(3, 2\).*got \(2, 3\)"):
        ged_from_distances(np.transpose(d_sy), d_ss, d_yy)
    with pytest.raises(ValueError, match="d_ss must be a square"):
        ged_from_distances(d_sy, d_ss[:2], d_yy)
    with pytest.raises(ValueError, match="negative"):
        ged_from_distances(d_sy, d_ss, [[0, -0.4], [0.4, 0]])


def test_sncc_by_hand():
    # two samples over two pixels: they agree on pixel 0 (class 0) and disagree on pixel 1
    probs = np.zeros((2, 2, 1, 2))
    probs[:, 0, 0, 0] = 1.0
    probs[0, 0, 0, 1] = probs[1, 1, 0, 1] = 1.0
    agree = np.array([[[0, 0]]])  # a rater whose error map is high where the samples disagree
    disagree = np.array([[[1, 0]]])  # ... high where the samples are sure
    assert sncc(probs, agree) == pytest.approx(1.0)
    assert sncc(probs, disagree) == pytest.approx(-1.0)
    assert sncc(probs, np.concatenate([agree, disagree])) == pytest.approx(0.0)
    assert sncc(probs[:1].repeat(3, 0), agree) == 0.0  # identical samples: no uncertainty to correlate


def test_sncc_matches_the_definition_on_random_data():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(5, 4, 6)).transpose(0, 3, 1, 2)  # [N_s=5, C=3, 4, 6]
    raters = rng.integers(0, 3, size=(3, 4, 6))
    log_p = np.log(probs + 1e-8)
    mean = probs.mean(0)
    e_ss = np.mean([-(mean * log_p[i]).sum(0) for i in range(5)], axis=0)
    expected = []
    for y in raters:
        onehot = np.stack([y == c for c in range(3)]).astype(float)
        e_sy = np.mean([-(onehot * log_p[i]).sum(0) for i in range(5)], axis=0)
        expected.append(np.corrcoef(e_ss.ravel(), e_sy.ravel())[0, 1])
    assert sncc(torch.tensor(probs), raters) == pytest.approx(np.mean(expected))


def test_dice_of_mean_by_hand():
    probs = np.array(
        [
            [[0.6, 0.2, 0.0], [0.4, 0.8, 0.3], [0.0, 0.0, 0.7]],  # sample 1: [class, pixel]
            [[0.6, 0.6, 0.1], [0.4, 0.4, 0.1], [0.0, 0.0, 0.8]],  # sample 2
        ]
    )[:, :, None, :]  # [2 samples, 3 classes, 1, 3 pixels]; mean argmax = [0, 1, 2]
    assert dice_of_mean(probs, np.array([[0, 1, 2]])) == 1.0
    assert dice_of_mean(probs, np.array([[0, 1, 1]])) == pytest.approx((2 / 3 + 0) / 2)
    assert dice_of_mean(probs, np.array([[[0, 1, 2]], [[0, 1, 1]]])) == pytest.approx((1 + 1 / 3) / 2)
    background = np.zeros((2, 3, 1, 3))
    background[:, 0] = 1.0
    assert dice_of_mean(background, np.zeros((1, 3), dtype=int)) == 1.0  # both empty counts as agreement


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match=r"class numbers 0 \.\. 2.*from 0 to 3"):
        dice(np.array([[0, 3]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="not probabilities"):
        dice(np.array([[0, 0.5]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="same image size"):
        iou_distance(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"x\[None\].*\(4, 4\)"):
        ged_squared(np.zeros((4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="softmax"):
        sncc(np.random.default_rng(0).normal(size=(2, 3, 4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="same image size"):
        dice_of_mean(np.full((2, 2, 4, 4), 0.5), np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="num_classes"):
        dice(np.zeros((3, 3)), np.zeros((3, 3)), num_classes=1)
    with pytest.raises(ValueError, match=r"label map \[H, W\].*shape \(3,\)"):
        dice(np.zeros(3), np.zeros(3))
