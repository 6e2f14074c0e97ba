"""Where the course lives: the folder with ``solutions/``, ``course/`` and ``nbgrader_config.py``.

The course operations work on that folder (the repository), which the library never needs.
``$MEDAI_EDU_COURSE`` names it; otherwise it is the checkout this package was installed from
(``pip install -e ops``), else the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

COURSE_ENV = "MEDAI_EDU_COURSE"
MARKER = "nbgrader_config.py"


def _is_course(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "solutions").is_dir()


def course_root() -> Path:
    """The course folder (see the module docstring); raises with what to do when none is found."""
    if os.environ.get(COURSE_ENV):
        folder = Path(os.environ[COURSE_ENV]).expanduser().resolve()
        if not _is_course(folder):
            raise SystemExit(f"${COURSE_ENV} is {folder}, which holds no {MARKER} and solutions/: not a course folder")
        return folder
    for folder in (Path(__file__).resolve().parents[2], Path.cwd().resolve()):
        if _is_course(folder):
            return folder
    raise SystemExit(f"no course folder found: run medai-edu inside the course repository or set ${COURSE_ENV} to it")


ROOT = course_root()
