"""Load a real NIfTI cohort (e.g. ADNI) for lesson 2: MCI (label 0) versus AD (label 1).

A cohort is a folder of 3D brain images plus a CSV file with one row per image::

    subject,image,diagnosis,split
    S001,images/S001.nii.gz,MCI,train
    S002,images/S002.nii.gz,AD,test

``split`` (train/val/test) is optional. Every image goes through the VA-GAN preprocessing steps
that need no external tool (design §3.4): resampling to isotropic voxels on the world (RAS+)
axes, centre crop/pad to one shape, and 5th/95th percentile scaling to [-1, 1]. Registration,
bias-field correction and skull stripping are NOT done here (see datasets/real_nifti_cohorts.md).
Only ``.nii``/``.nii.gz`` files are opened, with nibabel; nothing is ever unpickled.
"""

from __future__ import annotations

import csv
import warnings
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.processing import resample_to_output
from nibabel.spatialimages import HeaderDataError, SpatialImage

from medai_edu.data.preprocess import crop_or_pad, scale_percentiles
from medai_edu.validation import Interval, Options, check_finite, check_option, check_scalar

__all__ = [
    "INTERPOLATION_ORDER",
    "LABELS",
    "NIFTI_READ_ERRORS",
    "NIFTI_SUFFIXES",
    "NiftiCohort",
    "REQUIRED_COLUMNS",
    "SPLITS",
    "load_image",
    "load_nifti_cohort",
]

REQUIRED_COLUMNS = ("subject", "image", "diagnosis")
LABELS = {"MCI": 0, "AD": 1}
SPLITS = ("train", "val", "test")
NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: trilinear interpolation: no overshoot (negative intensities) at the brain edge, unlike splines
INTERPOLATION_ORDER = 1
#: what nibabel raises for a file it cannot read
NIFTI_READ_ERRORS = (ImageFileError, HeaderDataError, OSError, EOFError, ValueError, zlib.error)


def load_image(path: str | Path) -> SpatialImage:
    """``nibabel.load`` for a file of voxels with an affine (NIfTI and the like); anything else is a ValueError."""
    image = nib.load(path)
    if not isinstance(image, SpatialImage):
        raise ValueError(f"{path} holds no image with voxels and an affine (nibabel read a {type(image).__name__}).")
    return image


@dataclass
class NiftiCohort:
    """Preprocessed images of a cohort in CSV order, without the rows that were skipped."""

    images: np.ndarray  # float32 [N, 1, X, Y, Z]; [N, 1, Z, X] with coronal_slice (top of the head first)
    labels: np.ndarray  # int64, 0 = MCI, 1 = AD
    subjects: list[str]
    splits: list[str] | None  # "train"/"val"/"test" per image; None when the CSV has no split column
    files: list[Path]
    problems: list[tuple[Path | str, str]]  # (image file or CSV row, why it was skipped)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class _Row:
    """One CSV row, cells stripped of surrounding spaces (split lower-cased)."""

    where: str  # e.g. "line 3 of cohort.csv", for messages
    subject: str
    image: str
    diagnosis: str
    split: str | None


def load_nifti_cohort(
    csv_path: str | Path,
    folder: str | Path | None = None,
    spacing: float | Sequence[float] = 2.0,
    shape: Sequence[int] | None = None,
    coronal_slice: int | None = None,
    on_error: Literal["raise", "skip"] = "raise",
) -> NiftiCohort:
    """Read the cohort listed in ``csv_path`` and preprocess every image.

    ``image`` paths are relative to ``folder`` (default: the CSV's folder). Images are resampled
    to ``spacing`` mm voxels, then centre-cropped/padded to ``shape`` (``None``: all images must
    already agree; the first one sets the shape); ``coronal_slice`` keeps one index of the second
    (posterior-anterior) axis, giving 2D images. Last, each image is scaled so that the 5th/95th
    percentiles of its voxels (padding left out) become -1/+1. ``on_error="skip"`` leaves out bad
    images or rows, lists them in ``problems`` and warns, instead of raising; errors about the
    whole cohort (CSV columns, splits) always raise.
    """
    _check_arguments(spacing, shape, coronal_slice, on_error)
    csv_path = Path(csv_path).expanduser()
    folder = Path(folder).expanduser() if folder is not None else csv_path.parent
    rows = _read_rows(csv_path)
    _check_one_split_per_subject(rows, csv_path)
    shape = tuple(int(n) for n in shape) if shape is not None else None
    first: tuple[Path, tuple[int, ...]] | None = None  # (file, shape) that the others must match
    kept: list[tuple[_Row, Path, int, np.ndarray]] = []
    problems: list[tuple[Path | str, str]] = []
    for row in rows:
        where: Path | str = row.where
        try:
            label = _check_row(row)
            where = path = (folder / row.image).absolute()
            volume = _resampled_volume(path, spacing)
            if shape is None:
                first = first or (path, volume.shape)
                _check_same_shape(volume, path, first, spacing)
            image = _fitted_and_scaled(volume, shape or volume.shape, coronal_slice, path)
        except (ValueError, FileNotFoundError) as err:
            if on_error == "raise":
                raise
            problems.append((where, str(err)))
            continue
        kept.append((row, path, label, image))
    return _assemble(kept, problems, rows, csv_path)


def _check_arguments(
    spacing: float | Sequence[float], shape: Sequence[int] | None, coronal_slice: int | None, on_error: str
) -> None:
    check_option(on_error, "on_error", Options(["raise", "skip"]))
    sizes = np.asarray(spacing, dtype=float)
    if sizes.shape not in ((), (3,)) or not (sizes > 0).all():
        raise ValueError(f"spacing must be a voxel size in mm (> 0), or three of them; got {spacing!r}.")
    if shape is not None and (len(shape) != 3 or any(int(n) < 1 for n in shape)):
        raise ValueError(f"shape must be three positive voxel counts (X, Y, Z), e.g. (96, 112, 96); got {shape!r}.")
    check_scalar(coronal_slice, "coronal_slice", Interval(integer=True), note="a slice index", allow_none=True)


def _read_rows(csv_path: Path) -> list[_Row]:
    """The CSV rows; raises if the file or one of the required columns is missing."""
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"cohort CSV file not found: {csv_path.absolute()}. Expected a CSV file with the "
            f"columns {','.join(REQUIRED_COLUMNS)} (and optionally split)."
        )
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
            _check_columns(reader.fieldnames, csv_path)
            has_split = "split" in reader.fieldnames
            rows = [
                _Row(
                    where=f"line {reader.line_num} of {csv_path.name}",
                    **{key: (cells.get(key) or "").strip() for key in REQUIRED_COLUMNS},
                    split=(cells.get("split") or "").strip().lower() if has_split else None,
                )
                for cells in reader
            ]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"could not read {csv_path} as a CSV text file ({err}); save it as 'CSV UTF-8'.") from err
    if not rows:
        raise ValueError(f"{csv_path} has a header line but no rows: expected one row per image.")
    return rows


def _check_columns(found: list[str], csv_path: Path) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    if missing:
        hint = " (the file seems to use ';' - save it comma-separated)" if any(";" in name for name in found) else ""
        raise ValueError(
            f"{csv_path} lacks the column(s) {', '.join(missing)}: expected a header line "
            f"{','.join(REQUIRED_COLUMNS)} (and optionally split), found {','.join(found) or 'nothing'}{hint}."
        )


def _check_one_split_per_subject(rows: list[_Row], csv_path: Path) -> None:
    """Raise if a subject has images in two splits (data leakage between training and test)."""
    splits_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.split:
            splits_of[row.subject].add(row.split)
    leaks = [f"{subject} ({', '.join(sorted(splits))})" for subject, splits in splits_of.items() if len(splits) > 1]
    if leaks:
        raise ValueError(
            f"{csv_path.name}: subject(s) in more than one split: {'; '.join(leaks)}. All images of a "
            "subject must be in the same split, otherwise the model is tested on people it saw in "
            "training (data leakage) and the test accuracy looks better than it is."
        )


def _check_row(row: _Row) -> int:
    """The label (0 = MCI, 1 = AD) of a row, after checking its cells."""
    for column in ("subject", "image"):
        if not getattr(row, column):
            raise ValueError(f"{row.where}: the {column} cell is empty; expected a value.")
    if row.split is not None and row.split not in SPLITS:
        raise ValueError(f"{row.where} (subject {row.subject}): split {row.split!r} is not one of {', '.join(SPLITS)}.")
    label = LABELS.get(row.diagnosis.upper())
    if label is None:
        raise ValueError(
            f"{row.where} (subject {row.subject}): diagnosis {row.diagnosis!r} is not MCI or AD. "
            "This loader compares MCI (label 0) with AD (label 1): remove other groups (e.g. CN) "
            "from the CSV, or pass on_error='skip'."
        )
    return label


def _read_nifti(path: Path) -> nib.Nifti1Image:
    """One 3D image with finite voxels, or an error saying why the file cannot be used."""
    if not path.is_file():
        raise FileNotFoundError(
            f"image file not found: {path}. Check the image column of the CSV; relative paths "
            "are read from the cohort folder (the CSV's folder unless you pass folder=)."
        )
    if not path.name.lower().endswith(NIFTI_SUFFIXES):
        raise ValueError(
            f"{path} is not a NIfTI file: expected a name ending in .nii or .nii.gz "
            "(convert DICOM series with a tool such as dcm2niix)."
        )
    try:
        image = load_image(path)
        data = image.get_fdata(dtype=np.float32)
    except NIFTI_READ_ERRORS as err:
        raise ValueError(
            f"could not read {path} as a NIfTI image ({err}). Is the file complete (not cut off "
            "during a download or copy) and really a NIfTI file?"
        ) from err
    data = _as_3d(data, path)
    check_finite(data, str(path), "Fix the step that produced this file, or replace them, e.g. with numpy.nan_to_num.")
    return nib.Nifti1Image(data, image.affine)


def _as_3d(data: np.ndarray, path: Path) -> np.ndarray:
    """Drop trailing axes of length 1 beyond the third; anything but 3D is an error."""
    shape = data.shape
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        extra = (
            " It holds several volumes (e.g. a time series): save the one you want as its own 3D file."
            if data.ndim > 3
            else ""
        )
        raise ValueError(f"{path} has shape {shape} ({len(shape)}D); expected one 3D brain image (X, Y, Z).{extra}")
    return data


def _resampled_volume(path: Path, spacing: float | Sequence[float]) -> np.ndarray:
    """The image resampled to ``spacing`` mm voxels on the world axes (x: R, y: A, z: S)."""
    image = resample_to_output(_read_nifti(path), voxel_sizes=spacing, order=INTERPOLATION_ORDER)
    return np.asarray(image.dataobj, dtype=np.float32)


def _check_same_shape(
    volume: np.ndarray, path: Path, first: tuple[Path, tuple[int, ...]], spacing: float | Sequence[float]
) -> None:
    first_path, first_shape = first
    if volume.shape != first_shape:
        raise ValueError(
            f"{path} has shape {volume.shape} after resampling to {spacing} mm, but the first image, "
            f"{first_path}, has shape {first_shape}. All images must have one shape: pass "
            f"shape=(X, Y, Z) to centre-crop or pad every image, e.g. shape={first_shape}."
        )


def _fitted_and_scaled(volume: np.ndarray, shape: tuple[int, ...], coronal_slice: int | None, path: Path) -> np.ndarray:
    """Crop/pad to ``shape``, cut the coronal slice, then scale by the percentiles of what is left.

    Padding is left out of the percentiles, so how much an image is padded does not change it.
    """
    image = _coronal(crop_or_pad(volume, shape), coronal_slice)
    real = _coronal(crop_or_pad(np.ones(volume.shape, dtype=bool), shape, fill=False), coronal_slice)
    if not real.any():
        raise ValueError(
            f"{path}: coronal_slice={coronal_slice} falls in the padding that shape={shape} adds to this "
            f"image ({volume.shape} after resampling); choose a slice nearer the middle."
        )
    try:
        return scale_percentiles(image, mask=real)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def _coronal(volume: np.ndarray, index: int | None) -> np.ndarray:
    """The coronal slice ``index`` (second axis) of a 3D volume, or the volume when ``index`` is None.

    The slice is laid out like the lesson's simulated slices: rows from the top of the head down,
    columns from the patient's left to right.
    """
    if index is None:
        return volume
    if not 0 <= index < volume.shape[1]:
        raise IndexError(
            f"coronal_slice={index} is outside the images, whose second (posterior-anterior) axis "
            f"has {volume.shape[1]} slices (0 to {volume.shape[1] - 1}) after preprocessing."
        )
    return np.ascontiguousarray(volume[:, index, ::-1].T)


def _assemble(
    kept: list[tuple[_Row, Path, int, np.ndarray]],
    problems: list[tuple[Path | str, str]],
    rows: list[_Row],
    csv_path: Path,
) -> NiftiCohort:
    if not kept:
        listed = "; ".join(f"{where}: {message}" for where, message in problems[:3])
        raise ValueError(f"none of the {len(rows)} rows of {csv_path} could be loaded. First problems: {listed}")
    if problems:
        warnings.warn(
            f"skipped {len(problems)} of {len(rows)} rows of {csv_path.name}; see cohort.problems for why.",
            stacklevel=3,
        )
    return NiftiCohort(
        images=np.stack([image for *_, image in kept])[:, None],
        labels=np.array([label for _, _, label, _ in kept], dtype=np.int64),
        subjects=[row.subject for row, *_ in kept],
        splits=[row.split or "" for row, *_ in kept] if rows[0].split is not None else None,
        files=[path for _, path, *_ in kept],
        problems=problems,
    )
