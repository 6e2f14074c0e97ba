"""Regenerate the student notebooks (course/) from the instructor notebooks (solutions/).

`make release` runs this. It is nbgrader's own `generate_assignment`, once per lesson folder;
`dest` lets the tests write the release elsewhere and compare it with the committed one.

Two course rules take effect inside nbgrader's pipeline (``nbgrader_config.py`` installs
:func:`course_preprocessors`, so they hold wherever the assignment is generated: here, in
`medai-edu grade`, in a hub's formgrader):

- **The core path is graded by default.** Test cells of the optional "For programmers" exercises
  (cell metadata ``medai_edu.part == "programmers"``) get 0 points unless the instructor switches
  them on with ``MEDAI_EDU_PROGRAMMERS=1`` (``make release PROGRAMMERS=1``); they still run and
  report in the feedback.
- **A core answer is a literal.** A core answer cell (``medai_edu.part == "core"``) holds only
  ``name = <literal>`` lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; its release
  keeps the names and puts ``...`` where the literals were, so the student's answer differs from
  the solution only in a literal.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from medai_edu_ops.course import ROOT

if TYPE_CHECKING:
    from nbformat import NotebookNode

PROGRAMMERS_ENV = "MEDAI_EDU_PROGRAMMERS"  # "1": the programmers' exercises keep their points
PART = "medai_edu"  # cell metadata key: {"part": "core" | "programmers"}


def assignments(root: Path = ROOT) -> list[str]:
    """Lesson folders in solutions/ (each one an nbgrader assignment)."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def tool_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: this Python's scripts first on PATH
    (nbgrader itself calls `alembic` by name)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def part(cell: NotebookNode) -> str | None:
    """'core', 'programmers' or None: which part of the lesson an exercise cell belongs to."""
    meta = cell.get("metadata", {}).get(PART)
    return meta.get("part") if isinstance(meta, dict) else None


def programmers_graded() -> bool:
    return os.environ.get(PROGRAMMERS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def literal_stub(solution: str) -> str:
    """The release version of a core answer: each ``name = <literal>`` line becomes ``name = ...``.

    Raises ValueError when the solution is anything else: a core answer must never need code.
    """
    try:
        tree = ast.parse(solution)
    except SyntaxError as error:
        raise ValueError(f"a core answer must be `name = <literal>` lines; it does not parse: {error}") from None
    names = []
    for node in tree.body:
        value = getattr(node, "value", None)
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
            value = value.operand
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(target := node.targets[0], ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, (str, int, float))
            and not isinstance(value.value, bool)
        ):
            raise ValueError(f"a core answer must be `name = <literal>` lines, got: {ast.unparse(node)}")
        names.append(target.id)
    if not names:
        raise ValueError("a core answer cell needs at least one `name = <literal>` line")
    return "\n".join(f"{name} = ..." for name in names)


def course_preprocessors() -> list:
    """nbgrader's generate_assignment pipeline with the two course rules (see the module docstring)."""
    from nbgrader.converters.generate_assignment import GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

    class ProgrammersPoints(NbGraderPreprocessor):
        """Programmers' test cells: 0 points unless ``MEDAI_EDU_PROGRAMMERS=1``."""

        def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
            grading = cell.metadata.get("nbgrader", {})
            if part(cell) == "programmers" and grading.get("grade") and not programmers_graded():
                grading["points"] = 0
            return cell, resources

    class CoreAnswerStubs(ClearSolutions):
        """ClearSolutions that leaves core answers as ``name = ...`` instead of the code stub."""

        def _replace_solution_region(self, cell: NotebookNode, language: str) -> bool:
            is_answer = cell.metadata.get("nbgrader", {}).get("solution")
            if part(cell) != "core" or cell.cell_type != "code" or not is_answer:
                return super()._replace_solution_region(cell, language)
            lines = cell.source.split("\n")
            begin = next((i for i, line in enumerate(lines) if self.begin_solution_delimeter in line), None)
            end = next((i for i, line in enumerate(lines) if self.end_solution_delimeter in line), None)
            if begin is None or end is None or end < begin:
                raise RuntimeError(f"core answer cell without a solution region:\n{cell.source}")
            stub = literal_stub("\n".join(lines[begin + 1 : end]))
            cell.source = "\n".join([*lines[:begin], stub, *lines[end + 1 :]])
            return True

    pipeline = [CoreAnswerStubs if p is ClearSolutions else p for p in GenerateAssignment.preprocessors.default()]
    return [ProgrammersPoints, *pipeline]


def generate(root: Path = ROOT, dest: Path | None = None, db: Path | None = None, programmers: bool = False) -> Path:
    """Run `nbgrader generate_assignment` for every lesson; returns the release folder.

    ``programmers``: the programmers' exercises keep their points (else they get 0).
    """
    dest = Path(dest) if dest else root / "course"
    extra = [f"--CourseDirectory.release_directory={dest.resolve()}"]
    if db:
        extra.append(f"--db=sqlite:///{Path(db).resolve()}")
    env = {**tool_env(), PROGRAMMERS_ENV: "1" if programmers else "0"}
    for name in assignments(root):
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--log-level=WARN", *extra],
            cwd=root,
            env=env,
            check=True,
        )
    return dest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m medai_edu_ops.release", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--programmers",
        action="store_true",
        help="grade the optional 'For programmers' exercises too (default: only the core path earns points)",
    )
    args = parser.parse_args(argv)
    dest = generate(programmers=args.programmers)
    graded = "the core path and the programmers' exercises" if args.programmers else "the core path only"
    print(f"Release written to {dest} (graded: {graded}).")


if __name__ == "__main__":
    main()
