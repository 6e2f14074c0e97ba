"""`medai-edu grade` against the battery of hostile and broken submissions (real nbgrader, real bubblewrap).

For each lesson one class is graded: the earlier battery's cases (all on lesson 00, a few on the
others) and issue 24's attack classes that apply to the lesson, each next to a correct control
student. Every case must get its expected automatic score and status, nobody else's files or
grades may change, and each attack class is checked for what it must never achieve (see
``_extra``). The table of attack class, case, expected and actual score is printed (``pytest -s``)
and written to ``test-artifacts/grading/``.
"""

from __future__ import annotations

import csv
import json
import math
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from html import unescape
from html.parser import HTMLParser

import pytest
from conftest import ROOT
from grading_battery import ATTACKS, CASES, FULL, LEAK, SMALL, WROTE, XSS, Watch, load_lesson, snapshot, write_class
from medai_edu_ops import release
from medai_edu_ops.grading import course, report, sandbox
from medai_edu_ops.release import assignments, tool_env
from nbgrader.api import Gradebook

CELL_TIMEOUT = 20  # seconds: the battery's loops and sleeps are stopped after this (quick mode needs far less)
WORKERS = 2
MEMORY = 3 << 30  # the battery's sandbox memory limit (the fork payload tries to hold 3.5 GB)
ARTIFACTS = ROOT / "test-artifacts" / "grading"
TIMED_OUT = ("infinite loop", "slow cell past the timeout", "400 magics in 20,000 lines (slow to transform)")


def _scratch(tmp_path, programmers_of: str | None = None):
    """A copy of the course; ``programmers_of``: that lesson released with its optional programmers'
    exercises graded (where the course has that switch), so that attacks on them cost points."""
    root = tmp_path / "course-root"
    root.mkdir()
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    switch = getattr(release, "PROGRAMMERS_ENV", None)
    if programmers_of and switch:
        command = [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            programmers_of,
            "--force",
            "--log-level=WARN",
        ]
        subprocess.run(command, cwd=root, env={**tool_env(), switch: "1"}, check=True, capture_output=True)
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


def _watch(watch: Watch, done: threading.Event) -> None:
    """Sample the grader's memory and each sandbox's memory and process count until ``done``."""
    import psutil

    me = psutil.Process()
    while not done.wait(0.3):
        try:
            watch.grader_peak = max(watch.grader_peak, me.memory_info().rss)
            for box in [p for p in me.children(recursive=True) if p.name() == "bwrap"]:
                tree = [box, *box.children(recursive=True)]
                student = re.search(r"/runs/([^/]+)/", " ".join(box.cmdline()))
                memory = 0
                for process in tree:
                    try:
                        memory += process.memory_full_info().pss
                    except psutil.Error:
                        pass
                key = student.group(1) if student else "?"
                peak = watch.per_student.setdefault(key, [0, 0])
                peak[0], peak[1] = max(peak[0], memory), max(peak[1], len(tree) - 1)
        except psutil.Error:
            continue


def _grade_class(tmp_path, lesson_name: str, cases) -> tuple:
    root = _scratch(tmp_path, programmers_of=lesson_name)
    lesson = load_lesson(root, lesson_name)
    students = write_class(lesson, cases)
    before = snapshot(root)
    watch, done = Watch(), threading.Event()
    sampler = threading.Thread(target=_watch, args=(watch, done), daemon=True)
    import psutil

    baseline = psutil.Process().memory_info().rss
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    sampler.start()
    limits = type(course.Options().limits)(memory_bytes=MEMORY)
    try:
        results = course.grade(
            lesson_name,
            root,
            course.Options(workers=WORKERS, cell_timeout=CELL_TIMEOUT, limits=limits),
            log=lambda *_: None,
        )
    finally:
        done.set()
        sampler.join()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    watch.grader_cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    watch.grader_growth = watch.grader_peak - baseline
    return root, lesson, students, before, results, time.perf_counter() - began, watch


class _Active(HTMLParser):
    """Active content that carries the attack marker: scripts, handlers, scripted URLs, frames, forms."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            scripted = name.startswith("on") or re.match(r"\s*(javascript|vbscript|data:text)", value, re.I)
            if XSS in value and (
                scripted or name in ("src", "href", "action", "srcdoc", "data", "content", "formaction")
            ):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")
        if tag in ("script", "style", "iframe", "object", "embed", "form", "base", "svg", "math"):
            self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in and XSS in data:
            self.found.append(f"<{self._in}> holding {data[:60]!r}")


def _leaks(notebook: str) -> list[str]:
    """What payloads printed after the leak marker, wherever it could come from a hidden test: not an
    empty list (nothing was kept) and not a visible check's error (its inputs are public)."""
    found = []
    for cell in json.loads(notebook)["cells"] if notebook else []:
        test = cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code"
        for output in cell.get("outputs", []):
            if test and output.get("output_type") == "error" and "hidden test" not in output.get("evalue", ""):
                continue
            for shown in re.findall(re.escape(LEAK) + r"\s*(.{0,40})", json.dumps(output)):
                if not shown.startswith("[]"):
                    found.append(shown)
    return found


def _extra(case, student, root, lesson, watch) -> list[str]:
    """What the case's attack class must never achieve."""
    feedback = root / "feedback" / student / lesson.name / f"{lesson.name}.html"
    autograded = root / "autograded" / student / lesson.name / f"{lesson.name}.ipynb"
    html = feedback.read_text(errors="replace") if feedback.is_file() else ""
    notebook = autograded.read_text(errors="replace") if autograded.is_file() else ""
    problems = []
    if case.check == "no leak" and _leaks(notebook):
        problems.append(f"a hidden test's inputs or expected values reached the feedback: {_leaks(notebook)[:2]}")
    if case.check == "inert":
        cells = json.loads(notebook)["cells"] if notebook else []
        markdown = " ".join("".join(c["source"]) for c in cells if c["cell_type"] != "code")
        for where, text in (("feedback", html), ("autograded notebook", markdown)):
            parser = _Active()
            parser.feed(text)
            if parser.found:
                problems.append(f"active content in the {where}: {parser.found[:2]}")
    if case.check == "small files":
        for path in (feedback, autograded):
            if path.is_file() and path.stat().st_size > 5 << 20:
                problems.append(f"{path.name} is {path.stat().st_size >> 20} MB")
    memory, tasks = watch.per_student.get(student, [0, 0])
    if case.check == "sandbox memory" and memory > 1.1 * MEMORY:
        problems.append(f"the sandbox held {memory / 2**30:.1f} GiB (limit {MEMORY / 2**30:.0f} GiB)")
    if case.check == "process count" and tasks > 66:
        problems.append(f"the sandbox ran {tasks} processes")
    if case.check == "disk":
        wrote = [int(n) for n in re.findall(re.escape(WROTE) + r"\s+(\d+)", notebook.replace("\\n", "\n"))]
        limit = 3 * type(course.Options().limits)().__dict__.get("disk_bytes", 256 << 20)
        if not wrote or max(wrote) > 1.05 * limit:
            problems.append(f"the submission wrote {wrote} bytes to /tmp, /dev/shm and its folder (limit {limit})")
    if case.check == "grader memory" and watch.grader_growth > 1 << 30:
        problems.append(f"the grader grew by {watch.grader_growth / 2**30:.1f} GiB")
    if not feedback.is_file() and case.expected != "0":
        problems.append("no feedback was written")
    return problems


def _check(root, lesson, students, before, results, watch) -> tuple[list[str], list[dict]]:
    by_student = {r.student: r for r in results}
    lines, failures, rows = [], [], []
    for student, case in students.items():
        result = by_student[student]
        auto = result.auto_score[0]
        target = lesson.target(case.target) if case.target != "text" else None
        expected = lesson.points(case.expected, target)
        statuses = case.status if isinstance(case.status, tuple) else (case.status,)
        extra = _extra(case, student, root, lesson, watch)
        ok = math.isclose(auto, expected) and result.status in statuses and not extra
        rows.append(
            {
                "lesson": lesson.name,
                "attack": case.attack or "earlier battery",
                "case": case.name,
                "expected": expected,
                "got": auto,
                "status": result.status,
                "ok": ok,
                "problems": extra,
            }
        )
        lines.append(
            f"{case.attack[:28]:<28} {case.name[:52]:<52} {expected:>4g} {auto:>4g}  {result.status:<14} "
            f"{'ok' if ok else 'FAIL'}  {'; '.join(extra + result.reasons)[:120]}"
        )
        if not ok:
            failures.append(
                f"{case.name}: expected {expected:g} ({'/'.join(statuses)}), got {auto:g} ({result.status}): "
                f"{extra} {result.reasons}"
            )
    print(f"\n{lesson.name}\n{'attack':<28} {'case':<52} {'exp':>4} {'got':>4}  {'status':<14}\n" + "\n".join(lines))
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
        path = root / "feedback" / student / lesson.name / f"{lesson.name}.html"
        html = _visible_text(path.read_text()) if path.is_file() else ""
        shown = [line for line in hidden if line in html]
        assert not shown, f"{student}'s feedback shows hidden tests: {shown[:2]}"
    return failures, rows


def _record(lesson_name: str, rows: list[dict], watch, elapsed: float) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "rows": rows,
        "seconds": round(elapsed, 1),
        "grader_cpu_s": round(watch.grader_cpu, 1),
        "grader_growth_mb": round(watch.grader_growth / 2**20),
    }
    (ARTIFACTS / f"battery-{lesson_name}.json").write_text(json.dumps(summary, indent=1))


@pytest.mark.parametrize("lesson_name", assignments())
def test_battery(tmp_path, lesson_name):
    """Every case graded as expected, 0 wrong answers scored, nobody else affected, no run stopped."""
    first = lesson_name == assignments()[0]
    probe = load_lesson(ROOT, lesson_name)
    cases = [c for c in CASES if first or c.name in SMALL]
    cases += [c for c in ATTACKS if lesson_name[:2] in c.lessons and c.applies(probe)]
    root, lesson, students, before, results, elapsed, watch = _grade_class(tmp_path, lesson_name, cases)
    failures, rows = _check(root, lesson, students, before, results, watch)
    _record(lesson_name, rows, watch, elapsed)
    print(report.table(results))
    # The grader's own CPU time (planning, sanitising, relaying; sandboxes, judges and nbgrader are
    # other processes): a few tenths of a second per submission, never the student's code or magics.
    cpu_bound = 20 + 0.5 * len(cases)
    print(f"{len(cases)} submissions in {elapsed:.0f} s; grader CPU {watch.grader_cpu:.1f} s (bound {cpu_bound:.0f})")
    assert not failures, "\n".join(failures)
    assert watch.grader_cpu < cpu_bound, f"the grader itself used {watch.grader_cpu:.0f} CPU-s"
    timeouts = sum(c.name in TIMED_OUT for c in cases)
    assert elapsed < timeouts * CELL_TIMEOUT + len(cases) * 15 / WORKERS + 240


def test_grading_refuses_to_run_unisolated(tmp_path, monkeypatch):
    root = _scratch(tmp_path)
    write_class(load_lesson(root, "00_welcome"), CASES[:1])
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap is not installed")
    with pytest.raises(sandbox.IsolationUnavailable, match="--unisolated"):
        course.grade("00_welcome", root, course.Options())
    assert not (root / "gradebook.db").exists() and not (root / "autograded").exists()


def test_grade_command_prints_the_table_and_writes_the_csv(tmp_path):
    """The instructor's command end to end (here with --unisolated, the path that skips the sandbox)."""
    root = _scratch(tmp_path)
    lesson = load_lesson(root, "00_welcome")
    write_class(lesson, [case for case in CASES if case.name in ("correct", "invalid JSON")])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "medai_edu_ops.cli",
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
    assert float(rows["correct"]["total"]) == lesson.points(FULL) > 0 and rows["correct"]["status"] == "graded"
    assert rows["invalid-json"]["total"] == "0" and "not a valid notebook" in rows["invalid-json"]["reason"]
    # After manual grading, instructors regenerate feedback with plain nbgrader: still no hidden tests,
    # and still a page that runs no script.
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
    page = feedback.read_text()
    html = _visible_text(page)
    answer = lesson.target("first").code.strip().splitlines()[-1]  # the student's answer, shown with its output
    assert answer in html and not [line for line in _hidden_lines(lesson) if line in html]
    metas = re.findall(r"<meta[^>]*>", page)
    assert any("Content-Security-Policy" in m and "default-src 'none'" in m for m in metas), "feedback without its CSP"


def test_grading_benchmark_measures_a_lesson():
    from medai_edu_ops.benchmarks import grading

    result = grading.run(students=2, workers=2, lessons=["00_welcome"])
    row = result["lessons"][0]
    assert row["all_as_expected"] and 0 < row["runner_cpu_s"] < row["pipeline_cpu_s_per_submission"]
    assert 0 < row["runner_wall_s"] and len(row["load_average"]) == 2
    assert "200 students x 4 lessons" in grading.table(result)
