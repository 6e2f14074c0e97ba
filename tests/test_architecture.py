"""The code base stays livable: layers import only downwards (import-linter), lint and format pass (ruff)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_layers_import_only_downwards():
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "an import goes up the layers (see pyproject.toml):\n" + result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def test_a_library_import_of_the_course_operations_breaks_the_contract(tmp_path):
    """The contracts can fail: a copy of both packages where the library imports the operations."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(
        ROOT / "medai_edu", tmp_path / "medai_edu", ignore=shutil.ignore_patterns("*.safetensors", "__pycache__")
    )
    shutil.copytree(
        ROOT / "ops" / "medai_edu_ops", tmp_path / "medai_edu_ops", ignore=shutil.ignore_patterns("__pycache__")
    )
    viz = tmp_path / "medai_edu" / "viz.py"
    viz.write_text(viz.read_text() + "\nfrom medai_edu_ops import release  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "The library never imports the course operations BROKEN" in result.stdout
    assert "medai_edu.viz -> medai_edu_ops.release" in result.stdout


def test_code_passes_ruff_lint_and_format():
    ruff = Path(sys.executable).parent / "ruff"
    for args, what in ((["check", "."], "lint"), (["format", "--check", "."], "format")):
        result = subprocess.run([str(ruff), *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"ruff {what} fails (run `.venv/bin/ruff {' '.join(args)}`):\n" + result.stdout[-3000:]
        )
