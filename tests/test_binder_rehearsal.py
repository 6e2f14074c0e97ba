"""Binder rehearsed here: a virtualenv from binder/ alone, every lesson in 2 GB without network (binder/rehearse.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

WHEELS = ROOT / ".venv" / "binder-wheels"
_spec = importlib.util.spec_from_file_location("rehearse", ROOT / "binder" / "rehearse.py")
rehearse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rehearse)


def test_rehearsal_installs_what_binder_lists():
    """The rehearsal reads binder/environment.yml's conda and pip sections, nothing else."""
    names = {
        r.split("=")[0].split(">")[0].split("<")[0]
        for r in rehearse.binder_requirements(ROOT / "binder" / "environment.yml")
    }
    assert {"torch", "numpy", "monai", "jupyterlab"} <= names
    assert not names & {"voila", "papermill", "pytest", "nbgrader"}, "a course-operations package in Binder"
    assert not names & {"python", "pip"} and not any(n.startswith("-") for n in names)


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="the Binder rehearsal needs root (memory cgroup, network namespace)",
)
def test_binder_rehearsal():
    if not WHEELS.is_dir():
        pytest.fail(f"binder's packages are not in {WHEELS}: `make test` fetches them at set-up")
    done = subprocess.run(
        [sys.executable, str(ROOT / "binder" / "rehearse.py"), "--wheels", str(WHEELS)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for lesson in rehearse.LESSONS:
        assert f"{lesson.stem}" in done.stdout and "FAILED" not in done.stdout
    print(done.stdout)
