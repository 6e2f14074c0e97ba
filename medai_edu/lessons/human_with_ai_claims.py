"""What lesson 4 (human with AI) says, bound to what was measured (:mod:`medai_edu.claims`); its steps: :mod:`.human_with_ai`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from medai_edu import claims
from medai_edu.data.shifts import CONDITIONS
from medai_edu.lessons import welcome
from medai_edu.lessons.human_with_ai import BENCH_SHARES, READER, _f, _key, load_study

__all__ = ["CLAIMS", "DEFINITIONS"]

# --- what the lesson's text says, bound to the benchmark (design §5b) ---------------------------


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
