"""The core path: what a medical student who never programmed answers, and what is graded by default.

For every lesson:
- at least three autograded core questions (prediction, multiple choice, a value read off a figure
  or an explorer, one number changed) and a reflection graded by the instructor;
- a core answer is a literal: the solution is ``name = <literal>`` lines, and the released cell
  differs from it only where the literals were (``...``);
- the hidden test of a core question is a plain comparison of the answer variable with literals,
  and says what the library's question says (same letter, same range);
- the right answers are what the lesson measures (:data:`ANSWERS` of the lesson module);
- the optional "For programmers" exercises come after the summary, and the default release gives
  their tests 0 points (``make release PROGRAMMERS=1`` keeps them).
"""

from __future__ import annotations

import ast
import importlib
import json
import re

import nbformat
import pytest
from conftest import ROOT
from medai_edu_ops.release import literal_stub, part
from notebooks import SOLUTIONS, ids

from medai_edu import checks

LESSON_MODULES = {
    "00_welcome": "medai_edu.lessons.welcome",
    "01_saliency_vs_attribution": "medai_edu.lessons.saliency",
    "02_alzheimer_maps": "medai_edu.lessons.alzheimer",
    "03_uncertainty_sampling": "medai_edu.lessons.uncertainty",
    "04_human_with_ai": "medai_edu.lessons.human_with_ai",
}
CHECK_CALL = re.compile(r'checks\.check_(choice|estimate)\((\w+), lesson\.QUESTIONS\["(\w+)"\]')
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _hidden(source: str) -> str:
    return source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]


def core_tests(path) -> list[tuple[nbformat.NotebookNode, str, str, str]]:
    """(test cell, check kind, answer variable, question key) of every autograded core question."""
    found = []
    for cell in _cells(path):
        if part(cell) == "core" and _meta(cell).get("grade") and cell.cell_type == "code":
            call = CHECK_CALL.search(cell.source)
            assert call, f"{path.name}: core test {_meta(cell)['grade_id']} does not call check_choice/check_estimate"
            found.append((cell, *call.groups()))
    return found


def _course(path):
    return ROOT / "course" / path.parent.name / path.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_every_lesson_grades_at_least_three_core_questions_and_a_reflection(path):
    graded = [c for c, *_ in core_tests(path) if _meta(c)["points"] > 0]
    reflections = [c for c in _cells(path) if c.cell_type == "markdown" and _meta(c).get("grade")]
    assert len(graded) >= 3, f"{path.name}: {len(graded)} autograded core questions, at least 3 needed"
    assert reflections and all(part(c) == "core" for c in reflections), f"{path.name}: a graded reflection"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_core_answers_are_literals_and_the_release_differs_only_there(path):
    released = {_meta(c)["grade_id"]: c for c in _cells(_course(path)) if _meta(c).get("solution")}
    answers = [c for c in _cells(path) if part(c) == "core" and _meta(c).get("solution") and c.cell_type == "code"]
    assert answers, f"{path.name} has no core answer cells"
    for cell in answers:
        solution = SOLUTION.search(cell.source)
        assert solution, f"{path.name}: core answer {_meta(cell)['grade_id']} without a solution region"
        stub = literal_stub(solution.group(1))  # raises unless the solution is name = <literal> lines
        expected = cell.source.replace(solution.group(0), stub + "\n")
        student = released[_meta(cell)["grade_id"]].source
        assert student.strip() == expected.strip(), f"{path.name}: the released {_meta(cell)['grade_id']} differs"
        assert _masked(ast.parse(student)) == _masked(ast.parse(solution.group(1))), "only the literals differ"


def _masked(tree: ast.AST) -> str:
    """The code with every literal (a signed number included) replaced by the same placeholder."""

    class Mask(ast.NodeTransformer):
        def visit_UnaryOp(self, node):
            return ast.Constant(None) if isinstance(node.operand, ast.Constant) else self.generic_visit(node)

        def visit_Constant(self, node):
            return ast.Constant(None)

    return ast.dump(Mask().visit(tree))


def test_a_core_answer_that_needs_code_is_refused():
    for code in ("x = 1 + 2", "x = round(0.4)", "def f(): pass", "x = [1, 2]", "x = True"):
        with pytest.raises(ValueError, match="literal"):
            literal_stub(code)
    assert literal_stub('answer = "B"\nvalue = -3.5') == "answer = ...\nvalue = ..."


def _plain(hidden: str, variable: str) -> bool:
    """A hidden test that only compares the answer variable (stripped, upper-cased) with literals."""
    tree = ast.parse(hidden)
    allowed = (ast.Module, ast.Assert, ast.Compare, ast.Name, ast.Constant, ast.Load, ast.Attribute, ast.Call)
    allowed += (ast.Eq, ast.LtE, ast.GtE, ast.Lt, ast.Gt, ast.BoolOp, ast.And, ast.UnaryOp, ast.USub)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            return False
        if isinstance(node, ast.Name) and node.id != variable:
            return False
        if isinstance(node, ast.Attribute) and node.attr not in ("strip", "upper"):
            return False
    return True


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_hidden_tests_are_plain_and_agree_with_the_library(path):
    questions = importlib.import_module(LESSON_MODULES[path.parent.name]).QUESTIONS
    for cell, kind, variable, key in core_tests(path):
        question, hidden = questions[key], _hidden(cell.source)
        assert question.variable == variable, (
            f"{path.name}: {key} checks {variable}, the question is about {question.variable}"
        )
        assert _plain(hidden, variable), (
            f"{path.name}: the hidden test of {variable} must only compare it with literals"
        )
        if kind == "choice":
            letter = re.fullmatch(rf'\s*assert {variable}\.strip\(\)\.upper\(\) == "([A-Z])"\s*', hidden)
            assert letter and letter.group(1) == question.correct, f"{path.name}: {variable}'s letter"
            assert isinstance(question, checks.Choice) and len(question.options) >= 3
        else:
            bounds = re.fullmatch(rf"\s*assert (-?[\d.]+) <= {variable} <= (-?[\d.]+)\s*", hidden)
            assert bounds, f"{path.name}: the hidden test of {variable} is a range: assert LOW <= {variable} <= HIGH"
            assert (float(bounds.group(1)), float(bounds.group(2))) == (question.low, question.high)


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_the_model_answers_pass_their_checks(path, monkeypatch, capsys):
    monkeypatch.delenv(checks.GRADING_ENV, raising=False)
    monkeypatch.delenv(checks.GRADED_ENV, raising=False)
    questions = importlib.import_module(LESSON_MODULES[path.parent.name]).QUESTIONS
    answers = {}
    for cell in _cells(path):
        if part(cell) == "core" and _meta(cell).get("solution") and cell.cell_type == "code":
            exec(SOLUTION.search(cell.source).group(1), {}, answers)  # noqa: S102 - our own literals
    for _, kind, variable, key in core_tests(path):
        check = checks.check_choice if kind == "choice" else checks.check_estimate
        check(answers[variable], questions[key])
    assert capsys.readouterr().out.count("✅") == len(core_tests(path))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSON_MODULES)
def test_the_right_answers_are_what_the_lesson_measures(lesson):
    """Each question's right answer (range or letter) agrees with the measurement behind it."""
    module = importlib.import_module(LESSON_MODULES[lesson])
    for key, source in getattr(module, "ANSWERS", {}).items():
        question, value = module.QUESTIONS[key], source.read()
        if isinstance(question, checks.Choice):
            assert value == question.correct, f"{lesson} {key}: the data support {value!r} ({source})"
        else:
            assert question.low <= value <= question.high, f"{lesson} {key}: measured {value} ({source})"
    numeric = [k for k, q in module.QUESTIONS.items() if isinstance(q, checks.Estimate)]
    missing = [k for k in numeric if k not in getattr(module, "ANSWERS", {})]
    assert not missing, f"{lesson}: numeric questions without the measurement behind them: {missing}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_the_programmers_part_is_optional_and_last(path):
    cells = _cells(path)
    summary = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Summary"))
    programmers = [i for i, c in enumerate(cells) if part(c) == "programmers"]
    assert programmers and min(programmers) > summary, f"{path.name}: the programmers' exercises come after the summary"
    exercises = [c for c in cells if _meta(c).get("solution") and c.cell_type == "code" and "def " in c.source]
    assert all(part(c) == "programmers" for c in exercises), f"{path.name}: every code exercise is for programmers"
    released = {_meta(c)["grade_id"]: c for c in _cells(_course(path)) if _meta(c).get("grade_id")}
    for cell in cells:
        if part(cell) == "programmers" and _meta(cell).get("grade"):
            assert _meta(cell)["points"] > 0, "the source keeps the points an instructor can switch on"
            assert _meta(released[_meta(cell)["grade_id"]])["points"] == 0, "the default release grades the core path"


@pytest.mark.slow
def test_the_programmers_switch_keeps_their_points(tmp_path):
    from medai_edu_ops.release import generate

    release = generate(dest=tmp_path / "course", db=tmp_path / "gradebook.db", programmers=True)
    for path in SOLUTIONS:
        source = {_meta(c)["grade_id"]: _meta(c) for c in _cells(path) if _meta(c).get("grade")}
        switched = json.loads((release / path.parent.name / path.name).read_text())["cells"]
        for cell in switched:
            grading = cell["metadata"].get("nbgrader", {})
            if grading.get("grade"):
                assert grading["points"] == source[grading["grade_id"]]["points"] > 0
