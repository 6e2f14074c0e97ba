"""The simulated Alzheimer's cohort: real template, known effects, determinism, checksummed cache."""

import dataclasses
import json

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from medai_edu.data import brain, cache, get_dataset
from medai_edu.data.brain_reference import GRIDS, load_reference

TINY = dataclasses.replace(brain.LECTURE, n_train=6, n_val=2, n_test=4)


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path))
    brain.load_cohort.cache_clear()
    yield tmp_path
    brain.load_cohort.cache_clear()


def test_reference_is_a_coronal_slice_with_both_hippocampi_and_ventricles():
    ref = load_reference(2)
    assert ref.template.shape == (80, 80) and 0 <= ref.template.min() and ref.template.max() <= 1.5
    width = ref.template.shape[1]
    left, right = ref.labels["hippocampus_left"] > 0.5, ref.labels["hippocampus_right"] > 0.5
    assert left[:, : width // 2].sum() > 20 and not left[:, width // 2 :].any()  # patient's left on the left
    assert right[:, width // 2 :].sum() > 20
    assert (ref.ventricles > 0.5).sum() > 20
    rows_h, rows_v = np.nonzero(ref.hippocampus > 0.5)[0], np.nonzero(ref.ventricles > 0.5)[0]
    assert rows_v.mean() < rows_h.mean()  # ventricles above the hippocampi: the slice is upright


def test_a_subject_is_deterministic_and_its_effect_sits_on_the_labels():
    a, b = brain.simulate(3, 0.8), brain.simulate(3, 0.8)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, brain.simulate(4, 0.8).image)
    assert np.abs(brain.simulate(3, 0.0).effect).max() == 0
    ref = load_reference(2)
    near = binary_dilation((ref.hippocampus > 0.2) | (ref.ventricles > 0.2), iterations=4)
    magnitude = np.abs(a.effect)
    assert magnitude[near].sum() / magnitude.sum() > 0.9
    losses = [
        1 - brain.simulate(3, s).hippocampus.sum() / brain.simulate(3, s).hippocampus_without.sum()
        for s in (0.3, 0.6, 1.0)
    ]
    assert 0 < losses[0] < losses[1] < losses[2] < 0.5


def test_bad_severity_and_grid_give_clear_errors():
    with pytest.raises(ValueError, match="severity must be a number of 0 or more"):
        brain.simulate(0, -0.1)
    with pytest.raises(ValueError, match="severity"):
        brain.simulate(0, float("nan"))
    with pytest.raises(ValueError, match="dims must be 2"):
        load_reference(4)
    with pytest.raises(ValueError, match="80 x 80 pixels; got size=64"):
        get_dataset("brain", "test", size=64)
    with pytest.raises(ValueError, match="split must be one of 'train', 'val', 'test'"):
        get_dataset("brain", "testing")


def test_severities_of_mci_and_ad_overlap():
    labels, severities = brain.labels_and_severities(brain.LECTURE)
    assert labels.mean() == 0.5
    mci, ad = severities[labels == 0], severities[labels == 1]
    assert ad.min() < mci.max()  # some AD subjects are milder than some MCI subjects
    assert ad.mean() > mci.mean() + 0.3


def test_cohort_is_cached_with_a_checksum_and_rebuilt_when_corrupted(tmp_cache):
    first = brain.load_cohort(TINY, progress=False)
    assert first["images"].shape == (12, 1, 80, 80) and first["effects"].dtype == np.float32
    files = sorted(p.name for p in tmp_cache.iterdir())
    assert (
        "brain_2d_seed42_n12.npz" in files
        and json.loads((tmp_cache / "brain_2d_seed42_n12.json").read_text())["sha256"]
    )
    data = tmp_cache / "brain_2d_seed42_n12.npz"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    brain.load_cohort.cache_clear()
    with pytest.warns(UserWarning, match="corrupted.*generated again"):
        again = brain.load_cohort(TINY, progress=False)
    np.testing.assert_array_equal(again["images"], first["images"])
    assert cache.load("brain_2d_seed42_n12", brain._settings_record(TINY)) is not None  # repaired


def test_dataset_items_and_fields(tmp_cache):
    ds = brain.BrainDataset("test", TINY, only_label=1)
    image, label, effect = ds[0]
    assert image.shape == effect.shape == (1, 80, 80) and label == 1
    assert len(ds) == 2 and ds.field("hippocampus").shape == (2, 80, 80)
    assert (ds.field("hippocampus_volume") <= ds.field("hippocampus_volume_without") + 1e-3).all()


def test_the_same_code_makes_3d_volumes(tmp_cache):
    subject = brain.simulate(0, 1.0, dims=3)
    assert subject.image.shape == GRIDS[3].shape
    assert np.abs(subject.effect).max() > 0.1 and subject.hippocampus.sum() < subject.hippocampus_without.sum()


def test_hippocampal_atrophy_darkens_the_scan_as_csf_replaces_tissue():
    """What a radiologist sees on a coronal T1 slice in Alzheimer's disease (MTA scale): the CSF
    spaces in and around the hippocampus widen, so the region gets darker, never brighter."""
    darker = brighter = 0.0
    for index in range(1, 41, 2):  # 20 subjects at a typical AD severity
        subject = brain.simulate(index, 0.7)
        around = binary_dilation(subject.hippocampus_without > 0.05, iterations=2)
        effect = subject.effect[around]
        darker += -effect[effect < 0].sum()
        brighter += effect[effect > 0].sum()
        assert subject.hippocampus.sum() < subject.hippocampus_without.sum()  # the hippocampus shrank
    assert darker > 9 * brighter, (
        f"in and around the hippocampus darker:brighter effect mass is {darker:.1f}:{brighter:.1f}"
    )


def test_a_cohort_is_held_once_however_it_is_loaded(tmp_cache):
    first = brain.load_cohort(TINY, progress=False)
    assert brain.load_cohort(TINY) is first and brain.load_cohort(settings=TINY, progress=True) is first
