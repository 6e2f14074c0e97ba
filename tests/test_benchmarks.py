"""The benchmarks run end to end on the shipped weights and report what they measured."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from medai_edu_ops.benchmarks import toy, uncertainty, widgets

matplotlib.use("Agg")


@pytest.mark.slow
@pytest.mark.parametrize("suite, n_test", [("toy", 2000), ("brain", 600)])
def test_bench_command_writes_json(tmp_path, suite, n_test):
    out = tmp_path / f"{suite}.json"
    command = [sys.executable, "-m", "medai_edu_ops.cli", "bench", suite, "--images", "3", "--ig-steps", "4"]
    if suite == "brain":  # a candidate generator from another folder (the classifier stays the shipped one)
        from medai_edu import pretrained
        from medai_edu.models.vagan import MapGenerator

        config = dict(spatial_dims=2, in_channels=1, widths=[4, 4, 8, 8], output="linear")
        pretrained.save_weights(
            MapGenerator(**config),
            "brain_vagan",
            kind="vagan_generator",
            config=config,
            seed=0,
            command="test",
            directory=tmp_path / "candidate",
        )
        command += ["--weights", str(tmp_path / "candidate")]
    result = subprocess.run(command + ["--json", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["data"]["n_images"] == 3 and report["classifier"]["n_test"] == n_test
    assert set(report["methods"]) == {
        "vanilla_gradient",
        "guided_backprop",
        "grad_cam",
        "occlusion",
        "integrated_gradients",
        "vagan",
    }
    for name, row in report["methods"].items():
        assert -1 <= row["ncc_mean"] <= 1 and row["ncc_std"] >= 0 and row["seconds_per_image"] > 0, name
        assert f"{row['ncc_mean']:.3f}" in result.stdout, "the printed table must show the measured numbers"
        if suite == "brain":  # how much of each map lies on the hippocampus, the ventricles and elsewhere
            assert (
                min(row["hippocampus"], row["ventricles"], row["elsewhere"]) >= 0 and -1 <= row["ncc_magnitude"] <= 1
            ), name
    if suite == "brain":
        assert 0.5 <= report["classifier"]["test_auc"] <= 1
        candidate = json.loads((tmp_path / "candidate" / "brain_vagan.json").read_text())
        assert report["vagan_weights"]["sha256"] == candidate["sha256"]
        for part in (report, report["final_test"]):
            for row in part["methods"].values():  # 95 % bootstrap intervals around each mean
                assert row["ncc_ci95"][0] <= row["ncc_mean"] <= row["ncc_ci95"][1]
                low, high = row["hippocampus_window_ncc_ci95"]
                assert low <= row["hippocampus_window_ncc"] <= high
                assert f"[{low:.3f}, {high:.3f}]" in result.stdout
            assert set(part["targets"]) == {"window", "whole_brain"}
            whole = part["targets"]["whole_brain"]
            assert whole["vagan"] == pytest.approx(part["methods"]["vagan"]["ncc_mean"])
            assert whole["lead_ci95"][0] <= whole["vagan"] - whole["best_saliency_ncc"] <= whole["lead_ci95"][1]
    if suite == "toy":  # a final test set drawn with a seed development never used, and both selection rules
        final = report["final_test"]
        assert (
            final["data"]["data_seed"] == toy.FINAL_TEST_SEED != report["data"]["data_seed"]
            and final["data"]["n_images"] == 3
        )
        assert set(final["methods"]) == set(report["methods"]) and final["classifier"]["n_test"] == n_test
        assert set(report["vagan_selection"]) == {"wasserstein", "ncc"}
        assert f"{final['methods']['vagan']['ncc_mean']:.3f}" in result.stdout


@pytest.mark.slow
def test_bench_uncertainty_writes_json_with_targets(tmp_path):
    out = tmp_path / "uncertainty.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "medai_edu_ops.cli",
            "bench",
            "uncertainty",
            "--images",
            "2",
            "--samples",
            "3",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["data"] == {"split": "test", "n_images": 2, "n_samples": 3, "raters": 6}
    assert report["final_data"]["seed"] == uncertainty.FINAL_SEED != 42 and report["final_data"]["n_images"] == 2
    assert set(report["models"]) == {"unet", "prob_unet", "phiseg_l1", "phiseg_l5"}
    for name, row in report["models"].items():
        for scores in [row[c] for c in uncertainty.CONDITIONS] + [row["final"][c] for c in uncertainty.CONDITIONS]:
            assert scores["n_images"] == 2 and scores["ged_mean"] >= 0 and 0 <= scores["dice_mean"] <= 1, name
            assert (
                -1 <= scores["dis_ncc_mean"] <= 1
                and 0 <= scores["ece_mean"] <= 1
                and 0 <= scores["ece_softmax_mean"] <= 1
            )
        assert 0 < row["ms_1_sample"] and 0 < row["ms_100_samples"], name
        for value in (row["clean"]["ged_mean"], row["clean"]["dis_ncc_mean"], row["final"]["clean"]["ece_mean"]):
            assert f"{value:.3f}" in result.stdout, "the printed table must show the measured numbers"
    # the deterministic U-Net's samples never differ: its disagreement map is constant, NCC 0
    assert (
        report["models"]["unet"]["clean"]["dis_ncc_mean"]
        == 0.0
        == report["models"]["unet"]["final"]["clean"]["dis_ncc_mean"]
    )
    assert set(report["targets"]) == {
        "ged_below_prob_unet",
        "ged_below_unet",
        "sncc_at_least_0.7",
        "dice_within_0.02_of_unet",
        "one_sample_at_most_50_ms",
        "unet_fails_dis_ncc",
        "ece_below_unet",
    }
    phiseg, unet = report["models"]["phiseg_l5"]["clean"], report["models"]["unet"]["clean"]
    assert report["targets"]["ged_below_unet"]["met"] == (phiseg["ged_mean"] < unet["ged_mean"])
    for set_name in ("dev", "final"):
        intervals = report["bootstrap"][set_name]["clean"]["phiseg_l5_vs_unet"]
        assert set(intervals) == set(uncertainty.MEASURES)
        for v in intervals.values():
            assert v["low"] <= v["high"] and v["excludes_0"] == (v["low"] > 0 or v["high"] < 0) and v["n_cases"] == 2
    assert "load average" in result.stdout and report["machine"]["wall_seconds"] > 0


def test_brain_targets_pick_the_best_saliency_map_and_bootstrap_the_lead():
    from medai_edu_ops.benchmarks import brain

    rng = np.random.default_rng(0)
    per_image = {
        "vagan": {"ncc": 0.8 + 0.01 * rng.standard_normal(50), "hippocampus_window_ncc": np.full(50, 0.6)},
        "guided_backprop": {"ncc": np.full(50, 0.5), "hippocampus_window_ncc": np.full(50, 0.45)},
        "grad_cam": {"ncc": np.full(50, 0.1), "hippocampus_window_ncc": np.full(50, 0.5)},
    }
    result = brain.targets(per_image)
    whole, window = result["whole_brain"], result["window"]
    assert whole["best_saliency"] == "guided_backprop" and whole["met"]  # 0.8 >= 0.75 and >= 0.5 + 0.2
    assert whole["lead_ci95"][0] < 0.3 < whole["lead_ci95"][1]
    assert window["best_saliency"] == "grad_cam" and not window["met"]  # 0.6 < 0.5 + 0.2
    assert window["lead_ci95"] == pytest.approx([0.1, 0.1])  # the same lead for every image
    assert brain.targets(per_image) == result, "the bootstrap is seeded"


def test_uncertainty_final_set_is_new_data():
    final = uncertainty.final_settings(5)
    assert final.seed == uncertainty.FINAL_SEED and final.n_test == 5 and final.split_range("test") == range(5)
    assert final.lesion == uncertainty.LECTURE.lesion and final.raters == uncertainty.LECTURE.raters


def test_toy_table_sorts_by_ncc():
    report = {
        "data": {"n_images": 2, "size": 112},
        "machine": {"device": "cpu"},
        "classifier": {"test_accuracy": 0.5, "n_test": 4},
        "methods": {
            "grad_cam": {"ncc_mean": 0.1, "ncc_std": 0.0, "seconds_per_image": 0.1},
            "vagan": {"ncc_mean": 0.9, "ncc_std": 0.0, "seconds_per_image": 0.1},
        },
    }
    lines = toy.table(report).splitlines()
    assert lines[3].startswith("vagan") and lines[4].startswith("grad_cam")


def _toy_part(seed, vagan=0.9):
    return {
        "data": {"split": "test", "class": 1, "n_images": 2, "size": 112, "data_seed": seed},
        "classifier": {"test_accuracy": 1.0, "n_test": 4},
        "methods": {
            "grad_cam": {"ncc_mean": 0.1, "ncc_std": 0.0, "seconds_per_image": 0.1},
            "vagan": {"ncc_mean": vagan, "ncc_std": 0.01, "n_images": 2, "seconds_per_image": 0.1},
        },
    }


def test_toy_table_shows_the_final_test_set_and_both_selection_rules():
    development, final = _toy_part(toy.DEV_SEED), _toy_part(toy.FINAL_TEST_SEED, vagan=0.876)
    selection = {
        "wasserstein": {
            "step": 600,
            "shipped": False,
            "val_wasserstein": 0.06,
            "val_ncc": 0.7,
            "measured": False,
            "dev_test": None,
            "final_test": None,
            "dev_test_recorded": {"ncc_mean": 0.693, "ncc_std": 0.058},
        },
        "ncc": {
            "step": 700,
            "shipped": True,
            "val_wasserstein": 1.7,
            "val_ncc": 0.89,
            "measured": True,
            "dev_test": development["methods"]["vagan"],
            "final_test": final["methods"]["vagan"],
        },
    }
    text = toy.table({**development, "final_test": final, "vagan_selection": selection, "machine": {"device": "cpu"}})
    assert "final NCC" in text and "0.876" in text and f"seed {toy.FINAL_TEST_SEED}" in text
    assert "step 600" in text and "0.693 +- 0.058 (recorded at training, not re-measured)" in text
    assert "final test NCC not measured" in text and "step 700" in text and "[shipped]" in text


def test_toy_selection_rules_score_a_kept_snapshot_else_report_what_was_recorded(tmp_path, monkeypatch):
    from medai_edu import pretrained
    from medai_edu.training.common import save_checkpoint

    development, final = _toy_part(toy.DEV_SEED), _toy_part(toy.FINAL_TEST_SEED)
    monkeypatch.setattr(toy, "DESIGN_RUN_DIR", tmp_path / "run")
    rows = toy.selection_rules(development, final, "cpu")
    shipped = pretrained.load_manifest("toy_vagan")["metrics"]["selected_step"]
    assert (
        rows["ncc"]["step"] == shipped
        and rows["ncc"]["shipped"]
        and rows["ncc"]["final_test"] == final["methods"]["vagan"]
    )
    design = rows["wasserstein"]
    assert (
        design["step"] != shipped
        and not design["measured"]
        and design["dev_test"] is None
        and design["final_test"] is None
    )
    assert design["dev_test_recorded"] == {**toy.RECORDED_DESIGN_RULE, "source": design["dev_test_recorded"]["source"]}
    # once the design rule's generator is on disk, it is scored on both sets instead
    generator = pretrained.load_model("toy_vagan")
    save_checkpoint(
        tmp_path / "run" / "snapshots" / f"step{design['step']:05d}.pt",
        {"step": design["step"], "generator": generator.state_dict()},
    )
    design = toy.selection_rules(development, final, "cpu")["wasserstein"]
    assert design["measured"] and design["dev_test"]["n_images"] == design["final_test"]["n_images"] == 2
    assert 0.5 < design["dev_test"]["ncc_mean"] <= 1  # the shipped weights, scored as that snapshot


def test_widget_benchmark_times_real_redraws():
    result = widgets.run(repeats=3)
    assert set(result) == {
        "ppv_explorer",
        "attribution_explorer",
        "brain_map_explorer",
        "severity_explorer",
        "sampling_explorer",
        "robustness_explorer",
        "referral_explorer",
    }
    assert all(row["moves"] == 3 and 0 < row["median_ms"] <= row["max_ms"] for row in result.values())
