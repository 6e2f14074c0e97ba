"""`medai-edu grade` against the battery of hostile and broken submissions (real nbgrader, real bubblewrap).

The full battery runs on lesson 00; a smaller set runs on every other lesson notebook. The
table of case, expected and actual score and status is printed (``pytest -s`` shows it).
"""

from __future__ import annotations

import csv
import math
import re
import shutil
import time
from html import unescape

import pytest
from conftest import ROOT
from grading_battery import CASES, SMALL, load_lesson, snapshot, write_class
from nbgrader.api import Gradebook

from medai_edu.grading import course, report, sandbox
from medai_edu.release import assignments, tool_env

CELL_TIMEOUT = 20  # seconds: the full battery's loops and sleeps are stopped after this (lesson 00 is light)
SMALL_CELL_TIMEOUT = 120  # other lessons load large cached data; a loaded CI machine needs room
WORKERS = 2
TIMED_OUT_CASES = ("infinite loop", "slow cell past the timeout")


def _scratch(tmp_path):
    root = tmp_path / "course-root"
    root.mkdir()
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    return root


@pytest.fixture(scope="module", autouse=True)
def _isolation():
    problem = sandbox.bwrap_problem()
    if problem:
        pytest.fail(f"grading needs bubblewrap (`make install` installs it as root): {problem}")


def _hidden_lines(lesson) -> list[str]:
    lines, inside = [], False
    for cell in lesson.source.cells:
        for line in cell.source.splitlines():
            inside = ("BEGIN HIDDEN TESTS" in line) or (inside and "END HIDDEN" not in line)
            if (
                inside
                and line.strip()
                and "BEGIN HIDDEN" not in line
                and not line.strip().startswith(("import", "_rng", "#"))
            ):
                lines.append(line.strip())
    return lines


def _visible_text(html: str) -> str:
    """The text a reader of an HTML page sees (code is split into highlighted spans)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def _grade_class(tmp_path, lesson_name: str, cases, cell_timeout: float = CELL_TIMEOUT) -> tuple:
    root = _scratch(tmp_path)
    lesson = load_lesson(root, lesson_name)
    students = write_class(lesson, cases)
    before = snapshot(root)
    began = time.perf_counter()
    results = course.grade(
        lesson_name, root, course.Options(workers=WORKERS, cell_timeout=cell_timeout), log=lambda *_: None
    )
    elapsed = time.perf_counter() - began
    return root, lesson, students, before, results, elapsed


def _check(root, lesson, students, before, results) -> list[str]:
    by_student = {r.student: r for r in results}
    lines, failures = [], []
    for student, case in students.items():
        result = by_student[student]
        auto = result.auto_score[0]
        expected = lesson.points(case.expected)
        ok = math.isclose(auto, expected) and result.status == case.status
        lines.append(
            f"{case.name:<46} {expected:>4g} {auto:>4g}  {case.status:<14} {result.status:<14} {'ok' if ok else 'FAIL'}  "
            f"{'; '.join(result.reasons)[:150]}"
        )
        if not ok:
            failures.append(
                f"{case.name}: expected {expected:g} ({case.status}), got {auto:g} ({result.status}): {result.reasons}"
            )
    print(f"\n{lesson.name}\n{'case':<46} {'exp':>4} {'got':>4}  {'expected':<14} {'status':<14}\n" + "\n".join(lines))
    exported = list(csv.DictReader(open(root / course.WORK_DIR / lesson.name / "nbgrader-export.csv")))
    assert sorted(row["student_id"] for row in exported) == sorted(students), (
        "every submission must be in nbgrader's export"
    )
    assert snapshot(root) == before, "a submission changed another submission's files"
    assert not (root / "PWNED").exists(), "a submission wrote into the course folder"
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in students:
            for grade in gradebook.find_submission_notebook(lesson.name, lesson.name, student).grades:
                assert grade.manual_score is None, f"{student}: a manual score appeared in the gradebook"
    hidden = _hidden_lines(lesson)
    assert hidden
    for student in students:
        html = _visible_text((root / "feedback" / student / lesson.name / f"{lesson.name}.html").read_text())
        shown = [line for line in hidden if line in html]
        assert not shown, f"{student}'s feedback shows hidden tests: {shown[:2]}"
    return failures


def test_battery_on_lesson_00(tmp_path):
    root, lesson, students, before, results, elapsed = _grade_class(tmp_path, "00_welcome", CASES)
    failures = _check(root, lesson, students, before, results)
    print(report.table(results))
    # Bound: each timed-out cell costs one timeout; every other submission a few seconds of CPU.
    bound = len(TIMED_OUT_CASES) * CELL_TIMEOUT + len(CASES) * 15 / WORKERS + 180
    print(f"battery: {len(CASES)} submissions graded in {elapsed:.0f} s (bound {bound:.0f} s)")
    assert not failures, "\n".join(failures)
    assert elapsed < bound


@pytest.mark.parametrize("lesson_name", [name for name in assignments() if name != "00_welcome"])
def test_small_battery_on_every_lesson(tmp_path, lesson_name):
    cases = [case for case in CASES if case.name in SMALL]
    root, lesson, students, before, results, elapsed = _grade_class(tmp_path, lesson_name, cases, SMALL_CELL_TIMEOUT)
    failures = _check(root, lesson, students, before, results)
    print(f"{lesson_name}: {len(cases)} submissions graded in {elapsed:.0f} s")
    assert not failures, "\n".join(failures)


def test_grading_refuses_to_run_unisolated(tmp_path, monkeypatch):
    root = _scratch(tmp_path)
    write_class(load_lesson(root, "00_welcome"), CASES[:1])
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap is not installed")
    with pytest.raises(sandbox.IsolationUnavailable, match="--unisolated"):
        course.grade("00_welcome", root, course.Options())
    assert not (root / "gradebook.db").exists() and not (root / "autograded").exists()


def test_grade_command_prints_the_table_and_writes_the_csv(tmp_path):
    """The instructor's command end to end (here with --unisolated, the path that skips the sandbox)."""
    import subprocess
    import sys

    root = _scratch(tmp_path)
    lesson = load_lesson(root, "00_welcome")
    write_class(lesson, [case for case in CASES if case.name in ("correct", "invalid JSON")])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "medai_edu.cli",
            "grade",
            "00_welcome",
            "--root",
            str(root),
            "--unisolated",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "correct" in done.stdout and "not valid notebook" not in done.stdout and "not run" in done.stdout
    rows = {row["student"]: row for row in csv.DictReader(open(root / "grades-00_welcome.csv"))}
    assert rows["correct"]["total"] == "6" and rows["correct"]["status"] == "graded"
    assert rows["invalid-json"]["total"] == "0" and "not a valid notebook" in rows["invalid-json"]["reason"]
    # After manual grading, instructors regenerate feedback with plain nbgrader: still no hidden tests.
    feedback = root / "feedback" / "correct" / "00_welcome" / "00_welcome.html"
    feedback.unlink()
    regenerated = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", "00_welcome", "--force"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
    )
    assert regenerated.returncode == 0, regenerated.stdout + regenerated.stderr
    html = _visible_text(feedback.read_text())
    assert "Prevalence = 0.050" in html and not [line for line in _hidden_lines(lesson) if line in html]


def test_grading_benchmark_measures_a_lesson():
    from medai_edu.benchmarks import grading

    result = grading.run(students=2, workers=2, lessons=["00_welcome"])
    row = result["lessons"][0]
    assert row["all_correct"] and 0 < row["runner_cpu_s"] < row["pipeline_cpu_s_per_submission"]
    assert 0 < row["runner_wall_s"] and len(row["load_average"]) == 2
    assert "200 students x 4 lessons" in grading.table(result)
