"""`medai-edu bench grading`: what autograding a class costs, per lesson, with a realistic class.

For each lesson, a scratch copy of the course gets ``--students`` submissions: three in five are
the model solution, one in five has every answer wrong, and one in five is hostile (a cycle of
the grading battery's attacks that apply to the lesson and need no timeout: lying objects,
shadowed builtins and rebound helper names, patched libraries, replaced reporting, printed hidden
inputs, script in markdown, attachments, lone surrogates, bad timestamps; from
``tests/grading_battery.py`` in a source checkout, else the class is correct and wrong only).
`medai-edu grade` grades them with ``--workers`` workers, isolated as always.

Reported per lesson: each submission's CPU and wall seconds in its sandbox and judge, the whole
pipeline's CPU seconds per submission (the grader, every sandbox, the judges, nbgrader's
autograde/feedback/export: everything the run started), its wall seconds per submission, whether
every submission got the score the battery expects, and the load average before and after. The
estimate for 200 students x 4 lessons scales each lesson's wall time per submission.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from medai_edu_ops.benchmarks import load_average
from medai_edu_ops.release import ROOT, assignments

CLASS_SIZE, LESSONS_PER_CLASS = 200, 4
HOSTILE = (
    "lying objects",
    "shadowed builtins",
    "rebound helper names",
    "monkeypatched library classes",
    "replaced reporting functions",
    "replaced snapshot/restore functions",
    "printing hidden-test inputs",
    "script in markdown",
    "attachments",
    "lone surrogates",
    "bad timestamp.txt",
)


def _cpu() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _battery() -> ModuleType | None:
    """The grading battery's case builders, when this is a source checkout (None otherwise)."""
    path = ROOT / "tests" / "grading_battery.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("grading_battery", path)
    assert spec and spec.loader  # a .py file
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _scratch_course(folder: Path, lesson: str, students: int) -> dict[str, float | None]:
    """The course with ``students`` submissions; returns each student's expected automatic score (None: full)."""
    battery = _battery()
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    if battery is None:
        return _correct_and_wrong(folder, lesson, students)
    probe = battery.load_lesson(folder, lesson)
    hostile = [c for c in battery.ATTACKS if c.attack in HOSTILE and c.applies(probe)]
    correct = next(c for c in battery.CASES if c.name == "correct")
    wrong = battery.Case("all wrong", battery.ZERO, "graded", battery._notebook(battery.Lesson.all_wrong))
    expected = {}
    for i in range(students):
        case = [correct, correct, correct, wrong, hostile[(i // 5) % len(hostile)] if hostile else wrong][i % 5]
        target = probe.target(case.target) if case.target != "text" else None
        target_folder = folder / "submitted" / f"student{i:03d}" / lesson
        target_folder.mkdir(parents=True)
        case.write(probe, target_folder)
        expected[f"student{i:03d}"] = probe.points(case.expected, target)
    return expected


def _correct_and_wrong(folder: Path, lesson: str, students: int) -> dict[str, float | None]:
    """Without the battery: the model solution for four in five students, the release for the rest."""
    import nbformat

    from medai_edu_ops.grading.course import _answered

    expected: dict[str, float | None] = {}
    for path in sorted((folder / "course" / lesson).glob("*.ipynb")):
        source = nbformat.read(folder / "solutions" / lesson / path.name, as_version=4)
        release = nbformat.read(path, as_version=4)
        answered = _answered(source, release)
        for i in range(students):
            target = folder / "submitted" / f"student{i:03d}" / lesson
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(release if i % 5 == 4 else answered, target / path.name)
            expected[f"student{i:03d}"] = None if i % 5 != 4 else 0.0
    return expected


def run_lesson(lesson: str, students: int, workers: int) -> dict[str, Any]:
    from medai_edu_ops.grading import course

    with tempfile.TemporaryDirectory(prefix="medai-bench-grading-") as tmp:
        expected = _scratch_course(Path(tmp), lesson, students)
        load_before = load_average()[0]
        cpu0, wall0 = _cpu(), time.perf_counter()
        timings: dict[str, float] = {}
        results = course.grade(lesson, Path(tmp), course.Options(workers=workers), log=lambda *_: None, timings=timings)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    # The sandboxes' CPU time (measured in their cgroups, else reported by them) is not in this
    # process's children's usage: bubblewrap's PID namespace hides it. The judges' is (reaped).
    cpu += sum(r.sandbox_cpu_seconds for r in results)
    timings.pop("model_solution_cpu", None)
    per_student = (timings["submissions"] + timings["nbgrader"]) / students
    as_expected = [
        e is None and r.auto_score[0] == r.auto_score[1] > 0 or e is not None and abs(r.auto_score[0] - e) < 1e-9
        for r in results
        for e in [expected.get(r.student)]
    ]
    return {
        "lesson": lesson,
        "students": students,
        "workers": workers,
        "all_as_expected": all(as_expected),
        "not_as_expected": [r.student for r, ok in zip(results, as_expected) if not ok],
        "runner_cpu_s": statistics.mean(r.cpu_seconds for r in results),
        "runner_wall_s": statistics.mean(r.wall_seconds for r in results),
        "pipeline_cpu_s_per_submission": cpu / students,
        "pipeline_wall_s_per_submission": wall / students,
        "estimate_class_s": wall - per_student * students + per_student * CLASS_SIZE,
        "phases_s": {name: round(seconds, 2) for name, seconds in timings.items()},
        "wall_s": wall,
        "load_average": [load_before, load_average()[0]],
    }


def run(students: int = 40, workers: int = 2, lessons: list[str] | None = None) -> dict[str, Any]:
    rows = [run_lesson(lesson, students, workers) for lesson in (lessons or assignments())]
    scale = LESSONS_PER_CLASS / len(rows)
    return {
        "lessons": rows,
        "mean_runner_cpu_s": statistics.mean(r["runner_cpu_s"] for r in rows),
        "mean_pipeline_cpu_s": statistics.mean(r["pipeline_cpu_s_per_submission"] for r in rows),
        "estimate_800_submissions_min": scale * sum(r["estimate_class_s"] for r in rows) / 60,
        "cpu_count": os.cpu_count(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'lesson':<28} {'sandbox+judge CPU-s':>19} {'wall':>6} {'all-in CPU-s':>12} {'all-in wall':>11}  "
        f"{'N':>3} {'workers':>7}  load avg (start, end)  scores as expected"
    ]
    for r in result["lessons"]:
        lines.append(
            f"{r['lesson']:<28} {r['runner_cpu_s']:>19.2f} {r['runner_wall_s']:>6.2f} "
            f"{r['pipeline_cpu_s_per_submission']:>12.2f} {r['pipeline_wall_s_per_submission']:>11.2f}  "
            f"{r['students']:>3} {r['workers']:>7}  {str([round(x, 1) for x in r['load_average']]):<21} "
            f"{r['all_as_expected'] or r['not_as_expected']}"
        )
    lines.append(
        f"Mean all-in CPU-s per submission: {result['mean_pipeline_cpu_s']:.2f} (target <= 5). "
        f"200 students x 4 lessons at this rate: {result['estimate_800_submissions_min']:.0f} min "
        f"(target <= 20) on {result['cpu_count']} CPU(s)."
    )
    lines.append(
        "Class: 3 in 5 correct, 1 in 5 all wrong, 1 in 5 hostile. Sandbox+judge = one submission's sandboxed "
        "Python and its judge session; all-in = everything the `medai-edu grade` run used (model solution, "
        "judges, sandboxes, nbgrader autograde/feedback/export) divided by the submissions."
    )
    return "\n".join(lines)
