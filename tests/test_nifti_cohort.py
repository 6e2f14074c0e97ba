"""Loading a real NIfTI cohort (lesson 2): preprocessing, and clear errors for every bad input."""

import os
import pickle
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medai_edu.data.nifti_cohort import load_nifti_cohort

SHAPE, ZOOM = (12, 14, 10), 1.5  # every written image, unless a test says otherwise
# resample_to_output covers the centres of the corner voxels: ceil((n - 1) * 1.5 / 2) + 1 voxels
GRID_2MM = (10, 11, 8)
HEADER = "subject,image,diagnosis,split"
GOOD_ROWS = [  # diagnoses and splits in mixed case and with spaces, as spreadsheets write them
    "S1,images/s1.nii.gz,MCI,train",
    "S2,images/s2.nii.gz, ad ,train",
    "S3,images/s3.nii,mci,Val",
    "S4,images/s4.nii.gz,AD,test",
]


def write_image(path: Path, data=None, zooms=(ZOOM,) * 3, seed=0) -> Path:
    """A small NIfTI file of random positive intensities (or ``data``) with the given voxel size."""
    if data is None:
        data = np.random.default_rng(seed).uniform(10, 100, SHAPE).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.diag([*zooms, 1.0])), path)
    return path


def write_cohort(folder: Path, rows: list[str], header: str = HEADER, images: bool = True) -> Path:
    """A CSV in ``folder`` listing ``rows``; with ``images``, a good image for each GOOD_ROWS row."""
    if images:
        for index, row in enumerate(GOOD_ROWS):
            write_image(folder / row.split(",")[1], seed=index)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "cohort.csv"
    csv_path.write_text("\n".join([header, *rows]) + "\n")
    return csv_path


# Each bad case: (CSV row, what to write for it, error type, message pattern, problem key).
# The bad row comes after the four good ones, at line 6 of cohort.csv.
def _garbage(path):
    path.write_bytes(os.urandom(400))


def _pickle_bomb(path):
    """A pickle that would create a folder if anything unpickled it."""
    path.write_bytes(pickle.dumps(_MakeDirOnUnpickle(path.parent / "UNPICKLED")))


class _MakeDirOnUnpickle:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return os.mkdir, (self.target,)


BAD_CASES = {
    "missing file": (
        "S5,images/absent.nii.gz,AD,test",
        None,
        FileNotFoundError,
        r"not found: .*absent\.nii\.gz",
        "file",
    ),
    "garbage bytes": (
        "S5,images/garbage.nii.gz,AD,test",
        _garbage,
        ValueError,
        r"could not read .*garbage\.nii\.gz",
        "file",
    ),
    "pickle named .nii.gz": (
        "S5,images/bomb.nii.gz,AD,test",
        _pickle_bomb,
        ValueError,
        r"could not read .*bomb\.nii\.gz",
        "file",
    ),
    "pickle file": ("S5,images/bomb.pkl,AD,test", _pickle_bomb, ValueError, r"bomb\.pkl is not a NIfTI file", "file"),
    "4D image": (
        "S5,images/series.nii.gz,AD,test",
        lambda p: write_image(p, np.ones(SHAPE + (3,), np.float32)),
        ValueError,
        r"series\.nii\.gz has shape \(12, 14, 10, 3\) \(4D\); expected one 3D",
        "file",
    ),
    "NaN voxels": (
        "S5,images/holes.nii.gz,AD,test",
        lambda p: write_image(p, np.full(SHAPE, np.nan, np.float32)),
        ValueError,
        r"1680 of the \d+ values of .*holes\.nii\.gz are NaN or infinite",
        "file",
    ),
    "constant image": (
        "S5,images/flat.nii.gz,AD,test",
        lambda p: write_image(p, np.zeros(SHAPE, np.float32)),
        ValueError,
        r"flat\.nii\.gz: the image is \(nearly\) constant",
        "file",
    ),
    "other shape": (
        "S5,images/big.nii.gz,AD,test",
        lambda p: write_image(p, np.ones((16, 14, 10), np.float32)),
        ValueError,
        r"big\.nii\.gz has shape \(13, 11, 8\) .* first image, .*s1\.nii\.gz, has shape \(10, 11, 8\).*shape=",
        "file",
    ),
    "diagnosis CN": (
        "S5,images/s5.nii.gz, CN ,test",
        None,
        ValueError,
        r"line 6 of cohort\.csv \(subject S5\): diagnosis 'CN' is not MCI or AD",
        "row",
    ),
    "unknown split": (
        "S5,images/s5.nii.gz,AD,training",
        None,
        ValueError,
        r"line 6 of cohort\.csv .*split 'training'",
        "row",
    ),
    "empty image cell": ("S5,,AD,test", None, ValueError, r"line 6 of cohort\.csv: the image cell is empty", "row"),
}


@pytest.fixture(params=list(BAD_CASES), ids=list(BAD_CASES))
def bad_cohort(request, tmp_path):
    """(CSV path, error type, message pattern, problem key) of a good cohort plus one bad row."""
    row, write, error, pattern, key_kind = BAD_CASES[request.param]
    image = tmp_path / row.split(",")[1]
    if write is not None:
        image.parent.mkdir(parents=True, exist_ok=True)
        write(image)
    key = image.absolute() if key_kind == "file" else "line 6 of cohort.csv"
    return write_cohort(tmp_path, GOOD_ROWS + [row]), error, pattern, key


def test_good_cohort_gives_images_labels_subjects_and_splits(tmp_path):
    cohort = load_nifti_cohort(write_cohort(tmp_path, GOOD_ROWS))
    assert len(cohort) == 4 and cohort.images.shape == (4, 1, *GRID_2MM)
    assert cohort.images.dtype == np.float32 and cohort.labels.dtype == np.int64
    assert cohort.labels.tolist() == [0, 1, 0, 1]
    assert cohort.subjects == ["S1", "S2", "S3", "S4"]
    assert cohort.splits == ["train", "train", "val", "test"]
    assert cohort.files == [(tmp_path / row.split(",")[1]).absolute() for row in GOOD_ROWS]
    assert cohort.problems == []


def test_percentile_scaling_maps_5th_and_95th_percentiles_to_minus_one_and_one(tmp_path):
    cohort = load_nifti_cohort(write_cohort(tmp_path, GOOD_ROWS))
    for image in cohort.images:
        assert np.percentile(image, [5, 95]) == pytest.approx([-1.0, 1.0], abs=1e-4)


def test_resampling_changes_the_grid_to_isotropic_voxels(tmp_path):
    write_image(tmp_path / "thick.nii.gz", zooms=(1.5, 1.5, 3.0))
    csv_path = write_cohort(
        tmp_path, ["S1,images/s1.nii.gz,MCI", "S9,thick.nii.gz,AD"], header="subject,image,diagnosis"
    )
    assert load_nifti_cohort(csv_path, spacing=1.5, shape=SHAPE).images.shape == (2, 1, *SHAPE)
    with pytest.warns(UserWarning, match="skipped 1 of 2"):  # thick: z spans 27 mm -> 10 slices of 3 mm
        cohort = load_nifti_cohort(csv_path, spacing=3.0, on_error="skip")
    assert cohort.images.shape == (1, 1, 7, 8, 6) and cohort.splits is None
    assert "has shape (7, 8, 10)" in cohort.problems[0][1]


def test_resampling_puts_the_first_axis_left_to_right(tmp_path):
    """A file stored right-to-left (negative x in its affine) comes out left-to-right (RAS+)."""
    data = np.tile(np.arange(SHAPE[0], dtype=np.float32)[:, None, None], (1,) + SHAPE[1:])
    write_image(tmp_path / "ras.nii.gz", data)
    path = tmp_path / "las.nii.gz"
    nib.save(nib.Nifti1Image(data[::-1].copy(), np.diag([-ZOOM, ZOOM, ZOOM, 1.0])), path)
    csv_path = write_cohort(
        tmp_path, ["A,ras.nii.gz,AD", "B,las.nii.gz,AD"], header="subject,image,diagnosis", images=False
    )
    ras, las = load_nifti_cohort(csv_path, spacing=ZOOM).images
    np.testing.assert_allclose(las, ras, atol=1e-5)


def test_shape_crops_and_pads_and_padding_leaves_the_scaling_alone(tmp_path):
    csv_path = write_cohort(tmp_path, GOOD_ROWS)
    assert load_nifti_cohort(csv_path, shape=(8, 16, 8)).images.shape == (4, 1, 8, 16, 8)
    plain = load_nifti_cohort(csv_path).images
    padded = load_nifti_cohort(csv_path, shape=(20, 11, 16)).images
    np.testing.assert_array_equal(padded[:, :, 5:15, :, 4:12], plain)
    assert (padded[:, :, :5] == plain.min(axis=(2, 3, 4), keepdims=True)).all()  # padded with the minimum


def test_coronal_slice_gives_2d_images_each_scaled_on_its_own(tmp_path):
    csv_path = write_cohort(tmp_path, GOOD_ROWS)
    volumes = load_nifti_cohort(csv_path).images
    slices = load_nifti_cohort(csv_path, coronal_slice=5).images
    assert slices.shape == (4, 1, GRID_2MM[2], GRID_2MM[0])  # rows: top of the head first; columns: left to right
    for cut, volume in zip(slices, volumes):
        assert np.percentile(cut, [5, 95]) == pytest.approx([-1.0, 1.0], abs=1e-4)
        upright = volume[0, :, 5, ::-1].T
        assert np.corrcoef(cut[0].ravel(), upright.ravel())[0, 1] == pytest.approx(1.0)
    with pytest.raises(IndexError, match=r"coronal_slice=11 .* has 11 slices \(0 to 10\)"):
        load_nifti_cohort(csv_path, coronal_slice=11, on_error="skip")
    with pytest.raises(ValueError, match=r"s1\.nii\.gz: coronal_slice=0 falls in the padding"):
        load_nifti_cohort(csv_path, shape=(10, 15, 8), coronal_slice=0)


def test_4d_image_with_one_volume_is_squeezed(tmp_path):
    write_image(tmp_path / "one.nii.gz", np.ones(SHAPE + (1,), np.float32) * np.arange(SHAPE[2])[:, None])
    cohort = load_nifti_cohort(write_cohort(tmp_path, GOOD_ROWS + ["S5,one.nii.gz,AD,test"]))
    assert cohort.images.shape == (5, 1, *GRID_2MM)


def test_several_images_of_one_subject_in_one_split_are_fine(tmp_path):
    rows = GOOD_ROWS + ["S1,images/s2.nii.gz,MCI,train"]  # e.g. a follow-up scan of S1
    assert load_nifti_cohort(write_cohort(tmp_path, rows)).subjects == ["S1", "S2", "S3", "S4", "S1"]


def test_folder_argument_is_the_base_of_the_image_paths(tmp_path):
    write_cohort(tmp_path / "data", GOOD_ROWS)
    csv_path = write_cohort(tmp_path / "tables", GOOD_ROWS, images=False)
    assert len(load_nifti_cohort(csv_path, folder=tmp_path / "data")) == 4
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "tables" / "images" / "s1.nii.gz"))):
        load_nifti_cohort(csv_path)


def test_bad_case_raises_an_error_naming_it(bad_cohort):
    csv_path, error, pattern, _ = bad_cohort
    with pytest.raises(error, match=pattern):
        load_nifti_cohort(csv_path)
    assert not (csv_path.parent / "images" / "UNPICKLED").exists()


def test_skip_reports_the_bad_case_and_keeps_the_good_ones(bad_cohort):
    csv_path, _, pattern, key = bad_cohort
    with pytest.warns(UserWarning, match=r"skipped 1 of 5 rows of cohort\.csv"):
        cohort = load_nifti_cohort(csv_path, on_error="skip")
    assert cohort.subjects == ["S1", "S2", "S3", "S4"] and cohort.images.shape == (4, 1, *GRID_2MM)
    [(where, message)] = cohort.problems
    assert where == key and re.search(pattern, message)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_subject_in_two_splits_raises_even_when_skipping(tmp_path, on_error):
    csv_path = write_cohort(tmp_path, GOOD_ROWS + ["S2,images/s1.nii.gz,AD,test"])
    with pytest.raises(ValueError, match=r"cohort\.csv: subject\(s\) in more than one split: S2 \(test, train\)"):
        load_nifti_cohort(csv_path, on_error=on_error)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_missing_column_raises_even_when_skipping(tmp_path, on_error):
    csv_path = write_cohort(tmp_path, ["S1,images/s1.nii.gz"], header="subject,image")
    with pytest.raises(ValueError, match=r"cohort\.csv lacks the column\(s\) diagnosis: .* found subject,image"):
        load_nifti_cohort(csv_path, on_error=on_error)


def test_missing_or_empty_csv_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cohort CSV file not found: .*nowhere\.csv"):
        load_nifti_cohort(tmp_path / "nowhere.csv")
    with pytest.raises(ValueError, match=r"cohort\.csv has a header line but no rows"):
        load_nifti_cohort(write_cohort(tmp_path, [], images=False))


def test_nothing_loadable_raises_even_when_skipping(tmp_path):
    csv_path = write_cohort(tmp_path, ["S1,a.nii.gz,MCI,train", "S2,b.nii.gz,CN,test"], images=False)
    with pytest.raises(
        ValueError, match=r"none of the 2 rows of .*cohort\.csv could be loaded. First problems: .*a\.nii\.gz"
    ):
        load_nifti_cohort(csv_path, on_error="skip")


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"on_error": "ignore"}, "on_error must be 'raise' or 'skip'"),
        ({"spacing": 0}, "spacing must be"),
        ({"shape": (10, 10)}, "shape must be three"),
    ],
)
def test_bad_arguments_are_explained(tmp_path, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        load_nifti_cohort(tmp_path / "cohort.csv", **kwargs)
