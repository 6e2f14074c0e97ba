"""Both packages type-check: mypy with the repository's mypy.ini passes on ``medai_edu`` and ``medai_edu_ops``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

# Each package as mypy is given it, and one of its modules to break.
PACKAGES = {"library": ("medai_edu", "threads.py"), "operations": ("ops/medai_edu_ops", "course.py")}
ERRORS = '\n\ndef _wrong() -> int:\n    return "not an int"\n\n\ndef _bare(x):\n    return x\n'


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_passes_mypy(package):
    folder, _ = PACKAGES[package]
    files = list((ROOT / folder).rglob("*.py"))
    result = _mypy(folder)
    assert result.returncode == 0, (
        f"mypy finds type errors (run `.venv/bin/mypy {folder}`):\n{result.stdout[-6000:]}{result.stderr}"
    )
    assert f"no issues found in {len(files)} source files" in result.stdout, result.stdout  # every module


@pytest.mark.parametrize("package", PACKAGES)
def test_a_type_error_fails_mypy(package, tmp_path):
    """The check can fail: mypy reads a module with a wrong return type and an unannotated function appended
    (``--shadow-file``)."""
    folder, name = PACKAGES[package]
    module = ROOT / folder / name
    shadow = tmp_path / module.name
    shadow.write_text(module.read_text() + ERRORS)
    result = _mypy("--cache-dir", str(tmp_path / "cache"), "--shadow-file", str(module), str(shadow), str(module))
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "str", expected "int")  [return-value]' in result.stdout
    assert "Function is missing a type annotation  [no-untyped-def]" in result.stdout
