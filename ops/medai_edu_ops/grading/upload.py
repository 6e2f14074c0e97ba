"""``medai-edu upload LESSON``: after manual grading, the files that go back to the learning platform.

Read from the gradebook as it stands (automatic scores, manual scores and comments from the
formgrader), for the students of one lesson only:

- ``grades/<lesson>.csv``: one row per student: who they are on the platform (from
  ``collected/<lesson>.csv``), every exercise's score, late penalty, total, maximum, and the
  grading run's status and reason (from ``grades-<lesson>.csv``). Keep it; it is the full record.
- ``grades/<lesson>-moodle.csv``: Moodle's grading worksheet layout (Identifier "Participant N",
  Full name, Email address, Grade, Maximum Grade, Last modified (grade), Feedback comments with the
  exercise scores), for Assignment > "Upload grading worksheet" (needs "Offline grading worksheet"
  feedback on, and the assignment's maximum grade equal to the lesson's).
- ``grades/<lesson>-canvas.csv``: Canvas's gradebook layout (Student, ID, SIS User ID, SIS Login
  ID, Section, and one column for the assignment), for Grades > Import.

The feedback pages are generated again first, so that they carry the manual scores and comments.
It refuses while a notebook still waits for manual grading, naming who.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from medai_edu_ops.grading import collect

if TYPE_CHECKING:
    from medai_edu_ops.grading.course import Layout

GRADES_DIR = "grades"
MOODLE_FIELDS = [
    "Identifier",
    "Full name",
    "Email address",
    "Grade",
    "Maximum Grade",
    "Last modified (grade)",
    "Feedback comments",
]
CANVAS_FIELDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


class UploadError(RuntimeError):
    """The grade files cannot be written yet; the message says why and what to do."""


@dataclass
class StudentGrades:
    student: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # exercise -> (score, max)
    penalty: float = 0.0
    pending: list[str] = field(default_factory=list)  # exercises still waiting for a manual grade
    titles: dict[str, str] = field(default_factory=dict)  # exercise -> its name in the lesson

    @property
    def total(self) -> float:
        return max(0.0, sum(s for s, _ in self.scores.values()) - self.penalty)

    @property
    def maximum(self) -> float:
        return sum(m for _, m in self.scores.values())

    def breakdown(self) -> str:
        scored = [(name, s, m) for name, (s, m) in self.scores.items() if m > 0]  # optional exercises: no points
        return "; ".join(f"{self.titles.get(name, name)}: {s:g}/{m:g}" for name, s, m in scored)


def read_grades(layout: Layout, lesson: str) -> list[StudentGrades]:
    """Every student of ``lesson`` in the gradebook, exercises in the notebook's order."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    from medai_edu_ops.grading import feedback, plan

    found = []
    with Gradebook(layout.db_url) as gradebook:
        try:
            assignment = gradebook.find_assignment(lesson)
        except MissingEntry:
            raise UploadError(
                f"{lesson} is not in the gradebook: grade it first (make grade LESSON={lesson})"
            ) from None
        for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
            grades = StudentGrades(submission.student.id)
            for notebook in submission.notebooks:
                release = nbformat.read(layout.release / lesson / f"{notebook.name}.ipynb", as_version=4)
                order = {plan.grade_id(c): i for i, c in enumerate(release.cells) if plan.grade_id(c)}
                grades.titles.update(feedback.exercise_titles(release.cells))
                for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, len(order))):
                    score = grade.manual_score if grade.manual_score is not None else grade.auto_score
                    grades.scores[grade.name] = (float(score or 0), float(grade.max_score))
                    if grade.needs_manual_grade:
                        grades.pending.append(grade.name)
                grades.penalty += float(notebook.late_submission_penalty or 0)
            found.append(grades)
    return found


def _run_table(root: Path, lesson: str) -> dict[str, dict[str, str]]:
    """The grading run's table (grades-<lesson>.csv) by student, for each one's status and reason."""
    path = root / f"grades-{lesson}.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    from medai_edu_ops.grading.report import _cell

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *[[_cell(str(c)) for c in row] for row in rows]])
    return path


def upload(
    lesson: str, root: Path = Path("."), canvas_column: str | None = None, allow_pending: bool = False
) -> list[Path]:
    """Regenerate the lesson's feedback and write its grade files; returns the files written."""
    from medai_edu_ops.grading.course import Layout
    from medai_edu_ops.grading.nbgrader_steps import run_step

    layout = Layout.read(root)
    grades = read_grades(layout, lesson)
    pending = [f"{g.student} ({', '.join(g.pending)})" for g in grades if g.pending]
    if pending and not allow_pending:
        raise UploadError(
            f"{len(pending)} notebook(s) of {lesson} still wait for manual grading: {'; '.join(pending)}. "
            "Grade them in the formgrader (make formgrader), or pass --allow-pending to write the files anyway."
        )
    feedback = run_step("generate_feedback", [lesson, "--force"], layout.root, {})
    if feedback.returncode:
        raise UploadError(
            f"nbgrader generate_feedback {lesson} failed:\n{feedback.stdout[-2000:]}{feedback.stderr[-2000:]}"
        )
    people = collect.read_records(layout.root / collect.COLLECTED_DIR / f"{lesson}.csv")
    run = _run_table(layout.root, lesson)
    exercises = list(dict.fromkeys(name for g in grades for name in g.scores))
    folder = layout.root / GRADES_DIR
    written = []

    header = ["student", "name", "email", "platform", "platform_id", "submitted_at", "late"]
    header += [*exercises, "late_penalty", "total", "max", "manual_grading", "status", "reason"]
    rows = []
    for g in grades:
        person = people.get(g.student, {})
        status = run.get(g.student, {})
        reason = status.get("reason", "").replace("manual grading pending", "").strip("; ")
        scores = [f"{g.scores[e][0]:g}" if e in g.scores else "" for e in exercises]
        identity = [person.get(k, "") for k in ("name", "email", "platform", "platform_id", "submitted_at", "late")]
        manual = "pending: " + ", ".join(g.pending) if g.pending else "done"
        rows.append([g.student, *identity, *scores, f"{g.penalty:g}", f"{g.total:g}", f"{g.maximum:g}", manual,
                     status.get("status", ""), reason])  # fmt: skip
    written.append(_write(folder / f"{lesson}.csv", header, rows))

    stamp = datetime.now().astimezone().strftime("%A, %d %B %Y, %I:%M %p")  # as Moodle writes it
    moodle = [(g, people[g.student]) for g in grades if people.get(g.student, {}).get("platform") == "moodle"]
    if moodle:
        rows = [
            [
                f"Participant {p['platform_id']}",
                p["name"],
                p["email"],
                f"{g.total:g}",
                f"{g.maximum:g}",
                stamp,
                g.breakdown(),
            ]
            for g, p in moodle
        ]
        written.append(_write(folder / f"{lesson}-moodle.csv", MOODLE_FIELDS, rows))
    canvas = [(g, people[g.student]) for g in grades if people.get(g.student, {}).get("platform") == "canvas"]
    if canvas:
        rows = [[p["name"], p["platform_id"], "", "", "", f"{g.total:g}"] for g, p in canvas]
        written.append(_write(folder / f"{lesson}-canvas.csv", [*CANVAS_FIELDS, canvas_column or lesson], rows))
    written += _feedback_zips(layout.feedback, lesson, people, folder)
    return written


def _feedback_zips(feedback: Path, lesson: str, people: dict[str, dict[str, str]], folder: Path) -> list[Path]:
    """Each student's feedback page in one zip per platform, named as the platform's upload matches it.

    Moodle ("Upload multiple feedback files in a zip") reads ``<name>_<participant>_assignsubmission_file_<file>``;
    Canvas ("Upload Submissions" on the assignment) reads the user and file numbers of its own download.
    """
    import zipfile

    names = {
        "moodle": lambda p: (
            f"{p['name'].replace('_', ' ')}_{p['platform_id']}_assignsubmission_file_{lesson}-feedback.html"
        ),
        "canvas": lambda p: (
            f"{collect.slug(p['name']).replace('-', '') or 'student'}_{p['platform_id']}_{p.get('attachment_id')}_{lesson}-feedback.html"
        ),
    }
    written = []
    for platform, name in names.items():
        mine = [(student, p) for student, p in sorted(people.items()) if p.get("platform") == platform]
        pages = [(feedback / student / lesson / f"{lesson}.html", p) for student, p in mine]
        pages = [(page, p) for page, p in pages if page.is_file() and (platform != "canvas" or p.get("attachment_id"))]
        if not pages:
            continue
        path = folder / f"{lesson}-{platform}-feedback.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for page, person in pages:
                archive.write(page, name(person))
        written.append(path)
    return written


def _main(args: argparse.Namespace) -> int:
    import sys

    try:
        paths = upload(args.lesson, Path(args.root), args.canvas_column, args.allow_pending)
    except UploadError as error:
        print(f"medai-edu upload: {error}", file=sys.stderr)
        return 2
    print(f"Feedback: feedback/<student>/{args.lesson}/ (generated again with the manual scores and comments)")
    for path in paths:
        print(f"Wrote {path}")
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "upload", help="after manual grading: feedback again, and the grade files for Moodle/Canvas (grades/)"
    )
    run.add_argument("lesson", help="the assignment, e.g. 04_human_with_ai")
    run.add_argument("--root", default=".", help="the course folder with nbgrader_config.py (default: here)")
    run.add_argument(
        "--canvas-column",
        default=None,
        help="the assignment's column title in Canvas's gradebook export, e.g. '04 Human with AI (1234)' "
        "(default: the lesson's name; Canvas then asks which assignment it is)",
    )
    run.add_argument("--allow-pending", action="store_true", help="write the files although manual grading is not done")
    run.set_defaults(run=_main)
