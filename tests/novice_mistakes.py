"""Typical mistakes of a student who has never programmed, one row each, with the diagnosis they must get.

Written from how beginners fail: syntax (quotes, brackets, ², %, decimal commas, indentation),
names (a cell not run, a typo, a function's inputs), types (text for numbers, NumPy for tensors and
the reverse), units (fraction for percent, pixels or mm² for percent), off-by-one, sign, reading
the wrong line of a figure, and leaving an answer or a placeholder in place. Each row is a short
series of cells, run in a real notebook kernel after the exercise's set-up, and its last cell is the
check cell as the lesson has it (``tests/test_novice_mistakes.py`` runs every row).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """What the lesson has run before the question, and its check cell (verbatim from the notebook)."""

    lesson: str
    setup: str
    check: str
    question: str | None = None  # key in the lesson's QUESTIONS (multiple choice: the key must not leak)


@dataclass(frozen=True)
class Mistake:
    name: str
    exercise: str
    cells: tuple[str, ...]  # the student's cells before the check cell
    diagnosis: str  # must appear in what the student sees
    passes: bool = False  # the check accepts it (a right answer written differently)


_WELCOME = "from medai_edu.lessons import welcome as lesson\nTP, FP, FN, TN = 45, 95, 5, 855"

EXERCISES = {
    "prevalence": Exercise(
        "00_welcome", _WELCOME, 'checks.check_estimate(read_prevalence, lesson.QUESTIONS["prevalence"])'
    ),
    "ppv": Exercise(
        "00_welcome",
        _WELCOME,
        'checks.check_estimate(predict_ppv, lesson.QUESTIONS["ppv"], measured=100 * TP / (TP + FP))',
    ),
    "screening": Exercise(
        "00_welcome", _WELCOME, 'checks.check_choice(answer_screening, lesson.QUESTIONS["screening"])', "screening"
    ),
    "specificity": Exercise(
        "00_welcome",
        _WELCOME,
        'checks.check_estimate(read_ppv_high_specificity, lesson.QUESTIONS["specificity"])',
    ),
    "human_factors": Exercise(
        "00_welcome",
        _WELCOME,
        'checks.check_choice(answer_human_factors, lesson.QUESTIONS["human_factors"])',
        "human_factors",
    ),
    "triage": Exercise("00_welcome", _WELCOME, "checks.check_triage_metrics(triage_metrics, TP, FP, FN, TN)"),
    "centre_only": Exercise(
        "01_saliency_vs_attribution",
        "from medai_edu.lessons import saliency as lesson\n"
        "evidence = lesson.evidence_experiment(lesson.load_classifier(), n=3)",
        'checks.check_estimate(predict_centre_only, lesson.QUESTIONS["centre_only"], '
        'measured=lesson.percent_called(evidence, "centre only"))',
    ),
    "best_saliency": Exercise(
        "01_saliency_vs_attribution",
        "from medai_edu.lessons import saliency as lesson",
        'checks.check_estimate(read_best_saliency_ncc, lesson.QUESTIONS["best_saliency"])',
    ),
    "trust": Exercise(
        "01_saliency_vs_attribution",
        "from medai_edu.lessons import saliency as lesson",
        'checks.check_choice(answer_trust, lesson.QUESTIONS["trust"])',
        "trust",
    ),
    "ncc": Exercise("01_saliency_vs_attribution", "import numpy as np", "checks.check_ncc(my_ncc)"),
    "critic_loss": Exercise("01_saliency_vs_attribution", "import torch", "checks.check_critic_loss(my_critic_loss)"),
    "hippocampus": Exercise(
        "02_alzheimer_maps",
        "from medai_edu.lessons import alzheimer as lesson",
        'checks.check_estimate(read_hippocampal_change, lesson.QUESTIONS["hippocampus"])',
    ),
    "severity_zero": Exercise(
        "02_alzheimer_maps",
        "from medai_edu.lessons import alzheimer as lesson",
        'checks.check_choice(answer_severity_zero, lesson.QUESTIONS["severity_zero"])',
        "severity_zero",
    ),
    "volume": Exercise("02_alzheimer_maps", "import numpy as np", "checks.check_volume_change(volume_change)"),
    "raters": Exercise(
        "03_uncertainty_sampling",
        "from medai_edu.lessons import uncertainty as lesson",
        'checks.check_choice(answer_raters, lesson.QUESTIONS["raters"])',
        "raters",
    ),
    "unet_dncc": Exercise(
        "03_uncertainty_sampling",
        "from medai_edu.lessons import uncertainty as lesson\n"
        "data = lesson.load_data(progress=False)\n"
        "cases = lesson.pick_cases(data, 2)\n"
        'images, masks = data.field("images")[cases], data.field("masks")[cases]\n'
        'scores = lesson.disagreement_scores(lesson.load_models(("unet",)), images, masks, 4)',
        'checks.check_estimate(predict_unet_dncc, lesson.QUESTIONS["unet_dncc"], measured=scores["unet"])',
    ),
    "reparameterise": Exercise(
        "03_uncertainty_sampling", "import torch", "checks.check_reparameterise(reparameterise)"
    ),
    "kl": Exercise("03_uncertainty_sampling", "import torch\nimport numpy as np", "checks.check_kl(kl_diagonal)"),
    "ged": Exercise("03_uncertainty_sampling", "import numpy as np", "checks.check_ged(ged)"),
    "team": Exercise(
        "04_human_with_ai",
        "from medai_edu.lessons import human_with_ai as lesson\n"
        "study = lesson.load_study(120, progress=False)\n"
        "share = lesson.chosen_share(study)",
        'checks.check_estimate(predict_team, lesson.QUESTIONS["team"], measured=lesson.team_percent(study, share))',
    ),
    "full_bias": Exercise(
        "04_human_with_ai",
        "from medai_edu.lessons import human_with_ai as lesson",
        'checks.check_estimate(read_team_full_bias, lesson.QUESTIONS["full_bias"])',
    ),
    "capacity_question": Exercise(
        "04_human_with_ai",
        "from medai_edu.lessons import human_with_ai as lesson",
        'checks.check_estimate(read_referred_low_contrast, lesson.QUESTIONS["capacity"])',
    ),
    "team_accuracy": Exercise("04_human_with_ai", "import numpy as np", "checks.check_team_accuracy(team_accuracy)"),
    "capacity": Exercise(
        "04_human_with_ai", "import numpy as np", "checks.check_capacity_threshold(capacity_threshold)"
    ),
    "ece": Exercise("04_human_with_ai", "import numpy as np", "checks.check_ece(ece)"),
}

# The released stubs of the exercises the rows start from (as the student finds them).
TRIAGE_STUB = '''def triage_metrics(tp, fp, fn, tn):
    """Sensitivity, specificity and positive predictive value from a confusion matrix."""
    # YOUR CODE HERE
    raise NotImplementedError()
    return {"sensitivity": sensitivity, "specificity": specificity, "ppv": ppv}'''
KL_STUB = '''def kl_diagonal(mu_q, sigma_q, mu_p, sigma_p):
    """KL(q || p) of two diagonal Gaussians, summed over all latent numbers."""
    # YOUR CODE HERE
    raise NotImplementedError()'''


def _triage(sensitivity: str, specificity: str, ppv: str, extra: str = "") -> str:
    return (
        "def triage_metrics(tp, fp, fn, tn):\n"
        f"{extra}"
        f"    sensitivity = {sensitivity}\n"
        f"    specificity = {specificity}\n"
        f"    ppv = {ppv}\n"
        '    return {"sensitivity": sensitivity, "specificity": specificity, "ppv": ppv}'
    )


def _kl(line: str, reduce: str = ".sum()") -> str:
    return f"def kl_diagonal(mu_q, sigma_q, mu_p, sigma_p):\n    per_number = {line}\n    return per_number{reduce}"


_KL_RIGHT = "torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5"


def _ncc(body: str) -> str:
    return f"def my_ncc(a, b):\n    return {body}"


MISTAKES: tuple[Mistake, ...] = (
    # ---- lesson 0: reading a number off a figure
    Mistake("fraction instead of percent", "prevalence", ("read_prevalence = 0.05",), "0.05 as a fraction is 5 %"),
    Mistake("counted the flagged patients", "prevalence", ("read_prevalence = 14",), "the tool *flagged*"),
    Mistake("a count instead of a percentage", "prevalence", ("read_prevalence = 50",), "50 is the number of patients"),
    Mistake("answer left as the three dots", "prevalence", ("read_prevalence = ...",), "Replace the three dots"),
    Mistake("number in quotes", "prevalence", ('read_prevalence = "5"',), "Write the number without quotes"),
    Mistake("percent sign in quotes", "prevalence", ('read_prevalence = "5%"',), "without quotes and without %"),
    Mistake(
        "percent sign after the number",
        "prevalence",
        ("read_prevalence = ...", "read_prevalence = 5%"),
        "Your cell above that defines `read_prevalence` stopped with an error: SyntaxError",
    ),
    Mistake("answer cell never run", "prevalence", (), "the cell above where you write it has not run"),
    Mistake(
        "variable name with a capital letter",
        "prevalence",
        ("Read_prevalence = 5",),
        "`read_prevalence` has no value yet",
    ),
    # ---- lesson 0: predict, then run
    Mistake("sensitivity taken for PPV", "ppv", ("predict_ppv = 90",), "90 % is the sensitivity"),
    Mistake(
        "false-alarm share taken for PPV", "ppv", ("predict_ppv = 68",), "share of the flags that are false alarms"
    ),
    Mistake("prediction as a fraction", "ppv", ("predict_ppv = 0.32",), "0.32 as a fraction is 32 %"),
    Mistake("decimal comma", "ppv", ("predict_ppv = 32,1",), "Python writes decimals with a point: `32.1`"),
    Mistake("True instead of a number", "ppv", ("predict_ppv = True",), "Write one number"),
    Mistake("far off: told by how much and why", "ppv", ("predict_ppv = 60",), "27.9 percentage points too high"),
    # ---- lesson 0: multiple choice
    Mistake(
        "letter without quotes (the answer cell)",
        "screening",
        ("answer_screening = C",),
        'Put the letter in quotes: `answer_screening = "C"`',
    ),
    Mistake(
        "letter without quotes, then the check",
        "screening",
        ("answer_screening = ...", "answer_screening = C"),
        "Your cell above that defines `answer_screening` stopped with an error: NameError",
    ),
    Mistake("the option's whole text", "screening", ('answer_screening = "C. about 8 %"',), "Write only the letter"),
    Mistake("lower-case letter", "screening", ('answer_screening = "c"',), "Right: C", passes=True),
    Mistake("a wrong letter", "screening", ('answer_screening = "A"',), "A is not the best answer"),
    Mistake("a number for a letter", "screening", ("answer_screening = 3",), "one letter in quotes"),
    Mistake(
        "typographic quotes copied from a text",
        "screening",
        ("answer_screening = ...", "answer_screening = “C”"),
        "stopped with an error: SyntaxError",
    ),
    Mistake(
        "a quote missing",
        "screening",
        ("answer_screening = ...", 'answer_screening = "C'),
        "stopped with an error: SyntaxError",
    ),
    Mistake(
        "a failed cell, fixed and run again",
        "human_factors",
        ("answer_human_factors = B", 'answer_human_factors = "B"'),
        "Right: B",
        passes=True,
    ),
    # ---- lesson 0: change one number
    Mistake(
        "number not changed", "specificity", ("read_ppv_high_specificity = 8",), "Change the number in the cell to 99"
    ),
    Mistake(
        "typed-in value read back", "specificity", ("read_ppv_high_specificity = 99",), "the specificity you typed in"
    ),
    # ---- lessons 1-4: core questions
    Mistake("a count instead of a percentage", "centre_only", ("predict_centre_only = 8",), "not their number"),
    Mistake("an impossible percentage", "centre_only", ("predict_centre_only = 120",), "is not possible here"),
    Mistake("half expected", "centre_only", ("predict_centre_only = 50",), "50 percentage points too low"),
    Mistake("VA-GAN's row read instead", "best_saliency", ("read_best_saliency_ncc = 0.887",), "That is VA-GAN's NCC"),
    Mistake("NCC written as a percentage", "best_saliency", ("read_best_saliency_ncc = 33.4",), "0.334, not 33.4"),
    Mistake("the second-best row read", "best_saliency", ("read_best_saliency_ncc = 0.282",), "That is occlusion"),
    Mistake("a wrong letter", "trust", ('answer_trust = "A"',), "A is not the best answer"),
    Mistake("a loss written without its sign", "hippocampus", ("read_hippocampal_change = 36",), "minus sign"),
    Mistake("slider not moved", "hippocampus", ("read_hippocampal_change = -30",), "starting severity, 0.80"),
    Mistake("a wrong letter", "severity_zero", ('answer_severity_zero = "A"',), "A is not the best answer"),
    Mistake("letter with a bracket", "raters", ('answer_raters = "B)"',), "Write only the letter"),
    Mistake("perfect agreement expected", "unet_dncc", ("predict_unet_dncc = 1",), "its outlines never differ"),
    Mistake("model alone taken for the team", "team", ("predict_team = 87.3",), "That is the model alone"),
    Mistake(
        "automation bias not moved", "full_bias", ("read_team_full_bias = 91.9",), "Move the Automation bias slider"
    ),
    Mistake("capacity not changed", "capacity_question", ("read_referred_low_contrast = 0.2",), "capacity of 20 %"),
    Mistake(
        "a fraction for a percentage",
        "capacity_question",
        ("read_referred_low_contrast = 0.032",),
        "0.032 as a fraction is 3.2 %",
    ),
    # ---- for programmers: lesson 0
    Mistake("function cell never run", "triage", (), "Python does not know the name `triage_metrics` yet"),
    Mistake("placeholder left in place", "triage", (TRIAGE_STUB,), "still has its placeholder line"),
    Mistake(
        "a typo in a name",
        "triage",
        (_triage("tp / (tp + fn)", "tn / (tn + fp)", "tp / (tp + fp)").replace(": specificity,", ": specificty,"),),
        "Did you mean `specificity`?",
    ),
    Mistake(
        "percent instead of fraction",
        "triage",
        (_triage("100 * tp / (tp + fn)", "tn / (tn + fp)", "tp / (tp + fp)"),),
        "not a percentage",
    ),
    Mistake(
        "PPV swapped with sensitivity",
        "triage",
        (_triage("tp / (tp + fp)", "tn / (tn + fp)", "tp / (tp + fp)"),),
        "is the ppv instead",
    ),
    Mistake(
        "no return line",
        "triage",
        ("def triage_metrics(tp, fp, fn, tn):\n    sensitivity = tp / (tp + fn)",),
        "without a `return` line",
    ),
    Mistake(
        "a name used before its line",
        "triage",
        (_triage("ppv / 2", "tn / (tn + fp)", "tp / (tp + fp)"),),
        "move the line `ppv = ...` above",
    ),
    Mistake(
        "indentation lost in the function",
        "triage",
        (TRIAGE_STUB, "def triage_metrics(tp, fp, fn, tn):\nsensitivity = tp / (tp + fn)"),
        "Your cell above that defines `triage_metrics` stopped with an error: IndentationError",
    ),
    Mistake(
        "colon missing after def",
        "triage",
        (TRIAGE_STUB, "def triage_metrics(tp, fp, fn, tn)\n    return {}"),
        "Your cell above that defines `triage_metrics` stopped with an error: SyntaxError",
    ),
    # ---- lesson 1
    Mistake("mean written as a plain name", "ncc", (_ncc("((a - mean(a)) * (b - mean(b))).mean()"),), "`a.mean()`"),
    Mistake(
        ".mean without brackets",
        "ncc",
        (_ncc("((a - a.mean) * (b - b.mean())).mean() / (a.std() * b.std())"),),
        "`a.mean()` runs it",
    ),
    Mistake(
        "the mean left out",
        "ncc",
        (_ncc("((a - a.mean()) * (b - b.mean())) / (a.std() * b.std())"),),
        "put `.mean()` around it",
    ),
    Mistake(
        "sum instead of mean",
        "ncc",
        (_ncc("((a - a.mean()) * (b - b.mean())).sum() / (a.std() * b.std())"),),
        "Use `.mean()` instead of `.sum()`",
    ),
    Mistake("the whole correlation table", "ncc", (_ncc("np.corrcoef(a.ravel(), b.ravel())"),), "gives a 2 x 2 table"),
    Mistake(
        "NumPy's mean on tensors",
        "critic_loss",
        (
            "import numpy as np\n\ndef my_critic_loss(h, g, penalty):\n    return np.mean(h) - np.mean(g) + 10 * penalty",
        ),
        "`np.mean` does not work on PyTorch tensors",
    ),
    Mistake(
        "Wasserstein part reversed",
        "critic_loss",
        ("def my_critic_loss(h, g, penalty):\n    return g.mean() - h.mean() + 10 * penalty",),
        "sign of the Wasserstein part is flipped",
    ),
    Mistake(
        "penalty without its weight",
        "critic_loss",
        ("def my_critic_loss(h, g, penalty):\n    return h.mean() - g.mean() + penalty",),
        "needs its weight",
    ),
    # ---- lesson 2
    Mistake(
        "volume change as a fraction",
        "volume",
        ("def volume_change(w, wo, px):\n    return float((w.sum() - wo.sum()) / wo.sum())",),
        "in percent",
    ),
    Mistake(
        "volume change with the sign flipped",
        "volume",
        ("def volume_change(w, wo, px):\n    return float(100 * (wo.sum() - w.sum()) / wo.sum())",),
        "sign is flipped",
    ),
    Mistake(
        "volume change in pixels",
        "volume",
        ("def volume_change(w, wo, px):\n    return float(w.sum() - wo.sum())",),
        "in pixels",
    ),
    # ---- lesson 3
    Mistake(
        "sigma squared as the noise scale",
        "reparameterise",
        ("def reparameterise(mu, sigma, eps):\n    return mu + sigma**2 * eps",),
        "sigma squared",
    ),
    Mistake(
        "gradients cut off",
        "reparameterise",
        ("def reparameterise(mu, sigma, eps):\n    return (mu + sigma * eps).detach()",),
        "lost its gradients",
    ),
    Mistake(
        "a power written with ^",
        "kl",
        (_kl(_KL_RIGHT.replace("sigma_q**2", "sigma_q^2")),),
        "Python writes powers as `**`",
    ),
    Mistake(
        "a power written with ² (copied from the page)",
        "kl",
        (KL_STUB, _kl(_KL_RIGHT.replace("sigma_q**2", "sigma_q²"))),
        "Your cell above that defines `kl_diagonal` stopped with an error: SyntaxError",
    ),
    Mistake(
        "np.log on tensors", "kl", (_kl(_KL_RIGHT.replace("torch.log", "np.log")),), "NumPy cannot follow the gradients"
    ),
    Mistake(
        "math.log on tensors",
        "kl",
        ("import math\n" + _kl(_KL_RIGHT.replace("torch.log", "math.log")),),
        "works on one single number",
    ),
    Mistake("the constant left out", "kl", (_kl(_KL_RIGHT.replace(" - 0.5", "")),), "The constant is missing"),
    Mistake(
        "the 2 left out: no constant hint",
        "kl",
        (_kl(_KL_RIGHT.replace("(2 * sigma_p**2)", "sigma_p**2")),),
        "you left out the 2",
    ),
    Mistake("mean instead of sum", "kl", (_kl(_KL_RIGHT, ".mean()"),), "do not average them"),
    Mistake(
        "KL in the other direction",
        "kl",
        (
            _kl(
                _KL_RIGHT.replace("mu_q", "M")
                .replace("mu_p", "mu_q")
                .replace("M", "mu_p")
                .replace("sigma_q", "S")
                .replace("sigma_p", "sigma_q")
                .replace("S", "sigma_p")
            ),
        ),
        "the other direction",
    ),
    Mistake(
        "brackets missing around the denominator",
        "kl",
        (_kl(_KL_RIGHT.replace("/ (2 * sigma_p**2)", "/ 2 * sigma_p**2")),),
        "Brackets",
    ),
    Mistake(
        "an error from torch is not the placeholder",
        "kl",
        (_kl(_KL_RIGHT, ".reshape(2, 2).sum()"),),
        "Your function stopped with an error before it gave an answer: RuntimeError",
    ),
    Mistake(
        "torch on NumPy arrays",
        "ged",
        (
            "import torch\n\ndef ged(d_sy, d_ss, d_yy):\n    return 2 * torch.mean(d_sy) - torch.mean(d_ss) - torch.mean(d_yy)",
        ),
        "the inputs are NumPy arrays, so use NumPy",
    ),
    Mistake(
        "sums instead of means",
        "ged",
        ("def ged(d_sy, d_ss, d_yy):\n    return 2 * d_sy.sum() - d_ss.sum() - d_yy.sum()",),
        "not its sum",
    ),
    # ---- lesson 4
    Mistake(
        "the most confident cases referred",
        "team_accuracy",
        (
            "def team_accuracy(m, r, c, share):\n    k = round(share * len(c))\n    refer = np.zeros(len(c), bool)\n"
            "    refer[np.argsort(c)[::-1][:k]] = True\n    return float(np.where(refer, r, m).mean())",
        ),
        "You referred the *most* confident cases",
    ),
    Mistake(
        "team accuracy in percent",
        "team_accuracy",
        (
            "def team_accuracy(m, r, c, share):\n    k = round(share * len(c))\n    refer = np.zeros(len(c), bool)\n"
            "    refer[np.argsort(c)[:k]] = True\n    return float(100 * np.where(refer, r, m).mean())",
        ),
        "not in percent",
    ),
    Mistake(
        "off by one: the case before",
        "capacity",
        (
            "def capacity_threshold(c, capacity):\n    s = np.sort(c)\n    return float(s[int(np.floor(capacity * len(s))) - 1])",
        ),
        "only 2 cases lie below it",
    ),
    Mistake(
        "the number of cases instead of the threshold",
        "capacity",
        ("def capacity_threshold(c, capacity):\n    return float(int(np.floor(capacity * len(c))))",),
        "not the number of cases",
    ),
    Mistake(
        "bins not weighted",
        "ece",
        (
            "def ece(p, y, bins=10):\n    i = np.minimum((p * bins).astype(int), bins - 1)\n"
            "    return float(np.mean([abs(p[i == b].mean() - y[i == b].mean()) for b in range(bins) if (i == b).any()]))",
        ),
        "Weight each bin",
    ),
)
