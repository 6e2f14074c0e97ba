"""Where the lesson notebooks are, for the notebook and nbgrader tests."""

from __future__ import annotations

from conftest import ROOT

KERNEL = "medai-edu"
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
COURSE = sorted((ROOT / "course").glob("*/*.ipynb"))


def ids(paths) -> list[str]:
    return [p.stem for p in paths]
