"""The grading battery: every kind of submission the issue lists, built from any course notebook.

Each case writes one student's ``submitted/<student>/<lesson>/`` folder from the release and
source notebooks, and says which automatic score it must get: all points, none, or all but the
first exercise's. "First exercise" is the first answer cell and the test that grades it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

FULL, ZERO, ALL_BUT_FIRST = "all points", "0", "all but the first exercise"


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


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

    def points(self, expected: str) -> float:
        tests = self.tests()
        total = sum(_meta(c)["points"] for c in tests)
        return {FULL: total, ZERO: 0, ALL_BUT_FIRST: total - _meta(self.first_test())["points"]}[expected]

    def first_answer(self, nb) -> nbformat.NotebookNode:
        return next(c for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code")

    def first_test(self, nb=None) -> nbformat.NotebookNode:
        nb = nb or self.release
        gid = _meta(self.first_answer(nb))["grade_id"]
        return next(c for c in nb.cells if _meta(c).get("grade_id") == f"test-{gid}")

    def correct(self) -> nbformat.NotebookNode:
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            if _meta(cell).get("solution"):
                cell.source = self.answers[_meta(cell)["grade_id"]]
        return nb

    def untouched(self) -> nbformat.NotebookNode:
        return copy.deepcopy(self.release)


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
    test = lesson.first_test(nb)
    test.metadata["nbgrader"]["points"] = 100


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
    for cell in nb.cells:
        if (
            _meta(cell).get("solution")
            and cell.source.lstrip().startswith(("def ", "import"))
            and "### BEGIN SOLUTION" in cell.source
        ):
            cell.source = cell.source.replace(
                "    ### BEGIN SOLUTION",
                "    import sys, warnings\n    warnings.warn('a harmless warning')\n"
                "    print('note on stderr', file=sys.stderr)\n    ### BEGIN SOLUTION",
                1,
            )
            return nb
    raise AssertionError("no function answer in this lesson")


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


def _quick_off(lesson: Lesson) -> nbformat.NotebookNode:
    """Turns grading mode off in the first answer; the second answer fails if that stuck."""
    nb = lesson.correct()
    answers = [c for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code"]
    answers[0].source = QUICK_OFF + answers[0].source
    answers[1].source = (
        "import os\nassert QUICK and os.environ.get('NBGRADER_EXECUTION'), 'grading mode was switched off'\n"
        + answers[1].source
    )
    return nb


@dataclass
class Case:
    name: str
    expected: str  # FULL, ZERO or ALL_BUT_FIRST
    status: str  # the status the table must show
    write: Callable[[Lesson, Path], None]


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
        if text is not None:
            (folder / (name or f"{lesson.name}.ipynb")).write_text(text)

    return write


def _renamed(lesson: Lesson, folder: Path) -> None:
    nbformat.write(lesson.correct(), folder / f"{lesson.name} (1).ipynb")


def _huge_output(lesson: Lesson) -> nbformat.NotebookNode:
    return _prefix_first("print('x' * 50_000_000)")(lesson)


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
    Case("20 GB allocation", ALL_BUT_FIRST, "graded", _notebook(_first("block = bytearray(20 * 2**30)"))),
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
    Case("stderr from a correct answer", FULL, "graded", _notebook(_stderr_in_test)),
    Case("gradebook write", FULL, "repaired", _with_folder(_attack_cell(GRADEBOOK_WRITE))),
    Case("another student's files", FULL, "repaired", _with_folder(_attack_cell(OTHER_STUDENT))),
    Case("network use", FULL, "graded", _notebook(_network)),
    Case("QUICK turned off", FULL, "graded", _notebook(_quick_off)),
]
SMALL = ("correct", "untouched release", "os._exit", "monkeypatched checks", "stderr from a correct answer")


def student_id(case: Case) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in case.name.lower()).strip("-")


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
