"""Learning-platform downloads as Moodle and Canvas make them, for collection tests.

Moodle (Assignment > Download all submissions, "in folders"): ``Full Name_<participant>_assignsubmission_file/<file>``,
plus the assignment's grading worksheet (CSV). Canvas (Download Submissions):
``<sortablename>[_late]_<user id>_<attachment id>_<file>``. Each also carries what a real download
does besides: an online-text answer (Moodle), macOS metadata, a renamed notebook (Canvas's ``-1``).
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

# (full name, participant number, e-mail, submission time as Moodle's worksheet writes it)
MOODLE_PEOPLE = {
    "right": ("Ada Lovelace", "1001", "ada@example.org", "Monday, 7 December 2026, 9:15 AM"),
    "blank": ("Émile Zola", "1002", "emile@example.org", "Monday, 7 December 2026, 11:59 PM"),
}
# (sortable name as Canvas writes it in file names, user id, late?)
CANVAS_PEOPLE = {"half": ("hopperbrace", "2002", True), "right": ("turingalan", "2001", False)}


def moodle_zip(path: Path, notebooks: dict[str, Path], lesson: str) -> Path:
    """``notebooks``: who (a key of MOODLE_PEOPLE) -> notebook file."""
    with zipfile.ZipFile(path, "w") as archive:
        for who, notebook in notebooks.items():
            name, number = MOODLE_PEOPLE[who][:2]
            archive.write(notebook, f"{name}_{number}_assignsubmission_file/{lesson}.ipynb")
            archive.writestr(f"{name}_{number}_assignsubmission_onlinetext/onlinetext.html", "<p>see file</p>")
        archive.writestr("__MACOSX/._x", b"\x00")
    return path


def moodle_worksheet(path: Path, people: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "Identifier",
                "Full name",
                "Email address",
                "Status",
                "Grade",
                "Maximum Grade",
                "Grade can be changed",
                "Last modified (submission)",
                "Last modified (grade)",
                "Feedback comments",
            ]  # fmt: skip
        )
        for who in people:
            name, number, email, submitted = MOODLE_PEOPLE[who]
            writer.writerow([f"Participant {number}", name, email, "Submitted for grading", "", "10.00", "Yes",
                             submitted, "-", ""])  # fmt: skip
    return path


def canvas_zip(path: Path, notebooks: dict[str, Path], lesson: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for attachment, (who, notebook) in enumerate(notebooks.items(), start=9001):
            name, user, late = CANVAS_PEOPLE[who]
            archive.write(notebook, f"{name}{'_late' if late else ''}_{user}_{attachment}_{lesson}-1.ipynb")
        archive.writestr("notes.txt", "not a submission")
    return path
