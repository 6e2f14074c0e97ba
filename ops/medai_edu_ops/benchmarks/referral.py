"""`medai-edu bench referral`: the simulated reading study of lesson 4 (human with AI).

On lesson 2's cohort (MCI vs AD) with its shipped classifier: the model's accuracy alone, the
simulated reader's alone (:data:`~medai_edu.lessons.human_with_ai.READER`; expected accuracy over its
random draws), and the team's when the least confident cases are referred to the reader, at fixed
referral shares and automation biases; the expected calibration error of the model's probability
of AD before and after temperature scaling; and all of this again with the test scans changed as
by a new scanner (lesson 3's noise, lower contrast and blur), together with an input-quality check
that sends flagged scans to the reader without the AI's suggestion. ``borderline_reader`` repeats
the clean team with a reader whose errors fall on borderline cases (disease severity where MCI and
AD overlap; same sensitivity and specificity overall): the independent reader flatters the team.

Choices are made on validation data only: the temperature, the quality check's threshold (its
statistics come from training images) and the recommended referral share (``chosen_share``, best
team accuracy on validation cases), whose confidence threshold is also the one used under the
changes. Test data only report. ``team_vs_model`` / ``team_vs_reader`` are paired bootstrap
intervals over the test cases at the chosen share (reader correctness as expected values, so the
intervals show the variation from case sampling). ``final_test`` repeats the clean numbers on a
test set drawn with :data:`~medai_edu.data.splits.FINAL_TEST_SEED`, which development never used.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from medai_edu import referral
from medai_edu.data.splits import FINAL_TEST_SEED
from medai_edu.device import get_device
from medai_edu.lessons import human_with_ai
from medai_edu.metrics import paired_bootstrap
from medai_edu_ops.benchmarks.common import machine


def _condition(study: human_with_ai.Study, condition: str, threshold: float) -> dict[str, Any]:
    return {
        "model_accuracy": study.model_alone(condition),
        "reader_accuracy": study.reader_alone(condition),
        "ece_before": study.ece(condition, recalibrated=False),
        "ece_after": study.ece(condition),
        "team": {
            f"bias_{human_with_ai._key(b)}": {
                f"share_{human_with_ai._key(s)}": float(v)
                for s, v in zip(human_with_ai.BENCH_SHARES, study.curve(condition, b, human_with_ai.BENCH_SHARES))
            }
            for b in human_with_ai.AUTOMATION_BIASES
        },
        "quality": human_with_ai.with_quality_check(study, condition, threshold),
    }


def _borderline_reader(study: human_with_ai.Study, share: float) -> dict[str, Any]:
    """The same study with a reader whose errors fall on the borderline cases (same sensitivity and
    specificity overall): the team's curve on the clean test cases and at the chosen share."""
    accuracy = human_with_ai.BORDERLINE_ACCURACY
    curve = study.curve("clean", 0.0, human_with_ai.BENCH_SHARES, borderline_accuracy=accuracy)
    clean = study.test["clean"]
    reader = study.reader_correct("clean", 0.0, accuracy)
    team = np.where(referral.referred(study.confidences(), share), reader, clean.model_correct)
    return {
        "accuracy_on_borderline": accuracy,
        "borderline_severity": list(human_with_ai.BORDERLINE_SEVERITY),
        "share_borderline": float(clean.borderline.mean()),
        "share_borderline_among_referred": float(
            clean.borderline[referral.referred(study.confidences(), share)].mean()
        ),
        "reader_accuracy": float(study.reader.correct_probability(clean.labels).mean()),
        "team": {f"share_{human_with_ai._key(s)}": float(v) for s, v in zip(human_with_ai.BENCH_SHARES, curve)},
        "team_at_chosen_share": float(team.mean()),
        "team_vs_model": paired_bootstrap(team, clean.model_correct.astype(float)),
    }


def _reliance(study: human_with_ai.Study, share: float) -> dict[str, Any]:
    """Over-reliance and appropriate reliance on the clean test cases at the chosen share, per automation bias."""
    return {
        f"bias_{human_with_ai._key(b)}": human_with_ai.reliance(study, share, b)
        for b in human_with_ai.AUTOMATION_BIASES
    }


def _per_case_team(study: human_with_ai.Study, share: float) -> np.ndarray:
    cases = study.test["clean"]
    to_reader = referral.referred(study.confidences(), share)
    return np.where(to_reader, study.reader_correct(), cases.model_correct)


def run(n_test: int | None = None, progress: bool = True, final_seed: int = FINAL_TEST_SEED) -> dict[str, Any]:
    """The whole study on the development cohort's test split (``n_test``: only the first cases) and
    the clean numbers on the final test set."""
    start = time.perf_counter()
    study = human_with_ai.build_study(n_test=n_test, progress=progress)
    share = human_with_ai.chosen_share(study)
    val = study.validation
    threshold = referral.threshold_for_capacity(referral.confidence(val.probabilities(study.temperature)), share)
    team = _per_case_team(study, share)
    clean = study.test["clean"]
    final = human_with_ai.build_study(seed=final_seed, n_test=n_test, progress=progress)
    final.temperature = study.temperature  # the development study's choices, applied unchanged
    final_team = _per_case_team(final, share)
    return {
        "benchmark": "referral",
        "data": {
            "cohort": "brain (lesson 2), MCI = 0, AD = 1",
            "data_seed": 42,
            "n_val": len(val.labels),
            "n_test": len(clean.labels),
        },
        "reader": {"sensitivity": study.reader.sensitivity, "specificity": study.reader.specificity},
        "temperature": study.temperature,
        "validation_accuracy": float(val.model_correct.mean()),
        "chosen_share": share,
        "confidence_threshold": threshold,
        "quality_threshold": study.quality.threshold,
        "conditions": {c: _condition(study, c, threshold) for c in study.test},
        "borderline_reader": _borderline_reader(study, share),
        "team_vs_model": paired_bootstrap(team, clean.model_correct.astype(float)),
        "team_vs_reader": paired_bootstrap(team, study.reader.correct_probability(clean.labels)),
        "final_test": {
            "data_seed": final_seed,
            "n_test": len(final.test["clean"].labels),
            "model_accuracy": final.model_alone(),
            "reader_accuracy": final.reader_alone(),
            "team_at_chosen_share": float(final_team.mean()),
            "ece_before": final.ece(recalibrated=False),
            "ece_after": final.ece(),
            "team_vs_model": paired_bootstrap(final_team, final.test["clean"].model_correct.astype(float)),
            "conditions": {c: _condition(final, c, threshold) for c in final.test},
            "borderline_reader": _borderline_reader(final, share),
            "reliance": _reliance(final, share),
            "prevalence": human_with_ai.at_prevalence(final, human_with_ai.LOW_PREVALENCE, share),
        },
        "reliance": _reliance(study, share),
        "prevalence": {
            "cohort": human_with_ai.at_prevalence(study, float(clean.labels.mean()), share),
            "low": human_with_ai.at_prevalence(study, human_with_ai.LOW_PREVALENCE, share),
        },
        "image_ceiling": human_with_ai.image_ceiling(),
        "settings": {
            "shares": list(human_with_ai.BENCH_SHARES),
            "automation_biases": list(human_with_ai.AUTOMATION_BIASES),
            "quality_quantile": human_with_ai.QUALITY_QUANTILE,
            "calibration_bins": human_with_ai.CALIBRATION_BINS,
        },
        "seconds": round(time.perf_counter() - start, 1),
        "machine": machine(get_device(None)),
    }


def verdict(result: dict[str, Any]) -> str:
    """Whether the team beats both the model and the reader on clean test scans, with the numbers."""
    share = result["chosen_share"]
    clean = result["conditions"]["clean"]
    team = clean["team"]["bias_0"][f"share_{human_with_ai._key(share)}"]
    model, reader = clean["model_accuracy"], clean["reader_accuracy"]
    beats = team > model and team > reader
    return (
        f"Team at {share:.0%} referred (chosen on validation): {team:.3f}; model alone {model:.3f}; reader alone "
        f"{reader:.3f}: the team {'beats' if beats else 'does NOT beat'} both on clean test scans."
    )


def table(result: dict[str, Any]) -> str:
    """The benchmark as a plain-text table."""
    m = result["machine"]
    lines = [
        f"Referral benchmark on {m['device']}, {m['threads']} threads, load average {m['load_average']}, "
        f"{result['seconds']} s",
        f"{result['data']['n_test']} test cases, {result['data']['n_val']} validation cases; temperature "
        f"{result['temperature']:.3f}; reader sensitivity {result['reader']['sensitivity']:.2f}, specificity "
        f"{result['reader']['specificity']:.2f}; chosen share {result['chosen_share']:.2f} (confidence threshold "
        f"{result['confidence_threshold']:.3f}); quality threshold {result['quality_threshold']:.2f}",
    ]
    shares = result["settings"]["shares"]
    for condition, row in result["conditions"].items():
        q = row["quality"]
        lines.append(
            f"[{condition}] model {row['model_accuracy']:.3f}  reader {row['reader_accuracy']:.3f}  ECE "
            f"{row['ece_before']:.3f} -> {row['ece_after']:.3f}  referred at threshold "
            f"{q['share_referred_by_confidence']:.3f}  flagged {q['share_flagged']:.3f}  team without/with check "
            f"{q['team_without_check']:.3f}/{q['team_with_check']:.3f}"
        )
        lines.append(f"  {'automation bias':<16}" + "".join(f"{s:>7.0%}" for s in shares))
        for bias, curve in row["team"].items():
            lines.append(f"  {bias:<16}" + "".join(f"{v:>7.3f}" for v in curve.values()))
    for name in ("team_vs_model", "team_vs_reader"):
        b = result[name]
        lines.append(f"{name}: {b['difference']:+.3f} [{b['low']:+.3f}, {b['high']:+.3f}]")
    b = result["borderline_reader"]
    lines.append(
        f"Reader with accuracy {b['accuracy_on_borderline']:.2f} on borderline cases ({b['share_borderline']:.1%} of "
        f"test cases, {b['share_borderline_among_referred']:.1%} of those referred): team at the chosen share "
        f"{b['team_at_chosen_share']:.3f} (minus model {b['team_vs_model']['difference']:+.3f} "
        f"[{b['team_vs_model']['low']:+.3f}, {b['team_vs_model']['high']:+.3f}]); curve "
        + " ".join(f"{v:.3f}" for v in b["team"].values())
    )
    f = result["final_test"]
    lines.append(
        f"Final test set (seed {f['data_seed']}, {f['n_test']} cases): model {f['model_accuracy']:.3f}, reader "
        f"{f['reader_accuracy']:.3f}, team {f['team_at_chosen_share']:.3f}, ECE {f['ece_before']:.3f} -> "
        f"{f['ece_after']:.3f}"
    )
    lines.append(verdict(result))
    return "\n".join(lines)
