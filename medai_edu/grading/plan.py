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

from medai_edu.grading import slicing

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"


@dataclass
class PlannedCell:
    """What the runner does with one cell of the graded notebook."""

    kind: str  # "lesson" (trusted lesson code), "answer" (student code), "test", "text" (nothing to run)
    grade_id: str | None = None
    run: str = ""  # the Python to execute ("" = nothing)
    binds: list[str] = field(default_factory=list)  # lesson names this cell binds (restored before tests)
    refused: str | None = None  # why this test is not run (it then scores 0)
    hidden_from: int | None = None  # first line (1-based) of the hidden tests in ``run``


@dataclass
class Plan:
    notebook: NotebookNode  # handed to nbgrader as the student's submission
    cells: list[PlannedCell]  # one per cell of ``notebook``
    notes: list[str]  # what was repaired or refused, in words for the instructor
    imports: list[str]  # modules the runner imports before any student code


def nbgrader_meta(cell: NotebookNode) -> dict:
    """A cell's nbgrader metadata ({} for an ordinary cell)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


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


def _imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _hidden_from(source: str) -> int | None:
    for number, line in enumerate(source.splitlines(), 1):
        if HIDDEN_BEGIN in line:
            return number
    return None


def _linked_tests(release: NotebookNode) -> dict[str, str]:
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
    for j, cell in enumerate(submitted.cells):
        gid = grade_id(cell)
        if gid and gid not in by_gid:
            by_gid[gid] = j
        elif not nbgrader_meta(cell) and cell.get("id") and cell.get("id") not in by_id:
            by_id[cell["id"]] = j
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
                if theirs.cell_type != rel.cell_type or nbgrader_meta(theirs) != meta:
                    refused.setdefault(links.get(gid) or "", f"the metadata of answer cell {gid} was changed")
                cell.source = theirs.source if isinstance(theirs.source, str) else "".join(theirs.source)
        elif gid and meta.get("grade"):
            if theirs is None:
                refused[gid] = "test cell deleted"
            elif theirs.source != rel.source:
                refused[gid] = "test cell edited"
            elif theirs.cell_type != rel.cell_type or nbgrader_meta(theirs) != meta:
                refused[gid] = "test cell metadata changed"
        elif gid and (theirs is None or theirs.source != rel.source or nbgrader_meta(theirs) != meta):
            notes.append(f"read-only cell {gid} was changed or deleted: restored")
        elif not gid and theirs is not None and theirs.source != rel.source:
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
        extra = (
            nbformat.v4.new_code_cell(cell.source)
            if cell.cell_type == "code"
            else nbformat.v4.new_markdown_cell(cell.source)
        )
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
    return Plan(notebook, planned, notes, runner_imports(planned))


def _planned(
    notebook: NotebookNode, origin: list[int | None], source: NotebookNode, refused: dict[str, str]
) -> list[PlannedCell]:
    planned: list[PlannedCell] = []
    lesson_statements: list[list[slicing.Statement]] = []
    uses: list[set[str]] = []
    for cell, i in zip(notebook.cells, origin):
        meta, gid = nbgrader_meta(cell), grade_id(cell)
        statements: list[slicing.Statement] = []
        used: set[str] = set()
        if cell.cell_type != "code":
            item = PlannedCell("text", gid)
        elif i is None or meta.get("solution"):
            item = PlannedCell("answer", gid, to_python(cell.source))
            used = slicing.cell_names(item.run)[1]
        elif meta.get("grade"):
            run = source.cells[i].source
            item = PlannedCell("test", gid, run, refused=refused.get(gid), hidden_from=_hidden_from(run))
            used = slicing.cell_names(run)[1]
        else:
            item = PlannedCell("lesson", gid)
            try:
                statements = slicing.statements(to_python(source.cells[i].source))
            except SyntaxError:
                item.run = to_python(source.cells[i].source)  # the runner reports it
        planned.append(item)
        lesson_statements.append(statements)
        uses.append(used)
    for item, kept in zip(planned, slicing.select(lesson_statements, uses)):
        if item.kind == "lesson" and kept:
            item.run = "\n".join(s.source.rstrip() for s in kept) + "\n"
            item.binds = sorted(set().union(*(s.binds for s in kept)))
    return planned


def runner_imports(cells: list[PlannedCell]) -> list[str]:
    """Modules the lesson and test code import: the runner imports (and protects) them first."""
    found = {"numpy", "medai_edu.checks"}
    for item in cells:
        if item.kind in ("lesson", "test"):
            found |= _imports(item.run)
    return sorted(found)
