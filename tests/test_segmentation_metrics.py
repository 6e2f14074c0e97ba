"""Segmentation metrics (design §3.5) on small hand-computed cases, empty masks included."""

import numpy as np
import pytest
import torch

from medai_edu.metrics import (
    calibration_error,
    dice,
    dice_of_mean,
    disagreement_ncc,
    ged_from_distances,
    ged_squared,
    iou_distance,
    iou_distance_matrix,
    lesion_frequency,
    paired_bootstrap,
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


# --- issue 13: measures a single-answer network fails, and bootstrap intervals ---------------------

RATERS = np.array([[[0, 1, 1, 0]], [[0, 1, 0, 0]], [[0, 1, 2, 2]]])  # 3 raters, 1 x 4 pixels
# raters' disagreement per pixel: [0, 0, 2/3 (labels 1, 0, 2), 1/3 (labels 0, 0, 2)]


def test_disagreement_ncc_constant_map_scores_0():
    one_answer = np.repeat(RATERS[:1], 5, axis=0)  # five identical samples: their disagreement map is all 0
    assert disagreement_ncc(one_answer, RATERS) == 0.0
    assert disagreement_ncc(RATERS, np.zeros((3, 1, 4), dtype=int)) == 0.0  # raters all agree: constant map


def test_disagreement_ncc_perfect_match_scores_1():
    assert disagreement_ncc(RATERS, RATERS) == pytest.approx(1.0)
    # six samples with the same disagreement pattern, twice as many of each label: still 1
    assert disagreement_ncc(np.concatenate([RATERS, RATERS]), RATERS) == pytest.approx(1.0)
    # samples that disagree on pixel 0 only (where the raters agree) and agree where the raters do not:
    # maps [1/2, 0, 0, 0] against [0, 0, 2/3, 1/3] -> by hand r = -0.5222
    elsewhere = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]])
    a, b = np.array([0.5, 0, 0, 0]), np.array([0, 0, 2 / 3, 1 / 3])
    expected = ((a - a.mean()) @ (b - b.mean())) / np.sqrt(((a - a.mean()) ** 2).sum() * ((b - b.mean()) ** 2).sum())
    assert disagreement_ncc(elsewhere, RATERS) == pytest.approx(expected) == pytest.approx(-0.5222, abs=1e-4)


def test_lesion_frequency_by_hand():
    np.testing.assert_allclose(lesion_frequency(RATERS), [[0, 1, 2 / 3, 1 / 3]])


def test_calibration_error_by_hand():
    frequency = lesion_frequency(RATERS)  # [0, 1, 2/3, 1/3]
    assert calibration_error(frequency, frequency) == 0.0  # predicting the raters' shares exactly
    # a hard answer (0 or 1 per pixel): bin 0 holds pixels 0 and 3 (mean p 0, mean f 1/6),
    # bin 9 holds pixels 1 and 2 (mean p 1, mean f 5/6): ECE = 2/4 * 1/6 + 2/4 * 1/6 = 1/6
    hard = np.array([[0.0, 1.0, 1.0, 0.0]])
    assert calibration_error(hard, frequency) == pytest.approx(1 / 6)
    # only the pixels of a region count: pixels 1 and 2 alone -> |1 - 5/6| = 1/6; an empty region -> 0
    assert calibration_error(hard, frequency, region=np.array([[False, True, True, False]])) == pytest.approx(1 / 6)
    assert calibration_error(hard, frequency, region=np.zeros((1, 4), bool)) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        calibration_error(hard * 2, frequency)
    with pytest.raises(ValueError, match="same shape"):
        calibration_error(hard, frequency[0, :3])


def test_calibration_of_a_calibrated_toy_model_is_near_0():
    """Pixels whose true lesion probability is p; 200 raters and a model that predicts p: ECE about 0.

    A model that draws outlines from the same probabilities (its sample frequencies) is also close.
    """
    rng = np.random.default_rng(1)
    p = rng.random((32, 32))
    raters = (rng.random((200, 32, 32)) < p).astype(int)
    samples = (rng.random((200, 32, 32)) < p).astype(int)
    frequency = lesion_frequency(raters)
    assert calibration_error(p, frequency) < 0.01
    assert calibration_error(lesion_frequency(samples), frequency) < 0.02
    assert calibration_error((p > 0.5).astype(float), frequency) > 0.2  # one hard answer: clearly worse


def test_paired_bootstrap_contains_the_true_difference_and_is_seeded():
    rng = np.random.default_rng(2)
    b = rng.normal(0.5, 0.2, 300)  # a per-case score, cases differ a lot
    a = b + 0.03 + rng.normal(0, 0.05, 300)  # the same cases, model a better by 0.03 on average
    result = paired_bootstrap(a, b, n_boot=2000, seed=0)
    assert result["low"] < 0.03 < result["high"] and result["excludes_0"]
    assert result["difference"] == pytest.approx(np.mean(a - b))
    assert result == paired_bootstrap(a, b, n_boot=2000, seed=0)  # seeded: the same interval again
    assert result != paired_bootstrap(a, b, n_boot=2000, seed=1)
    same = paired_bootstrap(b + rng.normal(0, 0.05, 300), b, seed=0)  # no true difference
    assert same["low"] < 0 < same["high"] and not same["excludes_0"]
    # pairing matters: the case-to-case spread (0.2) cancels, so the interval is narrow (about +-0.006)
    assert result["high"] - result["low"] < 0.02
    with pytest.raises(ValueError, match="same cases"):
        paired_bootstrap(a, b[:-1])
