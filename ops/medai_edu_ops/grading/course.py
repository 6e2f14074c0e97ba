"""``medai-edu grade LESSON``: grade every submission of a lesson, isolated, in parallel.

1. Each ``submitted/<student>/<lesson>/`` is read; an unreadable, oversized or missing notebook is
   replaced by the unanswered release version (so the student still appears, with 0 and the reason).
2. Each notebook is rebuilt on the instructor's notebook (:mod:`.plan`), cleaned of anything
   active (:mod:`.sanitize`), and run: the student's cells in a sandbox, the tests in the judge
   (:mod:`.execute`), several students at a time. The judge decides which tests passed.
3. nbgrader's ``autograde`` (with the recorded outputs), ``generate_feedback`` (without hidden
   tests) and ``export`` run for the whole class; a student nbgrader could not process is retried
   alone, then with a plain copy of their graded notebook, and otherwise reported.
4. The table and the CSV add what nbgrader does not record: each student's status and reasons.

Every step is guarded per student: whatever one submission does, everybody else is graded.
Before any student, the model solution runs the same way: it must earn every point, or grading stops.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from medai_edu_ops.grading import confine, execute, manual_grades, plan, sandbox, sanitize
from medai_edu_ops.grading.nbgrader_steps import run_step
from medai_edu_ops.release import tool_env

WORK_DIR = ".grading"
REFERENCE_CELL_TIMEOUT = 900.0  # seconds per cell for the model solution (it may build the data cache)
MAX_NOTEBOOK_BYTES = 20 << 20  # a submitted notebook larger than this is not read
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


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
    limits: confine.Limits = field(default_factory=confine.Limits)
    use_cgroups: bool = True  # False: whole-sandbox limits by rlimits and a watchdog even where cgroups work


@dataclass
class Submission:
    """One student's notebook: what happened to it, beyond nbgrader's scores."""

    student: str
    notebook: str
    status: str = "graded"  # graded | repaired | partly graded | not run
    reasons: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # its sandboxes and its judge session
    sandbox_cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # exercise -> (score, max)
    autograded: set[str] = field(default_factory=set)  # exercises graded by tests (the rest by hand)
    manual_pending: bool = False
    passed: dict[str, bool] = field(default_factory=dict)  # test grade_id -> passed, as the judge decided

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
    if not path.is_file() or path.is_symlink():
        others = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
        if len(others) != 1:
            found = ", ".join(_label(p.name) for p in others) or "no notebook"
            return release, [f"notebook {name}.ipynb missing (found: {found})"], False
        reasons.append(f"graded {_label(others[0].name)} in place of the missing {name}.ipynb")
        path = others[0]
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return release, [f"{_label(path.name)} is {size / 2**20:.0f} MB, more than the grader reads (20 MB)"], False
    text = path.read_bytes().decode("utf-8", "replace")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                notebook: nbformat.NotebookNode = nbformat.reads(text, as_version=4)
            except Exception as error:  # noqa: BLE001 - valid JSON that nbformat refuses: read what can be read
                notebook = _lenient(text, error, reasons)
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
            raise ValueError("no list of cells")
        return notebook, reasons, True
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, never fatal
        why = sanitize.strings(f"{type(error).__name__}: {str(error)[:120]}")
        return release, [f"{_label(path.name)} is not a valid notebook ({why})"], False


def _lenient(text: str, refused: Exception, reasons: list[str]) -> nbformat.NotebookNode:
    """A notebook nbformat refused, rebuilt from its JSON: each cell's kind, source, metadata, id and
    attachments (cells of an unknown kind are left out); everything else is dropped."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise refused
    cells, skipped = [], 0
    for found in data["cells"]:
        kind = found.get("cell_type") if isinstance(found, dict) else None
        if kind not in ("code", "markdown", "raw"):
            skipped += 1
            continue
        source = plan.text(found.get("source"))
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if isinstance(found.get("metadata"), dict):
            cell.metadata = nbformat.from_dict(found["metadata"])
        if isinstance(found.get("id"), str):
            cell["id"] = found["id"][:64]
        if isinstance(found.get("attachments"), dict):
            cell["attachments"] = found["attachments"]
        cells.append(cell)
    reasons.append(
        "the notebook's format was broken: its cells were read as they are"
        + (f" ({skipped} of an unknown kind left out)" if skipped else "")
    )
    notebook = nbformat.v4.new_notebook()  # new_notebook(cells=...) would validate them again
    notebook.cells = cells
    return notebook


def _label(text: str) -> str:
    """A file name from a submission, safe to print: no control characters, at most 60 characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in sanitize.strings(text))[:60]


def _timestamp(folder: Path, notes: list[str]) -> str | None:
    """The submission's timestamp.txt if it holds a date nbgrader can use, else None (with a note)."""
    path = folder / "timestamp.txt"
    if not path.is_file() or path.is_symlink():
        return None
    from nbgrader.utils import parse_utc

    try:
        if path.stat().st_size > 200:
            raise ValueError("too long")
        text = path.read_bytes().decode("utf-8").strip()
        when = parse_utc(text)
        if not 2000 <= when.year <= 2200:
            raise ValueError("not a plausible year")
        return text
    except Exception:  # noqa: BLE001 - whatever is wrong with it, it is ignored with a note
        notes.append("timestamp.txt is not a date: ignored (graded as on time)")
        return None


def _secret(folder: Path) -> str | None:
    """submission_secret.txt (nbgrader's release_feedback needs it) when it looks like one."""
    path = folder / "submission_secret.txt"
    if path.is_file() and not path.is_symlink() and path.stat().st_size <= 200:
        text = path.read_bytes().decode("ascii", "replace").strip()
        if re.fullmatch(r"[A-Za-z0-9_=+/-]{1,200}", text):
            return text
    return None


def _copy_plain_files(src: Path, dest: Path, budget: int = 20 << 20) -> None:
    """The submission's other regular files (no links), up to ``budget`` bytes and 1,000 files, for its sandbox."""
    dest.mkdir(parents=True, exist_ok=True)
    for count, path in enumerate(sorted(src.rglob("*"))):
        if count > 1000 or budget <= 0:
            break
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


def _clean(graded: plan.Plan, release: nbformat.NotebookNode, notes: list[str]) -> None:
    """Sanitise the graded notebook in place: the student's text as inert HTML, every string writable.
    A text answer left as released is the lesson's own text and stays as it is, so that nbgrader
    recognises it as unanswered (0 points, no manual grading needed)."""
    released = {plan.grade_id(c): c.source for c in release.cells if c.cell_type == "markdown" and plan.grade_id(c)}
    for cell, planned in zip(graded.notebook.cells, graded.cells):
        unchanged = planned.grade_id in released and cell.source == released[planned.grade_id]
        if planned.from_student and cell.cell_type == "markdown" and not unchanged:
            cell.source = sanitize.markdown(cell.source, cell.pop("attachments", None), notes)
        cell.pop("attachments", None)
    graded.notebook = sanitize.strings(graded.notebook)


def _grade_one(
    layout: Layout,
    lesson: str,
    student: str,
    release_path: Path,
    work: Path,
    settings: execute.RunSettings,
    judge: execute.JudgeServer,
) -> Submission:
    """One student's notebook, every step guarded: a failure is this student's reason, never the class's."""
    name = release_path.stem
    result = Submission(student, name)
    try:
        _grade_steps(layout, lesson, student, release_path, work, settings, judge, result)
    except Exception as error:  # noqa: BLE001 - the student stays in the class with 0 and the reason
        result.status = "not run"
        result.reasons.append(
            f"the grader could not process this submission ({type(error).__name__}: {str(error)[:200]})"
        )
        _write_unanswered(layout, lesson, student, release_path, work)
    return result


def _write_unanswered(layout: Layout, lesson: str, student: str, release_path: Path, work: Path) -> None:
    """The unanswered release notebook in the student's place (so nbgrader still records them, with 0)."""
    out = work / "submitted" / student / lesson
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.read(release_path, as_version=4), out / release_path.name)
    (work / "outputs" / student / f"{release_path.stem}.json").unlink(missing_ok=True)


def _grade_steps(
    layout: Layout,
    lesson: str,
    student: str,
    release_path: Path,
    work: Path,
    settings: execute.RunSettings,
    judge: execute.JudgeServer,
    result: Submission,
) -> None:
    name = release_path.stem
    source = nbformat.read(layout.source / lesson / release_path.name, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    folder = layout.submitted / student / lesson
    submitted, reasons, usable = _read_submission(folder, name, release)
    result.reasons += reasons
    try:
        graded = plan.build(source, release, submitted)
    except Exception as error:  # noqa: BLE001 - a notebook the plan cannot read is graded unanswered
        graded, usable = plan.build(source, release, release), False
        result.reasons.append(
            f"the notebook's structure could not be read ({type(error).__name__}: {str(error)[:120]})"
        )
    _clean(graded, release, graded.notes)
    out = work / "submitted" / student / lesson
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(graded.notebook, out / f"{name}.ipynb")
    if (stamp := _timestamp(folder, graded.notes)) is not None:
        (out / "timestamp.txt").write_text(stamp)
    if (secret := _secret(folder)) is not None:
        (out / "submission_secret.txt").write_text(secret)
    files = work / "files" / student
    if folder.is_dir() and usable:
        _copy_plain_files(folder, files)
    else:
        files.mkdir(parents=True, exist_ok=True)
    run = execute.run(graded, files, work / "runs" / student / name, settings, judge)
    result.cpu_seconds = run.sandbox_cpu_seconds + run.judge_cpu_seconds
    result.sandbox_cpu_seconds, result.wall_seconds = run.sandbox_cpu_seconds, run.wall_seconds
    result.passed = dict(run.passed)
    _write_outputs(work / "outputs" / student / f"{name}.json", graded, run)
    refused = [f"{c.grade_id}: {c.refused}" for c in graded.cells if c.refused]
    _status(result, usable, run.problems, refused, graded.notes)


def _write_outputs(path: Path, graded: plan.Plan, run: execute.RunResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"grade_id": c.grade_id, "outputs": run.outputs.get(i, [])} for i, c in enumerate(graded.cells)]
    path.write_text(json.dumps({"cells": cells}))


def _reference_run(
    layout: Layout, lesson: str, release_path: Path, work: Path, settings: execute.RunSettings
) -> tuple[execute.JudgeServer, execute.RunResult]:
    """Start the notebook's judge and run the model solution through it; fails loudly if a test fails."""
    source = nbformat.read(layout.source / lesson / release_path.name, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    graded = plan.build(source, release, _answered(source, release))
    try:
        judge = execute.JudgeServer(graded.judge_steps(), work / "judge" / release_path.stem, settings)
    except RuntimeError as error:
        raise GradingError(f"{lesson}: {error}") from None
    (work / "reference-files").mkdir(parents=True, exist_ok=True)
    # Trusted code: it may generate the data cache on a fresh machine, so it gets room to do so.
    reference = execute.RunSettings(
        **{
            **settings.__dict__,
            "cache_writable": True,
            "cell_timeout": max(settings.cell_timeout, REFERENCE_CELL_TIMEOUT),
            "limits": confine.Limits(**{**settings.limits.__dict__, "file_bytes": 8 << 30, "cpu_seconds": 3600}),
        }
    )
    run_dir = work / "runs" / "_model_solution" / release_path.stem
    run = execute.run(graded, work / "reference-files", run_dir, reference, judge)
    failed = [gid for gid, passed in run.passed.items() if not passed]
    if failed or run.problems:
        judge.close()
        details = {c.grade_id: run.outputs.get(i) for i, c in enumerate(graded.cells) if c.grade_id in failed}
        raise GradingError(
            f"the model solution of {lesson} fails in the grader ({', '.join(failed) or run.problems}); "
            f"nothing was graded. Outputs: {json.dumps(details)[:3000]}"
        )
    return judge, run


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
    log: Callable[[str], object] = print,
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
    everyone = students(layout, lesson)
    if not everyone:
        raise GradingError(f"no submissions in {layout.submitted}/<student>/{lesson}/")
    class_list = [s for s in everyone if STUDENT_ID.fullmatch(s)]
    work = layout.root / WORK_DIR / lesson
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _ensure_assignment(layout, lesson, work)
    confine.remove_stale()
    settings = execute.RunSettings(
        cell_timeout=options.cell_timeout or layout.cell_timeout,
        limits=options.limits,
        isolated=not options.unisolated,
        cache=_cache_dir(),
        use_cgroups=options.use_cgroups,
    )
    notebooks = _release_notebooks(layout, lesson)
    judges: dict[str, execute.JudgeServer] = {}
    began = time.perf_counter()
    try:
        for path in notebooks:
            log(f"Model solution of {path.stem}: running it in the grader (warms the data cache) ...")
            judges[path.stem], reference = _reference_run(layout, lesson, path, work, settings)
            settings.mpl_template = work / "runs" / "_model_solution" / path.stem / "try-0" / "home" / ".matplotlib"
            timings["model_solution_cpu"] = timings.get("model_solution_cpu", 0.0) + reference.sandbox_cpu_seconds
        timings["model_solution"] = time.perf_counter() - began
        log(f"Grading {len(class_list)} submission(s) of {lesson} with {options.workers} worker(s) ...")
        jobs = [(s, p) for s in class_list for p in notebooks]
        with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
            results = list(
                pool.map(lambda j: _grade_one(layout, lesson, j[0], j[1], work, settings, judges[j[1].stem]), jobs)
            )
    finally:
        for judge in judges.values():
            judge.close()
            timings["model_solution_cpu"] = timings.get("model_solution_cpu", 0.0) + judge.cpu_seconds
    timings["submissions"] = time.perf_counter() - began - timings["model_solution"]
    log(f"Ran {len(jobs)} notebook(s) in {timings['submissions']:.0f} s; nbgrader autograde, feedback, export ...")
    _nbgrader_steps(layout, lesson, work, results, timings)
    timings["nbgrader"] = time.perf_counter() - began - timings["model_solution"] - timings["submissions"]
    _read_scores(layout, lesson, results)
    for odd in sorted(set(everyone) - set(class_list)):
        results.append(
            Submission(_label(odd), "", status="not run", reasons=["the folder name is not a usable student id"])
        )
    return results


def _cache_dir() -> Path:
    from medai_edu.data.cache import cache_dir

    path = cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _nbgrader_steps(
    layout: Layout, lesson: str, work: Path, results: list[Submission], timings: dict[str, float]
) -> None:
    """nbgrader's autograde, feedback and export for the class; whoever nbgrader could not process is
    retried alone, then (autograde) with a plain copy of their graded notebook, else reported."""
    submitted = f"--CourseDirectory.submitted_directory={work / 'submitted'}"
    config = {"AttachOutputs": {"outputs_dir": str(work / "outputs")}}
    steps = [
        ("autograde", [lesson, "--force", submitted], config, lambda r: _autograded(layout, lesson, r)),
        ("generate_feedback", [lesson, "--force"], {}, lambda r: _feedback(layout, lesson, r).is_file()),
    ]
    kept = manual_grades.remember(layout.db_url, layout.autograded, lesson)  # before the last run's notebooks go
    for result in results:  # so that nothing left from an earlier run counts as done
        shutil.rmtree(layout.autograded / result.student / lesson, ignore_errors=True)
        shutil.rmtree(layout.feedback / result.student / lesson, ignore_errors=True)
    for step, args, extra, done in steps:
        began = time.perf_counter()
        run = run_step(step, args, layout.root, extra)
        missing = [r for r in results if r.notebook and not done(r)]
        for result in missing:
            retry = run_step(step, [*args, f"--student={result.student}"], layout.root, extra)
            if not done(result) and step == "autograde":
                _plain_copy(work / "submitted" / result.student / lesson / f"{result.notebook}.ipynb")
                result.reasons.append("nbgrader could not process the graded notebook: graded a copy without its text")
                retry = run_step(step, [*args, f"--student={result.student}"], layout.root, extra)
            if not done(result):
                why = (retry.stderr or run.stderr).strip().splitlines()[-1:] or ["no message"]
                result.reasons.append(f"nbgrader {step} failed for this student: {sanitize.strings(why[0])[:200]}")
                result.status = "not run" if step == "autograde" else result.status
        timings[f"nbgrader {step}"] = time.perf_counter() - began
    reopened = manual_grades.restore(layout.db_url, layout.autograded, lesson, kept)
    for result in results:
        changed = reopened.get(result.student, [])
        result.reasons += [f"{gid}: the answer changed since its manual grade" for gid in changed]
    began = time.perf_counter()
    export = run_step("export", [f"--CsvExportPlugin.to={work / 'nbgrader-export.csv'}"], layout.root, {})
    timings["nbgrader export"] = time.perf_counter() - began
    if export.returncode:
        for result in results:
            result.reasons.append("nbgrader export failed (grades are in this table and the gradebook)")


def _plain_copy(path: Path) -> None:
    """The graded notebook with the student's text and code replaced by a note (outputs and scores stay)."""
    notebook = nbformat.read(path, as_version=4)
    note = "(not shown: nbgrader could not process this notebook as it was handed in)"
    for cell in notebook.cells:
        meta = plan.nbgrader_meta(cell)
        if meta.get("solution") or cell.get("id", "").startswith("added-"):
            cell.source = f"# {note}" if cell.cell_type == "code" else note
    nbformat.write(notebook, path)


def _autograded(layout: Layout, lesson: str, result: Submission) -> bool:
    return (layout.autograded / result.student / lesson / f"{result.notebook}.ipynb").is_file()


def _feedback(layout: Layout, lesson: str, result: Submission) -> Path:
    return layout.feedback / result.student / lesson / f"{result.notebook}.html"


def _grade_order(layout: Layout, lesson: str, notebook: str) -> dict[str, int]:
    release = nbformat.read(layout.release / lesson / f"{notebook}.ipynb", as_version=4)
    return {gid: i for i, c in enumerate(release.cells) if (gid := plan.grade_id(c))}


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
                passed = result.passed.get(grade.name)
                decided = None if passed is None else float(grade.max_score) * passed
                if decided is not None and grade.auto_score is not None and abs(decided - grade.auto_score) > 1e-9:
                    result.reasons.append(
                        f"{grade.name}: nbgrader recorded {grade.auto_score:g}, the judge {decided:g}"
                    )
                automatic = decided if decided is not None else grade.auto_score
                score = grade.manual_score if grade.manual_score is not None else automatic
                result.manual_pending |= bool(grade.needs_manual_grade)
                result.scores[grade.name] = (float(score or 0), float(grade.max_score))
                if grade.cell.cell_type == "code":
                    result.autograded.add(grade.name)
