"""Load real multi-rater segmentations for lesson 3 (e.g. the QUBIQ challenge data).

The accepted layout is the one of the QUBIQ challenge: one folder per case, holding one image
and one mask per rater::

    my_data/
        case01/
            image.nii.gz           the image (also image.nii or image.png)
            task01_seg01.nii.gz    rater 1's mask
            task01_seg02.nii.gz    rater 2's mask
            ...
        case02/
            ...

* Files are NIfTI (``.nii``, ``.nii.gz``, read with nibabel) or PNG (``.png``, read with Pillow),
  mixed as you like. No other file is opened and nothing is ever unpickled; other files in a
  case folder are ignored, as are folders whose names start with ".".
* Images and masks are 2D; axes of length 1 are dropped (a NIfTI slice 128 x 128 x 1 is fine).
  A colour PNG image becomes grey (mean of red, green, blue); a PNG mask must be grey-level.
* Masks hold whole-number labels from ``classes`` (default 0 background, 1 lesion core,
  2 oedema rim). QUBIQ's tasks are binary (0/1); a case with several tasks (task01, task02, ...)
  gives one task per call, chosen with ``task=``.
* Raters are ordered by the number after ``seg``. Arrays are kept in the files' own axis order
  (no reorientation), so image and masks always match pixel for pixel.
* Each image is scaled so that its 5th/95th intensity percentiles become -1/+1, as for the
  simulated data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medai_edu.data.nifti_cohort import NIFTI_READ_ERRORS, load_image
from medai_edu.data.preprocess import crop_or_pad, scale_percentiles
from medai_edu.validation import Interval, check_scalar

__all__ = [
    "IMAGE_NAMES",
    "LAYOUT_HINT",
    "load_multirater_folder",
]

IMAGE_NAMES = ("image.nii.gz", "image.nii", "image.png")
LAYOUT_HINT = (
    "Expected one folder per case holding image.nii.gz (or image.nii / image.png) and one mask per "
    "rater named task01_seg01.nii.gz, task01_seg02.nii.gz, ... (the QUBIQ layout)"
)


def load_multirater_folder(
    root: str | Path,
    n_raters: int | None = None,
    min_raters: int = 2,
    classes: Sequence[int] = (0, 1, 2),
    task: str = "task01",
    shape: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read every case folder under ``root``: ``(images, masks, case_names)``.

    ``images`` is float32 [N, 1, H, W] (percentile-scaled), ``masks`` int64 [N, raters, H, W].
    ``n_raters`` keeps the first ``n_raters`` masks of each case (``None``: all cases must have
    the same number); a case with fewer than ``min_raters`` masks is an error. ``shape``
    centre-crops or pads every case to (H, W) (``None``: all images must already agree).
    """
    _check_arguments(n_raters, min_raters, shape)
    folders = _case_folders(Path(root).expanduser())
    needed = max(min_raters, n_raters or 0)
    cases = [_read_case(folder, task, needed, n_raters, {int(c) for c in classes}) for folder in folders]
    if n_raters is None:
        _check_common_rater_count(cases)
    first = cases[0]
    images, masks = [], []
    for image_path, image, rater_masks in cases:
        if shape is None:
            _check_same_shape(image, image_path, first)
        size = tuple(shape) if shape is not None else image.shape
        images.append(crop_or_pad(image, size))
        masks.append(np.stack([crop_or_pad(mask, size, fill=0) for mask in rater_masks]))
    return np.stack(images)[:, None], np.stack(masks), [folder.name for folder in folders]


def _check_arguments(n_raters: int | None, min_raters: int, shape: tuple[int, int] | None) -> None:
    check_scalar(min_raters, "min_raters", Interval(1, integer=True))
    check_scalar(n_raters, "n_raters", Interval(min_raters, integer=True), note="at least min_raters", allow_none=True)
    if shape is not None and (len(shape) != 2 or any(int(n) < 1 for n in shape)):
        raise ValueError(f"shape must be None or two positive pixel counts (H, W), e.g. (128, 128); got {shape!r}.")


def _case_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root.absolute()}. {LAYOUT_HINT}.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        found = ", ".join(sorted(p.name for p in root.iterdir())[:5]) or "nothing"
        raise FileNotFoundError(f"no case folders in {root.absolute()} (found {found}). {LAYOUT_HINT}.")
    return folders


def _read_case(
    folder: Path, task: str, needed: int, keep: int | None, classes: set[int]
) -> tuple[Path, np.ndarray, list[np.ndarray]]:
    """(image file, scaled image, its first ``keep`` masks) of one case folder, masks checked against the image."""
    image_path = _image_file(folder)
    mask_paths = _mask_files(folder, task)
    if len(mask_paths) < needed:
        found = ", ".join(p.name for p in mask_paths) or "none"
        raise ValueError(
            f"{folder}: found {len(mask_paths)} rater mask(s) ({found}) but {needed} are needed to compare "
            f"raters. Expected {task}_seg01, {task}_seg02, ... (.nii.gz, .nii or .png) next to "
            f"{image_path.name}; remove this case, or lower min_raters (or n_raters)."
        )
    image = _read_2d(image_path, "image")
    try:
        scaled = scale_percentiles(image)
    except ValueError as err:
        raise ValueError(f"{image_path}: {err}") from err
    return image_path, scaled, [_read_mask(path, image_path, image.shape, classes) for path in mask_paths[:keep]]


def _image_file(folder: Path) -> Path:
    found = [folder / name for name in IMAGE_NAMES if (folder / name).is_file()]
    if len(found) > 1:
        raise ValueError(
            f"{folder}: expected one image file, found {len(found)} ({', '.join(p.name for p in found)}); keep one."
        )
    if not found:
        present = ", ".join(sorted(p.name for p in folder.iterdir())[:6]) or "an empty folder"
        raise FileNotFoundError(f"{folder}: no image file; expected one of {', '.join(IMAGE_NAMES)}, found {present}.")
    return found[0]


def _mask_files(folder: Path, task: str) -> list[Path]:
    """The rater masks of ``task`` in ``folder``, ordered by rater number."""
    pattern = re.compile(rf"{re.escape(task)}_seg(\d+)\.(nii\.gz|nii|png)", re.IGNORECASE)
    matches = [(pattern.fullmatch(p.name), p) for p in folder.iterdir() if p.is_file()]
    return [p for _, p in sorted((int(m.group(1)), p) for m, p in matches if m)]


def _read_2d(path: Path, what: str) -> np.ndarray:
    """A 2D array from a NIfTI or PNG file, or an error naming the file."""
    is_png = path.name.lower().endswith(".png")
    try:
        data = _read_png(path) if is_png else np.asarray(load_image(path).dataobj)
    except NIFTI_READ_ERRORS as err:
        kind = "PNG" if is_png else "NIfTI"
        raise ValueError(
            f"could not read {path} as a {kind} {what} ({err}). Is the file complete (not cut off during a "
            f"download or copy) and really a {kind} file?"
        ) from err
    if is_png and data.ndim == 3:
        data = _grey(data, path, what)
    squeezed = np.squeeze(data)
    if squeezed.ndim != 2:
        raise ValueError(
            f"{path} has shape {data.shape}; expected one 2D {what} (height x width). If it holds a volume "
            "or several channels (e.g. MRI sequences), save the slice or channel you want as its own file."
        )
    return squeezed


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path, formats=["PNG"]) as picture:
        return np.asarray(picture)


def _grey(data: np.ndarray, path: Path, what: str) -> np.ndarray:
    """A PNG's pixels [H, W, channels] as one grey channel (colour images averaged; colour masks refused)."""
    colour = data[..., : 3 if data.shape[-1] >= 3 else 1]  # drop the alpha channel
    if what == "image":
        return colour.astype(np.float32).mean(axis=-1)
    if not (colour == colour[..., :1]).all():
        raise ValueError(f"{path} is a colour PNG; expected a grey-level mask whose pixel values are the labels.")
    return colour[..., 0]


def _read_mask(path: Path, image_path: Path, shape: tuple[int, ...], classes: set[int]) -> np.ndarray:
    """One rater's labels (int64), checked against the image's shape and the expected classes."""
    mask = _read_2d(path, "mask")
    if mask.shape != shape:
        raise ValueError(
            f"{path} has shape {mask.shape} but its image {image_path.name} has shape {shape}: every "
            "rater's mask must cover the image pixel for pixel."
        )
    found = np.unique(mask)
    bad = [v for v in found if not (np.isfinite(v) and float(v).is_integer() and int(v) in classes)]
    if bad:
        raise ValueError(
            f"{path} holds label(s) {_listed(bad)} outside the expected classes {sorted(classes)}; "
            f"found {_listed(found)}.{_label_hint(found)}"
        )
    return mask.astype(np.int64)


def _listed(values: Sequence[float] | np.ndarray) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:8])
    return shown + (f" ... ({len(values)} values)" if len(values) > 8 else "")


def _label_hint(found: np.ndarray) -> str:
    if set(found.tolist()) <= {0, 255}:
        return " It looks like a black-and-white mask saved as 0/255: save it with labels 0/1."
    if not all(float(v).is_integer() for v in found if np.isfinite(v)):
        return (
            " Labels must be whole numbers; fractions come from averaging or from resampling a mask "
            "with interpolation (use nearest-neighbour)."
        )
    return " Pass classes=... if your masks use other labels."


def _check_common_rater_count(cases: list[tuple[Path, np.ndarray, list[np.ndarray]]]) -> None:
    counts = {len(masks) for _, _, masks in cases}
    if len(counts) > 1:
        listed = ", ".join(f"{path.parent.name}: {len(masks)}" for path, _, masks in cases[:6])
        raise ValueError(
            f"the cases have different numbers of rater masks ({listed}, ...); pass n_raters={min(counts)} "
            "to keep the first raters of every case."
        )


def _check_same_shape(image: np.ndarray, path: Path, first: tuple[Path, np.ndarray, list[np.ndarray]]) -> None:
    first_path, first_image, _ = first
    if image.shape != first_image.shape:
        raise ValueError(
            f"{path} has shape {image.shape} but the first case's image, {first_path}, has shape "
            f"{first_image.shape}. All cases must have one shape: pass shape=(H, W) to centre-crop "
            f"or pad every case, e.g. shape={first_image.shape}."
        )
