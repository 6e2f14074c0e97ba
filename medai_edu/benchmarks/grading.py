"""`medai-edu bench grading`: what autograding a class costs, per lesson.

For each lesson, a scratch copy of the course gets ``--students`` correct submissions (the
release notebook with the model solutions typed in), and `medai-edu grade` grades them with
``--workers`` workers, isolated as always. Reported per lesson: CPU seconds and wall seconds of
one submission's sandboxed run (the runner's own CPU time: imports, lesson code, tests), the
whole pipeline's CPU and wall time per submission (model-solution run, sandboxes and nbgrader's
autograde/feedback/export included), and the load average. The estimate for 200 students x 4
lessons scales each lesson's wall time per submission, at the measured worker count.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from medai_edu.benchmarks import load_average
from medai_edu.release import ROOT, assignments

CLASS_SIZE, LESSONS_PER_CLASS = 200, 4


def _cpu() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _scratch_course(folder: Path, lesson: str, students: int) -> Path:
    from medai_edu.grading.course import _answered

    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for path in sorted((folder / "course" / lesson).glob("*.ipynb")):
        source = nbformat.read(folder / "solutions" / lesson / path.name, as_version=4)
        answered = _answered(source, nbformat.read(path, as_version=4))
        for i in range(students):
            target = folder / "submitted" / f"student{i:03d}" / lesson
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(answered, target / path.name)
    return folder


def run_lesson(lesson: str, students: int, workers: int) -> dict[str, Any]:
    from medai_edu.grading import course

    with tempfile.TemporaryDirectory(prefix="medai-bench-grading-") as tmp:
        root = _scratch_course(Path(tmp), lesson, students)
        load_before = load_average()[0]
        cpu0, wall0 = _cpu(), time.perf_counter()
        timings: dict[str, float] = {}
        results = course.grade(lesson, root, course.Options(workers=workers), log=lambda *_: None, timings=timings)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    # bubblewrap's PID namespace does not hand the runners' CPU time up to us: add what they report.
    cpu += sum(r.cpu_seconds for r in results) + timings.pop("model_solution_cpu", 0.0)
    per_student = (timings["submissions"] + timings["nbgrader"]) / students
    return {
        "lesson": lesson,
        "students": students,
        "workers": workers,
        "all_correct": all(r.status == "graded" and r.auto_score[0] == r.auto_score[1] > 0 for r in results),
        "runner_cpu_s": statistics.mean(r.cpu_seconds for r in results),
        "runner_wall_s": statistics.mean(r.wall_seconds for r in results),
        "pipeline_cpu_s_per_submission": cpu / students,
        "pipeline_wall_s_per_submission": wall / students,
        "estimate_class_s": wall - per_student * students + per_student * CLASS_SIZE,
        "phases_s": {name: round(seconds, 2) for name, seconds in timings.items()},
        "wall_s": wall,
        "load_average": [load_before, load_average()[0]],
    }


def run(students: int = 10, workers: int = 2, lessons: list[str] | None = None) -> dict[str, Any]:
    rows = [run_lesson(lesson, students, workers) for lesson in (lessons or assignments())]
    scale = LESSONS_PER_CLASS / len(rows)
    return {
        "lessons": rows,
        "mean_runner_cpu_s": statistics.mean(r["runner_cpu_s"] for r in rows),
        "estimate_800_submissions_min": scale * sum(r["estimate_class_s"] for r in rows) / 60,
        "cpu_count": os.cpu_count(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'lesson':<28} {'runner CPU-s':>12} {'runner wall':>11} {'all-in CPU-s':>12} {'all-in wall':>11}  "
        f"{'N':>3} {'workers':>7}  load avg (start, end)  all full marks"
    ]
    for r in result["lessons"]:
        lines.append(
            f"{r['lesson']:<28} {r['runner_cpu_s']:>12.2f} {r['runner_wall_s']:>11.2f} "
            f"{r['pipeline_cpu_s_per_submission']:>12.2f} {r['pipeline_wall_s_per_submission']:>11.2f}  "
            f"{r['students']:>3} {r['workers']:>7}  {str(r['load_average']):<21} {r['all_correct']}"
        )
    lines.append(
        f"Mean runner CPU-s per correct submission: {result['mean_runner_cpu_s']:.2f} (target <= 5). "
        f"200 students x 4 lessons at this rate: {result['estimate_800_submissions_min']:.0f} min "
        f"(target <= 30) on {result['cpu_count']} CPU(s)."
    )
    lines.append(
        "Runner = one submission's sandboxed Python; all-in = the whole `medai-edu grade` run divided by the "
        "submissions (model solution, sandboxes, nbgrader autograde/feedback/export)."
    )
    return "\n".join(lines)
