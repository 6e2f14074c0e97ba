"""Input shifts for robustness checks (lesson 3): the same images, acquired a little differently.

A model meets images unlike its training data when a scanner, protocol or patient differs. Three
simple stand-ins, each with a strength:

- ``"noise"``: Gaussian noise of standard deviation ``strength`` (images span about [-1, 1]);
- ``"contrast"``: contrast scaled by ``strength`` around each image's mean (1 = unchanged,
  0.5 = half the contrast);
- ``"blur"``: Gaussian blur of standard deviation ``strength`` pixels (a lower resolution).

The noise of image ``i`` comes from ``np.random.default_rng([seed, i])``: same seed, same shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from medai_edu.validation import Interval, Options, check_option, check_scalar

__all__ = [
    "CONDITIONS",
    "NO_SHIFT",
    "SHIFTS",
    "ShiftedDataset",
    "check_kind",
    "shift_image",
]

#: the benchmark's shifts and their strengths
SHIFTS: dict[str, float] = {"noise": 0.3, "contrast": 0.5, "blur": 1.5}
#: strength that leaves the image unchanged
NO_SHIFT: dict[str, float] = {"noise": 0.0, "contrast": 1.0, "blur": 0.0}
#: the benchmark's test conditions: the scans as they are, then each shift of :data:`SHIFTS`
CONDITIONS: tuple[str, ...] = ("clean", *SHIFTS)


def check_kind(kind: str) -> None:
    """Raise a clear error unless ``kind`` is one of :data:`SHIFTS`."""
    check_option(kind, "kind", Options(SHIFTS))


def shift_image(image: np.ndarray | torch.Tensor, kind: str, strength: float, seed: int | list[int] = 0) -> np.ndarray:
    """One image ``[channels, *spatial]`` (or a plain ``[H, W]``) under the shift ``kind`` of ``strength``; float32."""
    check_kind(kind)
    check_scalar(strength, "strength", Interval(0))
    image = np.asarray(image, dtype=np.float32)
    if kind == "noise":
        noise = np.random.default_rng(seed).standard_normal(image.shape).astype(np.float32)
        return image + np.float32(strength) * noise
    if kind == "contrast":
        mean = image.mean()
        return (mean + np.float32(strength) * (image - mean)).astype(np.float32)
    spatial = (0,) + (strength,) * (image.ndim - 1) if image.ndim > 2 else strength
    return gaussian_filter(image, spatial, mode="nearest").astype(np.float32)


class ShiftedDataset:
    """``data[i] = (image, *rest)`` with the image shifted (``kind``, ``strength``); the rest unchanged."""

    def __init__(self, data: Any, kind: str, strength: float | None = None, seed: int = 0) -> None:
        check_kind(kind)
        self.data, self.kind, self.seed = data, kind, seed
        self.strength = SHIFTS[kind] if strength is None else float(strength)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        image, *rest = self.data[i]
        return (torch.from_numpy(shift_image(image, self.kind, self.strength, [self.seed, i])), *rest)
