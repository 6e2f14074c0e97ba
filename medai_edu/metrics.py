"""Metrics for comparing maps with the ground truth.

``ncc`` is the normalised cross-correlation of design §3.3: the Pearson correlation between the
flattened predicted map and the flattened ground-truth map. 1 = same pattern (up to brightness
and contrast), 0 = unrelated, -1 = inverted.

A constant map (all pixels equal, e.g. an all-zero saliency map, or the empty mask of a healthy
image) has no pattern, and Pearson's formula divides 0 by 0. We then return **0.0**
("no correlation") rather than NaN or an error, so that a benchmark over many images is not
derailed by one blank map; the docs of each benchmark say how many such maps occurred.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _as_float_array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers (NumPy array or torch tensor), got {type(x).__name__}.") from err
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected a map with at least 2 pixels.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) out of {arr.size}; "
            "a map must hold finite numbers only (check the method that produced it)."
        )
    return arr


def ncc(pred: Any, target: Any, batch: bool = False) -> float | np.ndarray:
    """Normalised cross-correlation (Pearson r) between ``pred`` and ``target`` maps.

    Args:
        pred: predicted map(s), NumPy array or torch tensor, any shape.
        target: ground-truth map(s) of exactly the same shape.
        batch: if False, correlate all values and return one float; if True, the first axis
            indexes images and a NumPy array with one NCC per image is returned.

    A constant map (on either side) gives 0.0 — see the module docstring for why.
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
    """Mean, standard deviation and count of per-image NCC values (the benchmarks' row format)."""
    values = np.asarray(values, dtype=np.float64)
    return {"ncc_mean": float(values.mean()), "ncc_std": float(values.std()), "n_images": int(values.size)}
