"""The nbgrader pipeline: release and validation (autograding: tests/test_grading.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT
from medai_edu_ops.release import generate, tool_env
from notebooks import COURSE, SOLUTIONS, ids

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


@pytest.fixture(scope="module")
def release_with_every_test_graded(tmp_path_factory):
    """The release with the programmers' tests' points kept (nbgrader counts a 0-point test as passed)."""
    folder = tmp_path_factory.mktemp("release")
    return generate(dest=folder / "course", db=folder / "gradebook.db", programmers=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", COURSE, ids=ids(COURSE))
def test_validate_rejects_unanswered_course_version(path, release_with_every_test_graded):
    unanswered = release_with_every_test_graded / path.parent.name / path.name
    assert _stable(unanswered)["cells"] != _stable(path)["cells"], "the switch changes the programmers' points"
    assert "Success! The notebook does not pass any tests." in nbgrader("validate", "--invert", str(unanswered))


# Autograding of real, broken and hostile submissions: tests/test_grading.py (`medai-edu grade`).
