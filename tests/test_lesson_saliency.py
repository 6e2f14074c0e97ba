"""Lesson 1's steps on the shipped classifier (the VA-GAN parts are tested with the benchmark)."""

from __future__ import annotations

import numpy as np
import pytest

from medai_edu.data.toy import make_sample
from medai_edu.lessons import saliency as lesson


@pytest.fixture(scope="module")
def classifier():
    return lesson.load_classifier()


def test_examples_show_healthy_and_both_subtypes():
    cases = lesson.examples()
    assert cases.images.shape == (3, 112, 112)
    assert cases.masks[0].sum() == 0 and cases.masks[1].sum() == cases.masks[2].sum() == 2 * 20 * 20


def test_removing_a_lesion_keeps_the_background():
    full, centre, none = (make_sample(2, boxes=b) for b in (("centre", "corner"), ("centre",), ()))
    assert centre.mask.sum() == 400 and none.mask.sum() == 0
    outside = full.mask == 0
    assert np.corrcoef(full.image[outside], none.image[outside])[0, 1] > 0.99
    with pytest.raises(ValueError, match="boxes must be a tuple"):
        make_sample(2, boxes="centre")


def test_shipped_classifier_is_accurate(classifier):
    assert lesson.classifier_accuracy(classifier, n=200) >= 0.99


def test_evidence_experiment_separates_lesions(classifier):
    table = lesson.evidence_experiment(classifier, n=8)
    assert list(table.index) == ["both lesions", "centre only", "corner only", "no lesion"]
    assert table.loc["both lesions", "called diseased"] == "8 of 8"
    assert table.loc["no lesion", "mean probability of 'diseased'"] < 0.5
    assert lesson.percent_called(table, "both lesions") == 100.0


def test_saliency_maps_for_the_explorer(classifier):
    cases = lesson.diseased_cases(2)
    maps = lesson.saliency_maps(classifier, cases.images, quick=True)
    assert set(maps) == {"vanilla_gradient", "guided_backprop", "grad_cam", "occlusion", "integrated_gradients"}
    assert all(m.shape == (2, 112, 112) and np.isfinite(m).all() for m in maps.values())
    scores = lesson.score_maps(maps, cases.masks)
    assert all(-1 <= row["ncc_mean"] <= 1 for row in scores.values())


def test_lesion_masks_split_the_ground_truth():
    centre, corner = lesson.lesion_masks(0)
    full = lesson.diseased_cases(1).masks[0]
    assert centre.sum() == corner.sum() == 400 and np.array_equal(centre + corner, full)
    assert centre[56, 56] == 1 and corner[56, 56] == 0


def test_classifier_accuracy_without_a_progress_bar(classifier, capsys):
    assert lesson.classifier_accuracy(classifier, n=20, progress=False) == 1.0
    assert "classifying" not in capsys.readouterr().err


def test_reference_benchmark_shows_the_final_test_set(capsys, tmp_path):
    import json

    table = lesson.reference_benchmark()
    assert list(table.columns) == [
        "NCC mean",
        "NCC std",
        "seconds per image",
        "final test NCC mean",
        "final test NCC std",
    ]
    assert "Final test set (made afterwards from seed 20261201)" in capsys.readouterr().out
    # a result without a final test set (lesson 2's brain benchmark, for now) still reads
    old = json.loads(lesson.BENCHMARK_FILE.read_text())
    del old["final_test"]
    (tmp_path / "toy_benchmark.json").write_text(json.dumps(old))
    assert list(lesson.reference_benchmark(tmp_path / "toy_benchmark.json").columns) == [
        "NCC mean",
        "NCC std",
        "seconds per image",
    ]


def test_train_it_yourself_is_off_by_default_and_says_the_measured_time(capsys):
    assert lesson.train_small_vagan(0) == (None, None)
    assert f"it took {lesson.MEASURED['train_cell_minutes']:.0f} minutes in our measurement" in capsys.readouterr().out


def test_the_training_cell_reports_the_students_own_run(capsys):
    """What the text says about the student's run is printed from that run: each comparison follows its numbers."""
    lesson.describe_small_run(0.9, 200, {"val_wasserstein": [0.4, 0.9], "val_ncc": [0.3, 0.5]})
    out = capsys.readouterr().out
    assert "NCC 0.900 on 200 diseased test images" in out and "higher than the best saliency method" in out
    assert "W_val went up from 0.40 to 0.90 and ncc_val from 0.30 to 0.50" in out
    lesson.describe_small_run(0.1, 200, {"val_wasserstein": [0.9, 0.4], "val_ncc": [0.3, 0.5]})
    out = capsys.readouterr().out
    assert "not yet as high as the best saliency method" in out and "W_val went from 0.90 to 0.40" in out
