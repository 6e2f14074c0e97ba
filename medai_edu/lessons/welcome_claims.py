"""What lesson 0 (welcome) says, bound to what was measured (:mod:`medai_edu.claims`); its steps: :mod:`.welcome`."""

from __future__ import annotations

from medai_edu.claims import Claim, Computed
from medai_edu.lessons.welcome import (
    EXPLORER_PREVALENCE,
    SCREENING_PREVALENCE,
    TOOL_SENSITIVITY,
    TOOL_SPECIFICITY,
    TRIAGE_COUNTS,
    _counts,
    _imaging,
    _products,
    _radiologists,
    _whole,
    flags_per_1000,
    ppv,
)

__all__ = ["CLAIMS", "DEFINITIONS"]

CLAIMS = [
    Claim(
        "imaging_outgrows_workforce",
        "Imaging is growing faster than the workforce that reads it.",
        {"imaging": _imaging, "radiologists": _radiologists},
        lambda v: v["imaging"] > v["radiologists"],
        _whole,
    ),
    Claim(
        "workload_figures",
        "The lecture quotes these figures without naming their source or the period they cover: the number of "
        "imaging studies grew by about {imaging} % while the number of radiologists grew by only about "
        "{radiologists} % over the same period.",
        {"imaging": _imaging, "radiologists": _radiologists},
        lambda v: v["imaging"] > v["radiologists"],
        _whole,
    ),
    Claim(
        "figure1_caption",
        "Growth in imaging studies (+{imaging} %) compared with growth in the number of radiologists "
        "(+{radiologists} %) over the same period.",
        {"imaging": _imaging, "radiologists": _radiologists},
        lambda v: v["imaging"] > v["radiologists"],
        _whole,
    ),
    Claim(
        "figure1_alt_text",
        "two bars; the bar for imaging studies is almost twice as high as the bar for radiologists.",
        {"imaging": _imaging, "radiologists": _radiologists},
        lambda v: 1.5 <= v["imaging"] / v["radiologists"] < 2,
    ),
    Claim(
        "fda_cleared",
        "The lecture lists {products} imaging AI products cleared by the US Food and Drug Administration ([FDA](glossary.md#FDA)) "
        "by October 2019.",
        {"products": _products},
        lambda v: v["products"] > 0,
        {"products": "{:d}"},
    ),
    Claim(
        "summary_workload",
        "Imaging grows faster than the number of radiologists, which is why ML for imaging attracts so much "
        "interest; dozens of products were cleared by 2019.",
        {"imaging": _imaging, "radiologists": _radiologists, "products": _products},
        lambda v: v["imaging"] > v["radiologists"] and v["products"] >= 24,
    ),
    Claim(
        "ppv_explorer_alt_text",
        "a rising S-shaped curve; at {prevalence} % prevalence only about a third ({ppv} %) of the flags are right.",
        {
            "prevalence": Computed(lambda: 100 * EXPLORER_PREVALENCE, "the explorer's starting prevalence (%)"),
            "ppv": Computed(
                lambda: 100 * ppv(TOOL_SENSITIVITY, TOOL_SPECIFICITY, EXPLORER_PREVALENCE),
                "PPV (%) of a 90 % sensitive, 90 % specific tool at 5 % prevalence, by Bayes' rule",
            ),
        },
        lambda v: 28 <= v["ppv"] <= 38,
        {"prevalence": "{:.0f}", "ppv": "{:.0f}"},
    ),
    Claim(
        "screening_false_alarms",
        "In a screening population, where the disease is rare, most people are healthy, so even a small "
        "false-alarm rate among them produces more false alarms than true ones.",
        {
            "true_flags": Computed(
                lambda: flags_per_1000(SCREENING_PREVALENCE)[0],
                "true flags per 1,000 people screened at 1 % prevalence (90 % sensitivity)",
            ),
            "false_flags": Computed(
                lambda: flags_per_1000(SCREENING_PREVALENCE)[1],
                "false flags per 1,000 people screened at 1 % prevalence (90 % specificity)",
            ),
            "healthy": Computed(lambda: 1 - SCREENING_PREVALENCE, "share of the screened people who are healthy"),
        },
        lambda v: v["false_flags"] > v["true_flags"],
        words={"most": "healthy"},
    ),
    Claim(
        "triage_confusion_alt_text",
        "a two-by-two grid; {tn} true negatives dominate, with {tp} true positives, {fp} false positives and "
        "{fn} false negatives.",
        {
            k: Computed(lambda k=k: _counts()[k], f"the triage exercise's {k.upper()} count")  # type: ignore[misc]  # mypy cannot type a lambda whose default binds the loop variable (python/mypy#15459)
            for k in TRIAGE_COUNTS
        },
        lambda v: v["tn"] == max(v.values()),
        {k: "{:d}" for k in TRIAGE_COUNTS},
    ),
    Claim(
        "triage_false_alarms",
        'This tool misses few patients (high sensitivity), but most of its "urgent" flags are false alarms: '
        "with a prevalence of {prevalence} %, about two thirds ({false_share} %) of the flagged X-rays are normal.",
        {
            "sensitivity": Computed(
                lambda: _counts()["tp"] / (_counts()["tp"] + _counts()["fn"]),
                "sensitivity of the triage tool, TP / (TP + FN)",
            ),
            "prevalence": Computed(
                lambda: 100 * (_counts()["tp"] + _counts()["fn"]) / sum(_counts().values()),
                "prevalence (%) in the triage exercise, (TP + FN) / all",
            ),
            "false_share": Computed(
                lambda: 100 * _counts()["fp"] / (_counts()["tp"] + _counts()["fp"]),
                "share (%) of the tool's flags that are false, FP / (TP + FP)",
            ),
            "missed": Computed(
                lambda: _counts()["fn"] / (_counts()["tp"] + _counts()["fn"]), "share of patients missed"
            ),
            "false_flags": Computed(
                lambda: _counts()["fp"] / (_counts()["tp"] + _counts()["fp"]), "share of flags false"
            ),
        },
        lambda v: v["sensitivity"] >= 0.85 and 60 <= v["false_share"] <= 72,
        {"sensitivity": "{:.2f}", "prevalence": "{:.0f}", "false_share": "{:.0f}"},
        words={"few": "missed", "most": "false_flags"},
    ),
    Claim(
        "screening_answer",
        "C. about {ppv} %",
        {
            "ppv": Computed(
                lambda: 100 * ppv(TOOL_SENSITIVITY, TOOL_SPECIFICITY, SCREENING_PREVALENCE),
                "PPV (%) of a 90 % sensitive, 90 % specific tool at 1 % prevalence, by Bayes' rule",
            )
        },
        lambda v: abs(v["ppv"] - 8) < 1,
        {"ppv": "{:.0f}"},
    ),
]

#: sentences the claims test flags for their numbers, but which set up a question or a figure
#: rather than report a measurement
DEFINITIONS = [
    "The figure below the sliders (Figure 2) shows the PPV of a tool with 90 % sensitivity and 90 % specificity as the "
    "disease becomes rarer or commoner.",
    "Positive predictive value (vertical axis) against prevalence on a logarithmic scale (horizontal axis); it "
    "starts with a tool of 90 % sensitivity and specificity, and the orange dot marks the prevalence you chose "
    "(5 % at first).",
    "A tool has 90 % sensitivity and 90 % specificity.",
    "The cell below describes the screening tool of Question 3: 90 % sensitivity, 90 % specificity, 1 % prevalence.",
    "It receives the four counts of any confusion matrix and must return the three values as fractions between 0 "
    "and 1 (0.9 means 90 %).",
    "It is used for screening, where only 1 % of people have the disease.",
]
