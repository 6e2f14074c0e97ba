"""Regenerate the student notebooks (course/) from the instructor notebooks (solutions/).

`make release` runs this. It is nbgrader's own `generate_assignment`, once per lesson folder;
`dest` lets the tests write the release elsewhere and compare it with the committed one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def assignments(root: Path = ROOT) -> list[str]:
    """Lesson folders in solutions/ (each one an nbgrader assignment)."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def tool_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: this Python's scripts first on PATH
    (nbgrader itself calls `alembic` by name)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def generate(root: Path = ROOT, dest: Path | None = None, db: Path | None = None) -> Path:
    """Run `nbgrader generate_assignment` for every lesson; returns the release folder."""
    dest = Path(dest) if dest else root / "course"
    extra = [f"--CourseDirectory.release_directory={dest.resolve()}"]
    if db:
        extra.append(f"--db=sqlite:///{Path(db).resolve()}")
    for name in assignments(root):
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--log-level=WARN", *extra],
            cwd=root,
            env=tool_env(),
            check=True,
        )
    return dest


if __name__ == "__main__":
    print(f"Release written to {generate()}")
