"""``medai-edu grade LESSON``: grade every submission of a lesson, isolated, in parallel.

1. Each ``submitted/<student>/<lesson>/`` is read; an unreadable or missing notebook is replaced
   by the unanswered release version (so the student still appears, with 0 and the reason).
2. Each notebook is rebuilt on the instructor's notebook (:mod:`.plan`) and run in its own
   sandbox (:mod:`.execute`), several students at a time.
3. nbgrader's ``autograde`` (with the recorded outputs), ``generate_feedback`` (without hidden
   tests) and ``export`` run once for the whole class.
4. The table and the CSV add what nbgrader does not record: each student's status and reasons.
Before any student, the model solution runs the same way: it warms the data cache and must
earn every point, or grading stops.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from medai_edu.grading import execute, plan, sandbox
from medai_edu.grading.nbgrader_steps import run_step
from medai_edu.release import tool_env

WORK_DIR = ".grading"
REFERENCE_CELL_TIMEOUT = 900.0  # seconds per cell for the model solution (it may build the data cache)


class GradingError(RuntimeError):
    """Grading cannot start or finish; the message says what to do."""


@dataclass
class Layout:
    """The course folders, as nbgrader_config.py sets them."""

    root: Path
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str
    cell_timeout: float

    @classmethod
    def read(cls, root: Path) -> Layout:
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        root = Path(root).resolve()
        config = (
            PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
            if (root / "nbgrader_config.py").exists()
            else None
        )
        course = CourseDirectory(config=config) if config else CourseDirectory()
        course.root = str(root)
        folder = lambda name: root / getattr(course, f"{name}_directory")  # noqa: E731
        timeout = config.Execute.get("timeout", 300) if config else 300
        return cls(
            root,
            folder("source"),
            folder("release"),
            folder("submitted"),
            folder("autograded"),
            folder("feedback"),
            course.db_url,
            float(timeout or 300),
        )


@dataclass
class Options:
    workers: int = 2
    cell_timeout: float | None = None  # default: nbgrader_config's Execute.timeout
    unisolated: bool = False  # run without bubblewrap (refused unless asked for)
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)


@dataclass
class Submission:
    """One student's notebook: what happened to it, beyond nbgrader's scores."""

    student: str
    notebook: str
    status: str = "graded"  # graded | repaired | partly graded | not run
    reasons: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # exercise -> (score, max)
    autograded: set[str] = field(default_factory=set)  # exercises graded by tests (the rest by hand)
    manual_pending: bool = False

    @property
    def auto_score(self) -> tuple[float, float]:
        """(points, maximum) of the exercises graded by tests."""
        return (
            sum(self.scores[n][0] for n in self.autograded if n in self.scores),
            sum(self.scores[n][1] for n in self.autograded if n in self.scores),
        )

    @property
    def total(self) -> tuple[float, float]:
        return sum(s for s, _ in self.scores.values()), sum(m for _, m in self.scores.values())


def _release_notebooks(layout: Layout, lesson: str) -> list[Path]:
    notebooks = sorted((layout.release / lesson).glob("*.ipynb"))
    if not notebooks:
        raise GradingError(f"no released notebooks in {layout.release / lesson}: run `make release`")
    return notebooks


def _answered(source: nbformat.NotebookNode, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release notebook with the model solutions typed in, as a perfect student would hand it in."""
    answers = {plan.grade_id(c): c.source for c in source.cells if plan.nbgrader_meta(c).get("solution")}
    filled = copy.deepcopy(release)
    for cell in filled.cells:
        if plan.nbgrader_meta(cell).get("solution"):
            cell.source = answers[plan.grade_id(cell)]
    return filled


def _read_submission(
    folder: Path, name: str, release: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[str], bool]:
    """(notebook to grade, reasons, usable); an unusable one is the unanswered release version."""
    path = folder / f"{name}.ipynb"
    reasons = []
    if not path.is_file():
        others = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
        if len(others) != 1:
            found = ", ".join(p.name for p in others) or "no notebook"
            return release, [f"notebook {name}.ipynb missing (found: {found})"], False
        reasons.append(f"graded {others[0].name} in place of the missing {name}.ipynb")
        path = others[0]
    try:
        return nbformat.read(path, as_version=4), reasons, True
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, never fatal
        return release, [f"{path.name} is not a valid notebook ({type(error).__name__}: {str(error)[:120]})"], False


def _copy_plain_files(src: Path, dest: Path, budget: int = 20 << 20) -> None:
    """The submission's other regular files (no links), up to ``budget`` bytes, for its sandbox."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb":
            continue
        size = path.stat().st_size
        if size > budget:
            continue
        budget -= size
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _status(submission: Submission, usable: bool, problems: list[str], refused: list[str], notes: list[str]) -> None:
    submission.reasons += problems + refused + notes
    if not usable:
        submission.status = "not run"
    elif problems or refused:
        submission.status = "partly graded"
    elif submission.reasons:
        submission.status = "repaired"


def _grade_one(
    layout: Layout, lesson: str, student: str, release_path: Path, work: Path, settings: execute.RunSettings
) -> Submission:
    name = release_path.stem
    source = nbformat.read(layout.source / lesson / release_path.name, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    folder = layout.submitted / student / lesson
    submitted, reasons, usable = _read_submission(folder, name, release)
    result = Submission(student, name, reasons=reasons)
    try:
        graded = plan.build(source, release, submitted)
    except Exception as error:  # noqa: BLE001 - a notebook the plan cannot read is graded unanswered
        graded, usable = plan.build(source, release, release), False
        result.reasons.append(f"the notebook's structure could not be read ({type(error).__name__}: {error})")
    out = work / "submitted" / student / lesson
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(graded.notebook, out / f"{name}.ipynb")
    for kept in ("timestamp.txt", "submission_secret.txt"):  # the secret: nbgrader's release_feedback needs it
        if (folder / kept).is_file():
            shutil.copyfile(folder / kept, out / kept)
    files = work / "files" / student
    if folder.is_dir():
        _copy_plain_files(folder, files)
    else:
        files.mkdir(parents=True, exist_ok=True)
    run = execute.run(graded.cells, graded.imports, files, work / "runs" / student / name, settings)
    result.cpu_seconds, result.wall_seconds = run.cpu_seconds, run.wall_seconds
    _write_outputs(work / "outputs" / student / f"{name}.json", graded, run)
    refused = [f"{c.grade_id}: {c.refused}" for c in graded.cells if c.refused]
    _status(result, usable, run.problems, refused, graded.notes)
    return result


def _write_outputs(path: Path, graded: plan.Plan, run: execute.RunResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"grade_id": c.grade_id, "outputs": run.outputs.get(i, [])} for i, c in enumerate(graded.cells)]
    path.write_text(json.dumps({"cells": cells}))


def _reference_run(
    layout: Layout, lesson: str, release_path: Path, work: Path, settings: execute.RunSettings
) -> execute.RunResult:
    """Run the model solution (warms the data and matplotlib caches). Fails loudly if a test fails."""
    source = nbformat.read(layout.source / lesson / release_path.name, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    graded = plan.build(source, release, _answered(source, release))
    (work / "reference-files").mkdir(parents=True, exist_ok=True)
    # Trusted code: it may generate the data cache on a fresh machine, so it gets room to do so.
    reference = execute.RunSettings(
        **{
            **settings.__dict__,
            "cache_writable": True,
            "cell_timeout": max(settings.cell_timeout, REFERENCE_CELL_TIMEOUT),
            "limits": sandbox.Limits(**{**settings.limits.__dict__, "file_bytes": 8 << 30, "cpu_seconds": 3600}),
        }
    )
    run_dir = work / "runs" / "_model_solution" / release_path.stem
    run = execute.run(graded.cells, graded.imports, work / "reference-files", run_dir, reference)
    failed = [
        c.grade_id
        for i, c in enumerate(graded.cells)
        if c.kind == "test" and any(o["output_type"] == "error" for o in run.outputs.get(i, []))
    ]
    if failed or run.problems:
        details = {c.grade_id: run.outputs.get(i) for i, c in enumerate(graded.cells) if c.grade_id in failed}
        raise GradingError(
            f"the model solution of {lesson} fails in the grader ({', '.join(failed) or run.problems}); "
            f"nothing was graded. Outputs: {json.dumps(details)[:2000]}"
        )
    return run


def _ensure_assignment(layout: Layout, lesson: str, work: Path) -> None:
    """Record the lesson (and its hidden tests) in the gradebook if it is not there yet."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(layout.db_url) as gradebook:
        try:
            gradebook.find_assignment(lesson)
            return
        except MissingEntry:
            pass
    done = run_step(
        "generate_assignment",
        [lesson, "--force", f"--CourseDirectory.release_directory={work / 'release'}"],
        layout.root,
        {},
    )
    if done.returncode:
        raise GradingError(f"nbgrader generate_assignment {lesson} failed:\n{done.stdout}{done.stderr}")


def students(layout: Layout, lesson: str) -> list[str]:
    """Everyone with a ``submitted/<student>/<lesson>`` folder."""
    if not layout.submitted.is_dir():
        return []
    return sorted(p.name for p in layout.submitted.iterdir() if (p / lesson).is_dir())


def grade(
    lesson: str,
    root: Path = Path("."),
    options: Options | None = None,
    log=print,
    timings: dict[str, float] | None = None,
) -> list[Submission]:
    """Grade every submission of ``lesson``; returns one :class:`Submission` per student and notebook.

    ``timings``, if given, receives the wall seconds of each phase (and the model solution's CPU seconds).
    """
    timings = {} if timings is None else timings
    options = options or Options()
    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader's gradebook runs `alembic` by name
    layout = Layout.read(root)
    problem = None if options.unisolated else sandbox.bwrap_problem()
    if problem:
        raise sandbox.IsolationUnavailable(
            f"Grading refuses to run student code unisolated: {problem}. Pass --unisolated to grade anyway, "
            "with student code running as you, with your files and network."
        )
    class_list = students(layout, lesson)
    if not class_list:
        raise GradingError(f"no submissions in {layout.submitted}/<student>/{lesson}/")
    work = layout.root / WORK_DIR / lesson
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _ensure_assignment(layout, lesson, work)
    cache = _cache_dir()
    settings = execute.RunSettings(
        cell_timeout=options.cell_timeout or layout.cell_timeout,
        limits=options.limits,
        isolated=not options.unisolated,
        cache=cache,
    )
    notebooks = _release_notebooks(layout, lesson)
    began = time.perf_counter()
    for path in notebooks:
        log(f"Model solution of {path.stem}: running it in the grader (warms the data cache) ...")
        reference = _reference_run(layout, lesson, path, work, settings)
        settings.mpl_template = work / "runs" / "_model_solution" / path.stem / "home" / ".matplotlib"
        timings["model_solution_cpu"] = timings.get("model_solution_cpu", 0.0) + reference.cpu_seconds
    timings["model_solution"] = time.perf_counter() - began
    log(f"Grading {len(class_list)} submission(s) of {lesson} with {options.workers} worker(s) ...")
    jobs = [(s, p) for s in class_list for p in notebooks]
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        results = list(pool.map(lambda job: _grade_one(layout, lesson, job[0], job[1], work, settings), jobs))
    timings["submissions"] = time.perf_counter() - began - timings["model_solution"]
    log(f"Ran {len(jobs)} notebook(s) in {timings['submissions']:.0f} s; nbgrader autograde, feedback, export ...")
    _nbgrader_steps(layout, lesson, work, timings)
    timings["nbgrader"] = time.perf_counter() - began - timings["model_solution"] - timings["submissions"]
    _read_scores(layout, lesson, results)
    return results


def _cache_dir() -> Path:
    from medai_edu.data.cache import cache_dir

    path = cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _nbgrader_steps(layout: Layout, lesson: str, work: Path, timings: dict[str, float]) -> None:
    submitted = f"--CourseDirectory.submitted_directory={work / 'submitted'}"
    config = {"AttachOutputs": {"outputs_dir": str(work / "outputs")}}
    steps = [
        ("autograde", [lesson, "--force", submitted], config),
        ("generate_feedback", [lesson, "--force"], {}),
        ("export", [f"--CsvExportPlugin.to={work / 'nbgrader-export.csv'}"], {}),
    ]
    for step, args, extra in steps:
        began = time.perf_counter()
        done = run_step(step, args, layout.root, extra)
        timings[f"nbgrader {step}"] = time.perf_counter() - began
        if done.returncode:
            raise GradingError(f"nbgrader {step} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def _grade_order(layout: Layout, lesson: str, notebook: str) -> dict[str, int]:
    release = nbformat.read(layout.release / lesson / f"{notebook}.ipynb", as_version=4)
    return {plan.grade_id(c): i for i, c in enumerate(release.cells) if plan.grade_id(c)}


def _read_scores(layout: Layout, lesson: str, results: list[Submission]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(layout.db_url) as gradebook:
        for result in results:
            try:
                notebook = gradebook.find_submission_notebook(result.notebook, lesson, result.student)
            except MissingEntry:
                result.status, result.reasons = (
                    "not run",
                    result.reasons + ["missing from the gradebook after autograde"],
                )
                continue
            order = _grade_order(layout, lesson, result.notebook)
            for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, len(order))):
                score = grade.manual_score if grade.manual_score is not None else grade.auto_score
                result.manual_pending |= bool(grade.needs_manual_grade)
                result.scores[grade.name] = (float(score or 0), float(grade.max_score))
                if grade.cell.cell_type == "code":
                    result.autograded.add(grade.name)
