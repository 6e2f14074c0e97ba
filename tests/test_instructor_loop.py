"""An instructor's first grading, from the learning platform and back (issue 29).

Fast tests: ``medai-edu collect`` on Moodle-style and Canvas-style downloads (names, times, late
flags, what it refuses) and what a graded question says in the feedback. The end-to-end test: a
class of lesson 00 collected from a Moodle and a Canvas download, graded (``medai-edu grade``),
the reflections scored by hand in the formgrader in Chromium (served as ``make formgrader`` serves
it), the grade files written (``medai-edu upload``), and a second grading that keeps the manual
grade of an unchanged answer and reopens the changed one.
"""

from __future__ import annotations

import copy
import csv
import shutil
import urllib.request
import uuid
import zipfile
from zoneinfo import ZoneInfo

import nbformat
import pytest
from conftest import ROOT
from medai_edu_ops.browser import page as browser_page
from medai_edu_ops.browser import servers
from medai_edu_ops.grading import collect, course, feedback, sandbox, upload
from medai_edu_ops.release import tool_env
from nbgrader.api import Gradebook
from platform_downloads import CANVAS_PEOPLE, canvas_zip, moodle_worksheet, moodle_zip

from medai_edu.checks.questions import Choice, Estimate

LESSON = "00_welcome"
TOKEN = "loop-" + uuid.uuid4().hex[:8]


def _course(root):
    """A course folder: the lessons (instructor and student versions) and nbgrader_config.py."""
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", root)
    return root


def _students(root) -> dict:
    """right: the model answers; half: wrong multiple-choice letters and a weak reflection; blank: as released."""
    source = nbformat.read(root / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    release = nbformat.read(root / "course" / LESSON / f"{LESSON}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}  # fmt: skip
    right, half = copy.deepcopy(release), copy.deepcopy(release)
    for mine, theirs in ((right.cells, None), (half.cells, "I do not know.")):
        for cell in mine:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                cell.source = answers[meta["grade_id"]]
                if cell.cell_type == "markdown" and theirs is not None:
                    cell.source = theirs
                if theirs is not None and '= "' in cell.source:  # every multiple-choice answer: A
                    cell.source = "\n".join(
                        line.split("=")[0] + '= "A"' if '= "' in line else line for line in cell.source.splitlines()
                    )
    folder = root / "made"
    folder.mkdir(exist_ok=True)
    paths = {}
    for who, notebook in (("right", right), ("half", half), ("blank", release)):
        nbformat.write(notebook, folder / f"{who}.ipynb")
        paths[who] = folder / f"{who}.ipynb"
    return paths


@pytest.fixture
def released(tmp_path):
    root = tmp_path / "course-root"
    root.mkdir()
    for name in ("course",):
        shutil.copytree(ROOT / name / LESSON, root / name / LESSON)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    notebook = root / "course" / LESSON / f"{LESSON}.ipynb"
    return root, notebook


def test_moodle_download_is_collected_with_submission_times(released, tmp_path):
    root, notebook = released
    download = moodle_zip(tmp_path / "moodle.zip", {"right": notebook, "blank": notebook}, LESSON)
    sheet = moodle_worksheet(tmp_path / "worksheet.csv", ["right", "blank"])
    done = collect.collect(LESSON, download, root, "moodle", worksheet=sheet, zone=ZoneInfo("Europe/Zurich"))
    assert [r.student for r in done.records] == ["ada-lovelace", "emile-zola"]
    ada = root / "submitted" / "ada-lovelace" / LESSON
    assert sorted(p.name for p in ada.iterdir()) == [f"{LESSON}.ipynb", "timestamp.txt"]
    # 9:15 AM in Zurich (CET, UTC+1) is 08:15 UTC; 11:59 PM is 22:59 UTC, not midnight
    assert (ada / "timestamp.txt").read_text().strip() == "2026-12-07T08:15:00+00:00"
    assert (root / "submitted" / "emile-zola" / LESSON / "timestamp.txt").read_text().startswith("2026-12-07T22:59")
    assert {why for _, why in done.skipped} == {"matches no file name of the pattern", "operating-system metadata"}
    assert len(done.skipped) == 3  # two online-text answers and the macOS metadata
    record = collect.read_records(root / "collected" / f"{LESSON}.csv")["ada-lovelace"]
    assert (record["platform"], record["platform_id"], record["email"]) == ("moodle", "1001", "ada@example.org")
    assert "Not collected (3)" in done.summary()


def test_moodle_download_without_folders_and_anonymous(released, tmp_path):
    root, notebook = released
    download = tmp_path / "flat.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.write(notebook, f"Participant_3003_assignsubmission_file_{LESSON}.ipynb")
        archive.write(notebook, f"Jean Dupont_3004_assignsubmission_file_{LESSON} (1).ipynb")
    done = collect.collect(LESSON, download, root, "moodle")
    assert [r.student for r in done.records] == ["jean-dupont", "moodle-3003"]
    assert (root / "submitted" / "jean-dupont" / LESSON / f"{LESSON}.ipynb").is_file()  # the lesson's name again
    assert not (root / "submitted" / "jean-dupont" / LESSON / "timestamp.txt").exists()  # unknown: none written


def test_canvas_download_is_collected_with_late_flags(released, tmp_path):
    root, notebook = released
    download = canvas_zip(tmp_path / "submissions.zip", {"half": notebook, "right": notebook}, LESSON)
    done = collect.collect(LESSON, download, root, "canvas")
    rows = collect.read_records(root / "collected" / f"{LESSON}.csv")
    for who, (name, user, late) in CANVAS_PEOPLE.items():
        assert rows[name]["platform_id"] == user and rows[name]["late"] == ("yes" if late else ""), who
        assert rows[name]["attachment_id"] in ("9001", "9002"), who  # its feedback upload names the file
        assert (root / "submitted" / name / LESSON / f"{LESSON}.ipynb").is_file()
    assert done.skipped == [("notes.txt", "matches no file name of the pattern")]


def test_other_platforms_by_pattern_and_hostile_archives(released, tmp_path):
    root, notebook = released
    download = tmp_path / "other.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.write(notebook, f"s123/2026-12-07 10:00/{LESSON}.ipynb")
        archive.writestr(zipfile.ZipInfo(f"../s666/x/{LESSON}.ipynb"), notebook.read_bytes())
        archive.writestr(zipfile.ZipInfo(f"/s777/y/{LESSON}.ipynb"), notebook.read_bytes())
        link = zipfile.ZipInfo(f"s888/z/{LESSON}.ipynb")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    pattern = r"(?P<student_id>s\d+)/(?P<timestamp>[^/]+)/(?P<file_id>[^/]+\.ipynb)"
    done = collect.collect(LESSON, download, root, pattern=pattern, zone=ZoneInfo("UTC"))
    assert [r.student for r in done.records] == ["s123"]
    assert (root / "submitted" / "s123" / LESSON / "timestamp.txt").read_text().strip() == "2026-12-07T10:00:00+00:00"
    reasons = dict(done.skipped)
    assert "unsafe" in reasons[f"../s666/x/{LESSON}.ipynb"] and "unsafe" in reasons[f"/s777/y/{LESSON}.ipynb"]
    assert reasons[f"s888/z/{LESSON}.ipynb"] == "a link, not a file"
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["s123"]
    assert not (tmp_path / "s666").exists()
    with pytest.raises(collect.CollectError, match="groups"):
        collect.collect(LESSON, download, root, pattern=r"(?P<who>\w+)")
    with pytest.raises(collect.CollectError, match="neither a .zip"):
        collect.collect(LESSON, notebook, root)
    with pytest.raises(collect.CollectError, match="does not exist"):
        collect.collect(LESSON, tmp_path / "no-such.zip", root)


def test_a_graded_question_says_the_right_answer_and_why():
    choice = Choice("answer_x", "B", {"A": "A is the sensitivity.", "B": "B is the PPV.", "C": "C is too low."})
    wrong = feedback.question_result(choice, "a", right=False)
    assert wrong.startswith("Your answer: A, not the right one.") and "A is the sensitivity." in wrong
    assert "The right answer: B. B is the PPV." in wrong
    assert feedback.question_result(choice, "B", right=True) == "Right: B. B is the PPV."
    assert "Your answer: none the grader could read" in feedback.question_result(choice, Ellipsis, right=False)
    estimate = Estimate("read_x", 4.9, 5.1, why="TP + FN over all.", unit="%")
    text = feedback.question_result(estimate, 12, right=False)
    assert "12 %" in text and "4.9 % to 5.1 %" in text and "TP + FN over all." in text


def test_make_formgrader_serves_the_formgrader_without_an_exchange():
    recipe = (ROOT / "Makefile").read_text().split("\nformgrader:", 1)[1].split("\n\n", 1)[0]
    for flag in _FORMGRADER_FLAGS:
        assert flag in recipe, f"make formgrader lost {flag}"


# What `make formgrader` passes to JupyterLab besides the port, address and token.
_FORMGRADER_FLAGS = [
    "--ServerApp.default_url=/formgrader",
    "--ServerApp.jpserver_extensions=nbgrader.server_extensions.assignment_list=False",
    "--ServerApp.jpserver_extensions=nbgrader.server_extensions.course_list=False",
    "--ExchangeFactory.list=medai_edu_ops.grading.no_exchange.NoExchangeList",
]


def _formgrader(root, log):
    return servers.jupyter_lab(root, TOKEN, log, options=_FORMGRADER_FLAGS, env=tool_env())


def _grade_by_hand(browser, base: str, submission: str, score: str) -> None:
    """Open a submission in the formgrader and type a score for its written answer, as an instructor does."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/formgrader/?token={TOKEN}")
    page.goto(f"{base}/formgrader/submissions/{submission}/")
    page.wait_for_function("typeof window.formgrader === 'object'")
    page.wait_for_load_state("networkidle")  # the grades are loaded and their fields listen (slow on a busy machine)
    field = page.locator("input.score#reflect-questions")  # the written answer (the page's last field is a test's)
    field.fill(score)
    saving = lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"  # noqa: E731
    with page.expect_response(saving, timeout=90_000) as saved:
        field.press("Tab")
    assert saved.value.status == 200, f"the manual grade was not saved: HTTP {saved.value.status}"
    context.close()


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


missing = browser_page.chromium_missing() or sandbox.bwrap_problem()


@pytest.mark.slow
@pytest.mark.skipif(missing is not None, reason=str(missing))
def test_from_platform_downloads_to_the_upload_files(tmp_path):
    root = _course(tmp_path / "course-root")
    made = _students(root)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    moodle = moodle_zip(downloads / "moodle.zip", {"right": made["right"], "blank": made["blank"]}, LESSON)
    sheet = moodle_worksheet(downloads / "worksheet.csv", ["right", "blank"])
    collect.collect(LESSON, moodle, root, "moodle", worksheet=sheet, zone=ZoneInfo("Europe/Zurich"))
    collect.collect(LESSON, canvas_zip(downloads / "canvas.zip", {"half": made["half"]}, LESSON), root, "canvas")
    options = course.Options(workers=2, cell_timeout=120)
    course.grade(LESSON, root, options, log=lambda *_: None)

    with pytest.raises(upload.UploadError, match="2 notebook.*ada-lovelace.*hopperbrace"):
        upload.upload(LESSON, root)  # the written reflections wait for a grader; the blank one scored 0 by nbgrader

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        ids = {s.student.id: s.id for s in gradebook.find_notebook(LESSON, LESSON).submissions}
    with _formgrader(root, tmp_path / "formgrader.log") as base:
        with browser_page.chromium() as browser:
            _grade_by_hand(browser, base, ids["ada-lovelace"], "2")
            _grade_by_hand(browser, base, ids["hopperbrace"], "0.5")
        assignments = urllib.request.urlopen(f"{base}/formgrader/api/assignments?token={TOKEN}")
        assert assignments.status == 200
    assert "Unwritable directory" not in (tmp_path / "formgrader.log").read_text()

    written = upload.upload(LESSON, root, canvas_column="00 Welcome (4242)")
    assert [p.name for p in written] == [
        f"{LESSON}.csv", f"{LESSON}-moodle.csv", f"{LESSON}-canvas.csv",
        f"{LESSON}-moodle-feedback.zip", f"{LESSON}-canvas-feedback.zip",
    ]  # fmt: skip
    # Named as Moodle's feedback-zip import and Canvas's re-upload read them (participant; user and file number)
    assert sorted(zipfile.ZipFile(written[3]).namelist()) == [
        f"Ada Lovelace_1001_assignsubmission_file_{LESSON}-feedback.html",
        f"Émile Zola_1002_assignsubmission_file_{LESSON}-feedback.html",
    ]
    assert zipfile.ZipFile(written[4]).namelist() == [f"hopperbrace_2002_9001_{LESSON}-feedback.html"]
    full = {row["student"]: row for row in _rows(written[0])}
    assert full["ada-lovelace"]["reflect-questions"] == "2" and full["ada-lovelace"]["total"] == "7"
    assert full["hopperbrace"]["reflect-questions"] == "0.5" and full["hopperbrace"]["late"] == "yes"
    assert full["emile-zola"]["total"] == "0" and full["emile-zola"]["manual_grading"] == "done"
    moodle_rows = {row["Identifier"]: row for row in _rows(written[1])}
    assert set(moodle_rows) == {"Participant 1001", "Participant 1002"}
    assert moodle_rows["Participant 1001"]["Grade"] == "7" and moodle_rows["Participant 1001"]["Maximum Grade"] == "7"
    assert "Reflect (graded by your instructor): 2/2" in moodle_rows["Participant 1001"]["Feedback comments"]
    canvas_rows = _rows(written[2])
    assert [(r["ID"], r["00 Welcome (4242)"]) for r in canvas_rows] == [("2002", full["hopperbrace"]["total"])]

    page = (root / "feedback" / "hopperbrace" / LESSON / f"{LESSON}.html").read_text()
    assert "The right answer: C." in page and "Answer recorded" not in page
    assert 'href="glossary.md' not in page and 'id="glossary-' in page
    assert "(check of your answer)" in page and "Test cell" not in page

    # The half-right student hands in a new reflection; the other notebooks are unchanged.
    notebook = nbformat.read(made["half"], as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "A better answer, after the deadline."
    nbformat.write(notebook, made["half"])
    collect.collect(LESSON, canvas_zip(downloads / "canvas2.zip", {"half": made["half"]}, LESSON), root, "canvas")
    results = {r.student: r for r in course.grade(LESSON, root, options, log=lambda *_: None)}
    assert not results["ada-lovelace"].manual_pending and results["ada-lovelace"].scores["reflect-questions"][0] == 2
    assert results["hopperbrace"].manual_pending
    assert "reflect-questions: the answer changed since its manual grade" in results["hopperbrace"].reasons
