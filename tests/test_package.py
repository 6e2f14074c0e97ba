"""The package imports light, and the `medai-edu` command works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medai_edu import doctor


def test_import_does_not_load_heavy_libraries():
    code = "import sys, medai_edu; print(sorted(m for m in ('torch', 'monai', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error():
    import medai_edu

    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        medai_edu.nonsense  # noqa: B018


def test_doctor_command_passes_here():
    result = subprocess.run([sys.executable, "-m", "medai_edu_ops.cli", "doctor"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "brain template" in result.stdout and "All set" in result.stdout


@pytest.mark.parametrize("thorough", [True, False])
def test_doctor_fails_in_plain_language_when_a_package_is_missing(monkeypatch, thorough):
    monkeypatch.setitem(doctor.STACK, "no_such_package_for_medai", "a lesson")
    text, ok = doctor.report(doctor.run_checks(thorough))
    assert not ok
    assert "[FAIL] no_such_package_for_medai" in text
    assert "Something the lessons need is missing: no_such_package_for_medai" in text
    assert "make lab" in text


def test_the_notebooks_machine_check_finds_packages_without_importing_them():
    """Lesson 0's set-up and machine check import no torch, monai or nilearn (a class starts at once)."""
    code = (
        "import sys; from medai_edu import checks, notebook, viz, widgets; from medai_edu.lessons import welcome; "
        "notebook.start(False); from medai_edu.doctor import check_machine; ok = check_machine(); "
        "print(ok, 'monai' in sys.modules, 'nilearn' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "True False False False", result.stdout + result.stderr
    assert "[ok  ] monai" in result.stdout and "medai-edu doctor" in result.stdout


def test_low_memory_is_a_warning_not_a_failure(monkeypatch):
    monkeypatch.setattr(doctor, "LOW_MEMORY_GB", 1e9)
    checks = doctor.run_checks()
    memory = next(c for c in checks if c.name == "free memory")
    assert not memory.ok and not memory.required
    assert doctor.report(checks)[1]
