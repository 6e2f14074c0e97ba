"""Every lesson notebook runs top to bottom (papermill, quick mode) and follows the conventions."""

from __future__ import annotations

import nbformat
import papermill
import pytest
from conftest import ROOT
from notebooks import COURSE, KERNEL, SOLUTIONS, ids


def test_every_lesson_has_a_student_version():
    assert SOLUTIONS, "no notebooks found in solutions/"
    assert [p.relative_to(ROOT / "solutions") for p in SOLUTIONS] == [p.relative_to(ROOT / "course") for p in COURSE]


@pytest.mark.parametrize("path", SOLUTIONS + COURSE, ids=ids(SOLUTIONS) + [f"course-{i}" for i in ids(COURSE)])
def test_committed_notebooks_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    assert "QUICK = False" in code[0].source
    assert "notebook.start(QUICK)" in code[1].source, "the second code cell must call notebook.start(QUICK)"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for part in ("After this lesson you can", "Estimated time", "Summary", "glossary"):
        assert part in text, f"{path.name} lacks its '{part}' part"


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_notebook_runs_in_quick_mode(path, tmp_path):
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"QUICK": True},
        kernel_name=KERNEL,
        cwd=str(path.parent),
        progress_bar=False,
        execution_timeout=600,  # a stuck cell fails the test instead of stalling CI
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert any(
        "Quick mode: on" in o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
