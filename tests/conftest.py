"""Test-suite wiring: the network guard, and shared paths."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NETGUARD_DIR = ROOT / "tests" / "netguard"
NETGUARD_LOG = ROOT / ".pytest_cache" / "netguard.log"

# Every Python started by the tests (kernels, nbgrader, CLI) imports the guard at start-up.
NETGUARD_LOG.parent.mkdir(exist_ok=True)
NETGUARD_LOG.write_text("")
os.environ["MEDAI_NETGUARD_LOG"] = str(NETGUARD_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(NETGUARD_DIR), os.environ.get("PYTHONPATH")) if p)
_spec = importlib.util.spec_from_file_location("medai_netguard", NETGUARD_DIR / "sitecustomize.py")
netguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(netguard)
netguard.install()


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test drew (pyplot keeps every open figure in memory)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    blocked = NETGUARD_LOG.read_text().strip() if NETGUARD_LOG.exists() else ""
    if blocked:
        print(f"\nNETWORK GUARD: code under test tried to reach the network:\n{blocked}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
