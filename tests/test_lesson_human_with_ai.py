"""Lesson 4 (human with AI): referral, simulated readers, temperature scaling, the quality check, the study."""

from __future__ import annotations

import numpy as np
import pytest

from medai_edu import checks, metrics, referral
from medai_edu.data.shifts import SHIFTS, shift_image


def test_temperature_scaling_recovers_a_known_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, 4000)
    labels = (rng.random(4000) < referral.sigmoid(true_logits)).astype(int)
    t = referral.fit_temperature(3 * true_logits, labels)  # a model three times too sure
    assert 2.6 < t < 3.4
    before = metrics.calibration_error(referral.calibrate(3 * true_logits), labels)
    after = metrics.calibration_error(referral.calibrate(3 * true_logits, t), labels)
    assert after < before / 2
    assert np.array_equal(referral.calibrate(3 * true_logits, t) > 0.5, true_logits > 0)  # answers unchanged


def test_referral_sends_the_least_confident_and_scores_the_team():
    conf = np.array([0.9, 0.55, 0.7, 0.6, 0.99])
    assert referral.referred(conf, 0.4).tolist() == [False, True, False, True, False]
    model = np.array([1, 0, 1, 0, 1], bool)
    reader = np.array([0, 1, 0, 1, 0], bool)
    assert referral.team_accuracy(model, reader, conf, 0.4) == 1.0
    assert referral.team_accuracy(model, reader, conf, 0.0) == pytest.approx(0.6)
    assert referral.team_accuracy(model, reader, conf, 1.0) == pytest.approx(0.4)
    curve = referral.referral_curve(model, reader, conf, [0, 0.2, 0.4, 0.6, 1])
    assert curve.tolist() == pytest.approx([0.6, 0.8, 1.0, 0.8, 0.4])


def test_threshold_for_capacity_keeps_the_workload_and_is_the_highest():
    rng = np.random.default_rng(1)
    conf = 0.5 + 0.5 * rng.random(200)
    for capacity in (0.0, 0.05, 0.2, 0.5, 0.99, 1.0):
        t = referral.threshold_for_capacity(conf, capacity)
        referred = int((conf < t).sum())
        assert referred <= np.floor(capacity * 200 + 1e-9)
        ordered = np.sort(conf)
        above = ordered[ordered > t]
        if above.size:  # any higher threshold would refer more than the capacity
            assert (conf < above.min() + 1e-12).sum() > capacity * 200
    assert (conf < referral.threshold_for_capacity(conf, 1.0)).all()


def test_reader_automation_bias_definition():
    labels = np.array([1, 1, 0, 0])
    ai = np.array([1, 0, 0, 1])  # right, wrong, right, wrong
    alone = referral.Reader(0.8, 0.6).correct_probability(labels)
    assert alone.tolist() == pytest.approx([0.8, 0.8, 0.6, 0.6])
    biased = referral.Reader(0.8, 0.6, 0.5).correct_probability(labels, ai)
    assert biased.tolist() == pytest.approx([0.9, 0.4, 0.8, 0.3])
    follows = referral.Reader(0.8, 0.6, 1.0).correct_probability(labels, ai)
    assert follows.tolist() == [1.0, 0.0, 1.0, 0.0]  # always the AI's answer
    many = np.tile(labels, 5000)
    session = referral.Reader(0.8, 0.6, 0.5).read(many, np.tile(ai, 5000), seed=3)
    assert abs((session == many).mean() - biased.mean()) < 0.02
    assert np.array_equal(session, referral.Reader(0.8, 0.6, 0.5).read(many, np.tile(ai, 5000), seed=3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: referral.Reader(1.2, 0.8), "sensitivity must be between 0 and 1"),
        (lambda: referral.referred([0.6, 0.7], 1.5), "share must be between 0 and 1"),
        (lambda: referral.fit_temperature([0.1, 0.2], [0, 2]), "labels must be 0"),
        (lambda: referral.calibrate([1.0], 0), "temperature must be a positive number"),
        (lambda: referral.team_accuracy([1, 0], [1], [0.6, 0.7], 0.5), "one entry per case"),
        (lambda: referral.QualityCheck().score(np.zeros((2, 8, 8))), "not fitted"),
        (lambda: referral.image_features(np.zeros((8, 8))), "stack"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


def test_calibration_bins_match_the_error():
    rng = np.random.default_rng(2)
    p, y = rng.random(300), (rng.random(300) < 0.5).astype(float)
    table = metrics.calibration_bins(p, y, bins=8)
    assert table["count"].sum() == 300 and len(table["edges"]) == 9
    weighted = (table["count"] * np.abs(table["predicted"] - table["observed"])).sum() / 300
    assert metrics.calibration_error(p, y, bins=8) == pytest.approx(weighted)
    assert metrics.calibration_error(y, y) == 0.0


def test_quality_check_flags_changed_scans_not_new_clean_ones():
    from scipy.ndimage import gaussian_filter

    def scans(n, seed):
        r = np.random.default_rng(seed)
        return np.stack(
            [gaussian_filter(r.normal(0, 1, (40, 40)), 2) * 4 + 0.05 * r.normal(0, 1, (40, 40)) for _ in range(n)]
        )

    check = referral.QualityCheck().fit(scans(200, 0)).set_threshold(scans(100, 1), 0.99)
    clean = scans(100, 2)
    assert check.flags(clean).mean() < 0.1
    for kind, strength in SHIFTS.items():
        changed = np.stack([shift_image(s, kind, strength, [0, i]) for i, s in enumerate(clean)])
        assert check.flags(changed).mean() > 0.9, kind


def test_exercise_checks_accept_the_library_and_reject_a_mistake():
    checks.check_team_accuracy(referral.team_accuracy)
    checks.check_capacity_threshold(referral.threshold_for_capacity)
    checks.check_ece(lambda p, y, bins: metrics.calibration_error(p, y, bins=bins))
    with pytest.raises(checks.CheckFailed, match="most"):
        checks.check_team_accuracy(lambda m, r, c, s: referral.team_accuracy(m, r, -np.asarray(c), s))
    with pytest.raises(checks.CheckFailed, match="Weight each bin"):
        checks.check_ece(
            lambda p, y, bins: float(
                np.mean(
                    [
                        abs(p[i].mean() - y[i].mean())
                        for b in range(bins)
                        if (i := np.minimum((p * bins).astype(int), bins - 1) == b).any()
                    ]
                )
            )
        )


@pytest.mark.slow
def test_study_on_the_lesson_cohort():
    from medai_edu.lessons import human_with_ai

    study = human_with_ai.build_study(n_test=120, progress=False)
    assert set(study.test) == {"clean", *SHIFTS}
    assert 0.5 < study.temperature < 2
    assert study.model_alone() > 0.75 and max(study.model_alone(c) for c in SHIFTS) < 0.65
    curve = study.curve()
    assert curve[0] == pytest.approx(study.model_alone()) and curve[-1] == pytest.approx(study.reader_alone())
    assert curve.max() > max(study.model_alone(), study.reader_alone())
    assert np.allclose(study.curve(automation_bias=1.0), study.model_alone())
    flagged = {c: study.test[c].quality_scores > study.quality.threshold for c in study.test}
    assert flagged["clean"].mean() < 0.05
    assert all(flagged[c].mean() > 0.9 for c in SHIFTS)
    assert 0.0 <= human_with_ai.chosen_share(study) <= 1.0


@pytest.mark.slow
def test_referral_explorer_redraws_for_both_sliders_and_extremes():
    from unittest import mock

    from medai_edu import widgets
    from medai_edu.lessons import human_with_ai

    study = human_with_ai.build_study(n_test=60, progress=False)
    with mock.patch.object(widgets, "display", lambda obj: None):
        explorer = widgets.referral_explorer(study)
        first = explorer.figure.value
        for name, value in (("automation_bias", 1.0), ("share", 0.0), ("share", 1.0), ("automation_bias", 0.0)):
            explorer.controls[name].value = value
            explorer.settle()
            assert "could not be drawn" not in explorer.figure.value
        assert explorer.draws >= 5 and explorer.figure.value != first
        assert 'alt="' in explorer.figure.value


def test_a_borderline_reader_keeps_its_sensitivity_and_errs_on_hard_cases():
    labels = np.array([1] * 10 + [0] * 10)
    hard = np.zeros(20, bool)
    hard[[0, 1, 2, 10, 11, 12]] = True
    reader = referral.Reader(0.8, 0.85, borderline_accuracy=0.6)
    own = reader.own_accuracy(labels, hard)
    assert own[:10].mean() == pytest.approx(0.8) and own[10:].mean() == pytest.approx(0.85)
    assert (own[hard] == 0.6).all() and (own[~hard] > 0.85).all()
    assert np.array_equal(referral.Reader(0.8, 0.85).own_accuracy(labels, hard), reader.own_accuracy(labels))
    with pytest.raises(ValueError, match="cannot be kept"):
        referral.Reader(0.99, 0.85, borderline_accuracy=0.1).own_accuracy(labels, hard)
    with pytest.raises(ValueError, match="one entry per case"):
        reader.own_accuracy(labels, hard[:5])


def test_prevalence_weights_and_prior_shift():
    labels = np.array([1, 1, 0, 0])
    w = referral.prevalence_weights(labels, 0.1)
    assert w.tolist() == pytest.approx([0.2, 0.2, 1.8, 1.8])  # the weighted share of disease is 10 %
    assert (w * labels).sum() / w.sum() == pytest.approx(0.1)
    shifted = referral.sigmoid(referral.shift_prior(np.zeros(1), 0.1))
    assert shifted[0] == pytest.approx(0.1)  # an undecided model's probability becomes the new prevalence
    with pytest.raises(ValueError, match="both diseased"):
        referral.prevalence_weights([1, 1], 0.1)


def test_image_ceiling_is_the_best_reading_of_severity():
    from medai_edu.lessons import human_with_ai

    # MCI severities uniform on [0, 0.5], AD on [0.35, 1]: in the overlap the likelier group is MCI, and the
    # AD people there (0.15 / 0.65 of them, half the cohort) are missed
    assert human_with_ai.image_ceiling() == pytest.approx(1 - 0.5 * 0.15 / 0.65)


@pytest.mark.slow
def test_reliance_splits_what_switching_costs_and_prevalence_changes_the_ppv():
    from medai_edu.lessons import human_with_ai

    study = human_with_ai.build_study(n_test=120, progress=False)
    share = 0.4
    base = human_with_ai.team_percent(study, share, 0.0)
    for bias in (0.25, 0.5, 1.0):
        r = human_with_ai.reliance(study, share, bias)
        assert r["over_reliance"] > 0 and r["appropriate_reliance"] > 0
        # the team changes by exactly what appropriate reliance gains minus what over-reliance loses
        assert human_with_ai.team_percent(study, share, bias) - base == pytest.approx(
            100 * (r["appropriate_reliance"] - r["over_reliance"])
        )
    cohort = human_with_ai.at_prevalence(study, float(study.test["clean"].labels.mean()), share)
    low = human_with_ai.at_prevalence(study, 0.1, share)
    assert low["sensitivity"] == cohort["sensitivity"] and low["specificity"] == cohort["specificity"]
    sens, spec = low["sensitivity"], low["specificity"]
    assert low["ppv"] == pytest.approx(sens * 0.1 / (sens * 0.1 + (1 - spec) * 0.9))  # Bayes' rule
    assert low["ece_prior_corrected"] < low["ece"]
