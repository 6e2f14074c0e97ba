"""Lesson 4 (human with AI): the simulated reading study the notebook and `medai-edu bench referral` share.

The cases are lesson 2's simulated cohort (MCI = 0, AD = 1) and its shipped classifier. Every
choice is made on the validation split: the temperature of the recalibration, the quality
check's threshold (its statistics come from the training split) and the referral share the lesson
recommends. The test split only reports. Its ``CLAIMS`` (:mod:`medai_edu.lessons.human_with_ai_claims`)
bind every quantitative sentence of the lesson to the shipped benchmark
(``medai_edu/measurements/referral_benchmark.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from medai_edu import claims, pretrained, referral, results
from medai_edu.checks import Choice, Estimate
from medai_edu.data.brain import LECTURE
from medai_edu.data.shifts import CONDITIONS, SHIFTS, shift_image
from medai_edu.measurements import MEASUREMENTS_DIR
from medai_edu.metrics import calibration_bins, calibration_error

__all__ = [
    "READER",
    "BENCH_SHARES",
    "AUTOMATION_BIASES",
    "CAPACITY",
    "QUALITY_QUANTILE",
    "CALIBRATION_BINS",
    "BORDERLINE_SEVERITY",
    "BORDERLINE_ACCURACY",
    "LOW_PREVALENCE",
    "CONDITION_LABELS",
    "Cases",
    "Study",
    "build_study",
    "load_study",
    "chosen_share",
    "with_quality_check",
    "reliance",
    "at_prevalence",
    "image_ceiling",
    "team_percent",
    "referred_at_capacity",
    "quality_scores",
    "shift_curves",
    "reliability_before_after",
    "reliability_by_condition",
    "quality_table",
    "reference_benchmark",
    "QUESTIONS",
    "ANSWERS",
]

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

BENCHMARK_FILE = MEASUREMENTS_DIR / "referral_benchmark.json"
#: the simulated reader of the lesson (automation bias 0; the explorer and the benchmark vary it)
READER = referral.Reader(sensitivity=0.80, specificity=0.85)
#: referral shares of the figure's curve, and those the benchmark reports
CURVE_SHARES = np.round(np.linspace(0.0, 1.0, 41), 3)
BENCH_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)
AUTOMATION_BIASES = (0.0, 0.25, 0.5, 1.0)
#: the exercise's reader capacity: the share of cases the reader can read
CAPACITY = 0.2
#: quantile of clean validation scans' quality scores above which a scan is flagged
QUALITY_QUANTILE = 0.99
CALIBRATION_BINS = 10
#: severities where the simulated MCI and AD groups overlap (lesson 2's cohort): borderline cases
BORDERLINE_SEVERITY = (
    max(LECTURE.mci_severity[0], LECTURE.ad_severity[0]),
    min(LECTURE.mci_severity[1], LECTURE.ad_severity[1]),
)
#: the second reader of the benchmark: right on only this share of borderline cases, more often on
#: the others (same sensitivity and specificity overall)
BORDERLINE_ACCURACY = 0.6
#: the prevalence of AD in the lesson's second population (the cohort itself is 50/50)
LOW_PREVALENCE = 0.1
CONDITION_LABELS = {"clean": "as trained", "noise": "noise", "contrast": "lower contrast", "blur": "blur"}


def _key(value: float) -> str:
    """A benchmark key for a share or bias: 0.3 -> '30' (JSON paths split at dots)."""
    return f"{round(100 * value):d}"


@dataclass
class Cases:
    """One set of cases as the model saw them: true labels and the model's logits (AD minus MCI)."""

    labels: np.ndarray
    logits: np.ndarray
    quality_scores: np.ndarray | None = None  # the quality check's score per scan (test cases)
    severities: np.ndarray | None = None  # the simulated disease severity (for borderline cases)

    @property
    def borderline(self) -> np.ndarray:
        """True for people whose severity lies where the MCI and AD ranges overlap (hard for anyone)."""
        if self.severities is None:
            raise ValueError("these cases carry no severities; build them with build_study().")
        return (self.severities >= BORDERLINE_SEVERITY[0]) & (self.severities <= BORDERLINE_SEVERITY[1])

    def probabilities(self, temperature: float = 1.0) -> np.ndarray:
        """The model's probability of AD per case (after temperature scaling)."""
        return referral.calibrate(self.logits, temperature)

    @property
    def checked_quality(self) -> np.ndarray:
        """The quality check's score per scan (test cases only)."""
        if self.quality_scores is None:
            raise ValueError("these cases carry no quality scores; take test cases of build_study().")
        return self.quality_scores

    @property
    def answers(self) -> np.ndarray:
        """The model's answer per case (1 = AD); temperature scaling never changes it."""
        return (self.logits > 0).astype(np.int64)

    @property
    def model_correct(self) -> np.ndarray:
        return self.answers == self.labels


@dataclass
class Study:
    """Validation and test cases, the test cases under each input change, the fitted temperature and
    the quality check (fitted on training images, threshold on validation images)."""

    validation: Cases
    test: dict[str, Cases]  # by condition: "clean", "noise", "contrast", "blur"
    temperature: float
    quality: referral.QualityCheck
    reader: referral.Reader = field(default_factory=lambda: READER)
    shares: ClassVar[np.ndarray] = CURVE_SHARES  # the referral shares of :meth:`curve`

    def confidences(self, condition: str = "clean") -> np.ndarray:
        return referral.confidence(self.test[condition].probabilities(self.temperature))

    def reader_correct(
        self, condition: str = "clean", automation_bias: float = 0.0, borderline_accuracy: float | None = None
    ) -> np.ndarray:
        """Per test case, the probability that the reader is right when the case is referred with the
        AI's suggestion (the reader's expected accuracy over its random draws); ``borderline_accuracy``:
        a reader whose errors concentrate on the borderline cases (:attr:`Cases.borderline`)."""
        reader = referral.Reader(self.reader.sensitivity, self.reader.specificity, automation_bias, borderline_accuracy)
        cases = self.test[condition]
        hard = None if borderline_accuracy is None else cases.borderline
        return reader.correct_probability(cases.labels, cases.answers, hard)

    def curve(
        self,
        condition: str = "clean",
        automation_bias: float = 0.0,
        shares: Sequence[float] | np.ndarray | None = None,
        borderline_accuracy: float | None = None,
    ) -> np.ndarray:
        """Team accuracy at each referral share (default: :attr:`shares`)."""
        shares = self.shares if shares is None else shares
        cases = self.test[condition]
        reader = self.reader_correct(condition, automation_bias, borderline_accuracy)
        return referral.referral_curve(cases.model_correct, reader, self.confidences(condition), shares)

    def reader_alone(self, condition: str = "clean") -> float:
        return float(self.reader.correct_probability(self.test[condition].labels).mean())

    def model_alone(self, condition: str = "clean") -> float:
        return float(self.test[condition].model_correct.mean())

    def ece(self, condition: str = "clean", recalibrated: bool = True) -> float:
        cases = self.test[condition]
        p = cases.probabilities(self.temperature if recalibrated else 1.0)
        return calibration_error(p, cases.labels, bins=CALIBRATION_BINS)

    def reliability(self, condition: str = "clean", recalibrated: bool = True) -> dict[str, np.ndarray]:
        cases = self.test[condition]
        p = cases.probabilities(self.temperature if recalibrated else 1.0)
        return calibration_bins(p, cases.labels, bins=CALIBRATION_BINS)


def _logits(classifier: nn.Module, images: np.ndarray) -> np.ndarray:
    import torch

    from medai_edu.models.inference import predict

    classifier.eval()
    out = predict(classifier, torch.from_numpy(np.ascontiguousarray(images)), next(classifier.parameters()).device)
    return (out[:, 1] - out[:, 0]).double().numpy()


def shifted_images(images: np.ndarray, kind: str) -> np.ndarray:
    """The test images as a new scanner might show them: lesson 3's change ``kind`` at the benchmark strength."""
    return np.stack([shift_image(image, kind, SHIFTS[kind], [0, i]) for i, image in enumerate(images)])


@results.computed_once()
def study_cases(
    classifier: Any, seed: int = 42, n_test: int | None = None, progress: bool = True
) -> tuple[Cases, dict[str, Cases], referral.QualityCheck]:
    """Run ``classifier`` on the validation and test cases of the cohort drawn with ``seed`` (``n_test``:
    only the first test cases) and on the test cases under each input change; fit the quality check on
    training images (its threshold on validation images) and score every test scan with it."""
    from medai_edu.data.brain import BrainDataset, CohortSettings, load_cohort

    settings = CohortSettings(seed=seed)
    load_cohort(settings, progress)
    validation, test, train = (BrainDataset(s, settings, limit=n_test if s == "test" else None) for s in SPLITS)
    # (the cohort is read once and kept in memory: the three splits share it)
    val_cases = Cases(validation.labels, _logits(classifier, validation.field("images")), None, validation.severities)
    quality = referral.QualityCheck().fit(train.field("images"))
    quality.set_threshold(validation.field("images"), QUALITY_QUANTILE)
    clean, tests = test.field("images"), {}
    for kind in CONDITIONS:
        images = clean if kind == "clean" else shifted_images(clean, kind)
        tests[kind] = Cases(test.labels, _logits(classifier, images), quality.score(images), test.severities)
    return val_cases, tests, quality


def build_study(seed: int = 42, n_test: int | None = None, progress: bool = True) -> Study:
    """The study of :func:`study_cases` for the shipped classifier, with the temperature fitted on the
    validation cases."""
    val_cases, tests, quality = study_cases(results.LazyModel("brain_classifier"), seed, n_test, progress)
    return Study(val_cases, tests, referral.fit_temperature(val_cases.logits, val_cases.labels), quality)


SPLITS = ("val", "test", "train")
#: the notebook's N_TEST in lecture and in quick mode (what the results cache stores)
NOTEBOOK_N_TEST = {False: 600, True: 120}


@results.recipe("lesson 4: human with AI")
def notebook_results(quick: bool) -> None:
    """What the notebook computes (lecture or quick mode), and the claims' study: stored by `medai-edu cache build`."""
    build_study(n_test=NOTEBOOK_N_TEST[quick], progress=False)
    if not quick:
        build_study(progress=False)


@lru_cache(maxsize=2)
def load_study(n_test: int | None = None, progress: bool = True) -> Study:
    """:func:`build_study` of the lesson's cohort, kept for the session (the notebook and the claims share it)."""
    return build_study(n_test=n_test, progress=progress)


def chosen_share(study: Study, shares: Sequence[float] = BENCH_SHARES) -> float:
    """The referral share the lesson recommends: the one with the best team accuracy on the
    *validation* cases (reader without automation bias); ties go to the smaller share."""
    v = study.validation
    p = v.probabilities(study.temperature)
    reader = study.reader.correct_probability(v.labels, v.answers)
    curve = referral.referral_curve(v.model_correct, reader, referral.confidence(p), shares)
    return float(shares[int(np.argmax(np.round(curve, 9)))])


def with_quality_check(study: Study, condition: str, threshold: float) -> dict[str, float]:
    """The team at a confidence ``threshold`` (cases below it go to the reader with the AI's
    suggestion) with and without the quality check: a flagged scan goes to the reader *without* the
    AI's suggestion (its input is not what the model was trained on)."""
    cases = study.test[condition]
    conf = study.confidences(condition)
    flagged = cases.checked_quality > study.quality.threshold
    to_reader = conf < threshold
    with_ai = study.reader_correct(condition)
    alone = study.reader.correct_probability(cases.labels)
    without_check = np.where(to_reader, with_ai, cases.model_correct)
    with_check = np.where(flagged, alone, without_check)
    return {
        "share_referred_by_confidence": float(to_reader.mean()),
        "share_confident_and_wrong": float(np.mean(~to_reader & ~cases.model_correct)),
        "share_called_ad": float(cases.answers.mean()),
        "share_flagged": float(flagged.mean()),
        "share_to_reader_with_check": float((to_reader | flagged).mean()),
        "team_without_check": float(without_check.mean()),
        "team_with_check": float(with_check.mean()),
    }


def reliance(study: Study, share: float, automation_bias: float, condition: str = "clean") -> dict[str, float]:
    """What the reader's switching to the AI's answer does at a referral share, as shares of all test cases.

    ``over_reliance``: referred cases the reader would have got right alone but gets wrong by
    switching to a wrong AI suggestion (automation bias in the literature's sense);
    ``appropriate_reliance``: referred cases the reader would have got wrong but gets right by switching
    to a right suggestion. The team's accuracy changes by their difference.
    ``wrong_suggestions``: referred cases whose AI suggestion is wrong.
    """
    cases = study.test[condition]
    to_reader = referral.referred(study.confidences(condition), share)
    own = study.reader.own_accuracy(cases.labels)
    ai_right = cases.model_correct
    return {
        "over_reliance": float(np.where(to_reader & ~ai_right, own * automation_bias, 0.0).mean()),
        "appropriate_reliance": float(np.where(to_reader & ai_right, (1 - own) * automation_bias, 0.0).mean()),
        "wrong_suggestions": float((to_reader & ~ai_right).mean()),
    }


def at_prevalence(study: Study, prevalence: float, share: float) -> dict[str, float]:
    """The clean test cases weighted to a population with ``prevalence`` of AD (the cohort has 50 %):
    the model's sensitivity and specificity (unchanged by the weights), the share of its AD calls that
    are right (positive predictive value) and the ECE of its temperature-scaled probabilities, as they
    are and corrected for the prevalence (:func:`referral.shift_prior`); the team at ``share`` referred."""
    cases = study.test["clean"]
    y, calls = cases.labels, cases.answers
    w = referral.prevalence_weights(y, prevalence)
    logits = cases.logits / study.temperature
    corrected = referral.sigmoid(referral.shift_prior(logits, prevalence))
    team = np.where(referral.referred(study.confidences(), share), study.reader_correct(), cases.model_correct)
    return {
        "prevalence": prevalence,
        "sensitivity": float(calls[y == 1].mean()),
        "specificity": float(1 - calls[y == 0].mean()),
        "ppv": float((w * (calls == 1) * (y == 1)).sum() / (w * (calls == 1)).sum()),
        "npv": float((w * (calls == 0) * (y == 0)).sum() / (w * (calls == 0)).sum()),
        "mean_probability": float((w * referral.sigmoid(logits)).sum() / w.sum()),
        "ece": weighted_ece(referral.sigmoid(logits), y, w),
        "ece_prior_corrected": weighted_ece(corrected, y, w),
        "model_accuracy": float((w * cases.model_correct).sum() / w.sum()),
        "team_at_share": float((w * team).sum() / w.sum()),
    }


def weighted_ece(probabilities: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """The ECE (:data:`CALIBRATION_BINS` bins) with each case counted by its weight."""
    index = np.minimum((probabilities * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    total = weights.sum()
    gaps = 0.0
    for b in np.unique(index):
        inside = index == b
        mass = weights[inside].sum()
        gap = abs((weights[inside] * probabilities[inside]).sum() - (weights[inside] * labels[inside]).sum()) / mass
        gaps += mass / total * gap
    return float(gaps)


def image_ceiling() -> float:
    """The best accuracy any reading of the scans can reach: a reader who knew each person's exact
    disease severity (MCI and AD severities overlap; the cohort is 50/50) and chose the likelier group."""
    (mci_low, mci_high), (ad_low, ad_high) = LECTURE.mci_severity, LECTURE.ad_severity
    overlap = max(0.0, min(mci_high, ad_high) - max(mci_low, ad_low))
    return 1 - 0.5 * overlap / max(mci_high - mci_low, ad_high - ad_low)


# --- the notebook's figures and tables ---------------------------------------------------------


def team_percent(study: Study, share: float, automation_bias: float = 0.0) -> float:
    """The team's accuracy (percent) on the clean test cases at a referral share, as the explorer's dot shows it."""
    return 100 * float(np.interp(share, study.shares, study.curve("clean", automation_bias)))


def referred_at_capacity(study: Study, capacity: float) -> dict[str, float]:
    """Print (and return) the percentage of test scans referred, per condition, at the confidence threshold that
    refers ``capacity`` percent of the *validation* cases (the reader's workload as planned)."""
    if not 0 <= capacity < 100:
        raise ValueError(f"capacity is a percentage of the cases, from 0 to below 100; you gave {capacity!r}.")
    validation = referral.confidence(study.validation.probabilities(study.temperature))
    threshold = referral.threshold_for_capacity(validation, capacity / 100)
    referred = {c: 100 * float(np.mean(study.confidences(c) < threshold)) for c in study.test}
    print(f"Confidence threshold for a reader who can read {capacity:g} % of the cases: {threshold:.3f}")
    for condition, share in referred.items():
        print(f"  test scans {CONDITION_LABELS[condition]:>15}: {share:5.1f} % referred")
    return referred


def quality_scores(study: Study) -> dict[str, np.ndarray]:
    """The quality check's score of every test scan, by condition label."""
    return {CONDITION_LABELS[c]: study.test[c].checked_quality for c in study.test}


def operating_threshold(study: Study) -> float:
    """The confidence threshold that refers :func:`chosen_share` of the *validation* cases."""
    v = study.validation
    return referral.threshold_for_capacity(referral.confidence(v.probabilities(study.temperature)), chosen_share(study))


def shift_curves(study: Study) -> dict[str, np.ndarray]:
    """The team's referral curve (no automation bias) per condition label."""
    return {CONDITION_LABELS[c]: study.curve(c) for c in study.test}


def reliability_before_after(study: Study) -> tuple[dict[str, dict], dict[str, float]]:
    """Reliability-diagram bins and ECE of the clean test cases, before and after temperature scaling."""
    names = {"before recalibration": False, "after temperature scaling": True}
    return (
        {n: study.reliability("clean", r) for n, r in names.items()},
        {n: study.ece("clean", r) for n, r in names.items()},
    )


def reliability_by_condition(study: Study) -> tuple[dict[str, dict], dict[str, float]]:
    """Reliability-diagram bins and ECE (after temperature scaling) per condition label."""
    return (
        {CONDITION_LABELS[c]: study.reliability(c) for c in study.test},
        {CONDITION_LABELS[c]: study.ece(c) for c in study.test},
    )


QUALITY_ROWS = {
    "share_referred_by_confidence": "referred by confidence",
    "share_flagged": "flagged by quality check",
    "share_to_reader_with_check": "to the reader, with the check",
    "team_without_check": "team without the check",
    "team_with_check": "team with the check",
}


def quality_table(study: Study) -> pd.DataFrame:
    """Per condition (one column each, so the table fits a narrow screen): the workload at the operating threshold, the scans the quality check flags and
    the team's accuracy without and with the check (a table)."""
    import pandas as pd

    threshold = operating_threshold(study)
    columns = {CONDITION_LABELS[c]: with_quality_check(study, c, threshold) for c in study.test}
    return (
        (100 * pd.DataFrame(columns).loc[list(QUALITY_ROWS)])
        .rename(index=QUALITY_ROWS)
        .round(1)
        .rename_axis("Measure (% of test scans)")
    )


def reference_benchmark(path: Path = BENCHMARK_FILE) -> pd.DataFrame:
    """The shipped `medai-edu bench referral` result as a table: one column per condition."""
    import pandas as pd

    result = pretrained.read_result(path, "referral")
    share = result["chosen_share"]
    columns = {}
    for condition, row in result["conditions"].items():
        columns[CONDITION_LABELS[condition]] = {
            "model alone (% right)": round(100 * row["model_accuracy"], 1),
            "reader alone (% right)": round(100 * row["reader_accuracy"], 1),
            f"team, {share:.0%} referred (% right)": round(100 * row["team"]["bias_0"][f"share_{_key(share)}"], 1),
            "same, automation bias 0.5 (% right)": round(100 * row["team"]["bias_50"][f"share_{_key(share)}"], 1),
            "ECE before": round(row["ece_before"], 3),
            "ECE after": round(row["ece_after"], 3),
            "flagged by quality check (%)": round(100 * row["quality"]["share_flagged"], 1),
            "team with quality check (% right)": round(100 * row["quality"]["team_with_check"], 1),
        }
    data, borderline = result["data"], result["borderline_reader"]
    print(
        f"A reader right on only {borderline['accuracy_on_borderline']:.0%} of borderline cases (same sensitivity and "
        f"specificity overall): team right in {borderline['team_at_chosen_share']:.1%} at {share:.0%} referred, clean scans."
    )
    print(
        f"Benchmark: {data['n_test']} test cases (accuracies), temperature {result['temperature']:.2f} fitted on "
        f"{data['n_val']} validation cases; reader sensitivity {result['reader']['sensitivity']:.0%}, "
        f"specificity {result['reader']['specificity']:.0%}."
    )
    return pd.DataFrame(columns).rename_axis("Measure")  # one column per condition: fits a narrow screen


BENCHMARK = BENCHMARK_FILE.name


def _f(path: str) -> claims.Field:
    return claims.Field(BENCHMARK, path)


#: The core questions of the lesson (no programming): the right answers and the explanations live
#: here, never in a notebook cell or an error message.
QUESTIONS = {
    "team": Estimate(
        "predict_team",
        88,
        96,
        unit="%",
        limits=(0, 100),
        predicted=True,
        why="The model refers the cases it is least sure of, and those are the cases it gets wrong most often; an "
        "independent reader is right on most of them, so the team beats both of its members by a few points.",
        mistakes={
            87.3: "That is the model alone. The team keeps the model's answers where it is confident and hands the "
            "rest to the reader, who is right on many of the cases the model would have got wrong.",
            82.5: "That is the reader alone. The reader only sees the referred cases; on the others the model's "
            "confident answers stand, and they are mostly right.",
            85: "An average of the two would hold if the cases were shared out at random. But the model refers the "
            "cases it is least sure of, where it errs most: that is where the reader helps.",
        },
    ),
    "full_bias": Estimate(
        "read_team_full_bias",
        86.8,
        87.8,
        unit="%",
        limits=(0, 100),
        why="With an automation bias of 1 the reader takes the model's suggestion every time they disagree, so every "
        "referred case ends with the model's answer: the team is exactly the model alone.",
        mistakes={
            91.9: "That is the team without automation bias. Move the Automation bias slider to 1 and read the black "
            "dot's value in the legend.",
            89.6: "That is an automation bias of 0.5. Move the slider all the way to 1.",
            82.5: "That is the reader alone (the green line). Read the black dot at 40 % referred.",
        },
    ),
    "capacity": Estimate(
        "read_referred_low_contrast",
        2.5,
        4.0,
        unit="%",
        limits=(0, 100),
        why="Even with twice the reader's capacity, almost no lower-contrast scan is referred: the model is confident "
        "on them, and wrong, so a threshold on confidence never sends them to a human.",
        mistakes={
            0.2: "That is the share with a capacity of 20 %. Change the number in the cell to 40 and run it again.",
            36.2: "That is the share of the scans as trained; the question asks for the lower-contrast scans.",
            40: "40 % is the capacity you typed in, planned on the validation scans. Read the line for the "
            "lower-contrast test scans.",
        },
    ),
    "confident_wrong": Choice(
        "answer_confident_wrong",
        "B",
        {
            "A": "The reader's workload is not the problem under lower contrast: the model refers almost no scans, so "
            "the reader gets fewer of them, not more.",
            "B": "Under lower contrast the model is right on about half of the scans, yet confident on almost all of "
            "them, so almost none is referred: its errors never reach a human. Confidence-based referral cannot catch "
            "an error the model is confident about; an input-quality check has to look at the scan itself.",
            "C": "Lower contrast made the model far worse, close to a coin toss, although it became more confident.",
        },
    ),
}

#: where the right answers come from (a test checks each against its question: a number in its range,
#: a letter equal to the right one)
ANSWERS = {
    "team": claims.Computed(
        lambda: team_percent(load_study(), chosen_share(load_study())), "team at the chosen share, clean test cases"
    ),
    "full_bias": claims.Computed(
        lambda: team_percent(load_study(), chosen_share(load_study()), 1.0), "the same with automation bias 1"
    ),
    "capacity": claims.Computed(
        lambda: referral_at(40)["contrast"], "lower-contrast test scans referred at a 40 % capacity threshold"
    ),
    "confident_wrong": claims.Computed(
        lambda: (
            "B"
            if _f("conditions.contrast.quality.share_referred_by_confidence").read() < 0.1
            and _f("conditions.contrast.model_accuracy").read() < 0.6
            else "A"
        ),
        "lower contrast: share referred by confidence and the model's accuracy (benchmark)",
    ),
}


def referral_at(capacity: float) -> dict[str, float]:
    """:func:`referred_at_capacity` of the lesson's study, without printing."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return referred_at_capacity(load_study(), capacity)
