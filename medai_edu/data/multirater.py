"""Multi-rater lesion segmentations on simulated brains (lesson 3, design §3.5).

PHiSeg was shown on data where several experts outlined the same structures (six raters of two
prostate zones; four of lung nodules). We rebuild that situation on real anatomy:

1. Anatomy: a 64 x 64 crop (rows 8:72, columns 8:72) of a simulated subject's coronal brain
   slice from lesson 2 (:func:`medai_edu.data.brain.simulate`, no disease), scaled to about [-1, 1].
2. Lesion: one per case (a few cases have none, some a small faint one), placed in white matter
   away from the edge of the brain. Two nested soft maps in [0, 1], both with an irregular
   (random smooth) outline and a smooth fall-off: the lesion *core* and the *whole* abnormal
   area (core plus the surrounding oedema rim, wider and with a softer edge), cut off at the
   edge of the brain. The image is
   darkened by them (as on a T1 scan), the rim about a third as much as the core, so the
   borders are truly ambiguous.
3. Raters: six simulated experts turn the same soft maps into label masks (0 background,
   1 lesion core, 2 oedema rim) by thresholding, each in their own style (:data:`RATER_STYLES`),
   with a small random change of threshold per case (a rater is not equally generous every day;
   one change per rater and case, shared by both structures).

Case ``i`` comes from ``np.random.default_rng([seed, i, ...])``: the anatomy is subject ``i``
of the brain cohort with that seed (``[seed, i]``), the lesion's shape uses ``[seed, i, 1]``,
its darkness ``[seed, i, 3]`` and rater ``r`` ``[seed, i, 2, r]``. Same seed, same data.
:func:`disagreement` turns the raters' masks into the lesson's disagreement map.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from scipy.ndimage import binary_fill_holes, distance_transform_edt, gaussian_filter, label, map_coordinates
from scipy.special import expit

from medai_edu.data import brain, cache
from medai_edu.data.brain_reference import load_reference
from medai_edu.data.splits import SplitSizes, first_items

__all__ = [
    "CLASS_NAMES",
    "CROP",
    "LECTURE",
    "LESION_KINDS",
    "LOCAL_JITTER_PX",
    "LesionSettings",
    "MultiRaterCase",
    "MultiRaterDataset",
    "MultiRaterSettings",
    "N_RATERS",
    "RATERS",
    "RATER_STYLES",
    "RaterStyle",
    "SIZE",
    "disagreement",
    "load_multirater",
    "rate",
    "simulate_case",
    "simulate_lesion",
]

CROP = (slice(8, 72), slice(8, 72))
SIZE = 64
N_RATERS = 6
LOCAL_JITTER_PX = 4.0  # smoothness (pixels) of the local change of a rater's threshold
CLASS_NAMES = {0: "background", 1: "lesion core", 2: "oedema rim"}
#: what kind of lesion a case has (array ``kinds``)
LESION_KINDS = {0: "no lesion", 1: "small and faint", 2: "clear"}
RATER_STYLES: dict[int, str] = {
    0: "reference: draws the outlines where the lesion is half-visible (middle threshold)",
    1: "tight: outlines only what is clearly abnormal (high threshold), so smaller areas; "
    "often leaves faint lesions out",
    2: "generous: includes every pixel that might be abnormal (low threshold), so larger areas",
    3: "smooth: draws rounded outlines that cut off the lesion's small bumps and notches",
    4: "jagged: draws ragged outlines that wander a pixel in and out of the border",
    5: "hurried: misses small faint lesions about 60% of the time and, in about a third of "
    "the cases, labels the oedema rim as lesion core (no rim drawn)",
}


@dataclass(frozen=True)
class LesionSettings:
    """How lesions are drawn. Lengths are in pixels (2 mm); ranges are uniform (low, high)."""

    p_none: float = 0.05  # share of cases without a lesion
    p_subtle: float = 0.20  # share of cases with a small faint lesion
    core_radius: tuple[float, float] = (3.0, 6.5)
    subtle_core_radius: tuple[float, float] = (2.0, 3.5)
    rim_scale: tuple[float, float] = (1.4, 2.0)  # oedema outline radius / core radius
    axis_ratio: tuple[float, float] = (0.65, 1.0)  # short / long axis of the ellipse
    irregularity: float = 0.25  # std of the random outline change, as a fraction of the radius
    irregularity_px: float = 2.5  # size of the outline's bumps (smoothing of that change)
    core_falloff_px: tuple[float, float] = (0.6, 1.2)  # width of the core's soft edge
    rim_falloff_px: tuple[float, float] = (1.2, 2.2)  # width of the rim's (softer) edge
    visibility: tuple[float, float] = (0.85, 1.0)  # peak of the soft maps of a clear lesion
    subtle_visibility: tuple[float, float] = (0.5, 0.8)
    depth: tuple[float, float] = (0.9, 1.4)  # darkening of the core (white matter is about +0.8)
    rim_share: float = 0.35  # darkening of the rim, as a fraction of the core's
    white_matter_level: float = 0.85  # centres where the smoothed template is at least this bright
    margin_px: float = 3.0  # extra distance of the oedema outline from the edge of the brain


@dataclass(frozen=True)
class RaterStyle:
    """One simulated rater: a threshold on the soft maps plus habits (0 = none)."""

    threshold: float = 0.5
    smoothing_px: float = 0.0  # rounds the outline (Gaussian smoothing of the drawn area)
    jaggedness_px: float = 0.0  # moves the outline in and out by about this much, pixel by pixel
    miss_subtle: float = 0.0  # chance of missing a small faint lesion altogether
    merge_rim: float = 0.0  # chance per case of labelling the oedema rim as core


#: the six raters of :data:`RATER_STYLES`
RATERS = (
    RaterStyle(),
    RaterStyle(threshold=0.7),
    RaterStyle(threshold=0.3),
    RaterStyle(smoothing_px=2.0),
    RaterStyle(jaggedness_px=0.8),
    RaterStyle(miss_subtle=0.6, merge_rim=0.35),
)


@dataclass(frozen=True)
class MultiRaterSettings(SplitSizes):
    """Sizes of the splits, the seed, and how lesions and raters are simulated."""

    n_train: int = 1200
    n_val: int = 200
    n_test: int = 300
    seed: int = 42
    lesion: LesionSettings = LesionSettings()
    raters: tuple[RaterStyle, ...] = RATERS
    threshold_jitter: float = 0.05  # std of each rater's change of threshold per case
    local_jitter: float = 0.1  # std of a smooth change of threshold along the outline (local disagreement)


LECTURE = MultiRaterSettings()


@dataclass
class MultiRaterCase:
    """One simulated case (64 x 64 arrays)."""

    image: np.ndarray  # float32, about [-1, 1]
    soft: np.ndarray  # float32 [2, H, W]: soft maps of the lesion core and of core + oedema rim
    masks: np.ndarray  # uint8 [raters, H, W], labels of CLASS_NAMES
    kind: int  # key of LESION_KINDS


@lru_cache(maxsize=1)
def _brain_maps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the template crop: the brain (0-1, soft edge), the smoothed template (bright in white
    matter) and each pixel's distance to the edge of the brain or of the crop."""
    template = load_reference(2).template[CROP]
    inside = binary_fill_holes(template > 0.15)
    distance = distance_transform_edt(np.pad(inside, 1))[1:-1, 1:-1]
    return gaussian_filter(inside.astype(np.float32), 1.0), gaussian_filter(template, 1.5), distance


def _smooth_noise(rng: np.random.Generator, sigma: float, shape: tuple[int, ...] = (SIZE, SIZE)) -> np.ndarray:
    """Random smooth field with unit standard deviation."""
    field = gaussian_filter(rng.normal(size=shape), sigma)
    return field / field.std()


def _centre(rng: np.random.Generator, reach: float, s: LesionSettings) -> np.ndarray:
    """A random white-matter pixel at least ``reach`` + margin away from the edge of the brain."""
    _, white, distance = _brain_maps()
    far = distance > reach + s.margin_px
    candidates = np.argwhere(far & (white >= s.white_matter_level))
    if not len(candidates):
        candidates = np.argwhere(distance == distance.max())
    return candidates[rng.integers(len(candidates))] + rng.uniform(-0.5, 0.5, 2)


def _soft_outline(
    rng: np.random.Generator, rho: np.ndarray, radius: float, falloff: float, s: LesionSettings
) -> np.ndarray:
    """A soft area (0-1) whose 0.5 outline is the ellipse ``rho = radius``, made irregular.

    ``rho`` is each pixel's elliptical distance from the centre (pixels).
    """
    distance = rho + s.irregularity * radius * _smooth_noise(rng, s.irregularity_px)
    return expit((radius - distance) / falloff)


def simulate_lesion(rng: np.random.Generator, s: LesionSettings = LesionSettings()) -> tuple[np.ndarray, int]:
    """Soft maps [2, 64, 64] (core; core + oedema rim) of one random lesion, and its kind."""
    u = rng.random()
    kind = 0 if u < s.p_none else 1 if u < s.p_none + s.p_subtle else 2
    if kind == 0:
        return np.zeros((2, SIZE, SIZE), np.float32), kind
    radius = rng.uniform(*(s.subtle_core_radius if kind == 1 else s.core_radius))
    rim_radius = radius * rng.uniform(*s.rim_scale)
    ratio, angle = rng.uniform(*s.axis_ratio), rng.uniform(0, np.pi)
    centre = _centre(rng, rim_radius, s)
    rows, cols = np.mgrid[:SIZE, :SIZE] - centre[:, None, None]
    along, across = rows * np.cos(angle) + cols * np.sin(angle), cols * np.cos(angle) - rows * np.sin(angle)
    rho = np.hypot(along * np.sqrt(ratio), across / np.sqrt(ratio))  # an ellipse of the circle's area
    peak = rng.uniform(*(s.subtle_visibility if kind == 1 else s.visibility)) * _brain_maps()[0]
    core = peak * _soft_outline(rng, rho, radius, rng.uniform(*s.core_falloff_px), s)
    whole = np.maximum(core, peak * _soft_outline(rng, rho, rim_radius, rng.uniform(*s.rim_falloff_px), s))
    return np.stack([core, whole]).astype(np.float32), kind


def _jagged(soft: np.ndarray, rng: np.random.Generator, amount_px: float) -> np.ndarray:
    """The soft maps read at coordinates moved by a rough random field (the outline frays)."""
    grid = np.mgrid[:SIZE, :SIZE].astype(float)
    moved = grid + amount_px * np.stack([_smooth_noise(rng, 0.8), _smooth_noise(rng, 0.8)])
    return np.stack([map_coordinates(channel, moved, order=1, mode="nearest") for channel in soft])


def _rounded(drawn: np.ndarray, sigma: float) -> np.ndarray:
    """A 2D area with its outline rounded by Gaussian smoothing; blobs too small to survive it stay as drawn."""
    rounded = gaussian_filter(drawn.astype(np.float32), sigma) > 0.5
    parts, _ = label(drawn)
    lost = np.setdiff1d(parts[drawn], parts[drawn & rounded])
    return rounded | np.isin(parts, lost)


def rate(
    soft: np.ndarray,
    kind: int,
    style: RaterStyle,
    rng: np.random.Generator,
    jitter: float = 0.0,
    local_jitter: float = 0.0,
) -> np.ndarray:
    """One rater's mask (uint8, labels of :data:`CLASS_NAMES`) of the soft maps [2, H, W].

    The threshold moves by ``jitter`` (one number per case) and by ``local_jitter`` (a smooth field:
    the rater is more generous on one side of the lesion than on another)."""
    threshold: float | np.ndarray = style.threshold + rng.normal(0.0, jitter)
    if local_jitter:  # kept within (0.15, 0.8): every rater ignores the faintest edge and marks the clear core
        threshold = np.clip(threshold + local_jitter * _smooth_noise(rng, LOCAL_JITTER_PX), 0.15, 0.8)
    maps = _jagged(soft, rng, style.jaggedness_px) if style.jaggedness_px else soft
    drawn = maps > threshold  # [core, whole]
    if style.smoothing_px:
        drawn = np.stack([_rounded(area, style.smoothing_px) for area in drawn])
    mask = np.zeros(soft.shape[1:], np.uint8)
    mask[drawn[1]] = 2
    mask[drawn[0]] = 1
    if kind == 1 and rng.random() < style.miss_subtle:
        mask[:] = 0
    elif style.merge_rim and rng.random() < style.merge_rim:
        mask[mask == 2] = 1
    return mask


def simulate_case(index: int, settings: MultiRaterSettings = LECTURE) -> MultiRaterCase:
    """Case ``index``: the brain crop with its lesion, the soft maps and every rater's mask."""
    anatomy = brain.simulate(index, 0.0, seed=settings.seed).image[CROP]
    s = settings.lesion
    soft, kind = simulate_lesion(np.random.default_rng([settings.seed, index, 1]), s)
    depth = np.random.default_rng([settings.seed, index, 3]).uniform(*s.depth)
    image = anatomy - depth * (s.rim_share * soft[1] + (1 - s.rim_share) * soft[0])
    masks = np.stack(
        [
            rate(
                soft,
                kind,
                style,
                np.random.default_rng([settings.seed, index, 2, r]),
                settings.threshold_jitter,
                settings.local_jitter,
            )
            for r, style in enumerate(settings.raters)
        ]
    )
    return MultiRaterCase(image.astype(np.float32), soft, masks, kind)


def _generate(settings: MultiRaterSettings, progress: bool) -> dict[str, np.ndarray]:
    from tqdm.auto import tqdm

    cases = [
        simulate_case(i, settings)
        for i in tqdm(range(settings.n_total), desc="simulating multi-rater cases", disable=not progress)
    ]
    return {
        "images": np.stack([c.image for c in cases])[:, None],
        "masks": np.stack([c.masks for c in cases]),
        "soft": np.stack([c.soft for c in cases]),
        "kinds": np.array([c.kind for c in cases], dtype=np.int64),
    }


def _settings_record(settings: MultiRaterSettings) -> dict[str, Any]:
    return dict(asdict(settings), version=1)


@cache.kept_in_memory(maxsize=2)
def load_multirater(settings: MultiRaterSettings = LECTURE, progress: bool = True) -> dict[str, np.ndarray]:
    """All cases as arrays, generated once with a progress bar, then read from the cache.

    Kept in memory by settings (:func:`~medai_edu.data.cache.kept_in_memory`): one read, one copy.

    ``images`` float32 [N, 1, 64, 64]; ``masks`` uint8 [N, raters, 64, 64] (0 background,
    1 lesion core, 2 oedema rim); ``soft`` float32 [N, 2, 64, 64], the soft maps the raters
    thresholded (lesion core; core + oedema rim); ``kinds`` int64 [N], keys of :data:`LESION_KINDS`.
    """
    name = f"multirater_seed{settings.seed}_n{settings.n_total}"
    return cache.cached(name, _settings_record(settings), lambda: _generate(settings, progress))


class MultiRaterDataset:
    """One split: ``ds[i] -> (image [1, 64, 64] float32, masks [raters, 64, 64] int64)``.

    ``limit`` keeps the first ``limit`` cases; ``field(name)`` gives any stored array of the split;
    ``progress`` shows a progress bar if the cases must first be simulated.
    """

    def __init__(
        self,
        split: str = "train",
        settings: MultiRaterSettings = LECTURE,
        limit: int | None = None,
        progress: bool = True,
    ) -> None:
        self.split, self.settings = split, settings
        indices = np.array(settings.split_range(split))
        self.indices = first_items(indices, limit)
        self.arrays = load_multirater(settings, progress)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        j = self.indices[i]
        return torch.tensor(self.arrays["images"][j]), torch.from_numpy(self.arrays["masks"][j].astype(np.int64))

    def field(self, name: str) -> np.ndarray:
        """A stored per-case array of this split ("images", "masks", "soft" or "kinds")."""
        return self.arrays[name][self.indices]

    def __repr__(self) -> str:
        return f"MultiRaterDataset(split={self.split!r}, n={len(self)}, raters={len(self.settings.raters)})"


def disagreement(masks: np.ndarray | torch.Tensor) -> np.ndarray:
    """Per pixel, the fraction of raters whose label differs from the most common label.

    ``masks`` is [raters, H, W] or [N, raters, H, W]; the result drops the rater axis. 0 means
    all raters agree; with 6 raters the largest value is 0.5 when two labels are in play (a 3-3
    split) and 2/3 with all three (a 2-2-2 split). Float32.
    """
    masks = np.asarray(masks)
    if masks.ndim < 3:
        raise ValueError(f"masks must be [raters, H, W] or [N, raters, H, W], got shape {masks.shape}.")
    counts = np.stack([(masks == label).sum(axis=-3) for label in np.unique(masks)])
    return (1.0 - counts.max(axis=0) / masks.shape[-3]).astype(np.float32)
