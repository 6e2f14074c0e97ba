"""Friendly self-checks for the visible test cells of the exercises.

Each check either prints a short success message or raises :class:`CheckFailed`, whose message is
a hint written for a clinician learning to code: what was expected, what was given, what to try.
Three things make a check teach instead of crash:

- In a notebook, :class:`CheckFailed` shows as a short message whose last line is the hint, not as
  a traceback through this library (IPython's ``_render_traceback_`` hook).
- The checks call the student's function through :func:`_call`, which turns a novice's typical
  errors (``np.mean`` on a tensor, ``math.log`` on a tensor, a name used before it is defined,
  ``raise NotImplementedError()`` left in place, ...) into a hint that names the student's own line.
- Importing this module in a notebook kernel installs the same hints for errors raised directly in
  the student's cells (an answer written without quotes, ``answer = A``, or an exercise cell still
  raising ``NotImplementedError``). Errors without a known hint keep IPython's usual traceback, and
  every error still counts as an error for papermill and nbgrader.

Multiple-choice cells call ``check_choice(answer, "ABC", key=...)``. ``key`` is made with
:func:`seal` from the right letter and one explanation per option, so the visible cell does not
show the answer. Self-learners get "right" or "not yet" and the reason; while nbgrader grades the
notebook (``NBGRADER_EXECUTION`` set), or when an instructor sets ``MEDAI_EDU_GRADED=1`` in the
students' environment (a JupyterHub used for graded work: otherwise a student could try every
letter), the check only says that the answer was recorded.
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import os
import re
import sys
import sysconfig
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

GRADING_ENV = "NBGRADER_EXECUTION"  # set by nbgrader while it validates or autogrades
GRADED_ENV = "MEDAI_EDU_GRADED"  # set by an instructor: students' work is graded, no answer feedback
KEY_PREFIX = "mc1:"

_RED, _GREEN, _BOLD, _RESET = "\x1b[1;31m", "\x1b[1;32m", "\x1b[1m", "\x1b[0m"
_HINT = "💡 Hint:"


class CheckFailed(AssertionError):
    """An exercise answer is not right yet; the message is the hint.

    ``context`` lists short lines shown above the hint (for example the line of the student's
    code where Python stopped); ``title`` is the first line.
    """

    def __init__(self, hint: str, context: Iterable[str] = (), title: str = "Not right yet.") -> None:
        super().__init__(hint)
        self.hint = hint
        self.context = list(context)
        self.title = title

    def _render_traceback_(self) -> list[str]:
        """What a notebook shows instead of a traceback: the title, the context, the hint last."""
        return _render(f"{_RED}❌ {self.title}{_RESET}", self.context, self.hint)


def _render(title: str, context: list[str], hint: str) -> list[str]:
    return [title, *(f"   {line}" for line in context), "", f"{_BOLD}{_HINT}{_RESET} {hint}"]


def passed(message: str = "Well done, that is correct.") -> None:
    print(f"✅ {message}")


# --------------------------------------------------------------------------------------------
# Where an error happened: the student's code or a library
# --------------------------------------------------------------------------------------------

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _library_dirs() -> tuple[str, ...]:
    paths = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(str(Path(p).resolve()) for p in paths if p)


_LIBRARY_DIRS = _library_dirs()


def _where(filename: str) -> str:
    """'student', 'course' (this package) or 'library' (Python, NumPy, torch, IPython...)."""
    if filename.startswith("<"):
        return "student" if filename.startswith(("<ipython-input", "<string>", "<stdin>")) else "library"
    path = str(Path(filename).resolve())
    if path.startswith(_PACKAGE_DIR):
        return "course"
    if path.startswith(_LIBRARY_DIRS) or "site-packages" in path:
        return "library"
    return "student"


def _student_frames(tb) -> tuple[list[traceback.FrameSummary], bool]:
    """The traceback's frames in the student's code, and whether the student's code (rather than
    this package) is the last of the two that ran before the error."""
    frames = traceback.extract_tb(tb)
    ours = [(f, _where(f.filename)) for f in frames]
    relevant = [(f, w) for f, w in ours if w in ("student", "course")]
    student = [f for f, w in ours if w == "student"]
    return student, bool(relevant) and relevant[-1][1] == "student"


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _describe(frame: traceback.FrameSummary) -> str:
    place = "in this cell" if frame.name == "<module>" else f"in {frame.name}"
    code = (frame.line or "").strip()
    return f"{place}, line {frame.lineno}: {code}" if code else f"{place}, line {frame.lineno}"


def _last_frame_names(tb) -> set[str]:
    """The student's own names where the error happened (for 'did you mean ...?')."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return set()
    names = set(tb.tb_frame.f_locals) | set(tb.tb_frame.f_globals)
    return {n for n in names if not n.startswith("_") and n not in ("In", "Out", "exit", "quit", "get_ipython")}


# --------------------------------------------------------------------------------------------
# Hints for a novice's typical errors
# --------------------------------------------------------------------------------------------

HINT_NOT_IMPLEMENTED = (
    "This exercise still has its placeholder line `raise NotImplementedError()`. Delete that line and "
    "write your own code in its place (where it says `# YOUR CODE HERE`), run that cell, then run the check again."
)
HINT_NUMPY_ON_TENSOR = (
    "NumPy's `np.{fn}` does not work on PyTorch tensors, and these values are tensors, not NumPy arrays. "
    "Use the tensor's own method instead, for example `scores.{fn}()`, or `torch.{fn}(scores)`: "
    "it works the same way and the result stays a tensor, as the exercise needs."
)
HINT_NUMPY_ON_GRAD = (
    "A NumPy function (`np.` something) was given a PyTorch tensor that takes part in training. NumPy cannot "
    "follow the gradients that training needs, so use the torch version instead: `torch.log`, `torch.exp`, "
    "`torch.sqrt`, or tensor methods such as `.mean()` and `.sum()`."
)
HINT_MATH_ON_MANY = (
    "The `math` module (`math.log`, `math.sqrt`, `math.exp`) works on one single number, but it was given "
    "a whole tensor or array of numbers. Use `torch.log(...)` (or `torch.sqrt`, `torch.exp`) for PyTorch "
    "tensors and `np.log(...)` for NumPy arrays: they work on every number at once."
)
HINT_FLOAT_ON_MANY = (
    "`float(...)` turns one number into a Python number, but it was given a whole tensor or array of numbers. "
    "Reduce it to one number first (for example with `.mean()` or `.sum()`), or keep it as it is if the "
    "exercise wants all the numbers."
)
HINT_TORCH_ON_NUMPY = (
    "A torch function (`torch.` something) was given NumPy arrays. In this exercise the inputs are NumPy "
    "arrays, so use NumPy: `np.mean(d)` or `d.mean()`, `np.log(x)`, `np.sqrt(x)`."
)
HINT_METHOD_NOT_CALLED = (
    "A method was used without brackets: `a.mean` only names the method, `a.mean()` runs it and gives the "
    "number. Add the brackets, for example `a.mean()` and `a.std()`."
)
HINT_UNBOUND = (
    "Your function uses `{name}` before the line that gives it a value. Python runs a function from top "
    "to bottom: move the line `{name} = ...` above the first line that uses `{name}`."
)
HINT_ANSWER_QUOTES = (
    "Put the letter in quotes: `{fixed}`. Without quotes Python reads {name} as the name of a variable, "
    "and there is no variable called {name}."
)
HINT_ANSWER_MISSING = (
    "`{name}` has no value yet. Write your answer in the cell above as a letter in quotes, for example "
    '`{name} = "A"`, run that cell, then run this one again.'
)
HINT_NOT_IMPORTED = (
    "`{name}` is a library that has not been imported here. Add `{statement}` as the first line of your "
    "cell, run it, and try again."
)
HINT_NAME_UNKNOWN = (
    "Python does not know the name `{name}` yet. Either the line or cell that defines it has not run "
    "(a name must get its value, `{name} = ...`, before it is used; run the cells above in order, or use "
    "Kernel → Restart Kernel and Run All Cells), or it is spelt differently where it is defined "
    "(names are case-sensitive: `ppv` and `PPV` are different names).{suggestion}"
)
HINT_NAME_IN_FUNCTION = (
    "Your function `{function}` uses the name `{name}`, but nothing has given `{name}` a value: neither a line "
    "of the function before this one (`{name} = ...`) nor one of its inputs. Write that line above the line "
    "that uses it, or check the spelling (names are case-sensitive: `ppv` and `PPV` are different names)."
)
HINT_RETURNED_NONE = (
    "{what} gave `None`: Python reached the end of your function without a `return` line. Add "
    "`return` followed by your result as the last line of the function."
)
HINT_OTHER_ERROR = (
    "Your function stopped with an error before it gave an answer: {error}. The line where it stopped is "
    "shown above. Fix that line, run the cell with your function again, then run this check."
)

_IMPORTS = {
    "np": "import numpy as np",
    "numpy": "import numpy as np",
    "torch": "import torch",
    "math": "import math",
    "plt": "import matplotlib.pyplot as plt",
}


def _name_error_hint(exc: NameError, frames: list[traceback.FrameSummary], tb) -> str:
    name = getattr(exc, "name", None)
    if name is None:
        found = re.search(r"'(\w+)'", str(exc))
        name = found.group(1) if found else "?"
    if isinstance(exc, UnboundLocalError):
        return HINT_UNBOUND.format(name=name)
    if name in _IMPORTS:
        return HINT_NOT_IMPORTED.format(name=name, statement=_IMPORTS[name])
    line = (frames[-1].line or "").strip() if frames else ""
    if re.fullmatch(r"[A-Za-z]", name):  # answer = A
        assigned = re.match(r"(\w+)\s*=\s*" + name + r"\b", line)
        fixed = f'{assigned.group(1)} = "{name}"' if assigned else f'answer = "{name}"'
        return HINT_ANSWER_QUOTES.format(fixed=fixed, name=name)
    if name.startswith("answer"):
        return HINT_ANSWER_MISSING.format(name=name)
    if frames and frames[-1].name != "<module>":
        return HINT_NAME_IN_FUNCTION.format(name=name, function=frames[-1].name)
    close = difflib.get_close_matches(name, sorted(_last_frame_names(tb)), n=1, cutoff=0.8)
    suggestion = f" Did you mean `{close[0]}`?" if close else ""
    return HINT_NAME_UNKNOWN.format(name=name, suggestion=suggestion)


def hint_for(exc: BaseException, tb=None) -> tuple[str | None, list[str]]:
    """The hint for an error a novice typically makes, and the lines of their code it passed through.

    The hint is ``None`` when the error is not a known mistake, or when it was raised inside this
    package (a library problem, not the student's).
    """
    tb = tb if tb is not None else exc.__traceback__
    frames, in_student_code = _student_frames(tb)
    context = [_describe(f) for f in frames]
    if not in_student_code:
        return None, context
    message = str(exc)
    line = (frames[-1].line or "") if frames else ""
    if isinstance(exc, NotImplementedError):
        return HINT_NOT_IMPLEMENTED, context
    if isinstance(exc, NameError):
        return _name_error_hint(exc, frames, tb), context
    if isinstance(exc, TypeError) and (
        "unexpected keyword argument 'axis'" in message
        or ("invalid combination of arguments" in message and "axis" in message)
    ):
        found = re.match(r"(\w+)\(\)", message)
        return HINT_NUMPY_ON_TENSOR.format(fn=found.group(1) if found else "mean"), context
    if "Can't call numpy() on Tensor that requires grad" in message:
        return HINT_NUMPY_ON_GRAD, context
    if "only one element tensors can be converted" in message or "arrays can be converted to Python scalars" in message:
        if "float(" in line and "math." not in line:
            return HINT_FLOAT_ON_MANY, context
        return HINT_MATH_ON_MANY, context
    if isinstance(exc, TypeError) and "must be Tensor, not numpy.ndarray" in message:
        return HINT_TORCH_ON_NUMPY, context
    if isinstance(exc, TypeError) and re.search(r"'(builtin_function_or_method|method)'", message):
        return HINT_METHOD_NOT_CALLED, context
    return None, context


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run the student's function; turn any error it raises into a hint about their own code."""
    if not callable(fn):
        raise CheckFailed(
            f"The check needs your function, but it was given {type(fn).__name__} ({fn!r}). "
            "Pass the function's name without brackets, as the check cell does."
        )
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - every error of the student's code becomes a hint
        hint, context = hint_for(exc)
        if isinstance(exc, NotImplementedError):
            raise CheckFailed(hint or HINT_NOT_IMPLEMENTED, context=context, title="Not done yet.") from None
        error = _error_line(exc)
        if hint is None:
            hint = HINT_OTHER_ERROR.format(error=error)
        else:
            context.append(error)
        raise CheckFailed(hint, context=context, title="Your code stopped with an error.") from None


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def _number(value: Any, what: str) -> float:
    """The student's result as one float, or a hint saying why it is not one number."""
    if value is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what=what))
    if hasattr(value, "detach"):
        value = value.detach()
    shape = _shape(value)
    if shape is not None and math.prod(shape) != 1:
        size = " x ".join(str(s) for s in shape) or "no"
        raise CheckFailed(
            f"{what} should be one number, but it is {math.prod(shape)} numbers (shape {size}). "
            "Reduce them to the single number the exercise asks for."
        )
    if isinstance(value, (list, tuple, dict, set)):
        raise CheckFailed(f"{what} should be one number, but it is a {type(value).__name__} ({value!r}).")
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise CheckFailed(f"{what} should be a number, but it is {type(value).__name__} ({value!r}).")
    number = float(value)
    if math.isnan(number):
        raise CheckFailed(f"{what} is NaN (not a number). Did you divide zero by zero?")
    return number


def _matches(got: float, hints: dict[float, str]) -> None:
    """Raise the hint whose value ``got`` equals (a common mistake), if any."""
    for value, hint in hints.items():
        if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-9):
            raise CheckFailed(hint)


# --------------------------------------------------------------------------------------------
# Multiple choice
# --------------------------------------------------------------------------------------------


def graded() -> bool:
    """True while nbgrader runs the notebook, or where an instructor marked the work as graded."""
    flag = os.environ.get(GRADED_ENV, "").strip().lower()
    return bool(os.environ.get(GRADING_ENV)) or flag not in ("", "0", "false", "no")


def seal(correct: str, explanations: Mapping[str, str]) -> str:
    """The ``key`` for :func:`check_choice`: the right letter and why each option is right or wrong.

    The key is compressed, so the answer cannot be read at a glance in the visible check cell.
    (It is not secret: anyone can decode it. Grading relies on nbgrader's hidden tests.)
    Make one with ``python -m medai_edu.checks seal C A="why not A" B="..." C="why C"``.
    """
    correct = correct.strip().upper()
    explanations = {k.strip().upper(): v.strip() for k, v in explanations.items()}
    if correct not in explanations:
        raise ValueError(f"the right answer {correct!r} needs an explanation; got options {sorted(explanations)}.")
    payload = json.dumps({"correct": correct, "explanations": explanations}, ensure_ascii=False)
    return KEY_PREFIX + base64.urlsafe_b64encode(zlib.compress(payload.encode(), 9)).decode()


def unseal(key: str) -> tuple[str, dict[str, str]]:
    """The right letter and the explanations that :func:`seal` packed into ``key``."""
    if not isinstance(key, str) or not key.startswith(KEY_PREFIX):
        raise ValueError(f"not a multiple-choice key made by checks.seal: {key!r}")
    data = json.loads(zlib.decompress(base64.urlsafe_b64decode(key[len(KEY_PREFIX) :].encode())))
    return data["correct"], dict(data["explanations"])


def check_choice(answer: Any, options: Iterable[str], key: str | None = None) -> None:
    """Visible check for a multiple-choice cell.

    The answer must be one of the letters offered, in quotes. With a ``key`` (see :func:`seal`),
    self-learners are told whether it is right and why; under grading (see :func:`graded`) and
    without a key the check only records the answer (nbgrader's hidden test marks it).
    """
    options = [o.upper() for o in options]
    example = f'answer = "{options[0]}"'
    if answer is Ellipsis or not isinstance(answer, str):
        raise CheckFailed(
            f"Write your answer as one letter in quotes, one of {', '.join(options)} (for example {example}); "
            f"you wrote {answer!r}, which is {'not text' if answer is not None else 'no answer'}. "
            "The quotes make it text."
        )
    letter = answer.strip().upper()
    if letter not in options:
        extra = " Write only the letter, without the option's text or punctuation." if letter[:1] in options else ""
        raise CheckFailed(
            f"Write your answer as one letter in quotes, one of {', '.join(options)} (for example {example}); "
            f"you wrote {answer!r}.{extra}"
        )
    if key is None or graded():
        print(f"Answer recorded: {letter}. It is marked when the notebook is graded.")
        return
    correct, explanations = unseal(key)
    why = explanations.get(letter, "")
    if letter == correct:
        return passed(f"Right: {letter}. {why}".strip())
    hint = " ".join(
        part for part in (f"{letter} is not the best answer.", why, "Think it over and try another letter.") if part
    )
    raise CheckFailed(hint, title=f"Answer {letter}: not quite.")


# --------------------------------------------------------------------------------------------
# The exercises' checks
# --------------------------------------------------------------------------------------------


def check_prevalence(prevalence: Any, tp: int, fp: int, fn: int, tn: int) -> None:
    total = tp + fp + fn + tn
    got = _number(prevalence, "prevalence")
    if math.isclose(got, (tp + fn) / total, rel_tol=1e-6):
        return passed(f"Prevalence = {got:.3f}: {got:.1%} of these patients have the disease.")
    if math.isclose(got, (tp + fp) / total, rel_tol=1e-6):
        raise CheckFailed(
            "You counted the patients the AI *flagged* (TP + FP). Prevalence counts the patients "
            "who really *have* the disease: TP + FN, divided by everyone."
        )
    if math.isclose(got, 100 * (tp + fn) / total, rel_tol=1e-6):
        raise CheckFailed("Give the prevalence as a fraction between 0 and 1, not a percentage.")
    if math.isclose(got, tp + fn, rel_tol=1e-6):
        raise CheckFailed(f"{got:g} is the number of patients with the disease; divide it by all {total} patients.")
    raise CheckFailed(
        f"Expected a fraction of all {total} patients; got {got!r}. "
        "Prevalence = (patients with the disease) / (all patients) = (TP + FN) / (TP + FP + FN + TN)."
    )


_TRIAGE_FORMULAS = {
    "sensitivity": ("TP / (TP + FN)", "of the patients who have the disease, how many did the AI flag?"),
    "specificity": ("TN / (TN + FP)", "of the patients without the disease, how many did the AI clear?"),
    "ppv": ("TP / (TP + FP)", "of the patients the AI flagged, how many really have the disease?"),
}


def _triage_values(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "ppv": tp / (tp + fp),
        "negative predictive value": tn / (tn + fn),
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "false positive rate": fp / (fp + tn),
    }


def check_triage_metrics(triage_metrics: Callable[..., Any], tp: int, fp: int, fn: int, tn: int) -> None:
    """Visible check for `triage_metrics(tp, fp, fn, tn)` on one confusion matrix."""
    result = _call(triage_metrics, tp, fp, fn, tn)
    if result is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="triage_metrics(...)"))
    if not isinstance(result, dict) or set(result) != set(_TRIAGE_FORMULAS):
        raise CheckFailed(
            "triage_metrics should return a dictionary with the keys "
            f"{sorted(_TRIAGE_FORMULAS)}; it returned {result!r}."
        )
    truth = _triage_values(tp, fp, fn, tn)
    for key, (formula, meaning) in _TRIAGE_FORMULAS.items():
        got = _number(result[key], key)
        if math.isclose(got, truth[key], rel_tol=1e-6):
            continue
        if math.isclose(got, 100 * truth[key], rel_tol=1e-6):
            raise CheckFailed(f"{key} should be a fraction between 0 and 1, not a percentage: leave out the * 100.")
        mixed_up = [name for name, value in truth.items() if name != key and math.isclose(got, value, rel_tol=1e-6)]
        hint = f" Your value {got:.3f} is the {mixed_up[0]} instead." if mixed_up else f" You gave {got:.3f}."
        raise CheckFailed(f"{key} is not right yet.{hint} It answers: {meaning} Formula: {formula}.")
    passed("Sensitivity, specificity and positive predictive value are all correct.")


HINT_CORRCOEF = (
    "np.corrcoef gives a 2 x 2 table of correlations, not one number: its diagonal holds each map's "
    "correlation with itself (always 1) and the two other entries hold the NCC you want. Take one of "
    "them: `np.corrcoef(a.ravel(), b.ravel())[0, 1]`."
)
HINT_CORRCOEF_ROWS = (
    "np.corrcoef treats every row of a 2-D map as a separate variable, so it compared rows with rows{what}. "
    "Flatten both maps into one long row first and take the entry that pairs them: "
    "`np.corrcoef(a.ravel(), b.ravel())[0, 1]`."
)
HINT_MISSING_MEAN = (
    "Your function gives a whole map of {n} numbers (shape {shape}) instead of one number. The product "
    "`(a - a.mean()) * (b - b.mean())` is a map, one value per pixel, and NCC is its *mean*: put `.mean()` "
    "around it, `((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())`."
)


def check_ncc(ncc: Callable[[Any, Any], Any]) -> None:
    """Visible check for the NCC warm-up: Pearson correlation of two flattened maps."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    truth = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    result = _call(ncc, a, b)
    shape = _shape(result)
    if shape is not None and math.prod(shape) > 1:
        values = np.asarray(result, dtype=float)
        if shape == (2, 2) and np.allclose(np.diag(values), 1):
            raise CheckFailed(HINT_CORRCOEF)
        if shape == (16, 16) and np.allclose(np.diag(values), 1):
            raise CheckFailed(HINT_CORRCOEF_ROWS.format(what=" and gave a 16 x 16 table"))
        if shape == a.shape:
            raise CheckFailed(HINT_MISSING_MEAN.format(n=values.size, shape=" x ".join(map(str, shape))))
    got = _number(result, "ncc(a, b)")
    if math.isclose(got, truth, abs_tol=1e-6):
        same = _number(_call(ncc, a, 3 * a + 2), "ncc(a, 3 * a + 2)")
        if not math.isclose(same, 1.0, abs_tol=1e-6):
            raise CheckFailed(
                f"A map and a brighter, higher-contrast copy of it (3 * a + 2) should give NCC = 1; you gave {same:.3f}."
            )
        return passed(f"NCC is right: {got:.3f} for two random maps, 1.0 for a map and a rescaled copy of it.")
    centred = float(((a - a.mean()) * (b - b.mean())).mean())
    _matches(
        got,
        {
            float(np.corrcoef(a, b)[0, 1]): HINT_CORRCOEF_ROWS.format(
                what=" (this number pairs the first two rows of a)"
            ),
            float(
                (a * b).mean()
            ): "You multiplied the maps directly. First subtract each map's mean, then divide by both standard deviations.",
            float(
                (a * b).sum()
            ): "You multiplied the maps directly. First subtract each map's mean, then divide by both standard deviations.",
            centred: "You subtracted the means (good) but did not divide by the two standard deviations (a.std() * b.std()).",
            truth
            * a.size: "You summed the pixel-wise products: NCC uses their mean. Use `.mean()` instead of `.sum()`.",
            truth
            * (a.size - 1)
            / a.size: "You divided by the sample standard deviations (ddof=1). Use `a.std()` and `b.std()` "
            "as they are, so that a map compared with itself gives exactly 1.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.4f} for two random 8 x 8 maps, got {got:.4f}. NCC = mean((a - mean(a)) * (b - mean(b))) / (std(a) * std(b))."
    )


def check_critic_loss(critic_loss: Callable[..., Any]) -> None:
    """Visible check for the WGAN-GP critic loss exercise."""
    import torch

    healthy, generated, penalty = torch.tensor([1.0, 3.0]), torch.tensor([5.0, 9.0]), torch.tensor(0.3)
    result = _call(critic_loss, healthy, generated, penalty)
    if result is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="my_critic_loss(...)"))
    if not isinstance(result, torch.Tensor) or result.numel() != 1:
        raise CheckFailed(f"critic_loss should return one number as a torch tensor (use .mean()), got {result!r}.")
    got = float(result.detach())
    truth = (2.0 - 7.0) + 10 * 0.3
    hints = {  # the values that common mistakes give for these scores (all different)
        (7.0 - 2.0)
        + 10
        * 0.3: "The sign of the Wasserstein part is flipped: the critic's loss is mean(D(healthy)) - mean(D(generated)).",
        2.0 - 7.0: "You left out the gradient penalty: add 10 * penalty.",
        (2.0 - 7.0) + 0.3: "The gradient penalty needs its weight: 10 * penalty.",
        (4.0 - 14.0) + 10 * 0.3: "Use the mean of the scores, not their sum.",
    }
    if math.isclose(got, truth, abs_tol=1e-6):
        return passed(
            "The critic loss is right: low scores for healthy images, high for generated ones, plus the penalty."
        )
    for value, hint in hints.items():
        if math.isclose(got, value, abs_tol=1e-6):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"For healthy scores [1, 3], generated scores [5, 9] and penalty 0.3 the loss is {truth:g}; you gave {got:g}."
    )


def check_volume_change(volume_change: Callable[..., Any]) -> None:
    """Visible check for the hippocampal volume exercise: percentage change from two masks."""
    import numpy as np

    pixel_area = 4.0
    without = np.zeros((10, 10), dtype=bool)
    without[2:7, 2:6] = True  # 20 pixels = 80 mm²
    with_disease = without.copy()
    with_disease[2, 2:6] = False  # 16 pixels = 64 mm²: a 20 % loss
    got = _number(_call(volume_change, with_disease, without, pixel_area), "volume_change(...)")
    lost_pixels, lost_mm2 = 16 - 20, (16 - 20) * pixel_area  # -4 pixels, -16 mm²
    hints = {
        20.0: "The sign is flipped: a shrinking hippocampus gives a negative change (with - without).",
        -0.2: "Give the change in percent (multiply the fraction by 100).",
        lost_mm2: "You gave the change in square millimetres (-16 mm² here); the exercise asks for the change as a "
        "percentage of the area without the disease: divide by that area and multiply by 100.",
        -lost_mm2: "You gave the change in square millimetres, with the sign flipped; the exercise asks for the change "
        "(with - without) as a percentage of the area without the disease.",
        lost_pixels: "You gave the change in pixels (-4 here); the exercise asks for the change as a percentage of the "
        "area without the disease: divide by that area and multiply by 100.",
        -25.0: "Divide by the volume *without* the disease (the subject's own baseline), not with it.",
        80.0: "That is the share of the area that remains (80 %); the change is that share minus 100 %.",
        0.8: "That is the ratio of the two areas; the change in percent is 100 * (with - without) / without.",
        100 * lost_mm2 / 20: "The units are mixed: an area in mm² was divided by an area in pixels. Use the same unit "
        "above and below the fraction line (multiply both by the pixel area, or neither).",
    }
    if math.isclose(got, -20.0, abs_tol=1e-6):
        return passed("Right: 16 instead of 20 pixels is a 20 % loss (-20).")
    _matches(got, hints)
    raise CheckFailed(
        f"A mask of 20 pixels that shrinks to 16 is a change of -20 %; you gave {got:g}. "
        "Count the pixels of each mask with mask.sum()."
    )


def check_reparameterise(reparameterise: Callable[..., Any]) -> None:
    """Visible check for the reparameterisation trick: z = mu + sigma * eps, gradients kept."""
    import torch

    mu = torch.tensor([1.0, 2.0], requires_grad=True)
    sigma = torch.tensor([0.5, 2.0], requires_grad=True)
    eps = torch.tensor([2.0, -1.0])
    z = _call(reparameterise, mu, sigma, eps)
    if z is None:
        raise CheckFailed(HINT_RETURNED_NONE.format(what="reparameterise(...)"))
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        raise CheckFailed(f"reparameterise should return a torch tensor shaped like mu {tuple(mu.shape)}, got {z!r}.")
    got = [float(v) for v in z.detach()]
    if got == [2.0, 0.0]:
        if not z.requires_grad:
            raise CheckFailed(
                "The numbers are right, but the result lost its gradients. Keep it a torch calculation "
                "(no .detach(), .numpy() or float()) so that training can adjust mu and sigma."
            )
        return passed("Right: z = mu + sigma * eps. The randomness sits in eps, so gradients reach mu and sigma.")
    hints = {
        (3.0, 1.0): "You added eps without scaling it: multiply eps by sigma (the standard deviation).",
        (1.5, -2.0): "You scaled eps by sigma squared (the variance); use sigma itself, the standard deviation.",
        (2.0, 3.0): "Check the order: z = mu + sigma * eps (the mean plus the scaled noise).",
    }
    for value, hint in hints.items():
        if all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, value)):
            raise CheckFailed(hint)
    raise CheckFailed(
        f"For mu = [1, 2], sigma = [0.5, 2] and eps = [2, -1] expected z = [2, 0]; you gave {got}. "
        "Use the eps you are given (do not draw new random numbers)."
    )


def check_kl(kl_diagonal: Callable[..., Any]) -> None:
    """Visible check for the KL divergence between two diagonal Gaussians (summed over the latents)."""
    import torch

    from medai_edu.models.segmentation import kl_diagonal_gaussians

    mu_q, sigma_q = torch.tensor([0.5, -1.0, 0.0]), torch.tensor([0.5, 1.0, 2.0])
    mu_p, sigma_p = torch.tensor([0.0, 0.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])
    same = _number(_call(kl_diagonal, mu_q, sigma_q, mu_q, sigma_q), "kl_diagonal(q, q)")
    got = _number(_call(kl_diagonal, mu_q, sigma_q, mu_p, sigma_p), "kl_diagonal(q, p)")
    truth = float(kl_diagonal_gaussians(mu_q, sigma_q, mu_p, sigma_p).sum())
    if math.isclose(got, truth, rel_tol=1e-5) and abs(same) < 1e-6:
        return passed(f"Right: KL = {truth:.4f} here, and 0 when the two Gaussians are the same.")
    if not abs(same) < 1e-6:
        raise CheckFailed(
            f"The KL divergence of a Gaussian with itself must be 0; you gave {same:g}. "
            "Check the constant: subtract 1/2 for every latent number."
        )
    log_term, n = float(torch.log(sigma_p / sigma_q).sum()), len(mu_q)
    _matches(
        got,
        {
            float(
                kl_diagonal_gaussians(mu_p, sigma_p, mu_q, sigma_q).sum()
            ): "You computed KL(p || q), the other direction. The posterior q comes first: "
            "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2.",
            truth
            + log_term: "The log term uses the standard deviations, log(sigma_p / sigma_q); you used the variances.",
            truth / n: "Sum over the latent numbers (.sum()), do not average them.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.4f} for this example, got {got:.4f}. Per latent number: "
        "log(sigma_p / sigma_q) + (sigma_q² + (mu_q - mu_p)²) / (2 sigma_p²) - 1/2; then sum them."
    )


def check_ged(ged: Callable[..., Any]) -> None:
    """Visible check for the generalised energy distance from distance matrices."""
    import numpy as np

    from medai_edu.metrics import ged_from_distances

    d_sy = np.array([[0.2, 0.6], [0.4, 0.8], [0.3, 0.5]])
    d_ss = np.array([[0.0, 0.3, 0.1], [0.3, 0.0, 0.2], [0.1, 0.2, 0.0]])
    d_yy = np.array([[0.0, 0.4], [0.4, 0.0]])
    got = _number(_call(ged, d_sy, d_ss, d_yy), "ged(d_sy, d_ss, d_yy)")
    truth = ged_from_distances(d_sy, d_ss, d_yy)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: D²_GED = {truth:.4f} for this small example.")
    off = lambda d: d[~np.eye(len(d), dtype=bool)].mean()  # noqa: E731
    _matches(
        got,
        {
            d_sy.mean() - d_ss.mean() - d_yy.mean(): "The samples-to-raters term counts twice: 2 * mean(d_sy).",
            2 * d_sy.mean() + d_ss.mean() + d_yy.mean(): "The two within-group terms are subtracted, not added.",
            2 * d_sy.mean()
            - off(d_ss)
            - off(d_yy): "Average over all entries, the zero diagonal included (as the paper's code does).",
            2 * d_sy.sum() - d_ss.sum() - d_yy.sum(): "Use the mean of each matrix (np.mean or .mean()), not its sum.",
        },
    )
    raise CheckFailed(f"Expected {truth:.4f}, got {got:.4f}. D²_GED = 2 * mean(d_sy) - mean(d_ss) - mean(d_yy).")


def check_team_accuracy(team_accuracy: Callable[..., Any]) -> None:
    """Visible check for lesson 4's referral curve point: the team's accuracy at one referral share."""
    import numpy as np

    from medai_edu import referral

    model = np.array([True, False, True, False, False, True, True, True])
    reader = np.array([False, True, True, True, True, False, True, False])
    conf = np.array([0.95, 0.55, 0.9, 0.6, 0.52, 0.99, 0.7, 0.8])
    got = _number(_call(team_accuracy, model, reader, conf, 0.25), "team_accuracy(..., share=0.25)")
    truth = referral.team_accuracy(model, reader, conf, 0.25)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: referring the 2 least confident of 8 cases, the team is right in {truth:.0%} of them.")
    most = np.zeros(8, bool)
    most[np.argsort(conf)[-2:]] = True
    _matches(
        got,
        {
            100 * truth: "Give the accuracy as a share between 0 and 1, not in percent.",
            8 * truth: "Divide the number of right decisions by the number of cases.",
            float(np.where(most, reader, model).mean()): "You referred the *most* confident cases; the reader should "
            "get the *least* confident ones (np.argsort sorts from the smallest value up).",
            float(model.mean()): "That is the model alone: on the referred cases, use the reader's answer.",
            float(reader.mean()): "That is the reader alone: only the referred cases go to the reader.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.3f}, got {got:.3f}. Refer the round(share * n) cases with the lowest confidence; on those "
        "count the reader's correctness, on the rest the model's; return the mean."
    )


def check_capacity_threshold(capacity_threshold: Callable[..., Any]) -> None:
    """Visible check for lesson 4's threshold exercise: the highest threshold within the reader's capacity."""
    import numpy as np

    from medai_edu import referral

    conf = np.array([0.91, 0.55, 0.73, 0.99, 0.62, 0.88, 0.51, 0.97, 0.8, 0.66])
    got = _number(_call(capacity_threshold, conf, 0.3), "capacity_threshold(confidences, 0.3)")
    truth = referral.threshold_for_capacity(conf, 0.3)
    ordered = np.sort(conf)
    if math.isclose(got, truth, abs_tol=1e-12):
        return passed(f"Right: below {truth:.2f} lie 3 of the 10 cases, 30 % of them.")
    referred = int((conf < got).sum())
    _matches(
        got,
        {
            float(
                ordered[2]
            ): "With this threshold only 2 cases lie below it; the reader can read 3. Cases *below* the "
            "threshold are referred, so the threshold is the next confidence after the last referred case.",
            float(ordered[4]): "Now 4 cases lie below the threshold, more than the reader can read (3).",
            3.0: "Return the threshold (a confidence between 0.5 and 1), not the number of cases.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.2f}, got {got:g}, which refers {referred} of 10 cases. Sort the confidences, take "
        "k = floor(capacity * n) and return the k-th smallest confidence counted from 0 (sorted[k])."
    )


def check_ece(ece: Callable[..., Any]) -> None:
    """Visible check for lesson 4's expected calibration error of probabilities against outcomes."""
    import numpy as np

    from medai_edu.metrics import calibration_bins, calibration_error

    p = np.array([0.05, 0.12, 0.18, 0.35, 0.62, 0.71, 0.88, 0.93, 0.97, 1.0])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1, 1])
    got = _number(_call(ece, p, y, 5), "ece(probabilities, labels, 5)")
    truth = calibration_error(p, y, bins=5)
    if math.isclose(got, truth, abs_tol=1e-9):
        return passed(f"Right: ECE = {truth:.3f} for this small example with 5 bins.")
    table = calibration_bins(p, y, bins=5)
    used = table["count"] > 0
    gaps = np.abs(table["predicted"] - table["observed"])[used]
    _matches(
        got,
        {
            float(gaps.mean()): "Weight each bin by its number of cases (n_b / n), do not average the bins equally.",
            float(np.abs(p - y).mean()): "Compare bin averages, not each case with its outcome: first group the cases "
            "into bins of the probability.",
            float(abs(p.mean() - y.mean())): "Group the cases into bins first; one average over all cases hides "
            "miscalibration.",
        },
    )
    raise CheckFailed(
        f"Expected {truth:.4f}, got {got:.4f}. Put case i in bin min(int(p_i * bins), bins - 1); per non-empty bin "
        "take |mean probability - share with the disease|, weight it by the bin's share of cases, and add up."
    )


# --------------------------------------------------------------------------------------------
# Hints for errors raised directly in a student's cell (IPython kernels only)
# --------------------------------------------------------------------------------------------

#: the errors whose typical causes have a hint (others keep IPython's usual traceback)
FRIENDLY_ERRORS = (NameError, NotImplementedError, TypeError, ValueError, RuntimeError)


def friendly_traceback(exc: BaseException, tb=None) -> list[str] | None:
    """The lines a notebook shows for a novice's typical error in their own cell: the error in one
    line, the student's lines it passed through, and the hint last. ``None`` if there is no hint."""
    hint, context = hint_for(exc, tb)
    if hint is None:
        return None
    return _render(f"{_RED}{_error_line(exc)}{_RESET}", context, hint)


def _friendly_handler(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: a hint for known mistakes, the usual traceback otherwise."""
    lines = friendly_traceback(value, tb) if not hasattr(value, "_render_traceback_") else None
    if lines is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    shell._showtraceback(etype, value, lines)
    return lines


def install_friendly_errors(shell: Any = None) -> bool:
    """Show hints for typical mistakes raised in notebook cells; True if installed.

    Called when this module is imported in an IPython kernel. Leaves any other custom handler alone.
    """
    if shell is None:
        if "IPython" not in sys.modules:
            return False
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if getattr(shell, "_medai_edu_friendly_errors", False):
        return True
    if getattr(shell, "custom_exceptions", ()):
        return False
    shell.set_custom_exc(FRIENDLY_ERRORS, _friendly_handler)
    shell._medai_edu_friendly_errors = True
    return True


install_friendly_errors()


def _main(argv: list[str] | None = None) -> None:
    """``python -m medai_edu.checks seal C A="..." B="..." C="..."`` or ``... show KEY``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m medai_edu.checks", description=_main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sealing = sub.add_parser("seal", help="make a multiple-choice key for check_choice")
    sealing.add_argument("correct", help="the right letter")
    sealing.add_argument("explanations", nargs="+", help='LETTER="why this option is right or wrong"')
    showing = sub.add_parser("show", help="print what a key holds")
    showing.add_argument("key")
    args = parser.parse_args(argv)
    if args.command == "seal":
        pairs = dict(item.split("=", 1) for item in args.explanations)
        print(seal(args.correct, pairs))
    else:
        correct, explanations = unseal(args.key)
        print(f"right answer: {correct}")
        for letter, why in sorted(explanations.items()):
            print(f"{letter}: {why}")


if __name__ == "__main__":
    _main()
