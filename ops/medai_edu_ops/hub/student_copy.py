"""A student's own copy of the lessons: ``python -m medai_edu_ops.hub.student_copy SOURCE TARGET`` (run as the student)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def copy_missing_lessons(source: Path, target: Path) -> list[str]:
    """Copy each lesson folder of ``source`` that ``target`` lacks; never touches a lesson already there."""
    lessons = sorted(p for p in Path(source).iterdir() if p.is_dir() and not p.name.startswith("."))
    if not lessons:
        raise FileNotFoundError(f"no lesson folders in {source}: expected the course's course/ folder")
    target = Path(target)
    target.mkdir(mode=0o755, exist_ok=True)
    copied = []
    for lesson in lessons:
        destination = target / lesson.name
        if destination.exists() or destination.is_symlink():
            continue
        shutil.copytree(lesson, destination, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        copied.append(lesson.name)
    return copied


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m medai_edu_ops.hub.student_copy SOURCE TARGET")
    names = copy_missing_lessons(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"copied {', '.join(names) or 'nothing (all lessons already there)'}")
