"""The benchmarks run end to end on the shipped weights and report what they measured."""
from __future__ import annotations

import json
import subprocess
import sys

import matplotlib
import pytest

from medai_edu.benchmarks import toy, widgets

matplotlib.use("Agg")


@pytest.mark.slow
@pytest.mark.parametrize("suite, n_test", [("toy", 2000), ("brain", 600)])
def test_bench_command_writes_json(tmp_path, suite, n_test):
    out = tmp_path / f"{suite}.json"
    result = subprocess.run(
        [sys.executable, "-m", "medai_edu.cli", "bench", suite, "--images", "3", "--ig-steps", "4", "--json", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["data"]["n_images"] == 3 and report["classifier"]["n_test"] == n_test
    assert set(report["methods"]) == {"vanilla_gradient", "guided_backprop", "grad_cam", "occlusion", "integrated_gradients", "vagan"}
    for name, row in report["methods"].items():
        assert -1 <= row["ncc_mean"] <= 1 and row["ncc_std"] >= 0 and row["seconds_per_image"] > 0, name
        assert f"{row['ncc_mean']:.3f}" in result.stdout, "the printed table must show the measured numbers"
        if suite == "brain":  # how much of each map lies on the hippocampus, the ventricles and elsewhere
            assert min(row["hippocampus"], row["ventricles"], row["elsewhere"]) >= 0 and -1 <= row["ncc_magnitude"] <= 1, name
    if suite == "brain":
        assert 0.5 <= report["classifier"]["test_auc"] <= 1


@pytest.mark.slow
def test_bench_uncertainty_writes_json_with_targets(tmp_path):
    out = tmp_path / "uncertainty.json"
    result = subprocess.run(
        [sys.executable, "-m", "medai_edu.cli", "bench", "uncertainty", "--images", "2", "--samples", "3", "--json", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["data"] == {"split": "test", "n_images": 2, "n_samples": 3, "raters": 6}
    assert set(report["models"]) == {"unet", "prob_unet", "phiseg_l1", "phiseg_l5"}
    for name, row in report["models"].items():
        for condition in ("clean", "noise", "contrast", "blur"):
            scores = row[condition]
            assert scores["n_images"] == 2 and scores["ged_mean"] >= 0 and 0 <= scores["dice_mean"] <= 1, (name, condition)
        assert 0 < row["ms_1_sample"] and 0 < row["ms_100_samples"], name
        assert f"{row['clean']['ged_mean']:.3f}" in result.stdout, "the printed table must show the measured numbers"
    assert set(report["targets"]) == {"ged_below_prob_unet", "ged_below_unet", "sncc_at_least_0.7",
                                      "dice_within_0.02_of_unet", "one_sample_at_most_50_ms"}
    phiseg, unet = report["models"]["phiseg_l5"]["clean"], report["models"]["unet"]["clean"]
    assert report["targets"]["ged_below_unet"]["met"] == (phiseg["ged_mean"] < unet["ged_mean"])


def test_toy_table_sorts_by_ncc():
    report = {
        "data": {"n_images": 2, "size": 112}, "machine": {"device": "cpu"},
        "classifier": {"test_accuracy": 0.5, "n_test": 4},
        "methods": {"grad_cam": {"ncc_mean": 0.1, "ncc_std": 0.0, "seconds_per_image": 0.1},
                    "vagan": {"ncc_mean": 0.9, "ncc_std": 0.0, "seconds_per_image": 0.1}},
    }
    lines = toy.table(report).splitlines()
    assert lines[3].startswith("vagan") and lines[4].startswith("grad_cam")


def test_widget_benchmark_times_real_redraws():
    result = widgets.run(repeats=3)
    assert set(result) == {"ppv_explorer", "attribution_explorer", "brain_map_explorer", "severity_explorer",
                           "sampling_explorer", "robustness_explorer"}
    assert all(row["moves"] == 3 and 0 < row["median_ms"] <= row["max_ms"] for row in result.values())
