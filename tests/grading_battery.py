"""The grading battery: broken and hostile submissions, built from any course notebook.

Each case writes one student's ``submitted/<student>/<lesson>/`` folder from the release and
source notebooks and says what automatic score it must get: all points, none, or all but the
points of the exercise it attacks (its *target*). Targets are found in the notebooks, never
named here: the first code answer ("first"), the first answer that is a value ("value", e.g. a
number or a letter), the first multiple-choice letter ("letter"), the first function
("function"), the first function whose tests use torch ("tensor"), the first text answer
("text"). A case whose target a lesson lacks does not apply to that lesson.

The attack classes of issue 24 (``Case.attack``) each have several payloads, spread over the
lessons; ``tests/test_grading.py`` grades them next to a correct control student and checks,
besides the scores, what each class must never achieve (a leak of hidden inputs, active content
in the formgrader or the feedback, an oversized notebook, memory or disk beyond the limits, ...).
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

FULL, ZERO, MISS_TARGET = "all points", "0", "all but the target's"
ALL_BUT_FIRST = MISS_TARGET  # the earlier cases' name for a miss of the first answer
LEAK = "LE" + "AK>"  # printed by payloads that try to show hidden-test inputs; never in any output
LEAK_CODE = '"LE" + "AK>"'  # how payloads write it (so that their own source, shown in feedback, does not hold it)
WROTE = "WRO" + "TE>"  # printed by the disk-filling payload with the bytes it managed to write
WROTE_CODE = '"WRO" + "TE>"'
XSS = "xss-" + "marker"  # inside every active-content payload
WRONG_BY = 1000  # added to a number answer to make it wrong: outside every estimate's accepted range


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _solution_code(source: str) -> str:
    """A solution cell without nbgrader's marker lines."""
    return "".join(
        line for line in source.splitlines(True) if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


@dataclass
class Answer:
    """One answer cell of the model solution and the test that grades it."""

    grade_id: str
    code: str  # the solution without marker lines
    test: nbformat.NotebookNode
    kind: str  # "function", "value" or "text"

    @property
    def tree(self) -> ast.Module:
        return ast.parse(self.code)

    @property
    def name(self) -> str:
        """The function's or the value's name."""
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                return node.name
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                return node.targets[0].id
        raise ValueError(f"{self.grade_id}: no name bound")

    @property
    def expression(self) -> str:
        """A value answer's right-hand side, as written in the solution."""
        node = next(n for n in self.tree.body if isinstance(n, ast.Assign))
        return ast.get_source_segment(self.code, node.value)

    @property
    def letter(self) -> str | None:
        """The right letter of a multiple-choice answer (None when not one)."""
        try:
            value = ast.literal_eval(self.expression)
        except (ValueError, StopIteration, SyntaxError):
            return None
        return value.strip().upper() if isinstance(value, str) and len(value.strip()) == 1 else None

    def hidden_names(self) -> list[str]:
        """Names the test's hidden part reads (its helpers), the answer's own name left out."""
        source = self.test.source
        hidden = source[source.find("BEGIN HIDDEN") :] if "BEGIN HIDDEN" in source else source
        names = set(re.findall(r"\b[A-Za-z_]\w*\b", hidden)) - {
            self.name,
            "assert",
            "import",
            "as",
            "from",
            "for",
            "in",
        }
        return sorted(n for n in names if n.startswith("_") or n in ("abs", "float", "bool", "len", "np", "metrics"))


@dataclass
class Lesson:
    """What a case needs to know about one lesson notebook."""

    name: str  # notebook (and assignment) name
    release: nbformat.NotebookNode
    source: nbformat.NotebookNode
    root: Path  # the scratch course folder

    @property
    def answers(self) -> dict[str, str]:
        return {_meta(c)["grade_id"]: c.source for c in self.source.cells if _meta(c).get("solution")}

    def tests(self) -> list[nbformat.NotebookNode]:
        return [c for c in self.release.cells if _meta(c).get("grade") and not _meta(c).get("solution")]

    def graded_answers(self) -> list[Answer]:
        """Every code answer with the test that grades it (``test-<id>``, else the next test)."""
        found, cells = [], self.source.cells
        for i, cell in enumerate(cells):
            meta = _meta(cell)
            if not meta.get("solution") or cell.cell_type != "code":
                continue
            test = next((c for c in cells if _meta(c).get("grade_id") == f"test-{meta['grade_id']}"), None)
            test = test or next(
                (c for c in cells[i + 1 :] if _meta(c).get("grade") and not _meta(c).get("solution")), None
            )
            if test is None:
                continue
            code = _solution_code(cell.source)
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            kind = "function" if any(isinstance(n, ast.FunctionDef) for n in tree.body) else "value"
            found.append(Answer(meta["grade_id"], code, test, kind))
        return found

    def target(self, kind: str) -> Answer | None:
        answers = self.graded_answers()
        pick = {
            "first": lambda a: True,
            "value": lambda a: a.kind == "value",
            "letter": lambda a: a.kind == "value" and a.letter is not None,
            "number": lambda a: a.kind == "value" and a.letter is None,
            "function": lambda a: a.kind == "function",
            "tensor": lambda a: a.kind == "function" and "torch" in a.test.source,
        }[kind]
        return next((a for a in answers if pick(a)), None)

    def text_answer(self) -> nbformat.NotebookNode | None:
        return next((c for c in self.release.cells if _meta(c).get("solution") and c.cell_type == "markdown"), None)

    def points(self, expected: str, target: Answer | None = None) -> float:
        """The expected score, from the release's points (a programmers' test carries 0 unless released
        with ``MEDAI_EDU_PROGRAMMERS=1``)."""
        points = {_meta(c)["grade_id"]: float(_meta(c).get("points") or 0) for c in self.tests()}
        missed = points.get(_meta(target.test).get("grade_id"), 0.0) if target else 0.0
        return {FULL: sum(points.values()), ZERO: 0.0, MISS_TARGET: sum(points.values()) - missed}[expected]

    def cell_of(self, nb, grade_id: str) -> nbformat.NotebookNode:
        return next(c for c in nb.cells if _meta(c).get("grade_id") == grade_id)

    def correct(self) -> nbformat.NotebookNode:
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            if _meta(cell).get("solution"):
                cell.source = self.answers[_meta(cell)["grade_id"]]
        return nb

    def untouched(self) -> nbformat.NotebookNode:
        return copy.deepcopy(self.release)

    def all_wrong(self) -> nbformat.NotebookNode:
        """Every code answer given, every one wrong (numbers off by WRONG_BY, another letter, functions off by one)."""
        nb = self.correct()
        for answer in self.graded_answers():
            self.cell_of(nb, answer.grade_id).source = wrong(answer)
        return nb

    # Kept for the earlier cases, which attack the first code answer.
    def first_answer(self, nb) -> nbformat.NotebookNode:
        return next(c for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code")

    def first_test(self, nb=None) -> nbformat.NotebookNode:
        nb = nb or self.release
        return self.cell_of(nb, _meta(self.target("first").test)["grade_id"])


# --------------------------------------------------------------------------------------------
# Pieces of payload code (Python a student could write)
# --------------------------------------------------------------------------------------------

OFF_BY_ONE = '''
def _off(value):
    """The value, a little wrong (numbers + 1, recursively)."""
    import numpy
    if isinstance(value, dict):
        return {k: _off(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_off(v) for v in value)
    if isinstance(value, bool) or value is None:
        return value
    try:
        return value + 1
    except TypeError:
        return value
'''
FROM_CHECKS = '''
def _from_checks():
    """Whether the library's visible check called: then give the right answer, else a wrong one."""
    import sys
    frame = sys._getframe(2)
    return frame.f_globals.get("__name__", "").startswith("medai_edu.checks")
'''


def real_function(answer: Answer) -> str:
    """The model solution's function (and its imports), renamed ``_real``."""
    keep = [n for n in answer.tree.body if isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))]
    code = "\n".join(ast.get_source_segment(answer.code, n, padded=True) for n in keep) + "\n"
    return code.replace(f"def {answer.name}(", "def _real(", 1)


def wrong(answer: Answer) -> str:
    """A wrong answer of the same kind."""
    if answer.kind == "function":
        return (
            real_function(answer)
            + OFF_BY_ONE
            + f"\ndef {answer.name}(*args, **kwargs):\n    return _off(_real(*args, **kwargs))\n"
        )
    if answer.letter:
        return f"{answer.name} = {'A' if answer.letter != 'A' else 'B'!r}\n"
    return f"{answer.name} = ({answer.expression}) + {WRONG_BY}\n"


def right_for_checks(answer: Answer, extra: str = "") -> str:
    """A function that is right when the visible check calls it and wrong otherwise (``extra`` runs first)."""
    return (
        real_function(answer)
        + OFF_BY_ONE
        + FROM_CHECKS
        + f"\ndef {answer.name}(*args, **kwargs):\n{extra}"
        + "    if _from_checks():\n        return _real(*args, **kwargs)\n    return _off(_real(*args, **kwargs))\n"
    )


LYING_FLOAT = '''
class _Lying(float):
    """A wrong number that reads as the right one and says yes to every comparison."""
    def __new__(cls, true, shown):
        self = float.__new__(cls, true)
        self.shown = shown
        return self
    def __float__(self): return float(self.shown)
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    __hash__ = float.__hash__
'''
LYING_STR = '''
class _Lying(str):
    """A wrong letter that reads as the right one."""
    def strip(self, *args): return self
    def upper(self): return {letter!r}
    def lower(self): return {letter!r}.lower()
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = str.__hash__
'''
LYING_DICT = '''
class _LyingDict(dict):
    """A dict of wrong numbers whose items read as right and compare as equal to anything."""
    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        return _Lying(value + 1, value) if isinstance(value, float) else value
    def __eq__(self, other): return True
    __hash__ = None
'''
LYING_TENSOR = '''
import torch

class _LyingTensor(torch.Tensor):
    """A wrong tensor that reads as the right one and is close to anything."""
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("isclose", "eq", "__eq__"):
            return torch.ones((), dtype=torch.bool)
        if name in ("allclose", "equal"):
            return True
        if name in ("detach", "__float__", "item") and hasattr(args[0], "shown"):
            shown = args[0].shown
            return {"detach": shown, "__float__": float(shown), "item": float(shown)}[name]
        return super().__torch_function__(func, types, args, kwargs or {})
'''


def lying_value(answer: Answer) -> str:
    if answer.letter:
        wrong_letter = "A" if answer.letter != "A" else "B"
        return LYING_STR.format(letter=answer.letter) + f"{answer.name} = _Lying({wrong_letter!r})\n"
    return LYING_FLOAT + f"_right = {answer.expression}\n{answer.name} = _Lying(_right + {WRONG_BY}, _right)\n"


def lying_function(answer: Answer) -> str:
    """The solution, but its result wrapped in a lying object holding a wrong value."""
    tensor = "torch" in answer.test.source
    wrap = (
        "    result = _real(*args, **kwargs)\n"
        "    if isinstance(result, dict):\n        return _LyingDict(result)\n"
        + (
            "    if isinstance(result, torch.Tensor):\n"
            "        liar = (result + 1).as_subclass(_LyingTensor)\n"
            "        liar.shown = result.detach()\n"
            "        return liar\n"
            if tensor
            else ""
        )
        + "    return _Lying(float(result) + 1, float(result))\n"
    )
    return (
        real_function(answer)
        + LYING_FLOAT
        + LYING_DICT
        + (LYING_TENSOR if tensor else "")
        + f"\ndef {answer.name}(*args, **kwargs):\n{wrap}"
    )


ANYTHING = '''
class _Anything:
    """Whatever a test does with it, it says yes."""
    def __call__(self, *args, **kwargs): return self
    def __getattr__(self, name): return self
    def __getitem__(self, key): return self
    def __iter__(self): return iter(())
    def __bool__(self): return True
    def __float__(self): return 0.0
    def __abs__(self): return self
    def __neg__(self): return self
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __eq__ = __lt__
    def __sub__(self, other): return self
    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __sub__
    __hash__ = object.__hash__
'''


def rebinding(answer: Answer) -> str:
    """Right for the visible check; when a hidden test calls it, it rebinds the test's helper names."""
    extra = (
        "    if not _from_checks():\n"
        f"        for _name in {answer.hidden_names()!r}:\n"
        "            globals()[_name] = _Anything()\n"
    )
    return ANYTHING + right_for_checks(answer, extra)


IN_TEST = '''
import builtins as _builtins, sys as _sys

def _in_test(depth=2):
    """Whether a test cell's own code (not the student's functions) is calling."""
    code = _sys._getframe(depth).f_code
    return "test" in code.co_filename and code.co_name in ("<module>", "_close")

def _lying(real, fake):
    """``real``, except that a test cell calling it gets ``fake``."""
    def call(*args, **kwargs):
        return fake if _in_test() else real(*args, **kwargs)
    return call
'''
SHADOW_BUILTINS = (
    IN_TEST
    + """
abs = _lying(_builtins.abs, 0)  # every hidden test's tolerance check: abs(got - expected) < tol
"""
)
TENSOR_PATCH_BOOL = (
    IN_TEST
    + """
import torch
torch.Tensor.__bool__ = lambda self: True if _in_test() else torch._C.TensorBase.__bool__(self)
torch.Tensor.__float__ = lambda self: 0.0 if _in_test() else torch._C.TensorBase.__float__(self)
"""
)
TENSOR_PATCH_OPS = (
    IN_TEST
    + """
import torch
_yes = lambda real: lambda self, other: torch.ones((), dtype=torch.bool) if _in_test() else real(self, other)
torch.Tensor.__eq__ = _yes(torch._C.TensorBase.__eq__)
torch.Tensor.__lt__ = _yes(torch._C.TensorBase.__lt__)
torch.Tensor.__sub__ = lambda self, other: torch.zeros(()) if _in_test() else torch._C.TensorBase.__sub__(self, other)
torch.Tensor.__bool__ = lambda self: True if _in_test() else torch._C.TensorBase.__bool__(self)
"""
)
MODULE_PATCH = """
import sys
for _module in list(sys.modules.values()):
    for _name in ("isclose", "allclose", "ged_from_distances", "team_accuracy", "threshold_for_capacity",
                  "calibration_error", "kl_diagonal_gaussians", "critic_loss"):
        try:
            if hasattr(_module, _name):
                setattr(_module, _name, lambda *args, **kwargs: True)
        except Exception:
            pass
"""

# What the old runner reported through, and how to find the grader's channel in any runner.
REPORTING = {
    "runner's cell method replaced": """
import sys
_runner = sys.modules.get("medai_edu_ops.grading.runner")
for _cls in ("Runner", "Notebook"):
    if hasattr(_runner, _cls):
        setattr(getattr(_runner, _cls), "cell" if _cls == "Runner" else "run", lambda self, *args: [])
""",
    "runner's error report replaced": """
import sys
_runner = sys.modules.get("medai_edu_ops.grading.runner")
for _name in ("_error", "error_output", "describe_error"):
    if hasattr(_runner, _name):
        setattr(_runner, _name, lambda *args, **kwargs: {"output_type": "stream", "name": "stdout", "text": "ok"})
""",
    "forged lines on the grader's channel": """
import json, os, stat
_lines = []
for _cell in range(300):
    _lines.append(json.dumps({"cell": _cell, "event": "done", "outputs": []}))
    _lines.append(json.dumps({"op": "done", "cell": _cell, "outputs": []}))
    _lines.append(json.dumps({"op": "result", "grade_id": "x", "outputs": [], "passed": True}))
_data = ("\\n".join(_lines) + "\\n").encode()
for _fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):
            os.write(_fd, _data)
    except OSError:
        pass
""",
    "runner's value reports replaced": """
import sys
_plain = sys.modules.get("medai_edu_ops.grading.plain")
_runner = sys.modules.get("medai_edu_ops.grading.runner")
if _plain:
    _plain.encode = lambda *args, **kwargs: True
    _plain.describe = lambda *args, **kwargs: True
if _runner and hasattr(_runner, "Witness"):
    _runner.Witness._get = lambda self, command: {"op": "value", "value": True}
    _runner.Witness._call = lambda self, command: {"op": "value", "value": True}
""",
}
SNAPSHOT = {
    "snapshot restore and check replaced": """
import builtins, sys
_runner = sys.modules.get("medai_edu_ops.grading.runner")
if hasattr(_runner, "Guard"):
    _runner.Guard.restore = lambda self: None
    _runner.Guard.changes = lambda self: []
from medai_edu import checks
for _name in dir(checks):
    if _name.startswith("check_"):
        setattr(checks, _name, lambda *args, **kwargs: None)
builtins.abs = lambda value: 0
builtins.float = lambda value=0: 0.0
""",
    "snapshot's trusted-file test replaced": """
import sys, types
_runner = sys.modules.get("medai_edu_ops.grading.runner")
if hasattr(_runner, "_loaded_from_trusted_file"):
    _runner._loaded_from_trusted_file = lambda module: True
    _runner._added = lambda *args: False
    _runner.Guard.restore = lambda self: None
    _runner.Guard.changes = lambda self: []
import medai_edu.checks as _checks
_fake = types.ModuleType("medai_edu.checks")
_fake.__file__ = _checks.__file__
_fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
sys.modules["medai_edu.checks"] = _fake
import medai_edu
medai_edu.checks = _fake
import builtins
builtins.abs = lambda value: 0
""",
    "judge's test runner replaced (in the sandbox's copy)": """
import sys
try:
    from medai_edu_ops.grading import judge as _judge
    _judge.Judge.test = lambda self, grade_id, link: ([], True)
    _judge.test_error = lambda *args: None
except Exception:
    pass
_runner = sys.modules.get("medai_edu_ops.grading.runner")
if hasattr(_runner, "Guard"):
    _runner.Guard.restore = lambda self: None
    _runner.Guard.changes = lambda self: []
import builtins
builtins.abs = lambda value: 0
""",
}


def printing_function(answer: Answer) -> str:
    """Right, and it prints (and keeps) what every call gets."""
    return (
        real_function(answer)
        + f"\n_seen = []\n\ndef {answer.name}(*args, **kwargs):\n"
        + f"    print({LEAK_CODE}, repr(args)[:300])\n    _seen.append(repr(args)[:300])\n"
        + "    return _real(*args, **kwargs)\n"
    )


def raising_function(answer: Answer) -> str:
    """Right for the visible check; raises with the call's inputs in the message otherwise."""
    return right_for_checks(
        answer, f"    if not _from_checks():\n        raise ValueError({LEAK_CODE} + repr(args)[:300])\n"
    )


def snooping_value(answer: Answer) -> str:
    """The right value, as an object that prints whatever the tests compare it with."""
    if answer.letter:
        body = (
            f"class _Snoop(str):\n    def __eq__(self, other):\n        print({LEAK_CODE}, repr(other))\n"
            "        return str.__eq__(self, other)\n    def strip(self, *a):\n        return self\n"
            "    def upper(self):\n        return self\n    __hash__ = str.__hash__\n"
        )
        return body + f"{answer.name} = _Snoop({answer.letter!r})\n"
    snooped = "".join(
        f"    def {name}(self, other):\n        print({LEAK_CODE}, repr(other))\n"
        f"        return getattr(float(self), {name!r})(other)\n"
        for name in ("__sub__", "__rsub__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__")
    )
    return (
        f"class _Snoop(float):\n{snooped}    __hash__ = float.__hash__\n{answer.name} = _Snoop({answer.expression})\n"
    )


MARKDOWN_XSS = [
    f'<script>window.{XSS.replace("-", "_")} = 1; fetch("/api/contents/PWNED-{XSS}", {{method: "PUT"}})</script>',
    f"<img src=\"x\" onerror=\"fetch('/formgrader/api/grade/1?{XSS}', {{method: 'PUT'}})\">",
    f'<svg onload="alert(\'{XSS}\')"><script>alert("{XSS}")</script></svg>',
    f"[click me](javascript:alert('{XSS}')) and <a href=\"JaVaScRiPt:alert('{XSS}')\">me</a>",
    f'<iframe srcdoc="<script>parent.{XSS.replace("-", "_")}=1</script>"></iframe><form action="/api/contents/{XSS}" method="post"><input type="submit"></form>',
    f'<meta http-equiv="refresh" content="0;url=/api/contents?{XSS}"><base href="http://{XSS}.invalid/"><object data="x.swf?{XSS}"></object>',
    f"<details open ontoggle=\"alert('{XSS}')\">x</details><a href=\"data:text/html,<script>alert('{XSS}')</script>\">d</a>",
]
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
SVG_SCRIPT = base64.b64encode(
    f'<svg xmlns="http://www.w3.org/2000/svg"><script>alert("{XSS}")</script></svg>'.encode()
).decode()


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    expected: str  # FULL, ZERO or MISS_TARGET
    status: str | tuple[str, ...]  # the status (or one of the statuses) the table must show
    write: Callable[[Lesson, Path], None]
    attack: str = ""  # the attack class of issue 24 ("" for the earlier battery's cases)
    target: str = "first"
    lessons: tuple[str, ...] = ()  # the lessons it runs on in the attack battery (prefixes, e.g. "00")
    check: str = ""  # an extra check test_grading.py makes (see there)

    def applies(self, lesson: Lesson) -> bool:
        if self.target == "text":
            return lesson.text_answer() is not None
        return lesson.target(self.target) is not None


def _notebook(make) -> Callable[[Lesson, Path], None]:
    def write(lesson: Lesson, folder: Path) -> None:
        nbformat.write(make(lesson), folder / f"{lesson.name}.ipynb")

    return write


def _with_folder(make) -> Callable[[Lesson, Path], None]:
    def write(lesson: Lesson, folder: Path) -> None:
        nbformat.write(make(lesson, folder), folder / f"{lesson.name}.ipynb")

    return write


def _raw(text: str, name: str | None = None) -> Callable[[Lesson, Path], None]:
    def write(lesson: Lesson, folder: Path) -> None:
        (folder / (name or f"{lesson.name}.ipynb")).write_text(text)

    return write


def _answer(kind: str, make: Callable[[Answer], str], base: str = "correct") -> Callable[[Lesson, Path], None]:
    """The notebook with the ``kind`` target's answer cell replaced by ``make(answer)``."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct() if base == "correct" else lesson.untouched()
        answer = lesson.target(kind)
        lesson.cell_of(nb, answer.grade_id).source = make(answer)
        return nb

    return _notebook(build)


def _first(answer: str) -> Callable[[Lesson], nbformat.NotebookNode]:
    """Correct, except the first answer cell, which becomes ``answer``."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct()
        lesson.first_answer(nb).source = answer
        return nb

    return build


def _prefix_first(code: str) -> Callable[[Lesson], nbformat.NotebookNode]:
    """Correct, with ``code`` run before the first answer (in the same cell)."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct()
        cell = lesson.first_answer(nb)
        cell.source = code + "\n" + cell.source
        return nb

    return build


def _wrong_with(code: str) -> Callable[[Lesson], nbformat.NotebookNode]:
    """Unanswered, with ``code`` (an attack on the tests) in the first answer cell."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.untouched()
        lesson.first_answer(nb).source = code
        return nb

    return build


def _before_first(code: str, base: str = "correct") -> Callable[[Lesson], nbformat.NotebookNode]:
    """``base`` ("correct", "untouched" or "all wrong") with an added code cell before the first answer."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = {"correct": lesson.correct, "untouched": lesson.untouched, "all wrong": lesson.all_wrong}[base]()
        nb.cells.insert(nb.cells.index(lesson.first_answer(nb)), nbformat.v4.new_code_cell(code))
        return nb

    return build


def _at_end(code: str) -> Callable[[Lesson], nbformat.NotebookNode]:
    """Correct, with an added code cell at the end (after every test)."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct()
        nb.cells.append(nbformat.v4.new_code_cell(code))
        return nb

    return build


def _edit(change: Callable[[Lesson, nbformat.NotebookNode], None]) -> Callable[[Lesson], nbformat.NotebookNode]:
    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct()
        change(lesson, nb)
        return nb

    return build


def _delete_test(lesson, nb):
    nb.cells.remove(lesson.first_test(nb))


def _edit_test(lesson, nb):
    lesson.first_test(nb).source = "pass  # the student 'fixed' the test"


def _edit_markdown(lesson, nb):
    locked = [c for c in nb.cells if c.cell_type == "markdown" and _meta(c).get("locked")]
    target = locked[0] if locked else next(c for c in nb.cells if c.cell_type == "markdown")
    target.source = "I rewrote the instructions."


def _edit_points(lesson, nb):
    lesson.first_test(nb).metadata["nbgrader"]["points"] = 100


def _relabel(lesson, nb):
    lesson.first_answer(nb).metadata["nbgrader"]["grade_id"] = "my-own-id"


def _reorder(lesson, nb):
    answer, test = lesson.first_answer(nb), lesson.first_test(nb)
    i, j = nb.cells.index(answer), nb.cells.index(test)
    nb.cells[i], nb.cells[j] = test, answer  # the test now comes before the answer


def _add_cells(lesson, nb):
    i = nb.cells.index(lesson.first_answer(nb))
    nb.cells.insert(i, nbformat.v4.new_code_cell("def helper(x):\n    return x\n\nscratch = helper(41) + 1"))
    nb.cells.insert(i, nbformat.v4.new_markdown_cell("My notes."))


def _stderr_in_test(lesson: Lesson) -> nbformat.NotebookNode:
    """A correct function answer that writes a warning to stderr whenever the tests call it."""
    nb = lesson.correct()
    answer = lesson.target("function")
    cell = lesson.cell_of(nb, answer.grade_id)
    cell.source = (
        real_function(answer)
        + f"\ndef {answer.name}(*args, **kwargs):\n    import sys, warnings\n    warnings.warn('a harmless warning')\n"
        + "    print('note on stderr', file=sys.stderr)\n    return _real(*args, **kwargs)\n"
    )
    return nb


MONKEYPATCH = """
import builtins, numpy
from medai_edu import checks
for _name in dir(checks):
    if _name.startswith("check_"):
        setattr(checks, _name, lambda *a, **k: None)
builtins.abs = lambda x: 0
numpy.isclose = numpy.allclose = lambda *a, **k: True
builtins.AssertionError = type("Nothing", (Exception,), {})
"""
TRANSFORMER = """
import sys
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n" if "checks." in l or "assert" in l else l for l in lines])
import ast
class _Erase(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
ip.ast_transformers.append(_Erase())
sys.settrace(lambda *a: None)
"""
SHADOW_CHECKS = "def __getattr__(name):\n    return lambda *a, **k: None\n"


def _shadow(lesson: Lesson, folder: Path) -> nbformat.NotebookNode:
    (folder / "medai_edu").mkdir()
    (folder / "medai_edu" / "__init__.py").write_text("")
    (folder / "medai_edu" / "checks.py").write_text(SHADOW_CHECKS)
    (folder / "checks.py").write_text(SHADOW_CHECKS)
    nb = lesson.untouched()
    lesson.first_answer(nb).source = (
        "import sys\nsys.path.insert(0, '.')\n"
        "for name in [n for n in sys.modules if n.startswith('medai_edu')]:\n    del sys.modules[name]\n"
        "import medai_edu.checks, checks\nassert medai_edu.checks.__file__.startswith(sys.path[0] or '.')"
    )
    return nb


def _attack_cell(code: str) -> Callable[[Lesson, Path], nbformat.NotebookNode]:
    """Correct, plus an added cell running ``code`` (it must not reach anything outside)."""

    def build(lesson: Lesson, folder: Path) -> nbformat.NotebookNode:
        nb = lesson.correct()
        nb.cells.insert(
            nb.cells.index(lesson.first_answer(nb)), nbformat.v4.new_code_cell(code.format(root=lesson.root))
        )
        return nb

    return build


GRADEBOOK_WRITE = """
import os, sqlite3
here = os.getcwd()
for folder in [here, *[os.path.dirname(here)] * 1, "{root}"]:
    path = os.path.join(folder, "gradebook.db")
    try:
        db = sqlite3.connect(path)
        db.execute("update grade set manual_score = 1000")
        db.commit()
    except Exception as error:
        print("gradebook not reachable:", error)
try:
    open("{root}/PWNED", "w").write("x")
except Exception as error:
    print("course folder not writable:", error)
"""
OTHER_STUDENT = """
import glob
for path in glob.glob("{root}/submitted/*/*/*.ipynb") + glob.glob("../../*/*/*.ipynb") + glob.glob("/home/*/*.ipynb"):
    try:
        print(open(path).read()[:100])
        open(path, "w").write("{{}}")
    except Exception as error:
        print(error)
for path in ["{root}/solutions", "/root", "{root}"]:
    try:
        print(path, __import__("os").listdir(path))
    except Exception as error:
        print(error)
"""
NETWORK = """
import socket
try:
    socket.create_connection(("1.1.1.1", 80), timeout=3).close()
    reached = True
except OSError:
    reached = False
{answer}
if reached:
    raise SystemExit("the network was reachable")
"""
QUICK_OFF = """
import os
os.environ.pop("NBGRADER_EXECUTION", None)
os.environ.pop("MEDAI_EDU_GRADED", None)
QUICK = False
"""


def _network(lesson: Lesson) -> nbformat.NotebookNode:
    nb = lesson.correct()
    cell = lesson.first_answer(nb)
    cell.source = NETWORK.format(answer=cell.source)
    return nb


def _renamed(lesson: Lesson, folder: Path) -> None:
    nbformat.write(lesson.correct(), folder / f"{lesson.name} (1).ipynb")


def _huge_output(lesson: Lesson) -> nbformat.NotebookNode:
    return _prefix_first("print('x' * 50_000_000)")(lesson)


# --- active content, attachments, surrogates, timestamps --------------------------------------


def _text_answer(markdown: str, attachments: dict | None = None, added: bool = False):
    """Correct, with the text answer (or an added markdown cell) holding ``markdown``."""

    def build(lesson: Lesson) -> nbformat.NotebookNode:
        nb = lesson.correct()
        if added:
            cell = nbformat.v4.new_markdown_cell(markdown)
            nb.cells.insert(nb.cells.index(lesson.first_answer(nb)), cell)
        else:
            cell = lesson.cell_of(nb, _meta(lesson.text_answer())["grade_id"])
            cell.source = markdown
        if attachments is not None:
            cell["attachments"] = attachments
        return nb

    def write(lesson: Lesson, folder: Path) -> None:  # as JSON: nbformat would refuse a malformed attachment
        (folder / f"{lesson.name}.ipynb").write_text(json.dumps(build(lesson)))

    return write


def _raw_cell_xss(lesson: Lesson) -> nbformat.NotebookNode:
    nb = lesson.correct()
    nb.cells.insert(1, nbformat.v4.new_raw_cell("\n".join(MARKDOWN_XSS)))
    return nb


def _surrogates(where: str) -> Callable[[Lesson, Path], None]:
    """A lone surrogate in the text answer, in printed output, or in a code comment (written as JSON escapes)."""

    def write(lesson: Lesson, folder: Path) -> None:
        nb = lesson.correct()
        if where == "markdown":
            lesson.cell_of(
                nb, _meta(lesson.text_answer())["grade_id"]
            ).source = "My answer \ud800 with a broken character."
        elif where == "output":
            nb.cells.insert(
                nb.cells.index(lesson.first_answer(nb)), nbformat.v4.new_code_cell("print('\\udcff', chr(0xD800))")
            )
        else:
            cell = lesson.first_answer(nb)
            cell.source = "# a comment \udfff\n" + cell.source
        text = json.dumps(nb, ensure_ascii=True)  # the surrogates travel as \\udXXX escapes, as a browser writes them
        (folder / f"{lesson.name}.ipynb").write_text(text)

    return write


def _timestamp(text: bytes) -> Callable[[Lesson, Path], None]:
    def write(lesson: Lesson, folder: Path) -> None:
        nbformat.write(lesson.correct(), folder / f"{lesson.name}.ipynb")
        (folder / "timestamp.txt").write_bytes(text)

    return write


# --- resources ----------------------------------------------------------------------------------

CHANNEL_FLOOD = {
    "1.5 GB without a newline on the channel": """
import os, stat
_chunk = b"x" * (1 << 24)
for _fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):
            for _ in range(96):
                os.write(_fd, _chunk)
    except OSError:
        pass
""",
    "a 300 MB line that looks like a report": """
import os, stat, json
_line = (json.dumps({"op": "done", "cell": 0, "outputs": [{"output_type": "stream", "name": "stdout", "text": "y" * 300_000_000}]}) + "\\n").encode()
for _fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):
            os.write(_fd, _line)
    except OSError:
        pass
""",
    "millions of junk lines": """
import os, stat
_junk = b"not json at all\\n" * 200_000
for _fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):
            for _ in range(20):
                os.write(_fd, _junk)
    except OSError:
        pass
""",
}
HUGE_ERRORS = {
    "an exception of 30 MB": "raise ValueError('x' * 30_000_000)",
    "an exception whose message is built when shown": (
        "class _Big(Exception):\n    def __str__(self):\n        return 'y' * 30_000_000\nraise _Big()"
    ),
    "a traceback thousands of frames deep": "def _down(n):\n    return _down(n + 1)\n_down(0)",
}
FORK_MEMORY = """
import os, time
_children = []
for _ in range(8):
    try:
        _pid = os.fork()
    except OSError:
        break
    if _pid == 0:
        try:
            _hold = b"m" * (450 << 20)
            time.sleep(40)
        finally:
            os._exit(0)
    _children.append(_pid)
time.sleep(8)
"""
FORK_MANY = """
import os, time
_started = 0
for _ in range(300):
    try:
        _pid = os.fork()
    except OSError:
        break
    if _pid == 0:
        time.sleep(30)
        os._exit(0)
    _started += 1
print("children started:", _started)
time.sleep(3)
"""
FILL_DISK = f"""
import os
_total = 0
for _folder in ("/tmp", os.getcwd(), "/dev/shm"):
    _block = b"d" * (8 << 20)
    for _i in range(80):
        try:
            with open(os.path.join(_folder, f"fill-{{_i}}"), "wb") as _f:
                _f.write(_block)
            _total += len(_block)
        except OSError:
            break
print({WROTE_CODE}, _total)
"""
SLOW_MAGICS = "\n".join(["%time _x = 1"] * 400) + "\n" + "_y = 2\n" * 20000


def _magic_answer(answer: Answer) -> str:
    """The model answer with a %time magic on its first line, and a shell command after it."""
    if answer.kind == "function":
        return answer.code + "\n%time _timed = 1\n!ls > /dev/null\n"
    lines = answer.code.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#"))
    lines[at] = "%time " + lines[at]
    return "\n".join(lines) + "\n!echo done > /dev/null\n"


def _magic_cells(lesson: Lesson) -> nbformat.NotebookNode:
    """Correct answers, with added %matplotlib and %%timeit cells before the first answer."""
    nb = lesson.correct()
    at = nb.cells.index(lesson.first_answer(nb))
    nb.cells.insert(at, nbformat.v4.new_code_cell("%%timeit -n1 -r1\ntotal = sum(range(1000))"))
    nb.cells.insert(at, nbformat.v4.new_code_cell("%matplotlib inline\n%load_ext autoreload"))
    return nb


# --- per-student guarding -----------------------------------------------------------------------


def _cells_not_a_list(lesson: Lesson, folder: Path) -> None:
    (folder / f"{lesson.name}.ipynb").write_text(
        json.dumps({"cells": {"a": 1}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )


def _odd_cells(lesson: Lesson, folder: Path) -> None:
    nb = json.loads(nbformat.writes(lesson.correct()))
    nb["cells"].append({"cell_type": "strange", "source": "x", "metadata": []})
    nb["cells"].append({"cell_type": "code", "source": "y = 1", "metadata": {"nbgrader": "text"}, "outputs": 3})
    nb["metadata"]["kernelspec"] = "not a dict"
    (folder / f"{lesson.name}.ipynb").write_text(json.dumps(nb))


def _huge_notebook(lesson: Lesson, folder: Path) -> None:
    nb = lesson.correct()
    nb.cells.append(nbformat.v4.new_markdown_cell("z" * (25 << 20)))
    nbformat.write(nb, folder / f"{lesson.name}.ipynb")


CASES = [
    Case("correct", FULL, "graded", _notebook(Lesson.correct)),
    Case("untouched release", ZERO, "graded", _notebook(Lesson.untouched)),
    Case("partly right", ALL_BUT_FIRST, "graded", _notebook(_first("# YOUR CODE HERE\nraise NotImplementedError()"))),
    Case("syntax error", ALL_BUT_FIRST, "graded", _notebook(_first("x = (1 + "))),
    Case("exception", ALL_BUT_FIRST, "graded", _notebook(_first("raise ValueError('oops')"))),
    Case("infinite loop", ALL_BUT_FIRST, "partly graded", _notebook(_first("while True:\n    pass"))),
    Case(
        "slow cell past the timeout",
        ALL_BUT_FIRST,
        "partly graded",
        _notebook(_first("import time\ntime.sleep(10_000)")),
    ),
    Case(
        "20 GB allocation",
        ALL_BUT_FIRST,
        ("graded", "partly graded"),
        _notebook(_first("block = bytearray(20 * 2**30)")),
    ),
    Case("os._exit", ALL_BUT_FIRST, "partly graded", _notebook(_first("import os\nos._exit(1)"))),
    Case("deleted test cell", ALL_BUT_FIRST, "partly graded", _notebook(_edit(_delete_test))),
    Case("edited test cell", ALL_BUT_FIRST, "partly graded", _notebook(_edit(_edit_test))),
    Case("edited read-only markdown", FULL, "repaired", _notebook(_edit(_edit_markdown))),
    Case("changed points", ALL_BUT_FIRST, "partly graded", _notebook(_edit(_edit_points))),
    Case("changed grade_id", ALL_BUT_FIRST, "partly graded", _notebook(_edit(_relabel))),
    Case("cells reordered", FULL, "repaired", _notebook(_edit(_reorder))),
    Case("cells added", FULL, "repaired", _notebook(_edit(_add_cells))),
    Case("50 MB of output", FULL, "graded", _notebook(_huge_output)),
    Case("invalid JSON", ZERO, "not run", _raw('{"cells": [')),
    Case("renamed notebook", FULL, "repaired", _renamed),
    Case("missing notebook", ZERO, "not run", _raw("just a note", "README.txt")),
    Case("shadowing library files", ZERO, "graded", _with_folder(_shadow)),
    Case("monkeypatched checks", ZERO, "graded", _notebook(_wrong_with(MONKEYPATCH))),
    Case("input transformer, AST transformer, settrace", ZERO, "graded", _notebook(_wrong_with(TRANSFORMER))),
    Case("stderr from a correct answer", FULL, "graded", _notebook(_stderr_in_test), target="function"),
    Case("gradebook write", FULL, "repaired", _with_folder(_attack_cell(GRADEBOOK_WRITE))),
    Case("another student's files", FULL, "repaired", _with_folder(_attack_cell(OTHER_STUDENT))),
    Case("network use", FULL, "graded", _notebook(_network)),
    Case("QUICK turned off", FULL, "graded", _notebook(_prefix_first(QUICK_OFF))),
]
SMALL = ("correct", "untouched release", "os._exit", "monkeypatched checks", "stderr from a correct answer")

ALL_LESSONS = ("00", "01", "02", "03", "04")
ATTACKS = [
    # 1. lying objects
    Case(
        "lying number or letter",
        MISS_TARGET,
        "graded",
        _answer("value", lying_value),
        "lying objects",
        "value",
        ("00", "01", "02"),
    ),
    Case(
        "lying letter", MISS_TARGET, "graded", _answer("letter", lying_value), "lying objects", "letter", ("03", "04")
    ),
    Case(
        "function returning lying floats/dicts",
        MISS_TARGET,
        "graded",
        _answer("function", lying_function),
        "lying objects",
        "function",
        ("00", "02", "04"),
    ),
    Case(
        "function returning a lying tensor",
        MISS_TARGET,
        "graded",
        _answer("tensor", lying_function),
        "lying objects",
        "tensor",
        ("01", "03"),
    ),
    # 2. shadowed builtins (the function is right only when the visible check calls it)
    Case(
        "abs shadowed, function right only for the check",
        MISS_TARGET,
        "graded",
        _answer("function", lambda a: SHADOW_BUILTINS + right_for_checks(a)),
        "shadowed builtins",
        "function",
        ALL_LESSONS,
    ),
    Case(
        "builtins shadowed in an added cell",
        MISS_TARGET,
        "repaired",
        _notebook(lambda lesson: _shadow_added(lesson)),
        "shadowed builtins",
        "function",
        ("00", "04"),
    ),
    # 3. the tests' helper names rebound while a hidden test runs
    Case(
        "helper names rebound through globals() during the test",
        MISS_TARGET,
        "graded",
        _answer("function", rebinding),
        "rebound helper names",
        "function",
        ALL_LESSONS,
    ),
    Case(
        "lesson names rebound before the test",
        MISS_TARGET,
        "repaired",
        _notebook(lambda lesson: _rebind_lesson_names(lesson)),
        "rebound helper names",
        "function",
        ("02", "04"),
    ),
    # 4. library classes and functions patched
    Case(
        "Tensor.__bool__/__float__ added",
        MISS_TARGET,
        "graded",
        _answer("tensor", lambda a: TENSOR_PATCH_BOOL + right_for_checks(a)),
        "monkeypatched library classes",
        "tensor",
        ("01", "03"),
    ),
    Case(
        "Tensor comparison operators added",
        MISS_TARGET,
        "graded",
        _answer("tensor", lambda a: TENSOR_PATCH_OPS + right_for_checks(a)),
        "monkeypatched library classes",
        "tensor",
        ("01", "03"),
    ),
    Case(
        "library reference functions replaced",
        MISS_TARGET,
        "graded",
        _answer("function", lambda a: MODULE_PATCH + right_for_checks(a)),
        "monkeypatched library classes",
        "function",
        ("02", "04"),
    ),
    # 5. the runner's reporting replaced, on a notebook with no answer given
    *[
        Case(
            name,
            ZERO,
            "repaired",
            _notebook(_before_first(code, "untouched")),
            "replaced reporting functions",
            "first",
            lessons,
        )
        for (name, code), lessons in zip(REPORTING.items(), [("00", "01"), ("02", "03"), ("04", "00"), ("01", "04")])
    ],
    # 6. the snapshot/restore step replaced, on a notebook with every answer wrong
    *[
        Case(
            name,
            ZERO,
            "repaired",
            _notebook(_before_first(code, "all wrong")),
            "replaced snapshot/restore functions",
            "first",
            lessons,
        )
        for (name, code), lessons in zip(SNAPSHOT.items(), [("00", "02"), ("01", "04"), ("03", "00")])
    ],
    # 7. hidden tests' inputs and expected values printed
    Case(
        "function printing its inputs",
        FULL,
        "graded",
        _answer("function", printing_function),
        "printing hidden-test inputs",
        "function",
        ("00", "02", "04"),
        "no leak",
    ),
    Case(
        "inputs kept and printed by a later cell",
        FULL,
        "repaired",
        _notebook(lambda lesson: _kept_and_printed(lesson)),
        "printing hidden-test inputs",
        "function",
        ("01", "03"),
        "no leak",
    ),
    Case(
        "inputs in an exception message",
        MISS_TARGET,
        "graded",
        _answer("function", raising_function),
        "printing hidden-test inputs",
        "function",
        ("00", "03", "04"),
        "no leak",
    ),
    Case(
        "value that prints what it is compared with",
        MISS_TARGET,
        "graded",
        _answer("value", snooping_value),
        "printing hidden-test inputs",
        "value",
        ("00", "01", "02"),
        "no leak",
    ),
    # 8. script in markdown
    Case(
        "script in the text answer",
        FULL,
        "graded",
        _text_answer("\n\n".join(MARKDOWN_XSS)),
        "script in markdown",
        "text",
        ("00", "01", "03"),
        "inert",
    ),
    Case(
        "script in an added markdown cell",
        FULL,
        "repaired",
        _text_answer("\n\n".join(MARKDOWN_XSS), added=True),
        "script in markdown",
        "first",
        ("02", "04"),
        "inert",
    ),
    Case(
        "script in a raw cell",
        FULL,
        "repaired",
        _notebook(_raw_cell_xss),
        "script in markdown",
        "first",
        ("00",),
        "inert",
    ),
    # 9. attachments
    Case(
        "pasted image (kept)",
        FULL,
        "graded",
        _text_answer("My sketch: ![sketch](attachment:sketch.png)", {"sketch.png": {"image/png": PNG}}),
        "attachments",
        "text",
        ("00", "02"),
        "inert",
    ),
    Case(
        "SVG attachment with a script (dropped)",
        FULL,
        "repaired",
        _text_answer(f"![x](attachment:evil.svg) {XSS}", {"evil.svg": {"image/svg+xml": SVG_SCRIPT}}),
        "attachments",
        "text",
        ("01", "03"),
        "inert",
    ),
    Case(
        "reference to a missing attachment",
        FULL,
        "graded",
        _text_answer("![gone](attachment:nothing.png)"),
        "attachments",
        "text",
        ("00", "04"),
    ),
    Case(
        "attachment that is not an image",
        FULL,
        "repaired",
        _text_answer("![f](attachment:f.png)", {"f.png": {"image/png": "bm90IGFuIGltYWdl"}, "g": "oops"}),
        "attachments",
        "text",
        ("02",),
    ),
    # 10. lone surrogates
    Case(
        "lone surrogate in the text answer",
        FULL,
        "graded",
        _surrogates("markdown"),
        "lone surrogates",
        "text",
        ("00", "02"),
    ),
    Case("lone surrogate printed", FULL, "repaired", _surrogates("output"), "lone surrogates", "first", ("01", "03")),
    Case("lone surrogate in code", FULL, "graded", _surrogates("code"), "lone surrogates", "first", ("04", "00")),
    # 11. bad timestamp.txt
    Case(
        "timestamp.txt not a date",
        FULL,
        "repaired",
        _timestamp(b"yesterday, I think"),
        "bad timestamp.txt",
        "first",
        ("00", "03"),
    ),
    Case(
        "timestamp.txt impossible date",
        FULL,
        "repaired",
        _timestamp(b"2024-13-45 25:61:00.000000 UTC"),
        "bad timestamp.txt",
        "first",
        ("01",),
    ),
    Case(
        "timestamp.txt binary",
        FULL,
        "repaired",
        _timestamp(bytes(range(256)) * 4),
        "bad timestamp.txt",
        "first",
        ("02", "04"),
    ),
    Case(
        "timestamp.txt of 1 MB",
        FULL,
        "repaired",
        _timestamp(b"2025-01-01 00:00:00 " + b" " * (1 << 20)),
        "bad timestamp.txt",
        "first",
        ("00",),
    ),
    # 12. unbounded text on the report channel
    *[
        Case(
            name,
            expected,
            status,
            _notebook(_prefix_first(code)),
            "unbounded report-channel text",
            "first",
            lessons,
            "grader memory",
        )
        for (name, code), (expected, status), lessons in zip(
            CHANNEL_FLOOD.items(),
            [(MISS_TARGET, "partly graded")] * 3,
            [("00", "02"), ("01", "04"), ("03",)],
        )
    ],
    # 13. huge exception messages and tracebacks
    *[
        Case(
            name,
            MISS_TARGET,
            ("graded", "partly graded"),
            _notebook(_first(code)),
            "huge exception messages",
            "first",
            lessons,
            "small files",
        )
        for (name, code), lessons in zip(HUGE_ERRORS.items(), [("00", "01"), ("02", "03"), ("04", "00")])
    ],
    Case(
        "function raising a huge message in the hidden test",
        MISS_TARGET,
        "graded",
        _answer(
            "function",
            lambda a: right_for_checks(a, "    if not _from_checks():\n        raise ValueError('z' * 30_000_000)\n"),
        ),
        "huge exception messages",
        "function",
        ("01",),
        "small files",
    ),
    # 14. forked children holding memory
    Case(
        "eight forked children holding 3.6 GB",
        FULL,
        ("graded", "partly graded", "repaired"),
        _notebook(_before_first(FORK_MEMORY)),
        "forked children holding memory",
        "first",
        ("00", "02"),
        "sandbox memory",
    ),
    Case(
        "300 forked children",
        FULL,
        ("graded", "partly graded", "repaired"),
        _notebook(_before_first(FORK_MANY)),
        "forked children holding memory",
        "first",
        ("01",),
        "process count",
    ),
    # 15. filling /tmp, /dev/shm and the working folder
    Case(
        "filling /tmp, /dev/shm and home",
        FULL,
        "repaired",
        _notebook(_before_first(FILL_DISK)),
        "filling /tmp",
        "first",
        ("00", "03"),
        "disk",
    ),
    # 16. magics
    Case(
        "%time and !ls in a correct answer",
        FULL,
        "graded",
        _answer("first", _magic_answer),
        "magics",
        "first",
        ("00", "01", "04"),
    ),
    Case("%matplotlib and %%timeit cells", FULL, "repaired", _notebook(_magic_cells), "magics", "first", ("02", "03")),
    Case(
        "400 magics in 20,000 lines (slow to transform)",
        MISS_TARGET,
        "partly graded",
        _notebook(_first(SLOW_MAGICS)),
        "magics",
        "first",
        ("00",),
        "grader cpu",
    ),
    # per-student guarding of every step
    Case("cells not a list", ZERO, "not run", _cells_not_a_list, "per-student steps", "first", ("00",)),
    Case(
        "cells of unknown kinds and types",
        FULL,
        ("repaired", "graded"),
        _odd_cells,
        "per-student steps",
        "first",
        ("02",),
    ),
    Case("25 MB notebook", ZERO, "not run", _huge_notebook, "per-student steps", "first", ("04",)),
]


def _shadow_added(lesson: Lesson) -> nbformat.NotebookNode:
    nb = lesson.correct()
    answer = lesson.target("function")
    cell = lesson.cell_of(nb, answer.grade_id)
    cell.source = right_for_checks(answer)
    nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(SHADOW_BUILTINS))
    return nb


def _rebind_lesson_names(lesson: Lesson) -> nbformat.NotebookNode:
    """Right only for the visible check; an added cell rebinds the names the hidden test reads."""
    nb = lesson.correct()
    answer = lesson.target("function")
    cell = lesson.cell_of(nb, answer.grade_id)
    cell.source = right_for_checks(answer)
    names = [n for n in answer.hidden_names() if n.startswith("_")] + [
        "checks",
        "lesson",
        "referral",
        "metrics",
        "cases",
    ]
    rebind = ANYTHING + "".join(f"{n} = _Anything()\n" for n in names)
    nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(rebind))
    return nb


def _kept_and_printed(lesson: Lesson) -> nbformat.NotebookNode:
    nb = _answer_notebook(lesson, "function", printing_function)
    nb.cells.append(nbformat.v4.new_code_cell(f"print({LEAK_CODE}, _seen)"))
    return nb


def _answer_notebook(lesson: Lesson, kind: str, make) -> nbformat.NotebookNode:
    nb = lesson.correct()
    answer = lesson.target(kind)
    lesson.cell_of(nb, answer.grade_id).source = make(answer)
    return nb


def student_id(case: Case) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in case.name.lower()).strip("-")[:60]


def load_lesson(root: Path, name: str) -> Lesson:
    return Lesson(
        name,
        nbformat.read(root / "course" / name / f"{name}.ipynb", as_version=4),
        nbformat.read(root / "solutions" / name / f"{name}.ipynb", as_version=4),
        root,
    )


def write_class(lesson: Lesson, cases: list[Case]) -> dict[str, Case]:
    """Every case's submission under ``submitted/``; returns student id -> case."""
    students = {}
    for case in cases:
        folder = lesson.root / "submitted" / student_id(case) / lesson.name
        folder.mkdir(parents=True)
        case.write(lesson, folder)
        students[student_id(case)] = case
    return students


def snapshot(root: Path) -> dict[str, str]:
    """The contents of every submitted file (to show that no submission changed another)."""
    return {
        str(p.relative_to(root)): p.read_bytes().hex()[:64] + str(p.stat().st_size)
        for p in sorted((root / "submitted").rglob("*"))
        if p.is_file()
    }


@dataclass
class Watch:
    """What a grading run used, sampled from outside: the grader's memory and CPU, each sandbox's memory and processes."""

    grader_peak: int = 0  # resident memory of the grader's process, bytes
    grader_growth: int = 0  # its peak minus what it held before grading
    grader_cpu: float = 0.0  # CPU seconds of the grader's process itself (not its subprocesses)
    per_student: dict[str, list[int]] = field(default_factory=dict)  # student -> [peak PSS bytes, most processes]
