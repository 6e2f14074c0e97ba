"""Every row of the novice-mistake table (tests/novice_mistakes.py) gets its diagnosis, in a real kernel.

The rows run in one notebook kernel, as a student's cells would: the exercise's set-up (what the
lesson ran before the question), the student's cells, then the lesson's check cell. The test
checks what the student sees: the expected diagnosis, shown as a short message with the hint last
(no traceback through a library), the cell still failing for nbgrader and papermill, and none of
a multiple-choice question's explanations but the chosen one's.
"""

from __future__ import annotations

import importlib
import re

import nbformat
import pytest
from conftest import ROOT
from notebooks import KERNEL
from novice_mistakes import EXERCISES, MISTAKES
from test_core_path import LESSON_MODULES

# a fresh namespace; the hints installed as every lesson's set-up cell (notebook.start) installs them
RESET = "%reset -f\nfrom medai_edu import checks\nfrom medai_edu.checks import hints\nhints.install_friendly_errors()\nhints.forget_failures()"
LIBRARY_TRACES = ("Traceback (most recent call last)", 'File "', "site-packages", "medai_edu/checks")


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _shown(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "error":
            parts.append("\n".join(output.traceback))
        elif output.output_type == "stream":
            parts.append(output.text)
    return _strip_ansi("\n".join(parts))


def test_the_table_has_at_least_40_typical_mistakes_across_every_exercise():
    assert len(MISTAKES) >= 40, f"{len(MISTAKES)} rows"
    assert len({(m.exercise, m.name) for m in MISTAKES}) == len(MISTAKES), "row names repeat"
    unknown = {m.exercise for m in MISTAKES} - set(EXERCISES)
    assert not unknown, f"rows for exercises the table does not define: {unknown}"
    untested = set(EXERCISES) - {m.exercise for m in MISTAKES}
    assert not untested, f"exercises without a row: {untested}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_each_exercise_checks_as_its_lesson_does(name):
    """The table's check cell is the lesson's, word for word (so the rows test what students run)."""
    exercise = EXERCISES[name]
    notebook = nbformat.read(ROOT / "solutions" / exercise.lesson / f"{exercise.lesson}.ipynb", as_version=4)
    assert any(c.source.startswith(exercise.check) for c in notebook.cells if c.cell_type == "code"), (
        f"{exercise.lesson} has no check cell starting with {exercise.check!r}"
    )


@pytest.fixture(scope="module")
def ran():
    """Every row, executed in one kernel: {row index: (what the student saw, whether the check failed)}."""
    import nbclient

    cells, rows = [], {}
    for i, mistake in enumerate(MISTAKES):
        exercise = EXERCISES[mistake.exercise]
        first = len(cells)
        cells.append(nbformat.v4.new_code_cell(f"{RESET}\n{exercise.setup}"))
        cells += [nbformat.v4.new_code_cell(source) for source in (*mistake.cells, exercise.check)]
        rows[i] = (first, len(cells))
    nb = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(nb, kernel_name=KERNEL, allow_errors=True, timeout=600).execute()
    results = {}
    for i, (first, end) in rows.items():
        setup_errors = [o for o in nb.cells[first].outputs if o.output_type == "error"]
        assert not setup_errors, f"row {MISTAKES[i].name!r}: its set-up failed: {_shown(nb.cells[first])}"
        shown = "\n".join(_shown(cell) for cell in nb.cells[first + 1 : end])
        failed = any(o.output_type == "error" for o in nb.cells[end - 1].outputs)
        results[i] = (shown, failed, _shown(nb.cells[end - 1]))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[f"{m.exercise}: {m.name}" for m in MISTAKES])
def test_a_typical_mistake_gets_its_diagnosis(index, ran):
    mistake = MISTAKES[index]
    shown, failed, check = ran[index]
    assert mistake.diagnosis in shown, f"expected {mistake.diagnosis!r}; the student saw:\n{shown}"
    if mistake.passes:
        assert not failed and "✅" in check, f"a right answer must pass:\n{check}"
        return
    assert failed, f"the check cell must fail (nbgrader and papermill count it):\n{check}"
    assert check.strip().splitlines()[-1].startswith("💡 Hint:"), f"the hint comes last:\n{check}"
    for trace in LIBRARY_TRACES:
        assert trace not in check, f"{trace!r} shown to the student:\n{check}"
    question = EXERCISES[mistake.exercise].question
    if question:
        choice = importlib.import_module(LESSON_MODULES[EXERCISES[mistake.exercise].lesson]).QUESTIONS[question]
        chosen = re.search(r'= ["“](\w)', mistake.cells[-1]) if mistake.cells else None
        for letter, why in choice.explanations.items():
            if not (chosen and chosen.group(1).upper() == letter):
                assert why not in shown, f"the explanation of {letter} must not show:\n{shown}"
