"""Lesson 0 (welcome): the numbers its text quotes, each bound to where it comes from.

Light on purpose (no NumPy, torch or plotting): the notebook imports it for the figures' values,
and its ``CLAIMS`` (:mod:`medai_edu.lessons.welcome_claims`) bind every quantitative or comparative
sentence of the lesson to a calculation (the positive predictive value examples) or to the source
it quotes (the lecture).
"""

from __future__ import annotations

from medai_edu.checks import Choice, Estimate
from medai_edu.claims import Computed

__all__ = [
    "show_ppv",
    "triage_summary",
    "IMAGING_GROWTH",
    "RADIOLOGIST_GROWTH",
    "FDA_CLEARED_BY_OCTOBER_2019",
    "QUESTIONS",
    "ANSWERS",
]

LECTURE = 'the lecture "Machine learning for medical image analysis — and why clinicians are not (yet) using it"'

#: growth of the number of imaging studies and of radiologists over the same period, in %, as quoted
#: in the lecture
IMAGING_GROWTH = 31
RADIOLOGIST_GROWTH = 18
#: imaging AI products cleared by the US Food and Drug Administration by October 2019, as listed in
#: the lecture
FDA_CLEARED_BY_OCTOBER_2019 = 28

#: the triage exercise: an AI tool's decisions on 1,000 chest X-rays (the notebook's TP, FP, FN, TN)
TRIAGE_COUNTS = {"tp": 45, "fp": 95, "fn": 5, "tn": 855}
#: the tool of the PPV explorer and of the screening question, and the two populations
TOOL_SENSITIVITY = 0.9
TOOL_SPECIFICITY = 0.9
EXPLORER_PREVALENCE = 0.05
SCREENING_PREVALENCE = 0.01


def ppv(sensitivity: float, specificity: float, prevalence: float) -> float:
    """Positive predictive value (Bayes' rule): the share of positive flags that are right."""
    true_flags = sensitivity * prevalence
    false_flags = (1 - specificity) * (1 - prevalence)
    return true_flags / (true_flags + false_flags)


def flags_per_1000(
    prevalence: float, sensitivity: float = TOOL_SENSITIVITY, specificity: float = TOOL_SPECIFICITY
) -> tuple[float, float]:
    """True and false positive flags among 1,000 people."""
    return 1000 * prevalence * sensitivity, 1000 * (1 - prevalence) * (1 - specificity)


def triage_summary(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """Print (and return) the tool's sensitivity, specificity and PPV in percent, each with its meaning."""
    values = {
        "sensitivity": 100 * tp / (tp + fn),
        "specificity": 100 * tn / (tn + fp),
        "positive predictive value": 100 * tp / (tp + fp),
    }
    meaning = {
        "sensitivity": f"of the {tp + fn} patients with the disease, {tp} were flagged",
        "specificity": f"of the {tn + fp} patients without it, {tn} were cleared",
        "positive predictive value": f"of the {tp + fp} flagged X-rays, {tp} show the disease",
    }
    for name, value in values.items():
        print(f"{name:>26}: {value:5.1f} %  ({meaning[name]})")
    return values


def show_ppv(sensitivity: float, specificity: float, prevalence: float) -> float:
    """Print what share of a tool's flags are right (all three arguments and the result in percent)."""
    for name, value in {"sensitivity": sensitivity, "specificity": specificity, "prevalence": prevalence}.items():
        if not 0 < value <= 100:
            raise ValueError(f"{name} is a percentage between 0 and 100; you gave {value!r}.")
    true_flags, false_flags = flags_per_1000(prevalence / 100, sensitivity / 100, specificity / 100)
    right = 100 * ppv(sensitivity / 100, specificity / 100, prevalence / 100)
    print(
        f"A tool with {sensitivity:g} % sensitivity and {specificity:g} % specificity, used where {prevalence:g} % of "
        f"people have the disease, flags {true_flags:.0f} ill and {false_flags:.0f} healthy people per 1,000: "
        f"{right:.0f} % of its flags are right."
    )
    return right


def _quoted(value: float, what: str) -> Computed:
    return Computed(lambda: value, f"{what}, as quoted in {LECTURE}")


def _counts() -> dict[str, int]:
    return dict(TRIAGE_COUNTS)


_imaging = _quoted(IMAGING_GROWTH, "growth of the number of imaging studies (%)")
_radiologists = _quoted(RADIOLOGIST_GROWTH, "growth of the number of radiologists over the same period (%)")
_products = _quoted(FDA_CLEARED_BY_OCTOBER_2019, "imaging AI products cleared by the US FDA by October 2019")
_whole = {"imaging": "{:.0f}", "radiologists": "{:.0f}"}


#: The core questions of the lesson (no programming): the right answers and the explanations live
#: here, never in a notebook cell or an error message.
QUESTIONS = {
    "prevalence": Estimate(
        "read_prevalence",
        4.9,
        5.1,
        unit="%",
        limits=(0, 100),
        why="The prevalence counts the patients who really have the disease, flagged or not: TP + FN = 45 + 5 = 50 "
        "of 1,000 patients, which is 5 %.",
        mistakes={
            14: "14 % are the X-rays the tool *flagged* (TP + FP = 140). The prevalence counts the patients who really "
            "*have* the disease: the first row of the matrix, TP + FN.",
            4.5: "You counted only the true positives. The patients the tool missed (false negatives) have the disease "
            "too: TP + FN.",
            50: "50 is the number of patients with the disease; the question asks for a percentage of all 1,000.",
        },
    ),
    "ppv": Estimate(
        "predict_ppv",
        27,
        37,
        unit="%",
        limits=(0, 100),
        predicted=True,
        why="Of the 140 flagged X-rays only 45 show the disease (32 %): the 95 false alarms come from the 950 healthy "
        "patients, a large group in which even a small share of false alarms adds up.",
        mistakes={
            90: "90 % is the sensitivity: the share of the ill patients that the tool flags. The PPV asks the reverse: "
            "of the flagged X-rays, how many are ill?",
            68: "68 % is the share of the flags that are false alarms (95 of 140); the PPV is the share that are right.",
        },
    ),
    "screening": Choice(
        "answer_screening",
        "C",
        {
            "A": "90 % is the tool's sensitivity and specificity, not its PPV. At 1 % prevalence the false alarms among "
            "the many healthy people outnumber the true flags.",
            "B": "That would need as many true flags as false ones. Per 1,000 people screened there are 9 true flags "
            "and 99 false ones.",
            "C": "Per 1,000 people screened, 10 are ill and 9 of them are flagged; 10 % of the 990 healthy people, 99, "
            "are flagged too. So 9 of 108 flags are right: about 8 %.",
        },
    ),
    "specificity": Estimate(
        "read_ppv_high_specificity",
        45,
        50,
        unit="%",
        limits=(0, 100),
        why="With 99 % specificity only 1 % of the 990 healthy people are flagged (about 10 instead of 99), so about "
        "half of the 19 flags are right: in screening, specificity decides how much a flag is worth.",
        mistakes={
            8: "8 % is the result with 90 % specificity. Change the number in the cell to 99, run the cell again and "
            "read the new result.",
            99: "99 % is the specificity you typed in; the cell prints the share of the flags that are right.",
        },
    ),
    "human_factors": Choice(
        "answer_human_factors",
        "B",
        {
            "A": "When the suggestion is wrong, people who saw it tend to follow it and to look less carefully for "
            "what it missed (automation bias), and so make errors they would not have made alone.",
            "B": "Seen first, the software's finding can sway the radiologist's own reading, also when it is wrong "
            "(automation bias). The lecture calls this interference with independent diagnosis.",
            "C": "The pre-reading does not change the X-ray. The risk is to the radiologist's own judgement, which a "
            "finding shown first can sway.",
        },
    ),
}

#: where the right answers come from (a test checks each against its question: a number in its range)
ANSWERS = {
    "prevalence": Computed(lambda: 100 * (_counts()["tp"] + _counts()["fn"]) / sum(_counts().values()), "Figure 3"),
    "ppv": Computed(lambda: 100 * _counts()["tp"] / (_counts()["tp"] + _counts()["fp"]), "Figure 3: TP / (TP + FP)"),
    "specificity": Computed(
        lambda: 100 * ppv(TOOL_SENSITIVITY, 0.99, SCREENING_PREVALENCE), "PPV with 99 % specificity at 1 % prevalence"
    ),
}
