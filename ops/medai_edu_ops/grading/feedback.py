"""Feedback a student can read alone: what each section is, what they got right, and why.

:class:`StudentFeedback` runs in nbgrader's ``generate_feedback`` after the grades are read and the
hidden tests removed. It

- names every graded cell by its exercise (the lesson's heading above it) for the page's table
  of contents and the cell's heading (``templates/medai_feedback``);
- turns a multiple-choice or number question's check into its result, now that it is graded:
  right or not, the student's answer, the right answer and the explanation a self-learner sees
  (from the lesson's ``QUESTIONS``), in place of "Answer recorded ... marked when graded" and
  "a hidden test did not pass";
- starts every test cell's output with its points, so a visible check that passed never reads as
  full marks when a hidden test did not;
- inlines the glossary entries the page links to, so that the HTML file works on its own.

Only trusted text is added (the lesson's, the glossary's); the student's answer appears as the
letter or number the grader read from their answer cell, escaped by the template like any output.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from nbformat import NotebookNode, from_dict
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from medai_edu.checks.questions import Choice, Estimate

Question = Choice | Estimate

CHECK_CALL = re.compile(r"checks\.check_(choice|estimate)\(\s*(\w+)\s*,\s*lesson\.QUESTIONS\[\s*['\"](\w+)['\"]\s*\]")
LESSON_IMPORT = re.compile(r"^from medai_edu\.lessons import (\w+) as lesson\s*$", re.MULTILINE)
GLOSSARY_LINK = re.compile(r"\[([^\]]*)\]\(([\w./-]*glossary\.md)(?:#([^)\s]+))?\)")
INNER_LINK = re.compile(r"\[([^\]]*)\]\(#[^)]*\)")
RECORDED = re.compile(r"Answer recorded: .*? It is marked when the notebook is graded\.\s*")
HEADING = re.compile(r"^#{1,4}\s+(.+?)\s*$", re.MULTILINE)


def _meta(cell: NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _plain_heading(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their words
    return re.sub(r"[*_`]", "", text).strip()


def exercise_titles(cells: list[NotebookNode]) -> dict[str, str]:
    """grade id -> the exercise's name: the last heading above the cell (the grade id where there is none)."""
    titles, heading = {}, ""
    for cell in cells:
        meta = _meta(cell)
        if cell.cell_type == "markdown" and not meta.get("solution"):
            found = HEADING.findall(cell.source)
            heading = _plain_heading(found[-1]) if found else heading
        if meta.get("grade") or meta.get("task"):
            titles[meta["grade_id"]] = heading or meta["grade_id"].replace("-", " ")
    return titles


def _answer(cells: list[NotebookNode], variable: str) -> Any:
    """The value the student's answer cell gives ``variable``, if it is a plain literal (else None)."""
    for cell in cells:
        if cell.cell_type != "code" or not _meta(cell).get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets):
                try:
                    return ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    return None
    return None


def _show(question: Question, value: Any) -> str:
    if isinstance(question, Estimate):
        try:
            return question.show(float(value))
        except (TypeError, ValueError):
            return "not a number"
    return str(value).strip().upper()[:20] if isinstance(value, str) else "not one letter"


def question_result(question: Question, value: Any, right: bool) -> str:
    """What a graded multiple-choice or number question says: right or not, the right answer, and why."""
    given = "none the grader could read" if value is None or value is Ellipsis else _show(question, value)
    if isinstance(question, Choice):
        why = question.explanations
        if right:
            return f"Right: {question.correct}. {why[question.correct]}"
        mine = f" {why[given]}" if given in why else ""
        return f"Your answer: {given}, not the right one.{mine}\nThe right answer: {question.correct}. {why[question.correct]}"
    accepted = f"{question.show(question.low)} to {question.show(question.high)}"
    if right:
        return f"Right: {given} (accepted: {accepted}). {question.why}"
    return f"Your answer: {given}; accepted: {accepted}.\n{question.why}"


def _stream(text: str) -> NotebookNode:
    return from_dict({"output_type": "stream", "name": "stdout", "text": text})


class StudentFeedback(NbGraderPreprocessor):
    """Exercise names, graded questions' results, points first, glossary inlined (see the module's text)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        titles = exercise_titles(nb.cells)
        lesson = None
        for cell in nb.cells:
            meta = _meta(cell)
            if meta.get("grade_id") in titles:
                meta["medai_title"] = titles[meta["grade_id"]]
            if cell.cell_type == "code" and not meta.get("solution"):
                lesson = lesson or self._lesson(cell.source)
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                self._test_cell(cell, nb.cells, lesson)
        self._inline_glossary(nb, resources)
        return nb, resources

    def _lesson(self, source: str) -> ModuleType | None:
        """The lesson module the notebook imports as ``lesson`` (its QUESTIONS), or None."""
        found = LESSON_IMPORT.search(source)
        if not found:
            return None
        try:
            return importlib.import_module(f"medai_edu.lessons.{found.group(1)}")
        except Exception as error:  # noqa: BLE001 - feedback is still written, with points but no explanations
            self.log.warning("medai-edu feedback: lesson %s not importable (%s)", found.group(1), error)
            return None

    def _test_cell(self, cell: NotebookNode, cells: list[NotebookNode], lesson: ModuleType | None) -> None:
        meta = _meta(cell)
        score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
        right = points > 0 and score >= points
        call = CHECK_CALL.search(cell.source)
        question = getattr(lesson, "QUESTIONS", {}).get(call.group(3)) if call and lesson else None
        if points == 0:  # an optional exercise: its messages as they are, no points to report
            cell.outputs = [_stream("Optional exercise (no points).\n"), *cell.outputs]
            return
        lead = f"{'✅' if right else '❌'} {score:g} of {points:g} point{'s' if points != 1 else ''}"
        if question is None:
            cell.outputs = [_stream(lead + (": every test passed.\n" if right else ": see the message below.\n"))] + [
                o for o in cell.outputs if not (o.get("output_type") == "stream" and RECORDED.search(o.get("text", "")))
            ]
            return
        kept = []
        for output in cell.outputs:  # what the run printed (a prediction compared with its run), minus "recorded"
            if output.get("output_type") == "stream":
                text = RECORDED.sub("", output.get("text", ""))
                if text.strip():
                    kept.append(_stream(text))
        assert call is not None  # there is a question
        result = question_result(question, _answer(cells, call.group(2)), right)
        cell.outputs = [_stream(f"{lead}.\n{result}\n"), *kept]

    def _inline_glossary(self, nb: NotebookNode, resources: dict) -> None:
        """Links to the glossary point to its entries, added at the end of the page (the file stands alone)."""
        release = Path(self.config.CourseDirectory.get("release_directory", "release"))
        lesson = release / resources.get("nbgrader", {}).get("assignment", "")
        wanted: dict[str, tuple[str, str]] = {}

        def local(found: re.Match) -> str:
            words, path, anchor = found.groups()
            if anchor is None:  # the whole glossary: the entries this page uses are at its end
                return f"[{words}](#glossary)"
            entry = _glossary((lesson / path).resolve()).get(anchor)
            if entry is None:
                return words
            wanted[anchor] = entry
            return f"[{words}](#glossary-{anchor})"

        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = GLOSSARY_LINK.sub(local, cell.source)
        if wanted:
            body = "\n\n".join(
                f'<a id="glossary-{a}"></a>**{term}**: {meaning}'
                for a, (term, meaning) in sorted(wanted.items(), key=lambda item: item[0].lower())
            )
            nb.cells.append(
                new_markdown_cell(f'<a id="glossary"></a>\n\n## Glossary: the words this page uses\n\n{body}')
            )


@functools.lru_cache(maxsize=8)
def _glossary(path: Path) -> dict[str, tuple[str, str]]:
    """anchor -> (term, meaning) from the glossary's '### term' sections."""
    if not path.is_file():
        return {}
    entries = {}
    for block in re.split(r"^### ", path.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
        term, _, meaning = block.partition("\n")
        meaning = INNER_LINK.sub(r"\1", " ".join(meaning.split()))  # links between entries: their words
        entries[term.strip().replace(" ", "-")] = (term.strip(), meaning)
    return entries
