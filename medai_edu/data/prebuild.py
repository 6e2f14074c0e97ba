"""Build every lesson's data once, ahead of a class (``medai-edu cache build``, which then adds the
lessons' results, :mod:`medai_edu.results`).

A hub or a Binder image runs this once into a shared folder; learners then read it through
``$MEDAI_EDU_SHARED_CACHE`` instead of each simulating the same cohorts and computing the same
demonstrations.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from medai_edu.data import cache

__all__ = [
    "LESSON_DATA",
    "build_data",
    "share",
]


def _reference() -> None:
    from medai_edu.data.brain_reference import load_reference

    load_reference(2)


def _cohort(progress: bool) -> None:
    from medai_edu.data.brain import LECTURE, load_cohort

    load_cohort(LECTURE, progress)


def _multirater(progress: bool) -> None:
    from medai_edu.data.multirater import LECTURE, load_multirater

    load_multirater(LECTURE, progress)


#: what each lesson reads from the cache -> how to build it
LESSON_DATA: dict[str, Callable[[bool], None]] = {
    "brain template and atlas labels (lessons 2, 4)": lambda progress: _reference(),
    "simulated MCI/AD cohort (lessons 2, 4)": _cohort,
    "multi-rater lesion cases (lesson 3)": _multirater,
}


def build_data(into: Path | None = None, progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Build (or verify) every dataset the lessons read, in the user's cache or in ``into``: a shared
    cache (whatever a shared cache the caller reads holds, this builds here). Returns the folder."""
    if into is not None:
        os.environ[cache.ENV_VAR] = str(into.resolve())
    os.environ.pop(cache.SHARED_ENV_VAR, None)
    folder = cache.cache_dir()
    log(f"Building the lessons' data in {folder}")
    for what, build in LESSON_DATA.items():
        log(f"{what} ...")
        build(progress)
    return folder


def share(folder: Path) -> None:
    """Make a built shared cache readable by everyone."""
    for path in [folder, *folder.iterdir()]:
        readable = stat.S_IRGRP | stat.S_IROTH | (stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0)
        path.chmod(path.stat().st_mode | readable)
