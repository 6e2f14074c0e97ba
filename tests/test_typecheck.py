"""The library type-checks: mypy with the repository's mypy.ini passes on ``medai_edu``."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_library_passes_mypy():
    files = list((ROOT / "medai_edu").rglob("*.py"))
    result = _mypy()
    assert result.returncode == 0, (
        f"mypy finds type errors (run `.venv/bin/mypy`):\n{result.stdout[-6000:]}{result.stderr}"
    )
    assert f"no issues found in {len(files)} source files" in result.stdout, result.stdout  # every library module


def test_a_type_error_in_the_library_fails_mypy(tmp_path):
    """The check can fail: mypy reads threads.py with a wrong return type appended (``--shadow-file``)."""
    module = ROOT / "medai_edu" / "threads.py"
    shadow = tmp_path / "threads.py"
    shadow.write_text(module.read_text() + '\n\ndef _wrong() -> int:\n    return "not an int"\n')
    result = _mypy("--cache-dir", str(tmp_path / "cache"), "--shadow-file", str(module), str(shadow), str(module))
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "str", expected "int")  [return-value]' in result.stdout
