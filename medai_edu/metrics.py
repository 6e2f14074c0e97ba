"""Metrics for comparing maps with the ground truth.

``ncc`` is the normalised cross-correlation of design §3.3: the Pearson correlation between the
flattened predicted map and the flattened ground-truth map. 1 = same pattern (up to brightness
and contrast), 0 = unrelated, -1 = inverted.

A constant map (all pixels equal, e.g. an all-zero saliency map, or the empty mask of a healthy
image) has no pattern, and Pearson's formula divides 0 by 0. We then return **0.0**
("no correlation") rather than NaN or an error, so that a benchmark over many images is not
derailed by one blank map; the docs of each benchmark say how many such maps occurred.

Lesson 3 (design §3.5) adds scores for segmentations when experts disagree: :func:`dice`,
:func:`iou_distance`, :func:`ged_squared` (with :func:`ged_from_distances`), :func:`sncc` and
:func:`dice_of_mean`; their conventions for empty masks are stated below, above
:data:`SEGMENTATION_CLASSES`. Measures that a single-answer network fails (it draws one outline,
however soft its softmax): :func:`disagreement_ncc` and :func:`calibration_error` (with
:func:`lesion_frequency`; the same ECE scores a classifier's probabilities against outcomes, with
:func:`calibration_bins` for its reliability diagram); and :func:`paired_bootstrap` for intervals of differences between
models scored on the same cases.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "SEGMENTATION_CLASSES",
    "calibration_bins",
    "calibration_error",
    "dice",
    "dice_of_mean",
    "disagreement_ncc",
    "ged_from_distances",
    "ged_squared",
    "iou_distance",
    "iou_distance_matrix",
    "lesion_frequency",
    "ncc",
    "ncc_summary",
    "paired_bootstrap",
    "sncc",
]


def _as_float_array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an array of numbers (NumPy array or torch tensor), got {type(x).__name__}."
        ) from err
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected a map with at least 2 pixels.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) out of {arr.size}; "
            "a map must hold finite numbers only (check the method that produced it)."
        )
    return arr


@overload
def ncc(pred: Any, target: Any, batch: Literal[False] = False) -> float: ...
@overload
def ncc(pred: Any, target: Any, batch: Literal[True]) -> np.ndarray: ...
@overload
def ncc(pred: Any, target: Any, batch: bool) -> float | np.ndarray: ...
def ncc(pred: Any, target: Any, batch: bool = False) -> float | np.ndarray:
    """Normalised cross-correlation (Pearson r) between ``pred`` and ``target`` maps.

    A constant map (on either side) gives 0.0 — see the module docstring for why.

    Parameters
    ----------
    pred : array-like or torch.Tensor
        Predicted map(s), any shape.
    target : array-like or torch.Tensor
        Ground-truth map(s) of exactly the same shape.
    batch : bool, default=False
        If False, correlate all values and return one float; if True, the first axis indexes
        images and one NCC per image is returned.

    Returns
    -------
    float or ndarray of shape (n_images,)
        From -1 (inverted) through 0 (unrelated, or a constant map) to 1 (the same pattern).

    Raises
    ------
    TypeError
        If a map is not an array of numbers.
    ValueError
        If a map is empty or not finite, the shapes differ, or a map has fewer than 2 pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import ncc
    >>> target = np.array([[0.0, 1.0], [0.0, 1.0]])
    >>> ncc(2 * target + 5, target)  # the same pattern, brighter and with more contrast
    1.0
    >>> ncc(np.zeros((2, 2)), target)  # a blank map has no pattern
    0.0
    >>> ncc(np.stack([target, 1 - target]), np.stack([target, target]), batch=True)
    array([ 1., -1.])
    """
    p = _as_float_array(pred, "pred")
    t = _as_float_array(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got pred {p.shape} and target {t.shape}.")
    if batch:
        if p.ndim < 2:
            raise ValueError(f"batch=True needs a first axis of images, got a {p.ndim}-D array of shape {p.shape}.")
        p, t = p.reshape(len(p), -1), t.reshape(len(t), -1)
    else:
        p, t = p.reshape(1, -1), t.reshape(1, -1)
    if p.shape[1] < 2:
        raise ValueError(f"each map needs at least 2 pixels to correlate, got {p.shape[1]}.")
    p = p - p.mean(axis=1, keepdims=True)
    t = t - t.mean(axis=1, keepdims=True)
    denom = np.sqrt((p * p).sum(axis=1) * (t * t).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, (p * t).sum(axis=1) / np.where(denom > 0, denom, 1.0), 0.0)
    r = np.clip(r, -1.0, 1.0)
    return r if batch else float(r[0])


def ncc_summary(values: np.ndarray) -> dict[str, float | int]:
    """Mean, standard deviation and count of per-image NCC values (the benchmarks' row format).

    Parameters
    ----------
    values : array-like
        One NCC per image, e.g. from ``ncc(..., batch=True)``.

    Returns
    -------
    dict
        ``ncc_mean``, ``ncc_std`` (population standard deviation) and ``n_images``.

    Examples
    --------
    >>> from medai_edu.metrics import ncc_summary
    >>> ncc_summary([0.25, 0.75])
    {'ncc_mean': 0.5, 'ncc_std': 0.25, 'n_images': 2}
    """
    values = np.asarray(values, dtype=np.float64)
    return {"ncc_mean": float(values.mean()), "ncc_std": float(values.std()), "n_images": int(values.size)}


# --- Segmentation under rater disagreement (design §3.5) ------------------------------------------
#
# A *label map* holds one class number per pixel: 0 = background, 1 .. num_classes-1 = the
# foreground structures (lesson 3: 1 lesion core, 2 oedema rim). Overlap scores are computed for
# each foreground class and averaged. A class that is absent from *both* maps counts as perfect
# agreement (Dice 1, IoU 1, distance 0); absent from one map only, as no overlap (Dice 0, IoU 0).
# So two empty masks agree perfectly, and an empty mask against a lesion scores 0.

#: Classes of the lesson-3 label maps: background, lesion core, oedema rim.
SEGMENTATION_CLASSES = 3


def _as_label_maps(x: Any, name: str, num_classes: int, ndims: tuple[int, ...], layout: str) -> np.ndarray:
    arr = _as_float_array(x, name)
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must be {layout}, got an array of shape {arr.shape}.")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(
            f"num_classes must be an integer >= 2 (background + at least one structure), got {num_classes!r}."
        )
    labels = np.rint(arr)
    if np.any(labels != arr) or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"{name} must hold class numbers 0 .. {num_classes - 1} (a label map, not probabilities or logits), "
            f"got values from {arr.min():g} to {arr.max():g}."
        )
    return labels.astype(np.int64)


def _same_spatial(a: np.ndarray, b: np.ndarray, names: str, skip_a: int, skip_b: int) -> None:
    if a.shape[skip_a:] != b.shape[skip_b:]:
        raise ValueError(f"{names} must have the same image size, got {a.shape[skip_a:]} and {b.shape[skip_b:]}.")


def _overlaps(a: np.ndarray, b: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel counts for stacks ``a`` [Na, ...] and ``b`` [Nb, ...] of label maps, per foreground class.

    Returns ``(intersection, size_a, size_b)``, each of shape [num_classes - 1, Na, Nb].
    """
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    inter, size_a, size_b = [], [], []
    for k in range(1, num_classes):
        in_a, in_b = (a == k).astype(np.float64), (b == k).astype(np.float64)
        inter.append(in_a @ in_b.T)
        size_a.append(np.broadcast_to(in_a.sum(1)[:, None], (len(a), len(b))))
        size_b.append(np.broadcast_to(in_b.sum(1)[None, :], (len(a), len(b))))
    return np.stack(inter), np.stack(size_a), np.stack(size_b)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` per class, 1.0 where ``den`` is 0 (the class is absent from both maps)."""
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)


def dice(pred: Any, target: Any, num_classes: int = SEGMENTATION_CLASSES) -> float:
    """Dice overlap ``2|P∩T| / (|P| + |T|)`` of two label maps, averaged over the foreground classes.

    A class absent from both maps counts as 1 (see the notes above :data:`SEGMENTATION_CLASSES`).

    Parameters
    ----------
    pred, target : array-like of shape (H, W) or (D, H, W)
        Label maps: one class number per pixel, 0 = background.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes.

    Returns
    -------
    float
        From 0 (no overlap) to 1 (identical).

    Raises
    ------
    ValueError
        If a map is not a label map of ``num_classes`` classes, or the sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import dice
    >>> pred = np.array([[0, 1, 1], [0, 2, 2]])
    >>> target = np.array([[0, 1, 0], [0, 2, 2]])
    >>> round(dice(pred, target), 3)  # class 1: 2 * 1 / (2 + 1); class 2: 1
    0.833
    """
    p = _as_label_maps(pred, "pred", num_classes, (2, 3), "a label map [H, W] (or [D, H, W])")
    t = _as_label_maps(target, "target", num_classes, (2, 3), "a label map [H, W] (or [D, H, W])")
    _same_spatial(p, t, "pred and target", 0, 0)
    inter, size_p, size_t = _overlaps(p[None], t[None], num_classes)
    return float(_ratio(2 * inter, size_p + size_t).mean())


def iou_distance_matrix(a: Any, b: Any, num_classes: int = SEGMENTATION_CLASSES) -> np.ndarray:
    """``d = 1 - IoU`` (averaged over foreground classes) between every map of ``a`` and of ``b``.

    Two empty masks have IoU 1 (distance 0); one empty and one not, IoU 0 (distance 1).

    Parameters
    ----------
    a : array-like of shape (Na, H, W) or (Na, D, H, W)
        A stack of label maps.
    b : array-like of shape (Nb, H, W) or (Nb, D, H, W)
        A second stack of label maps of the same image size.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes.

    Returns
    -------
    ndarray of shape (Na, Nb)
        The distance between ``a[i]`` and ``b[j]`` at ``[i, j]``, from 0 (identical) to 1.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a stack of label maps, or the image sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import iou_distance_matrix
    >>> maps = np.array([[[0, 1], [1, 1]], [[0, 0], [0, 0]]])  # a lesion of 3 pixels; no lesion
    >>> iou_distance_matrix(maps, maps, num_classes=2)
    array([[0., 1.],
           [1., 0.]])
    """
    layout = "a stack of label maps [N, H, W] (or [N, D, H, W]); a single map needs a first axis: x[None]"
    a_maps = _as_label_maps(a, "a", num_classes, (3, 4), layout)
    b_maps = _as_label_maps(b, "b", num_classes, (3, 4), layout)
    _same_spatial(a_maps, b_maps, "a and b", 1, 1)
    inter, size_a, size_b = _overlaps(a_maps, b_maps, num_classes)
    return 1.0 - _ratio(inter, size_a + size_b - inter).mean(0)


def iou_distance(a: Any, b: Any, num_classes: int = SEGMENTATION_CLASSES) -> float:
    """``d = 1 - IoU`` of two label maps, IoU averaged over the foreground classes.

    Parameters
    ----------
    a, b : array-like of shape (H, W) or (D, H, W)
        Label maps of the same size.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes.

    Returns
    -------
    float
        From 0 (identical) to 1 (no overlap); two empty masks score 0.

    Raises
    ------
    ValueError
        If a map is not a label map of ``num_classes`` classes, or the sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import iou_distance
    >>> round(iou_distance(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [1, 0]]), num_classes=2), 3)
    0.333
    """
    layout = "a label map [H, W] (or [D, H, W])"
    a_map = _as_label_maps(a, "a", num_classes, (2, 3), layout)
    b_map = _as_label_maps(b, "b", num_classes, (2, 3), layout)
    return float(iou_distance_matrix(a_map[None], b_map[None], num_classes)[0, 0])


def ged_from_distances(d_sy: Any, d_ss: Any, d_yy: Any) -> float:
    """Squared generalised energy distance from distance matrices.

    ``D^2_GED = 2 E[d(S, Y)] - E[d(S, S')] - E[d(Y, Y')]``. Each expectation is the mean over
    *all* entries, the diagonal (a map with itself, distance 0) included — as in the PHiSeg code.

    Parameters
    ----------
    d_sy : array-like of shape (Ns, Nr)
        Distances between every sample and every rater.
    d_ss : array-like of shape (Ns, Ns)
        Distances between samples.
    d_yy : array-like of shape (Nr, Nr)
        Distances between raters.

    Returns
    -------
    float
        0 when the samples spread exactly like the raters; larger is worse.

    Raises
    ------
    ValueError
        If the shapes do not fit together or a distance is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import ged_from_distances
    >>> d_yy = np.array([[0.0, 1.0], [1.0, 0.0]])  # two raters who disagree completely
    >>> ged_from_distances(d_yy, d_yy, d_yy)  # samples that disagree like the raters
    0.0
    >>> ged_from_distances(np.array([[0.0, 1.0], [0.0, 1.0]]), np.zeros((2, 2)), d_yy)  # both copy rater 1
    0.5
    """
    d_sy, d_ss, d_yy = (_as_float_array(d, name) for d, name in ((d_sy, "d_sy"), (d_ss, "d_ss"), (d_yy, "d_yy")))
    for d, name in ((d_ss, "d_ss"), (d_yy, "d_yy")):
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise ValueError(f"{name} must be a square matrix (every map against every map), got shape {d.shape}.")
    if d_sy.shape != (len(d_ss), len(d_yy)):
        raise ValueError(
            f"d_sy must have one row per sample and one column per rater, i.e. shape {(len(d_ss), len(d_yy))} "
            f"to match d_ss {d_ss.shape} and d_yy {d_yy.shape}; got {d_sy.shape}."
        )
    for d, name in ((d_sy, "d_sy"), (d_ss, "d_ss"), (d_yy, "d_yy")):
        if d.min() < 0:
            raise ValueError(f"{name} holds a negative value ({d.min():g}); distances are 0 or more.")
    return float(2 * d_sy.mean() - d_ss.mean() - d_yy.mean())


def ged_squared(samples: Any, raters: Any, num_classes: int = SEGMENTATION_CLASSES) -> float:
    """Squared generalised energy distance between sampled and rater label maps (design §3.5).

    Uses ``d = 1 - IoU`` (:func:`iou_distance_matrix`) and :func:`ged_from_distances`.

    Parameters
    ----------
    samples : array-like of shape (N_samples, H, W) or (N_samples, D, H, W)
        The network's segmentations (label maps).
    raters : array-like of shape (N_raters, H, W) or (N_raters, D, H, W)
        The experts' segmentations of the same image.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes (lesson 3: 3).

    Returns
    -------
    float
        0 when the samples spread exactly like the raters; larger is worse.

    Raises
    ------
    ValueError
        If the stacks are not label maps of ``num_classes`` classes, or the image sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import ged_squared
    >>> raters = np.array([[[0, 1], [0, 0]], [[0, 1], [1, 0]]])  # they disagree on one pixel
    >>> ged_squared(raters, raters, num_classes=2)
    0.0
    >>> ged_squared(raters[[0, 0]], raters, num_classes=2)  # every sample copies rater 1
    0.25
    """
    d_sy = iou_distance_matrix(samples, raters, num_classes)
    return ged_from_distances(
        d_sy, iou_distance_matrix(samples, samples, num_classes), iou_distance_matrix(raters, raters, num_classes)
    )


def _as_sample_probs(sample_probs: Any) -> np.ndarray:
    probs = _as_float_array(sample_probs, "sample_probs")
    if probs.ndim not in (4, 5) or probs.shape[1] < 2:
        raise ValueError(
            "sample_probs must be softmax probabilities [N_samples, classes, H, W] (or [N, C, D, H, W]) "
            f"with at least 2 classes, got shape {probs.shape}."
        )
    if probs.min() < 0 or probs.max() > 1 or not np.allclose(probs.sum(1), 1.0, atol=1e-3):
        raise ValueError(
            "sample_probs must be probabilities that sum to 1 over the class axis (axis 1); got values from "
            f"{probs.min():g} to {probs.max():g}. Logits need a softmax first: logits.softmax(dim=1)."
        )
    return probs


def _rater_stack(raters: Any, probs: np.ndarray) -> np.ndarray:
    """Rater label maps [N_r, *S] (a single map [*S] becomes a stack of one) matching ``probs``."""
    spatial = probs.ndim - 2
    maps = _as_label_maps(
        raters,
        "raters",
        probs.shape[1],
        (spatial, spatial + 1),
        f"one label map {list(probs.shape[2:])} or a stack [N_raters, {', '.join(map(str, probs.shape[2:]))}]",
    )
    maps = maps[None] if maps.ndim == spatial else maps
    _same_spatial(maps, probs, "raters and sample_probs", 1, 2)
    return maps


def sncc(sample_probs: Any, raters: Any, eps: float = 1e-8) -> float:
    """S_NCC: does the model's uncertainty sit where the raters' disagreement sits? (design §3.5)

    ``E_ss`` = mean over samples of the pixel-wise cross-entropy between the mean prediction and
    each sample, ``-sum_c mean_c * log(sample_c + eps)``; ``E_sy_j`` = the same with rater j's
    one-hot mask in place of the mean prediction. ``S_NCC = mean_j NCC(E_ss, E_sy_j)`` with
    :func:`ncc`. The samples are softmax probabilities, as in the PHiSeg code: so even a
    deterministic network, whose samples are all the same, has ``E_ss`` = the entropy of its
    softmax and a non-zero S_NCC; only identical one-hot samples (``E_ss`` constant) score 0.

    Parameters
    ----------
    sample_probs : array-like of shape (N_samples, classes, H, W) or (N_samples, classes, D, H, W)
        Softmax probabilities of the samples.
    raters : array-like of shape (N_raters, H, W) or (H, W)
        Rater label maps (or one map).
    eps : float, default=1e-8
        Added inside the logarithm so that a probability of 0 gives a large, finite penalty.

    Returns
    -------
    float
        From -1 to 1; 1 = the model is unsure exactly where the raters disagree.

    Raises
    ------
    ValueError
        If ``sample_probs`` are not probabilities over axis 1, or ``raters`` do not fit them.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import sncc
    >>> raters = np.array([[[0, 1], [0, 0]], [[0, 1], [1, 0]]])  # they disagree bottom left
    >>> lesion = np.array([[0.01, 0.99], [0.5, 0.01]])  # one sample, unsure bottom left
    >>> sncc(np.stack([1 - lesion, lesion])[None], raters)
    1.0
    """
    probs = _as_sample_probs(sample_probs)
    maps = _rater_stack(raters, probs)
    mean_log = np.log(probs + eps).mean(0)  # mean over samples of log p_i: [C, *S]
    e_ss = -(probs.mean(0) * mean_log).sum(0)
    e_sy = -np.take_along_axis(mean_log[None], maps[:, None], axis=1)[:, 0]  # [N_r, *S]
    return float(np.mean(ncc(np.broadcast_to(e_ss, e_sy.shape), e_sy, batch=True)))


def dice_of_mean(sample_probs: Any, raters: Any) -> float:
    """Dice of the mean prediction: argmax of the softmax averaged over samples, against the raters.

    Dice is averaged over the foreground classes; a class absent from both the prediction and the
    rater's mask counts as 1 (perfect agreement), as in :func:`dice`.

    Parameters
    ----------
    sample_probs : array-like of shape (N_samples, classes, H, W) or (N_samples, classes, D, H, W)
        Softmax probabilities of the samples.
    raters : array-like of shape (N_raters, H, W) or (H, W)
        Rater label maps; with a stack, the Dice against each rater is averaged.

    Returns
    -------
    float
        From 0 (no overlap) to 1 (the mean prediction matches every rater).

    Raises
    ------
    ValueError
        If ``sample_probs`` are not probabilities over axis 1, or ``raters`` do not fit them.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import dice_of_mean
    >>> raters = np.array([[[0, 1], [0, 0]], [[0, 1], [1, 0]]])
    >>> lesion = np.array([[[0.1, 0.9], [0.6, 0.2]], [[0.1, 0.8], [0.2, 0.1]]])  # 2 samples
    >>> sample_probs = np.stack([1 - lesion, lesion], axis=1)  # [samples, classes, H, W]
    >>> dice_of_mean(sample_probs, raters[0])  # the mean marks only the top-right pixel
    1.0
    >>> round(dice_of_mean(sample_probs, raters), 3)  # rater 2 also marked bottom left
    0.833
    """
    probs = _as_sample_probs(sample_probs)
    maps = _rater_stack(raters, probs)
    prediction = probs.mean(0).argmax(0)
    return float(np.mean([dice(prediction, rater, probs.shape[1]) for rater in maps]))


# --- Measures that a single-answer network fails, and paired bootstrap intervals (issue 13) --------
#
# S_NCC (above) is computed on softmax probabilities, so a deterministic network whose softmax is
# soft along the border scores about as well as a sampling one. The two measures below look at the
# *outlines* a model draws, as a clinician would see them.


def disagreement_ncc(samples: Any, raters: Any, num_classes: int = SEGMENTATION_CLASSES) -> float:
    """NCC between the samples' disagreement map and the raters' disagreement map of one image.

    Both maps use the same definition, :func:`medai_edu.data.multirater.disagreement`: per pixel,
    the share of maps whose label differs from the most common label. ``samples`` [N_s, H, W] and
    ``raters`` [N_r, H, W] are label maps. 1 = the samples disagree exactly where (and in the same
    proportions, up to a scale) the raters do; 0 = unrelated. A constant map scores **0**, as in
    :func:`ncc`: a model whose samples are all the same (a deterministic U-Net) has a disagreement
    map of zeros, so it scores 0 on every image; and on an image where all raters agree (no lesion
    marked by anyone) every model scores 0.

    Parameters
    ----------
    samples : array-like of shape (N_s, H, W) or (N_s, D, H, W)
        The model's label maps of one image.
    raters : array-like of shape (N_r, H, W) or (N_r, D, H, W)
        The raters' label maps of the same image.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes.

    Returns
    -------
    float
        From -1 to 1 (see above).

    Raises
    ------
    ValueError
        If the stacks are not label maps of ``num_classes`` classes, or the image sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import disagreement_ncc
    >>> raters = np.array([[[0, 1], [0, 0]], [[0, 1], [1, 0]]])
    >>> disagreement_ncc(raters, raters, num_classes=2)
    1.0
    >>> disagreement_ncc(raters[[0, 0]], raters, num_classes=2)  # samples that never differ
    0.0
    """
    from medai_edu.data.multirater import disagreement  # lazy: metrics stays light to import

    layout = "a stack of label maps [N, H, W] (or [N, D, H, W])"
    s = _as_label_maps(samples, "samples", num_classes, (3, 4), layout)
    r = _as_label_maps(raters, "raters", num_classes, (3, 4), layout)
    _same_spatial(s, r, "samples and raters", 1, 1)
    small = np.uint8 if num_classes <= 256 else np.int64  # the same maps, counted faster
    return float(ncc(disagreement(s.astype(small)), disagreement(r.astype(small))))


def lesion_frequency(label_maps: Any, num_classes: int = SEGMENTATION_CLASSES) -> np.ndarray:
    """Per pixel, the share of the maps that mark it as lesion (any label above 0).

    Parameters
    ----------
    label_maps : array-like of shape (N, H, W) or (N, D, H, W)
        A stack of label maps, e.g. one per rater.
    num_classes : int, default=SEGMENTATION_CLASSES
        Background plus foreground classes.

    Returns
    -------
    ndarray of shape (H, W) or (D, H, W)
        Shares from 0 (no map marks the pixel) to 1 (every map does).

    Raises
    ------
    ValueError
        If ``label_maps`` is not a stack of label maps of ``num_classes`` classes.

    Examples
    --------
    >>> import numpy as np
    >>> from medai_edu.metrics import lesion_frequency
    >>> lesion_frequency(np.array([[[0, 1], [0, 0]], [[0, 2], [1, 0]]]))
    array([[0. , 1. ],
           [0.5, 0. ]])
    """
    maps = _as_label_maps(label_maps, "label_maps", num_classes, (3, 4), "a stack of label maps [N, H, W]")
    return (maps > 0).mean(axis=0)


def calibration_bins(predicted: Any, observed: Any, region: Any = None, bins: int = 10) -> dict[str, np.ndarray]:
    """The reliability diagram behind :func:`calibration_error`, per equal-width bin of the predicted probability.

    Parameters
    ----------
    predicted : array-like
        Probabilities in [0, 1]: a pixel's probability of lesion, or a patient's probability of disease.
    observed : array-like of the same shape
        What happened: a share in [0, 1] (of raters who marked the pixel) or an outcome 0/1
        (whether the patient has the disease).
    region : array-like of bool, optional
        Keep only these entries (default: all).
    bins : int, default=10
        Number of equal-width bins on [0, 1]; a probability of exactly 1 goes in the last bin.

    Returns
    -------
    dict of ndarray
        ``count`` (entries per bin), ``predicted`` and ``observed`` (their means per bin; 0 in an
        empty bin) and ``edges`` (the ``bins + 1`` bin edges).

    Raises
    ------
    ValueError
        If the shapes differ, a value lies outside [0, 1], or ``bins`` is not a whole number >= 1.

    Examples
    --------
    >>> from medai_edu.metrics import calibration_bins
    >>> table = calibration_bins([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 0], bins=2)
    >>> table["count"], table["predicted"], table["observed"]
    (array([2, 2]), array([0.15, 0.85]), array([0. , 0.5]))
    """
    p = _as_float_array(predicted, "predicted")
    f = _as_float_array(observed, "observed")
    if p.shape != f.shape:
        raise ValueError(f"predicted and observed must have the same shape, got {p.shape} and {f.shape}.")
    for arr, name in ((p, "predicted"), (f, "observed")):
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(
                f"{name} must hold probabilities or shares in [0, 1], got values from {arr.min():g} to {arr.max():g}."
            )
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a whole number of at least 1, got {bins!r}.")
    if region is not None:
        keep = np.asarray(region, dtype=bool)
        if keep.shape != p.shape:
            raise ValueError(f"region must have the shape of predicted {p.shape}, got {keep.shape}.")
        p, f = p[keep], f[keep]
    p, f = p.ravel(), f.ravel()
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    safe = np.maximum(count, 1)
    return {
        "count": count,
        "predicted": np.bincount(index, p, bins) / safe,
        "observed": np.bincount(index, f, bins) / safe,
        "edges": np.linspace(0.0, 1.0, bins + 1),
    }


def calibration_error(predicted: Any, observed: Any, region: Any = None, bins: int = 10) -> float:
    """Binned expected calibration error (ECE) of probabilities against what was observed.

    ``ECE = sum_b (n_b / n) * |mean predicted in b - mean observed in b|`` over the bins of
    :func:`calibration_bins` (the reliability diagram).

    Parameters
    ----------
    predicted : array-like
        Probabilities in [0, 1]: per pixel, the model's probability of lesion [H, W]; or per
        patient, the model's probability of disease [N].
    observed : array-like of the same shape
        The share of raters who marked each pixel (:func:`lesion_frequency`), or each patient's
        outcome (1 = has the disease, 0 = not).
    region : array-like of bool, optional
        The entries to score (default: all).
    bins : int, default=10
        Equal-width bins of the predicted probability on [0, 1].

    Returns
    -------
    float
        0 when, among the entries given probability p, a share p was observed positive, for every
        p; larger is worse (at most 1). An empty region scores 0 (nothing to calibrate).

    Raises
    ------
    ValueError
        As :func:`calibration_bins`.

    Examples
    --------
    >>> from medai_edu.metrics import calibration_error
    >>> round(calibration_error([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 0], bins=2), 3)  # (0.15 + 0.35) / 2
    0.25
    """
    table = calibration_bins(predicted, observed, region, bins)
    n = table["count"].sum()
    if n == 0:
        return 0.0
    return float((table["count"] * np.abs(table["predicted"] - table["observed"])).sum() / n)


def paired_bootstrap(
    a: Any, b: Any, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, float | bool | int]:
    """Paired bootstrap interval for ``mean(a) - mean(b)``, where ``a[i]`` and ``b[i]`` score the same case.

    Cases are resampled with replacement ``n_boot`` times (a NumPy generator seeded with ``seed``,
    so the same inputs give the same interval); the interval is the percentile interval of the
    resampled mean differences at ``level`` (0.95: the 2.5th and 97.5th percentiles).

    Parameters
    ----------
    a, b : array-like of shape (n_cases,)
        Two models' scores, one per case, in the same order.
    n_boot : int, default=2000
        Number of resamples.
    seed : int, default=0
        Seed of the resampling.
    level : float, default=0.95
        Coverage of the interval, between 0 and 1.

    Returns
    -------
    dict
        ``difference`` (observed), ``low`` and ``high`` (the interval's ends), ``excludes_0``,
        ``n_cases``, ``n_boot`` and ``seed``.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in length or hold fewer than 2 cases, or ``level`` or ``n_boot``
        is out of range.

    Examples
    --------
    >>> from medai_edu.metrics import paired_bootstrap
    >>> a = [0.90, 0.80, 0.85, 0.70, 0.95, 0.75]
    >>> b = [0.80, 0.78, 0.70, 0.72, 0.85, 0.60]
    >>> result = paired_bootstrap(a, b, n_boot=1000, seed=0)
    >>> round(result["difference"], 3), round(result["low"], 3), round(result["high"], 3), result["excludes_0"]
    (0.083, 0.033, 0.133, True)
    """
    x, y = _as_float_array(a, "a").ravel(), _as_float_array(b, "b").ravel()
    if x.shape != y.shape:
        raise ValueError(f"a and b must score the same cases (same length), got {x.size} and {y.size}.")
    if x.size < 2:
        raise ValueError(f"a bootstrap needs at least 2 cases, got {x.size}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a whole number of at least 1, got {n_boot!r}.")
    d = x - y
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 500):  # in chunks: [500, n] indices at a time
        stop = min(n_boot, start + 500)
        means[start:stop] = d[rng.integers(0, d.size, (stop - start, d.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return {
        "difference": float(d.mean()),
        "low": float(low),
        "high": float(high),
        "excludes_0": bool(low > 0 or high < 0),
        "n_cases": int(d.size),
        "n_boot": int(n_boot),
        "seed": int(seed),
    }
