"""Benchmarks behind `medai-edu bench ...`: each prints what it measured and can write JSON."""

from __future__ import annotations

import os


def load_average() -> list[float]:
    """The load average (1, 5, 15 min), printed beside every timing: the machine is shared."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else []
