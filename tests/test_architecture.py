"""The library's layers import only downwards (the import-linter contract in pyproject.toml)."""
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
