"""Hints for a novice's typical errors: in their own cells, and in their functions when a check calls them.

- :func:`hint_for` names the real cause of an error: the placeholder line left in place, a power
  written with ``^``, NumPy on PyTorch tensors (or the reverse), a name Python does not know
  (with the function's own inputs as the example), an error from a library in the student's line.
- :func:`call` runs a student's function for a check: an error becomes a hint about their line,
  NumPy used on tensors (which NumPy 2 only warns about) is caught, and a function whose cell
  stopped with an error is reported as such before anything else (:func:`failed_definition`).
- In a notebook kernel, :func:`install_friendly_errors` shows these hints under a failed cell
  and records which cells failed (IPython's ``pre_run_cell``/``post_run_cell`` events).
  Errors without a known hint keep IPython's usual traceback; every error still counts as an
  error for papermill and nbgrader.
"""

from __future__ import annotations

import difflib
import inspect
import io
import re
import sys
import sysconfig
import tokenize
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from medai_edu.checks.feedback import RED, RESET, CheckFailed, render

__all__ = [
    "hint_for",
    "register_answer",
    "Failure",
    "defined_names",
    "failed_definition",
    "forget_failures",
    "call",
    "friendly_traceback",
    "install_friendly_errors",
]

# --------------------------------------------------------------------------------------------
# Where an error happened: the student's code or a library
# --------------------------------------------------------------------------------------------

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


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


def _student_frames(tb: TracebackType | None) -> tuple[list[traceback.FrameSummary], bool, bool]:
    """The traceback's frames in the student's code; whether the student's code (rather than this
    package) ran last before the error; whether a library ran after the student's last line."""
    frames = traceback.extract_tb(tb)
    ours = [(f, _where(f.filename)) for f in frames]
    relevant = [(f, w) for f, w in ours if w in ("student", "course")]
    student = [f for f, w in ours if w == "student"]
    in_library = bool(ours) and ours[-1][1] == "library"
    return student, bool(relevant) and relevant[-1][1] == "student", in_library


def error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _describe(frame: traceback.FrameSummary) -> str:
    place = "in this cell" if frame.name == "<module>" else f"in {frame.name}"
    code = (frame.line or "").strip()
    return f"{place}, line {frame.lineno}: {code}" if code else f"{place}, line {frame.lineno}"


def _last_frame(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _last_student_frame(tb: TracebackType | None) -> FrameType | None:
    """The innermost frame of the traceback that runs the student's code (a frame object)."""
    found = None
    while tb is not None:
        if _where(tb.tb_frame.f_code.co_filename) == "student":
            found = tb.tb_frame
        tb = tb.tb_next
    return found


def _visible_names(frame: FrameType | None) -> set[str]:
    if frame is None:
        return set()
    names = set(frame.f_locals) | set(frame.f_globals)
    return {n for n in names if not n.startswith("_") and n not in ("In", "Out", "exit", "quit", "get_ipython")}


# --------------------------------------------------------------------------------------------
# The hints
# --------------------------------------------------------------------------------------------

HINT_NOT_IMPLEMENTED = (
    "This exercise still has its placeholder line `raise NotImplementedError()`. Delete that line and "
    "write your own code in its place (where it says `# YOUR CODE HERE`), run that cell (Shift + Enter), "
    "then run the check again. Already did? Then run the cell with your code once more: the check uses "
    "the version Python last ran."
)
HINT_CARET = (
    "Python writes powers as `**`: `x ** 2` is x squared. The `^` sign means something else in Python "
    "(a bitwise 'exclusive or' of whole numbers), so `x ^ 2` fails on decimal numbers or gives a wrong answer."
)
HINT_LIBRARY_ERROR = (
    "Python stopped in your line shown above, with an error from {library}: {error}. Read your line once "
    "more: which operation does not fit the values it was given? Fix it, run your cell again, then this check."
)
HINT_NUMPY_ON_TENSOR = (
    "NumPy's `np.{fn}` does not work on PyTorch tensors, and these values are tensors, not NumPy arrays. "
    "Use the tensor's own method instead, for example `{example}.{fn}()`, or `torch.{fn}({example})`: "
    "it works the same way and the result stays a tensor, as the exercise needs."
)
HINT_NUMPY_ON_GRAD = (
    "A NumPy function (`np.` something) was given a PyTorch tensor. These tensors take part in training, and "
    "NumPy cannot follow the gradients that training needs: use the torch version instead (`torch.log`, "
    "`torch.exp`, `torch.sqrt`) or tensor methods such as `.mean()` and `.sum()`."
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
    "arrays, so use NumPy: `np.mean({example})` or `{example}.mean()`, `np.log({example})`, `np.sqrt({example})`."
)
HINT_METHOD_NOT_CALLED = (
    "A method was used without brackets: `{example}.mean` only names the method, `{example}.mean()` runs it and "
    "gives the number. Add the brackets, for example `{example}.mean()` and `{example}.std()`."
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
    "`{name}` has no value yet: the cell above where you write it has not run. Write your answer there "
    "(in place of the three dots `...`), run that cell with Shift + Enter, then run this one again."
)
HINT_NOT_IMPORTED = (
    "`{name}` is a library that has not been imported here. Add `{statement}` as the first line of your "
    "cell, run it, and try again."
)
HINT_NAME_UNKNOWN = (
    "Python does not know the name `{name}` yet. Either the cell that defines it has not run (run the cells "
    "above in order, or use Kernel → Restart Kernel and Run All Cells), or it is spelt differently where "
    "it is defined (names are case-sensitive).{suggestion}"
)
HINT_NAME_IN_FUNCTION = (
    "Your function `{function}` uses the name `{name}`, but nothing has given `{name}` a value: neither a line "
    "of the function before this one (`{name} = ...`) nor one of its inputs. Its inputs are {inputs}.{suggestion}"
)
HINT_FUNCTION_NAME = (
    " `{name}` on its own is not a Python function: the {what} of a value is its method, `{example}.{name}()`, "
    "or the {library} function `{prefix}.{name}({example})`."
)
HINT_RETURNED_NONE = (
    "{what} gave `None`: Python reached the end of your function without a `return` line. Add "
    "`return` followed by your result as the last line of the function."
)
HINT_OTHER_ERROR = (
    "Your function stopped with an error before it gave an answer: {error}. The line where it stopped is "
    "shown above. Fix that line, run the cell with your function again, then run this check."
)
HINT_FAILED_CELL = (
    "Your cell above that defines `{name}` stopped with an error: {error}. Python kept the version of "
    "`{name}` from before, so a check now would test that one, not what you wrote. Fix that cell and run "
    "it again, then run this check.{extra}"
)

_SYNTAX_HINTS = (
    (
        re.compile(r"invalid character '²'|invalid character '³'"),
        "Python cannot read ² or ³: write powers with `**`, for example `sigma ** 2` for sigma².",
    ),
    (
        re.compile(r"invalid character '[‘’“”]'"),
        "Those are typographic quotes (‘ ’ “ ”), copied from a text. Python needs straight quotes: \"A\" or 'A'.",
    ),
    (
        re.compile(r"invalid character '[−–]'"),
        "That minus sign (− or –) was copied from a text: type the keyboard's minus, -.",
    ),
    (re.compile(r"invalid character '[×·]'"), "Python multiplies with `*`: write `a * b`, not a × b."),
    (
        re.compile(r"unterminated string|EOL while scanning|unterminated triple"),
        'A text in quotes is missing its closing quote: write "A", with a quote on both sides.',
    ),
    (
        re.compile(r"was never closed|unexpected EOF|'[(\[{]' was never closed"),
        "A bracket is opened but never closed: count the ( and ) in your line, each ( needs its ).",
    ),
    (
        re.compile(r"unmatched '[)\]}]'|closing parenthesis"),
        "There is a closing bracket without its opening one: count the ( and ) in your line.",
    ),
    (re.compile(r"expected ':'"), "A `def` line ends with a colon: `def name(inputs):`."),
    (
        re.compile(r"unexpected indent"),
        "This line starts further right than Python expects. Lines of one "
        "block start at the same place: 4 spaces inside a function, none outside.",
    ),
    (
        re.compile(r"expected an indented block|unindent does not match"),
        "The lines inside a function must start 4 spaces further right than its `def` line, all at the same place.",
    ),
    (
        re.compile(r"invalid decimal literal"),
        "A number is glued to a name (like `2sigma`): Python needs the `*` "
        "to multiply, `2 * sigma`, and names cannot start with a digit.",
    ),
    (
        re.compile(r"cannot assign to (literal|expression)|cannot assign to function call"),
        "The name you give a value to goes on the left of `=`, the value on the right: `answer = 32`.",
    ),
)


def syntax_hint(exc: SyntaxError) -> str | None:
    """A hint for a syntax error a novice makes (quotes, brackets, ², %), or None."""
    message = str(exc.msg if isinstance(exc, SyntaxError) else exc)
    for pattern, hint in _SYNTAX_HINTS:
        if pattern.search(message):
            return hint
    text = getattr(exc, "text", None) or ""
    if re.search(r"\d\s*%\s*$", text.strip()):
        return "Write the number without the % sign (the question says which unit): `32`, not `32%`."
    return None


_IMPORTS = {
    "np": "import numpy as np",
    "numpy": "import numpy as np",
    "torch": "import torch",
    "math": "import math",
    "plt": "import matplotlib.pyplot as plt",
}
#: NumPy/torch functions a novice writes as if they were Python's own: name -> what it computes
_ARRAY_FUNCTIONS = {
    "mean": "mean",
    "std": "standard deviation",
    "sum": "sum",
    "var": "variance",
    "log": "logarithm",
    "exp": "exponential",
    "sqrt": "square root",
    "argsort": "sorting order",
    "sort": "sorted copy",
    "corrcoef": "correlation",
    "floor": "rounding down",
    "where": "choice per element",
}
_ELEMENTWISE = {"log", "exp", "sqrt", "floor", "where", "corrcoef"}  # no method form on arrays/tensors


def _inputs(frame: FrameType) -> list[str]:
    code = frame.f_code
    return list(code.co_varnames[: code.co_argcount])


def _kind(value: Any) -> str | None:
    module = type(value).__module__
    if module.startswith("torch"):
        return "torch"
    if module.startswith("numpy"):
        return "numpy"
    return None


def _name_error_hint(exc: NameError, frames: list[traceback.FrameSummary], tb: TracebackType | None) -> str:
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
    if name.startswith(ANSWER_PREFIXES) or name in answer_names():
        return HINT_ANSWER_MISSING.format(name=name)
    frame = _last_student_frame(tb)
    if frames and frames[-1].name != "<module>" and frame is not None:
        inputs = _inputs(frame)
        shown = ", ".join(f"`{i}`" for i in inputs) or "none"
        suggestion = ""
        if name in _ARRAY_FUNCTIONS and inputs:
            example = inputs[0]
            library = _kind(frame.f_locals.get(example)) or "numpy"
            prefix = "torch" if library == "torch" else "np"
            form = f"`{prefix}.{name}({example})`" if name in _ELEMENTWISE else None
            suggestion = (
                f" `{name}` on its own is not a Python function: write {form}."
                if form
                else HINT_FUNCTION_NAME.format(
                    name=name,
                    what=_ARRAY_FUNCTIONS[name],
                    example=example,
                    library="NumPy" if prefix == "np" else "torch",
                    prefix=prefix,
                )
            )
        else:
            close = difflib.get_close_matches(name, [*inputs, *frame.f_code.co_varnames], n=1, cutoff=0.6)
            if close:
                suggestion = f" Did you mean `{close[0]}`? Names are case-sensitive."
        return HINT_NAME_IN_FUNCTION.format(name=name, function=frames[-1].name, inputs=shown, suggestion=suggestion)
    close = difflib.get_close_matches(name, sorted(_visible_names(frame)), n=1, cutoff=0.8)
    suggestion = f" Did you mean `{close[0]}`?" if close else ""
    return HINT_NAME_UNKNOWN.format(name=name, suggestion=suggestion)


def _example_input(tb: TracebackType | None) -> str:
    frame = _last_student_frame(tb)
    inputs = _inputs(frame) if frame is not None and frame.f_code.co_name != "<module>" else []
    return inputs[0] if inputs else "x"


def _caret(line: str, message: str) -> bool:
    return "bitwise_xor" in message or "for ^" in message or bool(re.search(r"[\w)\]]\s*\^\s*[\w(]", line))


def _library_name(tb: TracebackType | None) -> str:
    frame = _last_frame(tb)
    path = frame.tb_frame.f_code.co_filename if frame is not None else ""
    for name in ("torch", "numpy", "pandas", "scipy"):
        if f"{name}/" in path or f"{name}\\" in path:
            return {"numpy": "NumPy"}.get(name, name)
    return "a library"


def hint_for(exc: BaseException, tb: TracebackType | None = None) -> tuple[str | None, list[str]]:
    """The hint for an error a novice typically makes, and the lines of their code it passed through.

    The hint is ``None`` when the error is not a known mistake, or when it was raised inside this
    package (a problem of the course, not the student's).
    """
    tb = tb if tb is not None else exc.__traceback__
    frames, in_student_code, in_library = _student_frames(tb)
    context = [_describe(f) for f in frames]
    if not in_student_code:
        return None, context
    message = str(exc)
    line = (frames[-1].line or "") if frames else ""
    if isinstance(exc, (TypeError, RuntimeError, ValueError)) and _caret(line, message):
        return HINT_CARET, context
    if isinstance(exc, NotImplementedError):
        if "raise NotImplementedError" in line and not in_library:
            return HINT_NOT_IMPLEMENTED, context
        return HINT_LIBRARY_ERROR.format(library=_library_name(tb), error=error_line(exc)), context
    if isinstance(exc, NameError):
        return _name_error_hint(exc, frames, tb), context
    if isinstance(exc, TypeError) and (
        "unexpected keyword argument 'axis'" in message
        or ("invalid combination of arguments" in message and "axis" in message)
    ):
        found = re.match(r"(\w+)\(\)", message)
        fn = found.group(1) if found else "mean"
        return HINT_NUMPY_ON_TENSOR.format(fn=fn, example=_example_input(tb)), context
    if "Can't call numpy() on Tensor that requires grad" in message:
        return HINT_NUMPY_ON_GRAD, context
    if "only one element tensors can be converted" in message or "arrays can be converted to Python scalars" in message:
        if "float(" in line and "math." not in line:
            return HINT_FLOAT_ON_MANY, context
        return HINT_MATH_ON_MANY, context
    if isinstance(exc, TypeError) and "must be Tensor, not numpy.ndarray" in message:
        return HINT_TORCH_ON_NUMPY.format(example=_example_input(tb)), context
    if isinstance(exc, TypeError) and re.search(r"'(builtin_function_or_method|method)'", message):
        return HINT_METHOD_NOT_CALLED.format(example=_example_input(tb)), context
    return None, context


# --------------------------------------------------------------------------------------------
# Cells that stopped with an error (recorded in a notebook kernel)
# --------------------------------------------------------------------------------------------

#: what names the answer variables of the core questions start with (a NameError names the answer cell)
ANSWER_PREFIXES = ("answer_", "predict_", "read_")
_ANSWER_NAMES: set[str] = set()


def register_answer(name: str) -> None:
    """Remember that ``name`` is an answer variable (its NameError then says: run the answer cell)."""
    _ANSWER_NAMES.add(name)


def answer_names() -> set[str]:
    return set(_ANSWER_NAMES)


@dataclass(frozen=True)
class Failure:
    """A cell that tried to define a name and stopped with an error."""

    error: str
    hint: str | None


_FAILED: dict[str, Failure] = {}
_DEFINES = re.compile(r"^(?:def\s+(\w+)\s*\(|(\w+)\s*(?::[^=\n]*)?=(?!=))", re.MULTILINE)
_MISSING = object()


def defined_names(source: str) -> list[str]:
    """The names a cell defines at its top level (``def name(`` or ``name = ...``), read without running it."""
    return [a or b for a, b in _DEFINES.findall(source or "")]


def failed_definition(name: str) -> CheckFailed | None:
    """A :class:`CheckFailed` saying that the cell defining ``name`` stopped with an error, if it did."""
    failure = _FAILED.get(name)
    if failure is None:
        return None
    extra = f" (The hint there: {failure.hint})" if failure.hint else ""
    return CheckFailed(
        HINT_FAILED_CELL.format(name=name, error=failure.error, extra=extra),
        title="Your cell above stopped with an error.",
    )


def forget_failures() -> None:
    _FAILED.clear()


def _describe_failure(error: BaseException) -> Failure:
    if isinstance(error, SyntaxError):
        where = f" (line {error.lineno}: {error.text.strip()})" if error.lineno and error.text else ""
        return Failure(f"{type(error).__name__}: {error.msg}{where}", syntax_hint(error))
    hint, _ = hint_for(error, error.__traceback__)
    return Failure(error_line(error), hint)


class _CellWatch:
    """IPython event handlers: remember the values a cell is about to define, and whether it stopped."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.before: dict[str, int] = {}

    def pre_run_cell(self, info: Any) -> None:
        names = defined_names(getattr(info, "raw_cell", "") or "")
        self.before = {n: id(self.shell.user_ns.get(n, _MISSING)) for n in names}

    def post_run_cell(self, result: Any) -> None:
        if result is None:
            return
        info = getattr(result, "info", None)
        names = defined_names(getattr(info, "raw_cell", "") or "")
        error = result.error_before_exec or result.error_in_exec
        for name in names:
            now = self.shell.user_ns.get(name, _MISSING)
            went_through = now is not _MISSING and id(now) != self.before.get(name)
            if error is None or went_through:
                _FAILED.pop(name, None)
            else:
                _FAILED[name] = _describe_failure(error)
        if isinstance(error, SyntaxError):
            hint = syntax_hint(error)
            if hint:
                print(f"💡 Hint: {hint}")


# --------------------------------------------------------------------------------------------
# Calling the student's function for a check
# --------------------------------------------------------------------------------------------


def _uses_caret(fn: Callable[..., Any]) -> bool:
    """Whether the function's code contains the operator ``^`` (outside strings and comments)."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    try:
        return any(
            t.type == tokenize.OP and t.string == "^" for t in tokenize.generate_tokens(io.StringIO(source).readline)
        )
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "^" in source


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run the student's function; turn any error it raises into a hint about their own code."""
    if not callable(fn):
        raise CheckFailed(
            f"The check needs your function, but it was given {type(fn).__name__} ({fn!r}). "
            "Pass the function's name without brackets, as the check cell does."
        )
    failed = failed_definition(getattr(fn, "__name__", ""))
    if failed is not None:
        raise failed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - every error of the student's code becomes a hint
            hint, context = hint_for(exc)
            if hint == HINT_NOT_IMPLEMENTED:
                raise CheckFailed(hint, context=context, title="Not done yet.") from None
            error = error_line(exc)
            if hint is None:
                hint = HINT_OTHER_ERROR.format(error=error)
            else:
                context.append(error)
            raise CheckFailed(hint, context=context, title="Your code stopped with an error.") from None
    if any("__array_wrap__" in str(w.message) or "__array__" in str(w.message) for w in caught):
        raise CheckFailed(HINT_NUMPY_ON_GRAD, title="NumPy was used on PyTorch tensors.")
    if _uses_caret(fn):
        raise CheckFailed(HINT_CARET, title="A power written with ^.")
    return result


# --------------------------------------------------------------------------------------------
# Hints for errors raised directly in a student's cell (IPython kernels only)
# --------------------------------------------------------------------------------------------

#: the errors whose typical causes have a hint (others keep IPython's usual traceback)
FRIENDLY_ERRORS = (NameError, NotImplementedError, TypeError, ValueError, RuntimeError)


def friendly_traceback(exc: BaseException, tb: TracebackType | None = None) -> list[str] | None:
    """The lines a notebook shows for a novice's typical error in their own cell: the error in one
    line, the student's lines it passed through, and the hint last. ``None`` if there is no hint."""
    hint, context = hint_for(exc, tb)
    if hint is None:
        return None
    return render(f"{RED}{error_line(exc)}{RESET}", context, hint)


def _friendly_handler(
    shell: Any, etype: type[BaseException], value: BaseException, tb: TracebackType | None, tb_offset: int | None = None
) -> list[str] | None:
    """IPython custom exception handler: a hint for known mistakes, the usual traceback otherwise."""
    lines = friendly_traceback(value, tb) if not hasattr(value, "_render_traceback_") else None
    if lines is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    shell._showtraceback(etype, value, lines)
    return lines


def install_friendly_errors(shell: Any = None) -> bool:
    """Show hints for typical mistakes raised in notebook cells and record cells that stopped; True if installed.

    Called by a lesson's set-up cell (:func:`medai_edu.notebook.start`) in an IPython kernel. Leaves any
    other custom exception handler alone.
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
    watch = _CellWatch(shell)
    shell.events.register("pre_run_cell", watch.pre_run_cell)
    shell.events.register("post_run_cell", watch.post_run_cell)
    shell._medai_edu_friendly_errors = True
    return True
