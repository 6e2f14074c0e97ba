"""Grading a lesson again keeps the instructor's manual grades, and their "graded" state, unless the answer changed.

nbgrader's autograde keeps a manual score but marks every manually scored cell as needing manual
grading again, so a second ``medai-edu grade`` reopened every notebook in the formgrader.
:func:`remember` reads, before the new autograde, the answers the manual grades were given for
(from the autograded notebooks of the last run); :func:`restore` then marks as graded again each
grade whose answer is the same, and leaves open (score kept, to be confirmed) those whose answer
changed. For a cell that is itself the answer (a reflection) the answer is that cell; for a
manually overridden test cell it is all of the student's answer cells.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

Answers = dict[tuple[str, str], dict[str, str]]  # (student, notebook) -> grade id -> answer text


def _answers(path: Path, grade_ids: set[str]) -> dict[str, str]:
    notebook = nbformat.read(path, as_version=4)
    solutions = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            solutions[meta.get("grade_id")] = cell.source
    everything = "\n\0\n".join(solutions.values())
    return {gid: solutions.get(gid, everything) for gid in grade_ids}


def _manual(db_url: str, lesson: str) -> dict[tuple[str, str], set[str]]:
    """(student, notebook) -> grade ids with a manual score, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    found: dict[tuple[str, str], set[str]] = {}
    with Gradebook(db_url) as gradebook:
        try:
            submissions = gradebook.find_assignment(lesson).submissions
        except MissingEntry:
            return {}
        for submission in submissions:
            for notebook in submission.notebooks:
                scored = {g.name for g in notebook.grades if g.manual_score is not None}
                if scored:
                    found[(submission.student.id, notebook.name)] = scored
    return found


def remember(db_url: str, autograded: Path, lesson: str) -> Answers:
    """The answers each manual grade was given for, read before the autograded notebooks are replaced."""
    remembered: Answers = {}
    for (student, name), grade_ids in _manual(db_url, lesson).items():
        path = autograded / student / lesson / f"{name}.ipynb"
        if path.is_file():
            remembered[(student, name)] = _answers(path, grade_ids)
    return remembered


def restore(db_url: str, autograded: Path, lesson: str, remembered: Answers) -> dict[str, list[str]]:
    """Mark manual grades whose answer is unchanged as graded; returns per student the grades reopened."""
    from nbgrader.api import Gradebook, MissingEntry

    reopened: dict[str, list[str]] = {}
    with Gradebook(db_url) as gradebook:
        for (student, name), before in remembered.items():
            path = autograded / student / lesson / f"{name}.ipynb"
            if not path.is_file():
                continue
            now = _answers(path, set(before))
            try:
                grades = gradebook.find_submission_notebook(name, lesson, student).grades
            except MissingEntry:
                continue
            for grade in grades:
                if grade.name not in before or grade.manual_score is None:
                    continue
                if now.get(grade.name) == before[grade.name]:
                    grade.needs_manual_grade = False
                else:
                    reopened.setdefault(student, []).append(grade.name)
        gradebook.db.commit()
    return reopened
