"""Lesson 4 (human with AI): the simulated reading study the notebook and `medai-edu bench referral` share.

The cases are lesson 2's simulated cohort (MCI = 0, AD = 1) and its shipped classifier. Every
choice is made on the validation split: the temperature of the recalibration, the quality
check's threshold (its statistics come from the training split) and the referral share the lesson
recommends. The test split only reports. ``CLAIMS`` (at the end) binds every quantitative sentence
of the lesson to the shipped benchmark (``medai_edu/measurements/referral_benchmark.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from medai_edu import claims, pretrained, referral, results
from medai_edu.checks import Choice, Estimate
from medai_edu.data.brain import LECTURE
from medai_edu.data.shifts import CONDITIONS, SHIFTS, shift_image
from medai_edu.lessons import welcome
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
    "CLAIMS",
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


# --- what the lesson's text says, bound to the benchmark (design §5b) ---------------------------
BENCHMARK = BENCHMARK_FILE.name


def _f(path: str) -> claims.Field:
    return claims.Field(BENCHMARK, path)


def _team(share: str, bias: str = "0", condition: str = "clean") -> claims.Field:
    return _f(f"conditions.{condition}.team.bias_{bias}.share_{share}")


def _chosen_team(bias: str = "0", condition: str = "clean") -> claims.Computed:
    return claims.Computed(
        lambda: _team(_key(_f("chosen_share").read()), bias, condition).read(),
        f"team accuracy at the validation-chosen share, automation bias {bias} %, {condition}",
    )


def _worst(what: str) -> claims.Computed:
    return claims.Computed(
        lambda: max(_f(f"conditions.{c}.{what}").read() for c in CONDITIONS[1:]), f"largest {what} under a change"
    )


def _best(what: str) -> claims.Computed:
    return claims.Computed(
        lambda: max(_f(f"conditions.{c}.{what}").read() for c in CONDITIONS[1:]), f"highest {what} under a change"
    )


def _lowest(what: str) -> claims.Computed:
    return claims.Computed(
        lambda: min(_f(f"conditions.{c}.{what}").read() for c in CONDITIONS[1:]), f"lowest {what} under a change"
    )


def _points(path: str) -> dict[str, claims.Computed]:
    """A bootstrap interval of the benchmark (difference, low, high), in percentage points."""
    return {
        end: claims.Computed(lambda end=end: 100 * _f(f"{path}.{end}").read(), f"{path}.{end}, percentage points")  # type: ignore[misc]  # mypy cannot type a lambda whose default binds the loop variable (python/mypy#15459)
        for end in ("difference", "low", "high")
    }


def _per_100(path: str) -> claims.Computed:
    return claims.Computed(lambda: 100 * _f(path).read(), f"{path}, per 100 test people")


def _called(condition: str, ad: bool, final: bool = False) -> claims.Computed:
    field = _f(f"{'final_test.' if final else ''}conditions.{condition}.quality.share_called_ad")
    return claims.Computed(
        lambda: field.read() if ad else 1 - field.read(), f"share called {'AD' if ad else 'MCI'}, {condition}"
    )


def _confident(condition: str, final: bool = False) -> claims.Computed:
    field = _f(f"{'final_test.' if final else ''}conditions.{condition}.quality.share_referred_by_confidence")
    return claims.Computed(lambda: 1 - field.read(), f"share not referred (confident), {condition}")


def _bin_share(condition: str, bins: tuple[int, ...]) -> float:
    """The share of the test people in the given reliability-diagram bins (after temperature scaling)."""
    count = load_study().reliability(condition)["count"]
    return float(sum(count[b] for b in bins) / count.sum())


def _share_reaching_reader() -> float:
    """The smallest benchmark share at which the team on every kind of changed scan is within 2 points of the reader."""
    reader = _f("conditions.clean.reader_accuracy").read()
    return max(min(s for s in BENCH_SHARES if _team(_key(s), "0", c).read() >= reader - 0.02) for c in CONDITIONS[1:])


def _final_shifted(what: str, pick: Callable[[Iterable[float]], float]) -> claims.Computed:
    """The ``pick`` (min or max) of a benchmark value over the changed scans of the final test set."""
    return claims.Computed(
        lambda: pick(_f(f"final_test.conditions.{c}.{what}").read() for c in CONDITIONS[1:]),
        f"{pick.__name__} of {what} under a change, final test set",
    )


def _quoted(value: float, what: str) -> claims.Computed:
    return claims.Computed(lambda: value, what)


_CHOSEN = claims.Computed(lambda: _f("chosen_share").read(), "referral share chosen on the validation cases")
_SONONET = "Baumgartner et al., IEEE Trans Med Imaging 2017"
_PCT = "{:.0%}"
_N = {"n": _f("data.n_test"), "n_val": _f("data.n_val")}
_WHOLE = {"n": "{:d}", "n_val": "{:d}"}
_READER = {
    "sensitivity": _quoted(READER.sensitivity, "the simulated reader's sensitivity"),
    "specificity": _quoted(READER.specificity, "the simulated reader's specificity"),
}

CLAIMS = [
    claims.Claim(
        "reader_definition",
        "Our simulated reader recognises AD in {sensitivity} of the people with Alzheimer's disease (the reader's "
        "[sensitivity](../00_welcome/glossary.md#sensitivity)) and MCI in {specificity} of the people with MCI (the "
        "[specificity](../00_welcome/glossary.md#specificity)), each case independently of the others and of the model.",
        _READER,
        lambda v: 0.5 < v["sensitivity"] < 1 and 0.5 < v["specificity"] < 1,
        {"sensitivity": _PCT, "specificity": _PCT},
    ),
    claims.Claim(
        "model_and_reader_alone",
        "On the {n} test cases the model alone is right in {model} of cases and the reader alone in {reader}.",
        {**_N, "model": _f("conditions.clean.model_accuracy"), "reader": _f("conditions.clean.reader_accuracy")},
        lambda v: v["model"] > 0.5 and v["reader"] > 0.5,
        {**_WHOLE, "model": "{:.1%}", "reader": "{:.1%}"},
    ),
    claims.Claim(
        "question_setup",
        "The model alone is right in {model} of the test cases, the reader alone in {reader}.",
        {"model": _f("conditions.clean.model_accuracy"), "reader": _f("conditions.clean.reader_accuracy")},
        lambda v: v["model"] > v["reader"] > 0.5,
        {"model": "{:.1%}", "reader": "{:.1%}"},
    ),
    claims.Claim(
        "explorer_start",
        "The explorer starts with the model referring its {share} least confident cases to the reader, without "
        "automation bias.",
        {"share": _CHOSEN},
        lambda v: 0 < v["share"] < 1,
        {"share": _PCT},
    ),
    claims.Claim(
        "question_full_bias",
        "In the explorer, keep Share referred at {share} and move Automation bias to 1.",
        {"share": _CHOSEN},
        lambda v: 0 < v["share"] < 1,
        {"share": _PCT},
    ),
    claims.Claim(
        "team_beats_both",
        "Referring the {share} least confident cases (the share that worked best on the {n_val} validation cases), "
        "the team is right in {team} of the test cases: better than the model alone ({model}) and better than the "
        "reader alone ({reader}).",
        {
            **_N,
            "share": _CHOSEN,
            "team": _chosen_team(),
            "model": _f("conditions.clean.model_accuracy"),
            "reader": _f("conditions.clean.reader_accuracy"),
        },
        lambda v: v["team"] > v["model"] and v["team"] > v["reader"],
        {**_WHOLE, "share": _PCT, "team": "{:.1%}", "model": "{:.1%}", "reader": "{:.1%}"},
    ),
    claims.Claim(
        "team_minus_model_interval",
        "The team's gain over the model alone is {difference} percentage points, with a 95 % "
        "[bootstrap](../00_welcome/glossary.md#bootstrap) interval (the range in which the gain lies for 95 % of "
        "random redraws of the test cases) from {low} to {high}: more than chance on these cases, and on the final "
        "test set ({final_difference}, from {final_low} to {final_high}).",
        {
            **_points("team_vs_model"),
            **{f"final_{k}": v for k, v in _points("final_test.team_vs_model").items()},
        },
        lambda v: v["low"] > 0 and v["final_low"] > 0,
        {k: "{:+.1f}" for k in ("difference", "low", "high", "final_difference", "final_low", "final_high")},
    ),
    claims.Claim(
        "team_above_image_ceiling",
        "The team's {team} exceeds what any reading of these scans alone could reach: the MCI and AD groups' "
        "severities overlap, so even a reader who knew each person's exact severity from the image would be right in "
        "at most {ceiling} of cases. Our simulated reader gets past that limit only because their errors are drawn "
        "independently of the scan, as if they knew something the image does not show, such as the history or the "
        "results of cognitive tests.",
        {"team": _chosen_team(), "final_team": _f("final_test.team_at_chosen_share"), "ceiling": _f("image_ceiling")},
        lambda v: v["team"] > v["ceiling"] and v["final_team"] > v["ceiling"],
        {"team": "{:.1%}", "ceiling": "{:.1%}"},
    ),
    claims.Claim(
        "borderline_reader_removes_the_gain",
        "A second simulated reader has the same sensitivity and specificity overall, but is right on only "
        "{accuracy} of the borderline cases, the people whose severity lies where the MCI and AD groups overlap "
        "({referred} of the referred cases are borderline), and more often on the others. With this reader the team "
        "at the same share reaches {team}, a gain over the model alone of {difference} percentage points (95 % "
        "bootstrap interval {low} to {high}), which these cases cannot tell from no gain; on the final test set the "
        "gain is {final_difference} ({final_low} to {final_high}) against {final_independent} with the independent "
        "reader. On both sets the gain shrinks; whether it vanishes depends on the cases.",
        {
            "accuracy": _f("borderline_reader.accuracy_on_borderline"),
            "referred": _f("borderline_reader.share_borderline_among_referred"),
            "team": _f("borderline_reader.team_at_chosen_share"),
            "independent": _chosen_team(),
            "difference": claims.Computed(
                lambda: 100 * _f("borderline_reader.team_vs_model.difference").read(), "borderline team minus model, pp"
            ),
            "low": claims.Computed(lambda: 100 * _f("borderline_reader.team_vs_model.low").read(), "low end, pp"),
            "high": claims.Computed(lambda: 100 * _f("borderline_reader.team_vs_model.high").read(), "high end, pp"),
            **{f"final_{k}": v for k, v in _points("final_test.borderline_reader.team_vs_model").items()},
            "final_independent": _points("final_test.team_vs_model")["difference"],
        },
        lambda v: (
            v["low"] < 0 < v["high"] and v["team"] < v["independent"] and v["final_difference"] < v["final_independent"]
        ),
        {
            **{f"final_{k}": "{:+.1f}" for k in ("difference", "low", "high", "independent")},
            "accuracy": _PCT,
            "referred": _PCT,
            "team": "{:.1%}",
            "difference": "{:+.1f}",
            "low": "{:+.1f}",
            "high": "{:+.1f}",
        },
    ),
    claims.Claim(
        "automation_bias_costs",
        "With an automation bias of 0.5 (the reader switches to the AI's answer on half the cases where they "
        "disagree), the same team reaches only {biased}, and at 1 it is exactly the model alone ({model}).",
        {
            "biased": _chosen_team("50"),
            "unbiased": _chosen_team("0"),
            "always": _chosen_team("100"),
            "model": _f("conditions.clean.model_accuracy"),
        },
        lambda v: v["biased"] < v["unbiased"] and abs(v["always"] - v["model"]) < 1e-9,
        {"biased": "{:.1%}", "model": "{:.1%}"},
    ),
    claims.Claim(
        "over_and_appropriate_reliance",
        "Counted separately at 0.5, per 100 test people: the reader gives up a right reading for a wrong suggestion "
        "{over} times (automation bias, or over-reliance) and corrects a wrong reading with a right suggestion "
        "{appropriate} times (appropriate reliance); the team loses the difference. On the final test set the counts "
        "are {final_over} and {final_appropriate}. Over-reliance outweighs appropriate reliance here because on the "
        "referred cases the reader alone is right more often ({reader}) than the model's suggestion ({suggestion}).",
        {
            "over": _per_100("reliance.bias_50.over_reliance"),
            "appropriate": _per_100("reliance.bias_50.appropriate_reliance"),
            "final_over": _per_100("final_test.reliance.bias_50.over_reliance"),
            "final_appropriate": _per_100("final_test.reliance.bias_50.appropriate_reliance"),
            "biased": _chosen_team("50"),
            "unbiased": _chosen_team("0"),
            "reader": _f("conditions.clean.reader_accuracy"),
            "suggestion": claims.Computed(
                lambda: 1 - _f("reliance.bias_0.wrong_suggestions").read() / _f("chosen_share").read(),
                "the model's accuracy on the referred clean test cases",
            ),
        },
        lambda v: (
            v["over"] > v["appropriate"]
            and v["final_over"] > v["final_appropriate"]
            and abs((v["appropriate"] - v["over"]) / 100 - (v["biased"] - v["unbiased"])) < 1e-9
            and v["reader"] > v["suggestion"]
        ),
        {
            "over": "{:.1f}",
            "appropriate": "{:.1f}",
            "final_over": "{:.1f}",
            "final_appropriate": "{:.1f}",
            "reader": "{:.1%}",
            "suggestion": "{:.1%}",
        },
    ),
    claims.Claim(
        "limits_box",
        "It cannot show how well a real team would do: the image alone allows at most {ceiling} of correct answers "
        "here, and our reader's independence from the scan stands in for the clinical information a real clinician "
        "has; the cohort is half MCI, half AD (Section 4 shows what a rarer disease changes); the reader's "
        "sensitivity and specificity are our choices, set after we had seen the team's curve on these test people; "
        "and no real clinician, scanner or patient took part.",
        {"ceiling": _f("image_ceiling"), "ad_share": _f("prevalence.cohort.prevalence")},
        lambda v: 0.5 < v["ceiling"] < 1 and v["ad_share"] == 0.5,
        {"ceiling": "{:.1%}"},
    ),
    claims.Claim(
        "temperature_near_one",
        "Fitted on the validation cases, the temperature is {temperature}: this classifier was already nearly "
        "calibrated, and recalibration changes the test cases' ECE only from {before} to {after}.",
        {
            "temperature": _f("temperature"),
            "before": _f("conditions.clean.ece_before"),
            "after": _f("conditions.clean.ece_after"),
            "final_before": _f("final_test.ece_before"),
            "final_after": _f("final_test.ece_after"),
        },
        lambda v: (
            0.8 < v["temperature"] < 1.25
            and abs(v["before"] - v["after"]) < 0.02
            and abs(v["final_before"] - v["final_after"]) < 0.02
        ),
        {"before": "{:.3f}", "after": "{:.3f}"},
    ),
    claims.Claim(
        "prevalence",
        "Weighting the test people as a population with {prevalence} AD (the model's sensitivity, {sensitivity}, and "
        "specificity, {specificity}, stay the same), the share of the model's AD calls that are right falls from "
        "{ppv_cohort} to {ppv}, and its probabilities overstate the disease: they average {mean_probability} where "
        "{prevalence} have AD, an ECE of {ece} instead of {ece_cohort}. Correcting the probabilities for the new "
        "prevalence (shifting the model's logits by the change in the odds of AD before any scan is seen; Saerens et "
        "al., 2002) brings the ECE back to {ece_corrected}. On the final test set: AD calls right {final_ppv}, ECE "
        "{final_ece} before and {final_ece_corrected} after the correction.",
        {
            **{k: _f(f"prevalence.low.{k}") for k in ("prevalence", "sensitivity", "specificity", "ppv")},
            **{k: _f(f"prevalence.low.{k}") for k in ("mean_probability", "ece")},
            "ece_corrected": _f("prevalence.low.ece_prior_corrected"),
            "ppv_cohort": _f("prevalence.cohort.ppv"),
            "ece_cohort": _f("prevalence.cohort.ece"),
            "final_ppv": _f("final_test.prevalence.ppv"),
            "final_ece": _f("final_test.prevalence.ece"),
            "final_ece_corrected": _f("final_test.prevalence.ece_prior_corrected"),
            "final_ppv_cohort": _f("final_test.conditions.clean.ece_after"),
        },
        lambda v: (
            v["ppv"] < v["ppv_cohort"]
            and v["final_ppv"] < v["ppv_cohort"]
            and v["mean_probability"] > 1.5 * v["prevalence"]
            and v["ece"] > 3 * v["ece_cohort"]
            and v["final_ece"] > 3 * v["final_ppv_cohort"]
            and v["ece_corrected"] < v["ece"] / 3
            and v["final_ece_corrected"] < v["final_ece"] / 3
        ),
        {
            "prevalence": _PCT,
            "sensitivity": _PCT,
            "specificity": _PCT,
            "ppv": _PCT,
            "ppv_cohort": _PCT,
            "final_ppv": _PCT,
            "mean_probability": "{:.2f}",
            "ece": "{:.3f}",
            "ece_cohort": "{:.3f}",
            "ece_corrected": "{:.3f}",
            "final_ece": "{:.3f}",
            "final_ece_corrected": "{:.3f}",
        },
    ),
    claims.Claim(
        "new_scanner_breaks_the_model",
        "Under each change the model alone is right in at most {model} of the test cases, close to a coin toss, "
        "and its ECE rises to between {ece_low} and {ece_high}, although the temperature fitted on clean "
        "validation scans is still applied.",
        {
            "model": _best("model_accuracy"),
            "ece_low": _lowest("ece_after"),
            "ece_high": _worst("ece_after"),
            "clean_ece": _f("conditions.clean.ece_after"),
            "final_model": _final_shifted("model_accuracy", max),
            "final_ece_low": _final_shifted("ece_after", min),
            "final_clean_ece": claims.Computed(
                lambda: _f("final_test.conditions.clean.ece_after").read(), "ECE of the clean scans, final test set"
            ),
        },
        lambda v: all(v[f"{p}model"] < 0.6 and v[f"{p}ece_low"] > 5 * v[f"{p}clean_ece"] for p in ("", "final_")),
        {"model": _PCT, "ece_low": "{:.2f}", "ece_high": "{:.2f}"},
    ),
    claims.Claim(
        "new_scanner_one_answer",
        "On scans unlike its training data the model calls nearly everyone MCI (lower contrast: {contrast} of the "
        "people, blur: {blur}) or nearly everyone AD (noise: {noise}), on the final test set too.",
        {
            "contrast": _called("contrast", ad=False),
            "blur": _called("blur", ad=False),
            "noise": _called("noise", ad=True),
            "least": claims.Computed(
                lambda: min(
                    _called(c, ad=c == "noise", final=final).read() for c in CONDITIONS[1:] for final in (False, True)
                ),
                "the smallest share of people given the majority answer under a change, either test set",
            ),
        },
        lambda v: v["least"] >= 0.9,
        {c: "{:.1%}" for c in CONDITIONS},
        words={"nearly every": "least"},
    ),
    claims.Claim(
        "new_scanner_moves_the_workload",
        "At the confidence threshold chosen on validation cases, the model refers {clean} of the clean test scans, "
        "but {noise} under noise, {contrast} under lower contrast and {blur} under blur: the reader's workload "
        "moves with the scanner.",
        {c: _f(f"conditions.{c}.quality.share_referred_by_confidence") for c in CONDITIONS},
        lambda v: v["contrast"] < 0.1 < v["clean"] and v["noise"] != v["clean"],
        {c: _PCT for c in CONDITIONS},
    ),
    claims.Claim(
        "confident_and_wrong",
        "Under lower contrast the model is confident on {confident} of the scans and wrong on about half of those: "
        "{confident_wrong} of all lower-contrast scans are confident errors that no reader sees (final test set: "
        "{final_confident_wrong}).",
        {
            "confident": _confident("contrast"),
            "confident_wrong": _f("conditions.contrast.quality.share_confident_and_wrong"),
            "final_confident_wrong": _f("final_test.conditions.contrast.quality.share_confident_and_wrong"),
            "wrong_when_confident": claims.Computed(
                lambda: (
                    _f("conditions.contrast.quality.share_confident_and_wrong").read() / _confident("contrast").read()
                ),
                "share of the confident lower-contrast calls that are wrong",
            ),
            "final_wrong_when_confident": claims.Computed(
                lambda: (
                    _f("final_test.conditions.contrast.quality.share_confident_and_wrong").read()
                    / _confident("contrast", final=True).read()
                ),
                "the same, final test set",
            ),
        },
        lambda v: 0.4 <= v["final_wrong_when_confident"] <= 0.6,
        {"confident": _PCT, "confident_wrong": "{:.1%}", "final_confident_wrong": "{:.1%}"},
        words={"about half": "wrong_when_confident"},
    ),
    claims.Claim(
        "question4_option_b",
        "B. The model is confident on almost all of these scans but wrong on about half of them, so those errors "
        "never reach a human.",
        {
            "confident": _confident("contrast"),
            "wrong": claims.Computed(
                lambda: (
                    _f("conditions.contrast.quality.share_confident_and_wrong").read() / _confident("contrast").read()
                ),
                "share of the confident lower-contrast calls that are wrong",
            ),
        },
        lambda v: True,
        words={"almost all": "confident", "about half": "wrong"},
    ),
    claims.Claim(
        "question4_stem",
        "Under lower contrast, the model refers almost no scans to the reader.",
        {"referred": _f("conditions.contrast.quality.share_referred_by_confidence")},
        lambda v: True,
        words={"almost no": "referred"},
    ),
    claims.Claim(
        "figure2_alt",
        "two almost identical curves close to the diagonal, with most people in the lowest and highest bins.",
        {"extreme": claims.Computed(lambda: _bin_share("clean", (0, -1)), "clean test people in the end bins")},
        lambda v: True,
        words={"most": "extreme"},
    ),
    claims.Claim(
        "figure3_alt",
        "the three curves for the changed scans start far lower and reach about the reader's line only when most "
        "cases are referred.",
        {
            "lower": claims.Computed(
                lambda: _f("conditions.clean.model_accuracy").read() / _best("model_accuracy").read(),
                "the model's accuracy on clean scans over its best under a change",
            ),
            "reach": claims.Computed(
                _share_reaching_reader, "smallest share at which every changed curve nears the reader"
            ),
        },
        lambda v: True,
        words={"far better": "lower", "most": "reach"},
    ),
    claims.Claim(
        "figure4_alt",
        "the curves for the changed scans lie far from it, with the people piled in one extreme bin: about half of "
        "them under noise, most under blur and almost all under lower contrast.",
        {
            c: claims.Computed(partial(_bin_share, c, (-1,) if c == "noise" else (0,)), f"{c}: end bin")
            for c in CONDITIONS[1:]
        },
        lambda v: True,
        words={"about half": "noise", "most": "blur", "almost all": "contrast"},
    ),
    claims.Claim(
        "threshold_vs_share",
        "({clean_without} rather than the {team} of Section 3: the confidence threshold fixed on the validation people "
        "refers {referred} of these test scans rather than exactly {share})",
        {
            "clean_without": _f("conditions.clean.quality.team_without_check"),
            "team": _chosen_team(),
            "referred": _f("conditions.clean.quality.share_referred_by_confidence"),
            "share": _CHOSEN,
        },
        lambda v: v["referred"] != v["share"],
        {"clean_without": "{:.1%}", "team": "{:.1%}", "referred": _PCT, "share": _PCT},
    ),
    claims.Claim(
        "quality_check_recovers",
        "The quality check flags {clean_flagged} of the clean test scans and every changed one. Sending flagged scans to the reader without the AI's suggestion brings the team to "
        "{with_check} under every change, the reader's level, from {contrast} (lower contrast), {blur} (blur) and "
        "{noise} (noise) without the check. On clean scans it costs almost nothing: {clean_without} without the "
        "check, {clean_with} with it",
        {
            "clean_flagged": _f("conditions.clean.quality.share_flagged"),
            "shifted_flagged": _lowest("quality.share_flagged"),
            "with_check": _lowest("quality.team_with_check"),
            "with_check_high": _best("quality.team_with_check"),
            **{c: _f(f"conditions.{c}.quality.team_without_check") for c in CONDITIONS[1:]},
            "clean_without": _f("conditions.clean.quality.team_without_check"),
            "clean_with": _f("conditions.clean.quality.team_with_check"),
            "reader": _f("conditions.clean.reader_accuracy"),
            "final_shifted_flagged": _final_shifted("quality.share_flagged", min),
            "final_clean_flagged": _f("final_test.conditions.clean.quality.share_flagged"),
            "final_with_check": _final_shifted("quality.team_with_check", min),
        },
        lambda v: (
            v["final_shifted_flagged"] == 1.0
            and v["final_clean_flagged"] < 0.05
            and abs(v["final_with_check"] - v["reader"]) < 0.01
            and v["shifted_flagged"] == 1.0
            and v["clean_flagged"] < 0.05
            and abs(v["with_check"] - v["reader"]) < 0.01
            and v["with_check_high"] - v["with_check"] < 0.005
            and all(v["with_check"] > v[c] for c in CONDITIONS[1:])
            and v["clean_without"] - v["clean_with"] < 0.01
        ),
        {
            "clean_flagged": "{:.1%}",
            "with_check": "{:.1%}",
            **{c: "{:.1%}" for c in CONDITIONS[1:]},
            "clean_without": "{:.1%}",
            "clean_with": "{:.1%}",
        },
    ),
    claims.Claim(
        "final_test_set",
        "On a final [test set](../00_welcome/glossary.md#test-set) of {n} new cases, made afterwards from a different random "
        "[seed](../00_welcome/glossary.md#seed), the team reaches "
        "{team} against {model} for the model alone and {reader} for the reader alone.",
        {
            "n": _f("final_test.n_test"),
            "team": _f("final_test.team_at_chosen_share"),
            "model": _f("final_test.model_accuracy"),
            "reader": _f("final_test.reader_accuracy"),
        },
        lambda v: v["team"] > v["model"] and v["team"] > v["reader"],
        {"n": "{:d}", "team": "{:.1%}", "model": "{:.1%}", "reader": "{:.1%}"},
    ),
    claims.Claim(
        "sononet_results",
        "The paper reports an average F1 score of {f1} for detecting the standard planes in real time (a combined "
        "score of how many planes it found and how many of its detections were right; 1 is perfect), {retrieval} % "
        "[accuracy](../00_welcome/glossary.md#accuracy) for retrieving the right frames from recorded videos, and {localisation} % for localising the "
        "structure with the saliency-based method.",
        {
            "f1": _quoted(0.798, f"average F1, real-time detection ({_SONONET})"),
            "retrieval": _quoted(90.09, f"retrospective frame retrieval accuracy, % ({_SONONET})"),
            "localisation": _quoted(77.8, f"weakly supervised localisation accuracy, % ({_SONONET})"),
        },
        lambda v: 0 < v["f1"] < 1 and 0 < v["localisation"] < v["retrieval"] < 100,
        {"f1": "{:.3f}", "retrieval": "{:.2f}", "localisation": "{:.1f}"},
    ),
    claims.Claim(
        "fda_count",
        "The lecture lists {products} imaging AI products cleared by the [FDA](../00_welcome/glossary.md#FDA) by "
        "October 2019 (Lesson 0).",
        {"products": _quoted(welcome.FDA_CLEARED_BY_OCTOBER_2019, "FDA-cleared imaging AI products, as in lesson 0")},
        lambda v: v["products"] > 0,
        {"products": "{:d}"},
    ),
    claims.Claim(
        "summary_team",
        "On clean scans the team (model plus reader, {share} referred) was right more often than either alone; "
        "automation bias shrank that gain, and a new scanner took it away unless a quality check sent the changed "
        "scans to the reader.",
        {
            "share": _CHOSEN,
            "team": _chosen_team(),
            "biased": _chosen_team("50"),
            "either": claims.Computed(
                lambda: max(_f(f"conditions.clean.{w}_accuracy").read() for w in ("model", "reader")),
                "the better of the model alone and the reader alone, clean test scans",
            ),
            "shifted": _best("quality.team_without_check"),
        },
        lambda v: v["team"] > v["either"] > v["shifted"] and v["biased"] < v["team"],
        {"share": _PCT},
    ),
]

#: sentences the claims test flags that set up a definition or an exercise rather than report a measurement
DEFINITIONS = (
    "0.5 = a coin toss, 1 = certain",
    "a reader who can read 20 % of the cases",
    "for example `read_team_full_bias = 80.5`",  # the answers' formats, not results
    "for example `read_referred_low_contrast = 12.5`",
    "(a fraction: 0.3 = 30 %)",
    "when, of all the people given a probability of AD near 0.7, about 70 in 100 have AD",
    'A clinician who reads "probability 0.9" should be able to take it at face value.',
    "The people are sorted into ten bins by their probability (0 to 0.1, 0.1 to 0.2, ...)",
    "without automation bias and with an automation bias of 0.5;",
)


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
