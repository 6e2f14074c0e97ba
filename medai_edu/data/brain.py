"""A simulated MCI/AD cohort on the ICBM152 brain (design §3.4): same code for 2D slices and 3D volumes.

Each subject is the template under
1. its own anatomy: a random smooth deformation (a coarse random displacement grid, smoothly
   interpolated) plus a small random scaling and shift;
2. its disease: hippocampal volume loss and ventricular enlargement, made by smooth fields that
   push the atlas' hippocampus outlines inwards and the ventricle outlines outwards, scaled by a
   ``severity`` (0 = none, 1 = severe) and by subject-specific left/right weights. The
   ventricles' field moves the tissue around them (they expand into it); the hippocampus'
   field only shrinks its outline, and the tissue it loses is replaced by cerebrospinal fluid
   (CSF, the template's own ventricle intensity), as atrophy widens the CSF spaces around the
   hippocampus (temporal horn, choroidal fissure): on a T1 scan the region gets darker;
3. its scan: a global contrast change, a smooth multiplicative bias field and Gaussian noise,
   then 5th/95th percentile scaling to [-1, 1] as in the original ADNI pipeline.

The ground-truth *effect map* of a subject is its image minus the same subject without step 2
(same anatomy, bias and noise), like the MCI-to-AD converters used to evaluate VA-GAN.
Everything about subject ``i`` comes from ``np.random.default_rng([seed, i])``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from medai_edu.data import cache
from medai_edu.data.brain_reference import load_reference
from medai_edu.data.preprocess import percentile_range, rescale
from medai_edu.data.splits import SplitSizes, first_items
from medai_edu.validation import Interval, Options, check_option, check_scalar

__all__ = [
    "BrainDataset",
    "CohortSettings",
    "LABEL_NAMES",
    "LECTURE",
    "OCCLUSION_PATCH",
    "SimulationSettings",
    "Subject",
    "hippocampus_window",
    "labels_and_severities",
    "load_cohort",
    "simulate",
]

LABEL_NAMES = {0: "MCI", 1: "AD"}
#: occlusion patch for the lesson's slices: 8 pixels (16 mm), about a hippocampus cross-section
OCCLUSION_PATCH = 8


@dataclass(frozen=True)
class SimulationSettings:
    """Sizes of the simulated effects (millimetres unless stated)."""

    anatomy_mm: float = 2.0  # std of the random smooth displacement
    anatomy_grid: int = 5  # control points per axis of that displacement
    scale_std: float = 0.04  # std of the random size change per axis (fraction)
    shift_mm: float = 2.0  # std of the random shift per axis
    hippocampus_mm: float = 2.0  # largest inward shift of the hippocampus outline at severity 1
    ventricle_mm: float = 3.0  # largest outward shift of the ventricle outline at severity 1
    smoothing_mm: float = 3.0  # width of the disease fields around the outlines
    contrast_std: float = 0.08
    bias_std: float = 0.10  # std of the log bias field
    noise_std: float = 0.04  # relative to white matter ~ 0.8


@dataclass(frozen=True)
class CohortSettings(SplitSizes):
    """A cohort: how many subjects, which grid, and how severities of MCI and AD overlap."""

    n_train: int = 3000
    n_val: int = 400
    n_test: int = 600
    dims: int = 2
    mci_severity: tuple[float, float] = (0.0, 0.5)  # uniform range of severities for MCI (label 0)
    ad_severity: tuple[float, float] = (0.35, 1.0)  # ... and for AD (label 1)
    seed: int = 42
    simulation: SimulationSettings = SimulationSettings()


LECTURE = CohortSettings()


def labels_and_severities(settings: CohortSettings) -> tuple[np.ndarray, np.ndarray]:
    """Alternating MCI/AD labels and each subject's disease severity (overlapping ranges)."""
    labels = np.arange(settings.n_total) % 2
    rng = np.random.default_rng([settings.seed, 10**9])
    u = rng.random(settings.n_total)
    low = np.where(labels == 1, settings.ad_severity[0], settings.mci_severity[0])
    high = np.where(labels == 1, settings.ad_severity[1], settings.mci_severity[1])
    return labels.astype(np.int64), (low + u * (high - low)).astype(np.float32)


@lru_cache(maxsize=4)
def _disease_fields(dims: int, settings: SimulationSettings) -> dict[str, np.ndarray]:
    """Unit disease displacement fields [dims, *shape] in voxels, one per atlas label."""
    reference = load_reference(dims)
    sigma = settings.smoothing_mm / reference.spacing
    fields = {}
    for name, probability in reference.labels.items():
        gradient = np.stack(np.gradient(gaussian_filter(probability, sigma)))
        gradient /= np.abs(gradient).max()
        # hippocampus shrinks: sample from outside its outline (minus the inward gradient)
        amplitude = -settings.hippocampus_mm if name.startswith("hippocampus") else settings.ventricle_mm
        fields[name] = (gradient * amplitude / reference.spacing).astype(np.float32)
    return fields


@lru_cache(maxsize=2)
def _grid_and_stack(dims: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Voxel coordinates [dims, *S] of the grid, the template, hippocampus and ventricles [3, *S],
    and the template's CSF intensity (median inside the ventricles' core)."""
    reference = load_reference(dims)
    shape = reference.template.shape
    coords = torch.stack(torch.meshgrid(*[torch.arange(n, dtype=torch.float32) for n in shape], indexing="ij"))
    csf = float(np.median(reference.template[reference.ventricles > 0.9]))
    return coords, torch.from_numpy(np.stack([reference.template, reference.hippocampus, reference.ventricles])), csf


def _smooth_random(
    rng: np.random.Generator, channels: int, shape: tuple[int, ...], grid: int, std: float
) -> torch.Tensor:
    coarse = torch.from_numpy(rng.normal(0.0, std, size=(1, channels) + (grid,) * len(shape)).astype(np.float32))
    mode = "bicubic" if len(shape) == 2 else "trilinear"
    return F.interpolate(coarse, size=shape, mode=mode, align_corners=True)[0]


def _sample(volume: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """``volume`` [C, *S] read at voxel coordinates ``coords`` [dims, *S] (linear, border-clamped)."""
    shape = volume.shape[1:]
    scale = torch.tensor([(n - 1) / 2 for n in shape], dtype=coords.dtype).reshape(-1, *[1] * len(shape))
    grid = (coords / scale - 1).flip(0).movedim(0, -1)[None]  # grid_sample wants (x=last axis, y, z)
    return F.grid_sample(volume[None], grid, mode="bilinear", padding_mode="border", align_corners=True)[0]


@dataclass
class Subject:
    """One simulated subject (arrays have the grid's shape)."""

    image: np.ndarray  # the scan, scaled to about [-1, 1]
    without_disease: np.ndarray  # the same scan without the disease change
    hippocampus: np.ndarray  # label probabilities in this subject's anatomy (0-1)
    ventricles: np.ndarray
    hippocampus_without: np.ndarray
    severity: float

    @property
    def effect(self) -> np.ndarray:
        """Ground-truth disease effect: image minus the same subject without the disease."""
        return self.image - self.without_disease


def simulate(
    index: int, severity: float, dims: int = 2, seed: int = 42, settings: SimulationSettings = SimulationSettings()
) -> Subject:
    """Subject ``index`` of the cohort with seed ``seed``, at any disease ``severity`` (0 = none)."""
    check_scalar(severity, "severity", Interval(0), note="0 = no disease, 1 = severe")
    reference = load_reference(dims)
    shape = reference.template.shape
    rng = np.random.default_rng([seed, int(index)])
    coords, stack, csf = _grid_and_stack(dims)
    centre = torch.tensor([(n - 1) / 2 for n in shape]).reshape(-1, *[1] * dims)
    scale = torch.from_numpy(1 + rng.normal(0, settings.scale_std, dims).astype(np.float32)).reshape(-1, *[1] * dims)
    shift = torch.from_numpy(rng.normal(0, settings.shift_mm / reference.spacing, dims).astype(np.float32)).reshape(
        -1, *[1] * dims
    )
    anatomy = centre + (coords - centre) * scale + shift
    anatomy = anatomy + _smooth_random(rng, dims, shape, settings.anatomy_grid, settings.anatomy_mm / reference.spacing)
    weights = {name: float(rng.uniform(0.7, 1.3)) for name in reference.labels}
    fields = _disease_fields(dims, settings)

    def field(part: str) -> torch.Tensor:
        parts = sum(torch.from_numpy(fields[n]) * w for n, w in weights.items() if n.startswith(part))
        return cast(torch.Tensor, parts) * float(severity)

    ventricles_grow = _sample(field("ventricle"), anatomy)
    outlines = anatomy + ventricles_grow + _sample(field("hippocampus"), anatomy)

    without = _sample(stack, anatomy).numpy()
    with_d = np.concatenate(
        [_sample(stack[:1], anatomy + ventricles_grow).numpy(), _sample(stack[1:], outlines).numpy()]
    )
    lost = np.clip(without[1] - with_d[1], 0.0, 1.0)  # hippocampal tissue replaced by CSF
    with_d[0] = with_d[0] * (1 - lost) + csf * lost
    bias = np.exp(_smooth_random(rng, 1, shape, 3, settings.bias_std)[0].numpy())
    gain = (1 + rng.normal(0, settings.contrast_std)) * bias
    noise = rng.normal(0, settings.noise_std, shape).astype(np.float32)
    scan, scan_without = with_d[0] * gain + noise, without[0] * gain + noise
    lo, hi = percentile_range(scan)  # the same intensity mapping for both: noise cancels in the effect
    return Subject(
        image=rescale(scan, lo, hi),
        without_disease=rescale(scan_without, lo, hi),
        hippocampus=with_d[1],
        ventricles=with_d[2],
        hippocampus_without=without[1],
        severity=float(severity),
    )


def _generate(settings: CohortSettings, progress: bool) -> dict[str, np.ndarray]:
    """Simulate every subject, filling preallocated arrays (about 0.6 GB less peak memory than a list)."""
    from tqdm.auto import tqdm

    labels, severities = labels_and_severities(settings)
    reference = load_reference(settings.dims)
    n, shape, area = settings.n_total, reference.template.shape, reference.spacing**settings.dims
    out = {
        "images": np.empty((n, 1, *shape), np.float32),
        "effects": np.empty((n, 1, *shape), np.float32),
        "hippocampus": np.empty((n, *shape), bool),
        "ventricles": np.empty((n, *shape), bool),
        "hippocampus_volume": np.empty(n, np.float32),
        "hippocampus_volume_without": np.empty(n, np.float32),
        "labels": labels,
        "severities": severities,
    }
    for i in tqdm(range(n), desc="simulating brains", disable=not progress):
        s = simulate(i, severities[i], settings.dims, settings.seed, settings.simulation)
        out["images"][i, 0], out["effects"][i, 0] = s.image, s.effect
        out["hippocampus"][i], out["ventricles"][i] = s.hippocampus > 0.5, s.ventricles > 0.5
        out["hippocampus_volume"][i] = s.hippocampus.sum() * area
        out["hippocampus_volume_without"][i] = s.hippocampus_without.sum() * area
    return out


def _settings_record(settings: CohortSettings) -> dict[str, Any]:
    return dict(asdict(settings), version=2)  # 2: hippocampal atrophy fills with CSF


@cache.kept_in_memory(maxsize=2)
def load_cohort(settings: CohortSettings = LECTURE, progress: bool = True) -> dict[str, np.ndarray]:
    """All subjects of a cohort as arrays (generated with a progress bar once, then cached).

    Kept in memory by settings (:func:`~medai_edu.data.cache.kept_in_memory`): one read, one copy.
    """
    name = f"brain_{settings.dims}d_seed{settings.seed}_n{settings.n_total}"
    return cache.cached(name, _settings_record(settings), lambda: _generate(settings, progress))


def hippocampus_window(hippocampus: np.ndarray, side: str = "left", margin: int = 6) -> tuple[slice, slice]:
    """A close-up window (rows, columns) around one hippocampus of a 2D slice, ``margin`` pixels wide.

    ``side`` is the patient's side: "left" is the image's left half (neurological convention).
    When the mask has no hippocampus on that side, the template's outline is used.
    """
    check_option(side, "side", Options(["left", "right"]), note="the patient's side")
    half = hippocampus.shape[1] // 2
    columns = slice(0, half) if side == "left" else slice(half, None)
    part = hippocampus[:, columns] > 0.5
    if not part.any():
        part = load_reference(2).hippocampus[:, columns] > 0.5
    rows, cols = np.nonzero(part)
    cols = cols + columns.start
    return (
        slice(max(rows.min() - margin, 0), rows.max() + margin + 1),
        slice(max(cols.min() - margin, 0), cols.max() + margin + 1),
    )


class BrainDataset:
    """One split of a simulated cohort: ``ds[i] -> (image [1,*S], label, effect map [1,*S])``.

    ``labels`` (0 = MCI, 1 = AD) and ``severities`` are NumPy arrays; ``only_label`` keeps
    one class; ``limit`` keeps the first ``limit`` subjects; ``progress`` shows a progress bar
    if the cohort must first be simulated.
    """

    def __init__(
        self,
        split: str = "train",
        settings: CohortSettings = LECTURE,
        only_label: int | None = None,
        limit: int | None = None,
        progress: bool = True,
    ) -> None:
        self.split, self.settings = split, settings
        indices = np.array(settings.split_range(split))
        arrays = load_cohort(settings, progress)
        check_option(only_label, "only_label", Options([0, 1, None], {0: "MCI", 1: "AD"}))
        if only_label is not None:
            indices = indices[arrays["labels"][indices] == only_label]
        self.indices = indices = first_items(indices, limit)
        self.arrays = arrays
        self.labels = arrays["labels"][indices]
        self.severities = arrays["severities"][indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, torch.Tensor]:
        j = self.indices[i]
        return (
            torch.tensor(self.arrays["images"][j]),  # a copy: the cohort's arrays are read-only
            int(self.arrays["labels"][j]),
            torch.tensor(self.arrays["effects"][j]),
        )

    def field(self, name: str) -> np.ndarray:
        """Any stored per-subject array of this split (e.g. "hippocampus", "hippocampus_volume")."""
        return self.arrays[name][self.indices]

    def __repr__(self) -> str:
        return f"BrainDataset(split={self.split!r}, dims={self.settings.dims}, n={len(self)})"
