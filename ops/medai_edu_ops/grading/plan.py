"""Rebuild a submission on the instructor's notebook, and find what was tampered with.

The graded notebook has the lesson's cells in the lesson's order. Only the answer cells (and
cells the student added) come from the submission; every other cell comes from the source
notebook, so edits to lesson code, parameters (``QUICK``), read-only cells or tests change
nothing that runs. Tampering is still priced as the issue asks: an edited, deleted or
re-labelled test cell, or an answer cell whose nbgrader metadata changed, scores 0 for that
exercise (with a reason); edited read-only text is restored and noted.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from medai_edu_ops.grading import plain, slicing

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"


@dataclass
class PlannedCell:
    """What happens to one cell of the graded notebook."""

    kind: str  # "lesson" (trusted lesson code), "answer" (student code), "test", "text" (nothing to run)
    grade_id: str | None = None
    run: str = ""  # what the sandbox runs: lesson statements the answers need, or the student's source
    judge: str = ""  # lesson statements the tests need (run by the judge), or a test's visible part
    hidden: str | None = None  # a test's hidden part (run by the judge, its output never shown)
    reads: list[str] = field(default_factory=list)  # the student's names the judge reads here
    refused: str | None = None  # why this test is not run (it then scores 0)
    from_student: bool = False  # its text and attachments come from the student (sanitised before use)


@dataclass
class Plan:
    notebook: NotebookNode  # handed to nbgrader as the student's submission
    cells: list[PlannedCell]  # one per cell of ``notebook``
    notes: list[str]  # what was repaired or refused, in words for the instructor
    imports: list[str] = field(default_factory=list)  # modules the sandbox loads before any cell (from trusted code)

    def judge_steps(self) -> list[dict]:
        """The judge's job: lesson statements and tests in notebook order (the same for every student)."""
        steps = []
        for i, cell in enumerate(self.cells):
            if cell.kind == "lesson" and cell.judge:
                steps.append({"kind": "lesson", "cell": i, "source": cell.judge, "needs": cell.reads})
            elif cell.kind == "test":
                steps.append(
                    {
                        "kind": "test",
                        "grade_id": cell.grade_id,
                        "visible": cell.judge,
                        "hidden": cell.hidden,
                        "reads": cell.reads,
                    }
                )
        return steps


def nbgrader_meta(cell: NotebookNode) -> dict:
    """A cell's nbgrader metadata ({} for an ordinary cell)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def text(value: object) -> str:
    """A cell's source as one string, whatever a hand-edited notebook holds there."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return ""


def _student_cell(cell: NotebookNode, source: str) -> NotebookNode:
    """A fresh cell with the student's source (and, for text, their attachments, checked later)."""
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(source)
    fresh = nbformat.v4.new_markdown_cell(source)
    if isinstance(cell.get("attachments"), dict):
        fresh["attachments"] = cell["attachments"]
    return fresh


def grade_id(cell: NotebookNode) -> str | None:
    """A cell's nbgrader grade_id, if it has one."""
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def to_python(source: str) -> str:
    """A cell's source as plain Python (IPython magics become ``get_ipython()`` calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - the runner reports the error when the cell runs
        return source


def split_test(source: str) -> tuple[str, str | None]:
    """A test cell's visible part and hidden part (from the ``BEGIN HIDDEN TESTS`` line on).

    When the two parts do not compile on their own (the marker inside a block), the whole cell
    counts as hidden: nothing it prints is shown.
    """
    lines = source.splitlines(True)
    start = next((i for i, line in enumerate(lines) if HIDDEN_BEGIN in line), None)
    if start is None:
        return source, None
    visible, hidden = "".join(lines[:start]), "".join(lines[start:])
    try:
        compile(visible, "<visible>", "exec")
        compile(hidden, "<hidden>", "exec")
    except SyntaxError:
        return "", source
    return visible, hidden


def answer_names(source: NotebookNode) -> set[str]:
    """Names the model solution's answer cells bind (not by import): what tests read from the student."""
    names: set[str] = set()
    for cell in source.cells:
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
            try:
                tree = ast.parse(to_python(cell.source))
            except SyntaxError:
                continue
            for node in tree.body:
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    names |= slicing.names_bound(node)
    return names


def _linked_tests(release: NotebookNode) -> dict[str, str | None]:
    """Answer grade_id -> the grade_id of the test that grades it (``test-<id>``, else the next test)."""
    tests = [
        (i, grade_id(c))
        for i, c in enumerate(release.cells)
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    ]
    ids = {gid for _, gid in tests}
    links = {}
    for i, cell in enumerate(release.cells):
        gid = grade_id(cell)
        if gid and nbgrader_meta(cell).get("solution"):
            nxt = next((t for j, t in tests if j > i), None)
            links[gid] = f"test-{gid}" if f"test-{gid}" in ids else nxt
    return links


def build(source: NotebookNode, release: NotebookNode, submitted: NotebookNode) -> Plan:
    """The graded notebook and the runner's plan for one submission."""
    if len(source.cells) != len(release.cells):
        raise ValueError("the source and release notebooks differ in length: run `make release`")
    notes: list[str] = []
    by_gid: dict[str, int] = {}
    by_id: dict[str, int] = {}
    if not isinstance(submitted.get("cells"), list) or not all(isinstance(c, dict) for c in submitted.cells):
        raise ValueError("the notebook has no list of cells")
    for n, cell in enumerate(submitted.cells):
        gid = grade_id(cell)
        if gid and gid not in by_gid:
            by_gid[gid] = n
        elif not nbgrader_meta(cell) and cell.get("id") and cell.get("id") not in by_id:
            by_id[cell["id"]] = n
    links = _linked_tests(release)
    known = {grade_id(c) for c in release.cells}
    relabelled = any(nbgrader_meta(c) and grade_id(c) not in known for c in submitted.cells)
    refused: dict[str, str] = {}
    matched: dict[int, int] = {}  # submitted index -> release index
    edited_lesson_cells: list[str] = []
    cells: list[NotebookNode] = []
    for i, (src, rel) in enumerate(zip(source.cells, release.cells)):
        meta, gid = nbgrader_meta(rel), grade_id(rel)
        cell = copy.deepcopy(rel)
        j = by_gid.get(gid) if gid else by_id.get(rel.get("id"))
        theirs = submitted.cells[j] if j is not None else None
        if j is not None:
            matched[j] = i
        if gid and meta.get("solution"):
            if theirs is None and relabelled:
                refused.setdefault(
                    links.get(gid) or "", f"answer cell {gid} is missing and a cell carries changed nbgrader metadata"
                )
            elif theirs is None:
                notes.append(f"answer cell {gid} missing: graded unanswered")
            else:
                if theirs.get("cell_type") != rel.cell_type or nbgrader_meta(theirs) != meta:
                    refused.setdefault(links.get(gid) or "", f"the metadata of answer cell {gid} was changed")
                cell.source = text(theirs.get("source"))
                if rel.cell_type == "markdown" and isinstance(theirs.get("attachments"), dict):
                    cell["attachments"] = theirs["attachments"]
        elif gid and meta.get("grade"):
            if theirs is None:
                refused[gid] = "test cell deleted"
            elif text(theirs.get("source")) != rel.source:
                refused[gid] = "test cell edited"
            elif theirs.get("cell_type") != rel.cell_type or nbgrader_meta(theirs) != meta:
                refused[gid] = "test cell metadata changed"
        elif gid and (theirs is None or text(theirs.get("source")) != rel.source or nbgrader_meta(theirs) != meta):
            notes.append(f"read-only cell {gid} was changed or deleted: restored")
        elif not gid and theirs is not None and text(theirs.get("source")) != rel.source:
            edited_lesson_cells.append(str(i + 1))
        cells.append(cell)
    if edited_lesson_cells:
        notes.append(
            f"edits to lesson cell(s) {', '.join(edited_lesson_cells)} are not graded: the lesson's version ran"
        )
    order = [i for _, i in sorted(matched.items())]
    if order != sorted(order):
        notes.append("cells reordered: graded in the lesson's order")

    added: dict[int, list[NotebookNode]] = {}
    anchor = -1
    for j, cell in enumerate(submitted.cells):
        if j in matched:
            anchor = matched[j]
            continue
        extra = _student_cell(cell, text(cell.get("source")))
        extra["id"] = f"added-{j}"
        if nbgrader_meta(cell):
            notes.append(
                f"cell {j + 1} carries unknown or duplicate nbgrader metadata ({grade_id(cell)}): graded as an added cell"
            )
        added.setdefault(anchor, []).append(extra)
    if added:
        notes.append(f"{sum(map(len, added.values()))} added cell(s) run after the cell they followed")

    notebook = copy.deepcopy(release)
    notebook.cells = []
    origin: list[int | None] = []  # release index, or None for an added cell
    for extra in added.get(-1, []):
        notebook.cells.append(extra)
        origin.append(None)
    for i, cell in enumerate(cells):
        notebook.cells.append(cell)
        origin.append(i)
        for extra in added.get(i, []):
            notebook.cells.append(extra)
            origin.append(None)
    planned = _planned(notebook, origin, source, refused)
    return Plan(notebook, planned, notes, trusted_imports(source, planned))


def trusted_imports(source: NotebookNode, planned: list[PlannedCell]) -> list[str]:
    """Modules the model solution's answers and the sandbox's lesson statements import: the sandbox
    loads them at start-up (its start-up time), so that a cell's time limit is the cell's own work."""
    found: set[str] = set()
    codes = [to_python(c.source) for c in source.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    for code in codes + [c.run for c in planned if c.kind == "lesson"]:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return sorted(found)


def _names_used(student_source: str) -> set[str]:
    """Names a student's cell uses: parsed when it is short Python, else every identifier-like word."""
    if len(student_source) <= 100_000:
        try:
            return slicing.names_used(ast.parse(student_source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    return slicing.identifiers(student_source)


def _planned(
    notebook: NotebookNode, origin: list[int | None], source: NotebookNode, refused: dict[str, str]
) -> list[PlannedCell]:
    """Each cell's part: the sandbox runs answers and the lesson statements they need; the judge runs
    tests and the lesson statements those need. Decided from the sources alone (the student's by a
    conservative scan for names: no parser or IPython runs on student code here)."""
    answers = answer_names(source)
    planned: list[PlannedCell] = []
    lesson: list[list[slicing.Statement]] = []
    answer_uses: list[set[str]] = []
    test_uses: list[set[str]] = []
    for cell, i in zip(notebook.cells, origin):
        meta, gid = nbgrader_meta(cell), grade_id(cell)
        statements: list[slicing.Statement] = []
        uses_a: set[str] = set()
        uses_t: set[str] = set()
        if cell.cell_type != "code":
            item = PlannedCell("text", gid, from_student=i is None or bool(meta.get("solution")))
        elif i is None or meta.get("solution"):
            item = PlannedCell("answer", gid, run=plain.clean_text(cell.source), from_student=True)
            uses_a = _names_used(cell.source)
        elif meta.get("grade"):
            test = to_python(source.cells[i].source)
            visible, hidden = split_test(test)
            uses_t = slicing.cell_names(test)[1] or slicing.identifiers(test)
            item = PlannedCell(
                "test",
                gid,
                judge=visible,
                hidden=hidden,
                reads=sorted(uses_t & answers),
                refused=refused.get(gid) if gid is not None else None,
            )
        else:
            item = PlannedCell("lesson", gid)
            try:
                statements = slicing.statements(to_python(source.cells[i].source))
            except SyntaxError:
                item.run = item.judge = to_python(source.cells[i].source)  # reported when it runs
        planned.append(item)
        lesson.append(statements)
        answer_uses.append(uses_a)
        test_uses.append(uses_t - answers)
    for item, for_answers, for_tests in zip(
        planned, slicing.select(lesson, answer_uses), slicing.select(lesson, test_uses)
    ):
        if item.kind == "lesson" and (for_answers or for_tests):
            item.run = "".join(s.source.rstrip() + "\n" for s in for_answers)
            item.judge = "".join(s.source.rstrip() + "\n" for s in for_tests)
            item.reads = sorted(set().union(*(s.uses for s in for_tests)) & answers) if for_tests else []
    return planned
