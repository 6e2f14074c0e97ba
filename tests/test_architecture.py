"""The code base stays livable: layers import only downwards (import-linter), lint and format pass (ruff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_layers_import_only_downwards():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "an import goes up the layers (see pyproject.toml):\n" + result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_code_passes_ruff_lint_and_format():
    ruff = Path(sys.executable).parent / "ruff"
    for args, what in ((["check", "."], "lint"), (["format", "--check", "."], "format")):
        result = subprocess.run([str(ruff), *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"ruff {what} fails (run `.venv/bin/ruff {' '.join(args)}`):\n" + result.stdout[-3000:]
        )
