"""The nbgrader pipeline: release, validation, and autograding of whatever students submit."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook
from notebooks import COURSE, SOLUTIONS, ids

from conftest import ROOT
from medai_edu.release import generate, tool_env

VOLATILE_METADATA = ("language_info", "widgets")


def nbgrader(*args: str, cwd=ROOT) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=tool_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _stable(path) -> dict:
    nb = json.loads(path.read_text())
    for key in VOLATILE_METADATA:
        nb["metadata"].pop(key, None)
    return nb


def test_release_reproduces_committed_course(tmp_path):
    release = generate(dest=tmp_path / "course", db=tmp_path / "gradebook.db")
    made = sorted(p.relative_to(release) for p in release.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "course") for p in (ROOT / "course").rglob("*") if p.is_file())
    assert made == committed, "course/ is out of date: run `make release`"
    for rel in made:
        if rel.suffix == ".ipynb":
            assert _stable(release / rel) == _stable(ROOT / "course" / rel), f"{rel} differs: run `make release`"
        else:
            assert (release / rel).read_bytes() == (ROOT / "course" / rel).read_bytes(), f"{rel} differs"


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_validate_passes_on_solutions(path):
    assert "Success! Your notebook passes all the tests." in nbgrader("validate", str(path))


@pytest.mark.slow
@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_validate_rejects_unanswered_course_version(path):
    assert "Success! The notebook does not pass any tests." in nbgrader("validate", "--invert", str(path))


def _broken(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What students really hand in: syntax errors, deleted and edited test cells, odd types."""
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    answers[0].source = "prevalence = (45 + 5 / 1000"  # syntax error
    if len(answers) > 1:
        answers[-1].source = "import sys\nsys.exit(3)"  # tries to stop the kernel
    graded[0].source = "pass  # the student 'fixed' the test"
    nb.cells.remove(graded[-1])  # and deleted another
    nb.cells.append(nbformat.v4.new_code_cell("while False: pass\n1 / 0"))
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted({p.parent.name for p in SOLUTIONS}))
def test_autograde_survives_any_submission(assignment, tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    nbgrader("generate_assignment", assignment, f"--db={db}", cwd=tmp_path)
    released = sorted((tmp_path / "course" / assignment).glob("*.ipynb"))
    submissions = {
        "perfect": lambda p: nbformat.read(ROOT / "solutions" / assignment / p.name, as_version=4),
        "blank": lambda p: nbformat.read(p, as_version=4),
        "broken": lambda p: _broken(nbformat.read(p, as_version=4)),
    }
    for student, make in submissions.items():
        folder = tmp_path / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for path in released:
            nbformat.write(make(path), folder / path.name)
        nbgrader("db", "student", "add", student, f"--db={db}", cwd=tmp_path)
    nbgrader("autograde", assignment, f"--db={db}", "--ExecutePreprocessor.timeout=120", cwd=tmp_path)

    with Gradebook(db) as gradebook:
        for path in released:
            scores = {
                s: gradebook.find_submission_notebook(path.stem, assignment, s) for s in submissions
            }
            auto_max = sum(g.max_score for g in scores["perfect"].grades if g.auto_score is not None)
            assert auto_max > 0
            assert scores["perfect"].code_score == auto_max, "the model solution must get every autograded point"
            assert scores["blank"].code_score == 0
            assert scores["broken"].code_score == 0, "edited or deleted tests must not earn points"
    for student in submissions:
        assert list((tmp_path / "autograded" / student / assignment).glob("*.ipynb")), f"{student}'s work was lost"
