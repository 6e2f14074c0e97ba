"""Intensity and shape steps shared by the simulated brains and real NIfTI cohorts (design §3.4)."""

from __future__ import annotations

import numpy as np

from medai_edu.validation import check_finite

__all__ = [
    "crop_or_pad",
    "percentile_range",
    "rescale",
    "scale_percentiles",
]


def percentile_range(
    image: np.ndarray, low: float = 5.0, high: float = 95.0, mask: np.ndarray | None = None
) -> tuple[np.float64, np.float64]:
    """The ``low`` and ``high`` intensity percentiles, inside ``mask`` when given (e.g. the brain)."""
    image = np.asarray(image, dtype=np.float32)
    check_finite(image, "the image")
    values = image[mask] if mask is not None else image
    lo, hi = np.percentile(values, [low, high])
    if hi <= lo:
        raise ValueError(f"the image is (nearly) constant: its {low:g}th and {high:g}th percentiles are both {lo:.3g}.")
    return lo, hi


def rescale(image: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``lo``/``hi`` to -1/+1 linearly (no clipping); float32."""
    return ((np.asarray(image, dtype=np.float32) - lo) / (hi - lo) * 2.0 - 1.0).astype(np.float32)


def scale_percentiles(
    image: np.ndarray, low: float = 5.0, high: float = 95.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """Map the ``low``/``high`` intensity percentiles to -1/+1 (as in the original ADNI pipeline).

    Percentiles are taken inside ``mask`` when given (e.g. the brain), else over all voxels;
    values outside the range are not clipped. Returns float32.
    """
    return rescale(image, *percentile_range(image, low, high, mask))


def crop_or_pad(image: np.ndarray, shape: tuple[int, ...], fill: float | None = None) -> np.ndarray:
    """Centre-crop or pad ``image`` to ``shape`` (pads with ``fill``, default the image minimum)."""
    if len(shape) != image.ndim:
        raise ValueError(f"shape {tuple(shape)} has {len(shape)} axes but the image has {image.ndim} ({image.shape}).")
    fill = float(image.min()) if fill is None else fill
    out = np.full(shape, fill, dtype=image.dtype)
    src, dst = [], []
    for have, want in zip(image.shape, shape):
        start_src, start_dst = max((have - want) // 2, 0), max((want - have) // 2, 0)
        n = min(have, want)
        src.append(slice(start_src, start_src + n))
        dst.append(slice(start_dst, start_dst + n))
    out[tuple(dst)] = image[tuple(src)]
    return out
