"""The VA-GAN synthetic "box" data set (design §3.1), generated lazily and deterministically.

Every image is smoothed Gaussian noise (the "healthy tissue"). Diseased images (label 1) carry
two bright 20 x 20 boxes: one always in the centre, and one off-centre box whose position marks
the subtype — A near the bottom-right corner, B near the top-left — shifted by a few pixels.
The ground truth is a binary mask of the boxes, i.e. *all* pixels that make an image diseased.

Nothing is stored: image ``index`` is drawn from ``np.random.default_rng([seed, index])``, so
any single image costs about a millisecond, the full set never sits in memory, and the same
``seed`` always gives the same pixels. ``size`` scales all the geometry (``size=56`` gives a
half-resolution copy for quick training); ``size=112`` is the published design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter

from medai_edu.data.splits import SPLITS, first_items
from medai_edu.validation import Interval, Options, check_option, check_scalar

if TYPE_CHECKING:
    import torch

__all__ = [
    "BOXES",
    "FULL_SIZE",
    "N_IMAGES",
    "SUBTYPE_NAMES",
    "ToyBoxDataset",
    "ToyGeometry",
    "ToySample",
    "geometry",
    "load_arrays",
    "make_sample",
    "split_indices",
    "subtype_of",
]

FULL_SIZE = 112
N_IMAGES = 10_000
#: subtype codes: 0 = healthy (label 0), 1 = subtype A, 2 = subtype B (both label 1)
SUBTYPE_NAMES = {0: "healthy", 1: "subtype A (box at bottom right)", 2: "subtype B (box at top left)"}


@dataclass(frozen=True)
class ToyGeometry:
    """Pixel geometry of the data set at one image size (all values scale with ``size``)."""

    size: int
    half_width: int  # boxes span centre - half_width : centre + half_width
    offset: int  # off-centre box centre = image centre +- offset (per axis)
    shift_low: int  # the off-centre box moves by an integer in [shift_low, shift_high] per axis
    shift_high: int
    sigma: float  # smoothing of the background noise, in pixels
    noise_std: float = 50.0
    box_intensity: float = 100.0

    @property
    def centre(self) -> int:
        return self.size // 2


class ToySample(NamedTuple):
    image: np.ndarray  # float32 [size, size], min/max scaled to [-1, 1]
    mask: np.ndarray  # float32 [size, size], 1 inside the boxes
    label: int  # 0 healthy, 1 diseased
    subtype: int  # 0 healthy, 1 = A, 2 = B
    shift: tuple[int, int]  # (row, col) shift of the off-centre box; (0, 0) when there is none


def geometry(size: int = FULL_SIZE) -> ToyGeometry:
    """Return the box geometry for images of ``size`` x ``size`` pixels (112 = the design)."""
    why = "the networks pool 3-4 times; 112 is the published design, 56 the quick variant"
    check_scalar(size, "size", Interval(32, integer=True), note=f"pixels, a multiple of 8: {why}")
    if size % 8:
        raise ValueError(f"size must be a multiple of 8 ({why}), got {size}.")
    s = size / FULL_SIZE
    return ToyGeometry(
        size=int(size),
        half_width=max(1, round(10 * s)),
        offset=round(32 * s),
        shift_low=-round(5 * s),
        shift_high=round(4 * s),
        sigma=2.5 * s,
    )


def subtype_of(index: int) -> int:
    """Subtype of image ``index``: classes are interleaved (0, 0, A, B, 0, 0, A, B, ...)."""
    return (0, 0, 1, 2)[index % 4]


def _check_index(index: int, n_images: int) -> int:
    check_scalar(index, "index", Interval(integer=True))
    if not 0 <= index < n_images:
        raise IndexError(f"index must be in [0, {n_images}), got {index}.")
    return int(index)


def _box(mask: np.ndarray, centre_row: int, centre_col: int, half_width: int) -> None:
    mask[centre_row - half_width : centre_row + half_width, centre_col - half_width : centre_col + half_width] = 1.0


BOXES = ("centre", "corner")


def make_sample(
    index: int, seed: int = 42, size: int = FULL_SIZE, n_images: int = N_IMAGES, boxes: Sequence[str] = BOXES
) -> ToySample:
    """Generate image ``index`` of the data set (deterministic in ``seed`` and ``index``).

    ``boxes`` chooses which of a diseased image's boxes are painted (default both): the same
    background and box positions with a lesion left out, for "what does the classifier need?"
    experiments. The mask always marks the boxes that are painted.
    """
    index = _check_index(index, n_images)
    unknown = set(boxes) - set(BOXES)
    if unknown or isinstance(boxes, str):
        raise ValueError(f"boxes must be a tuple drawn from {BOXES}, got {boxes!r}.")
    geo = geometry(size)
    rng = np.random.default_rng([int(seed), index])
    noise = gaussian_filter(rng.normal(0.0, geo.noise_std, (size, size)), sigma=geo.sigma)
    background = noise * (geo.noise_std / noise.std())

    subtype = subtype_of(index)
    mask = np.zeros((size, size), dtype=np.float32)
    shift = (0, 0)
    if subtype:
        c = geo.centre
        dr, dc = (int(v) for v in rng.integers(geo.shift_low, geo.shift_high + 1, size=2))
        sign = 1 if subtype == 1 else -1
        if "centre" in boxes:
            _box(mask, c, c, geo.half_width)
        if "corner" in boxes:
            _box(mask, c + sign * geo.offset + dr, c + sign * geo.offset + dc, geo.half_width)
        shift = (dr, dc)

    image = background + geo.box_intensity * mask
    lo, hi = image.min(), image.max()
    image = (2.0 * (image - lo) / (hi - lo) - 1.0).astype(np.float32)
    return ToySample(image=image, mask=mask, label=int(subtype > 0), subtype=subtype, shift=shift)


def split_indices(split: str, seed: int = 42, n_images: int = N_IMAGES) -> np.ndarray:
    """Indices of one split: stratified (per subtype) 80/20 train+val/test, then 80/20 train/val.

    With the default 10,000 images this gives 6,400 / 1,600 / 2,000 images, and the class and
    subtype proportions are the same in every split. Indices are sorted.
    """
    check_option(split, "split", Options(SPLITS))
    check_scalar(n_images, "n_images", Interval(20, integer=True))
    rng = np.random.default_rng(int(seed))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    all_indices = np.arange(n_images)
    subtypes = np.array([0, 0, 1, 2])[all_indices % 4]
    for subtype in (0, 1, 2):
        members = rng.permutation(all_indices[subtypes == subtype])
        n_test = round(0.2 * len(members))
        n_val = round(0.2 * (len(members) - n_test))
        parts["test"].append(members[:n_test])
        parts["val"].append(members[n_test : n_test + n_val])
        parts["train"].append(members[n_test + n_val :])
    return np.sort(np.concatenate(parts[split]))


def load_arrays(
    indices: np.ndarray | list[int], seed: int = 42, size: int = FULL_SIZE, n_images: int = N_IMAGES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generate several images at once: (images [N,1,H,W], labels [N], masks [N,1,H,W])."""
    samples = [make_sample(int(i), seed=seed, size=size, n_images=n_images) for i in indices]
    images = np.stack([s.image for s in samples])[:, None]
    masks = np.stack([s.mask for s in samples])[:, None]
    labels = np.array([s.label for s in samples], dtype=np.int64)
    return images, labels, masks


class ToyBoxDataset:
    """A PyTorch-style data set over one split: ``ds[i] -> (image [1,H,W], label, mask [1,H,W])``.

    ``image`` and ``mask`` are float32 tensors, ``label`` a Python int (0 healthy, 1 diseased).
    ``labels`` (NumPy array of the split's labels) is available without generating any image.
    ``only_label`` keeps just the images of one class (e.g. 1 for the VA-GAN's diseased inputs);
    ``limit`` keeps the first ``limit`` images (classes stay mixed, as indices interleave them).
    """

    def __init__(
        self,
        split: str = "train",
        size: int = FULL_SIZE,
        seed: int = 42,
        n_images: int = N_IMAGES,
        only_label: int | None = None,
        limit: int | None = None,
    ) -> None:
        geometry(size)  # validates size
        self.split, self.size, self.seed, self.n_images = split, int(size), int(seed), int(n_images)
        indices = split_indices(split, seed=seed, n_images=n_images)
        check_option(only_label, "only_label", Options([0, 1, None], {0: "healthy", 1: "diseased"}))
        if only_label is not None:
            indices = indices[(np.array([0, 0, 1, 1])[indices % 4]) == only_label]
        self.indices = indices = first_items(indices, limit)
        self.labels = np.array([0, 0, 1, 1], dtype=np.int64)[indices % 4]

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, i: int) -> ToySample:
        """The full record (with subtype and shift) of the split's ``i``-th image."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"this {self.split} split has {len(self)} images; index {i} is out of range.")
        return make_sample(int(self.indices[i]), seed=self.seed, size=self.size, n_images=self.n_images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, torch.Tensor]:
        import torch

        s = self.sample(i)
        return torch.from_numpy(s.image[None]), s.label, torch.from_numpy(s.mask[None])

    def __repr__(self) -> str:
        return f"ToyBoxDataset(split={self.split!r}, size={self.size}, seed={self.seed}, n={len(self)})"
