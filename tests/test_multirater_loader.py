"""Loading real multi-rater folders (QUBIQ layout): NIfTI and PNG, and clear errors for bad input."""

import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from medai_edu.data.multirater_loader import load_multirater_folder


def write(path: Path, array: np.ndarray) -> Path:
    """Save ``array`` as NIfTI or PNG (8-bit), by the file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(path)
    else:
        nib.save(nib.Nifti1Image(array, np.eye(4)), path)
    return path


def image(seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).normal(100, 20, (size, size)).astype(np.float32)


def rater_mask(seed: int, size: int = 32) -> np.ndarray:
    """Labels 0/1/2: a core square inside a rim square, shifted by the rater."""
    mask = np.zeros((size, size), np.uint8)
    mask[8 + seed : 24 + seed, 8:24] = 2
    mask[12 + seed : 20 + seed, 12:20] = 1
    return mask


def make_folder(root: Path, n_cases: int = 3, n_raters: int = 3, suffix: str = ".nii.gz") -> Path:
    for case in range(1, n_cases + 1):
        write(root / f"case{case:02d}" / f"image{suffix}", image(case))
        for rater in range(1, n_raters + 1):
            write(root / f"case{case:02d}" / f"task01_seg{rater:02d}{suffix}", rater_mask(rater))
    return root


def named(path: Path) -> str:
    return re.escape(str(path))


def test_a_nifti_folder_loads_in_rater_order(tmp_path):
    root = make_folder(tmp_path / "data")
    write(root / "case01" / "task01_seg10.nii.gz", rater_mask(4))  # rater 10 comes after rater 2
    for case in ("case02", "case03"):
        write(root / case / "task01_seg10.nii.gz", rater_mask(4))
    (root / "case01" / "notes.pkl").write_bytes(b"\x80\x04 not a pickle: never opened")
    (root / "README.txt").write_text("a file beside the cases is ignored")
    images, masks, names = load_multirater_folder(root)
    assert names == ["case01", "case02", "case03"]
    assert images.shape == (3, 1, 32, 32) and images.dtype == np.float32
    assert masks.shape == (3, 4, 32, 32) and masks.dtype == np.int64
    np.testing.assert_array_equal(masks[0, 3], rater_mask(4))
    np.testing.assert_allclose(np.percentile(images[1], [5, 95]), [-1, 1], atol=1e-5)
    assert load_multirater_folder(root, n_raters=2)[1].shape == (3, 2, 32, 32)


def test_a_png_folder_loads_with_colour_images_and_mixed_formats(tmp_path):
    root = make_folder(tmp_path / "data", n_cases=2, suffix=".png")
    write(root / "case01" / "image.png", np.stack([image(1)] * 3, axis=-1))  # RGB
    (root / "case02" / "task01_seg03.png").unlink()
    write(root / "case02" / "task01_seg03.nii.gz", rater_mask(3)[..., None])  # a 32 x 32 x 1 NIfTI slice
    images, masks, _ = load_multirater_folder(root)
    assert images.shape == (2, 1, 32, 32) and masks.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(masks[1, 2], rater_mask(3))
    colour = write(
        root / "case02" / "task01_seg01.png", np.stack([rater_mask(1), rater_mask(2), rater_mask(1)], axis=-1)
    )
    with pytest.raises(ValueError, match=named(colour) + " is a colour PNG; expected a grey-level mask"):
        load_multirater_folder(root)


def test_different_sizes_need_a_shape(tmp_path):
    root = make_folder(tmp_path / "data", n_cases=2)
    write(root / "case02" / "image.nii.gz", image(2, size=40))
    for rater in (1, 2, 3):
        write(root / "case02" / f"task01_seg0{rater}.nii.gz", rater_mask(rater, size=40))
    with pytest.raises(
        ValueError, match=named(root / "case02" / "image.nii.gz") + r" has shape \(40, 40\).*shape=\(32, 32\)"
    ):
        load_multirater_folder(root)
    images, masks, _ = load_multirater_folder(root, shape=(36, 36))
    assert images.shape == (2, 1, 36, 36) and masks.shape == (2, 3, 36, 36)


def test_a_mask_of_another_shape_is_named(tmp_path):
    root = make_folder(tmp_path / "data")
    bad = write(root / "case02" / "task01_seg02.nii.gz", rater_mask(2, size=16))
    with pytest.raises(
        ValueError, match=named(bad) + r" has shape \(16, 16\) but its image image.nii.gz has shape \(32, 32\)"
    ):
        load_multirater_folder(root)


@pytest.mark.parametrize(
    "labels, hint",
    [
        ((0, 3), "label\\(s\\) 3 outside the expected classes \\[0, 1, 2\\]"),
        ((0, 255), "0/255"),
        ((0, 0.5), "whole numbers"),
    ],
)
def test_labels_outside_the_classes_are_named(tmp_path, labels, hint):
    root = make_folder(tmp_path / "data")
    mask = np.where(rater_mask(1) > 0, labels[1], labels[0])
    bad = write(root / "case03" / "task01_seg01.nii.gz", mask.astype(np.float32))
    with pytest.raises(ValueError, match=named(bad) + ".*" + hint):
        load_multirater_folder(root)
    if labels == (0, 3):
        assert load_multirater_folder(root, classes=(0, 1, 2, 3))[1].max() == 3


def test_a_case_with_one_rater_is_refused(tmp_path):
    root = make_folder(tmp_path / "data", n_raters=1)
    with pytest.raises(
        ValueError, match=named(root / "case01") + r": found 1 rater mask\(s\) \(task01_seg01.nii.gz\) but 2 are needed"
    ):
        load_multirater_folder(root)
    assert load_multirater_folder(root, min_raters=1)[1].shape == (3, 1, 32, 32)


def test_cases_with_different_rater_counts_need_n_raters(tmp_path):
    root = make_folder(tmp_path / "data")
    (root / "case02" / "task01_seg03.nii.gz").unlink()
    with pytest.raises(ValueError, match=r"different numbers of rater masks \(case01: 3, case02: 2.*n_raters=2"):
        load_multirater_folder(root)
    with pytest.raises(ValueError, match=named(root / "case02") + ": found 2 .* but 3 are needed"):
        load_multirater_folder(root, n_raters=3)


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("task01_seg02.nii.gz", b"this is not an image", "NIfTI mask"),
        ("image.png", None, "PNG image"),
    ],
)
def test_unreadable_files_are_named(tmp_path, name, content, kind):
    root = make_folder(tmp_path / "data", suffix=".png" if name.endswith(".png") else ".nii.gz")
    bad = root / "case02" / name
    bad.write_bytes(content if content is not None else bad.read_bytes()[:60])  # cut-off PNG
    with pytest.raises(ValueError, match="could not read " + named(bad) + f" as a {kind}"):
        load_multirater_folder(root)


def test_images_that_are_not_one_2d_slice_are_named(tmp_path):
    root = make_folder(tmp_path / "data")
    volume = write(root / "case01" / "image.nii.gz", np.zeros((32, 32, 4), np.float32))
    with pytest.raises(ValueError, match=named(volume) + r" has shape \(32, 32, 4\); expected one 2D image"):
        load_multirater_folder(root)
    flat = write(root / "case01" / "image.nii.gz", np.ones((32, 32), np.float32))
    with pytest.raises(ValueError, match=named(flat) + ": the image is \\(nearly\\) constant"):
        load_multirater_folder(root)


def test_empty_or_missing_folders_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found: " + named(tmp_path / "nowhere")):
        load_multirater_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        FileNotFoundError, match="no case folders in " + named(tmp_path / "empty") + r" \(found nothing\).*QUBIQ"
    ):
        load_multirater_folder(tmp_path / "empty")
    (tmp_path / "empty" / "case01").mkdir()
    case = tmp_path / "empty" / "case01"
    with pytest.raises(
        FileNotFoundError, match=named(case) + ": no image file; expected one of image.nii.gz.*found an empty folder"
    ):
        load_multirater_folder(tmp_path / "empty")
    write(case / "image.nii.gz", image(1))
    write(case / "image.png", image(1))
    with pytest.raises(
        ValueError, match=named(case) + r": expected one image file, found 2 \(image.nii.gz, image.png\)"
    ):
        load_multirater_folder(tmp_path / "empty")


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match="min_raters must be"):
        load_multirater_folder(tmp_path, min_raters=0)
    with pytest.raises(ValueError, match="n_raters must be None or a whole number of 2 or more"):
        load_multirater_folder(tmp_path, n_raters=1, min_raters=2)
