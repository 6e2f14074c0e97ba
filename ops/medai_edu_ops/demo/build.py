"""A lesson's demo notebook: its figures and explorers with their headings and captions, and the code they need.

Voilà hides the code; the code a figure needs runs with its printed output silenced, and the
figure cells themselves print nothing either (their prints and warnings are captured, their
figures and explorers shown); progress bars are switched off (:func:`.kernel.console_progress`). Exercises, answers, self-checks, coding instructions and cells that
train models are left out; the prose is cleaned by :mod:`medai_edu_ops.demo.prose`.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

from medai_edu_ops.course import ROOT
from medai_edu_ops.demo import prose

SOLUTIONS = ROOT / "solutions"
LESSON_PATTERN = re.compile(r"^\d\d_\w+$")
# A cell shows something when it draws a figure or opens an explorer.
SHOWS = re.compile(r"\b(viz\.plot_\w+|widgets\.\w+_explorer)\(")
EXPLORER = re.compile(r"\bwidgets\.\w+_explorer\(")
SETUP = re.compile(r"\bnotebook\.start\(")
HIDDEN = "%%capture\n"  # runs, shows nothing
SHOWN = "%%capture --no-display\n"  # shows its figures and explorers, not what it prints


def lessons() -> list[str]:
    """The lessons that have an instructor notebook."""
    return sorted(
        p.name for p in SOLUTIONS.iterdir() if LESSON_PATTERN.match(p.name) and (p / f"{p.name}.ipynb").exists()
    )


def resolve(name: str) -> str:
    """A lesson's full name from its number or name ('1', '01', '01_saliency_vs_attribution')."""
    matches = [lesson for lesson in lessons() if lesson == name or lesson.split("_")[0] == name.zfill(2)]
    if len(matches) != 1:
        raise SystemExit(f"no lesson {name!r}: choose one of {', '.join(lessons())}")
    return matches[0]


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def title(notebook: dict) -> str:
    """The lesson's title as plain text (its first heading, without Markdown emphasis)."""
    return re.sub(r"[*_]", "", source(notebook["cells"][0]).splitlines()[0].lstrip("# ").strip())


def _graded(cell: dict) -> bool:
    """A solution or an autograded test: never part of a demo."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("solution") or meta.get("grade"))


def _names(code: str) -> tuple[set[str], set[str]]:
    """The names a cell defines and the names it reads (magics and shell lines ignored)."""
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    defined: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return defined, used


def _heading(cells: list[dict], index: int) -> str:
    """The heading line of the section that holds cell ``index``."""
    for cell in reversed(cells[:index]):
        if cell["cell_type"] == "markdown" and source(cell).startswith("## "):
            return source(cell).splitlines()[0]
    return ""


def _caption_cell(cells: list[dict], index: int) -> str | None:
    """The markdown cell right after cell ``index`` when it starts with a figure caption."""
    if index + 1 < len(cells) and cells[index + 1]["cell_type"] == "markdown":
        text = source(cells[index + 1])
        if text.startswith("*Figure"):
            return text
    return None


def _needed(cells: list[dict], shown: list[int]) -> set[int]:
    """The cells that ``shown`` need: the set-up, and every earlier cell defining a name they read."""
    code = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code" and not _graded(cell)]
    names = {i: _names(source(cells[i])) for i in code}
    needed = set(shown) | {
        i
        for i in code
        if SETUP.search(source(cells[i])) or "parameters" in cells[i].get("metadata", {}).get("tags", [])
    }
    todo = sorted(needed)
    while todo:
        i = todo.pop()
        for name in names[i][1] - names[i][0]:
            found = next((j for j in reversed(code) if j < i and name in names[j][0]), None)
            if found is not None and found not in needed:
                needed.add(found)
                todo.append(found)
    return needed


def _numbers(cells: list[dict], shown: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """The lesson's section and figure numbers that the demo keeps, mapped to continuous demo numbers."""
    sections: dict[int, int] = {}
    figures: dict[int, int] = {}
    for i in shown:
        section = prose.section_number(_heading(cells, i))
        if section is not None:
            sections.setdefault(section, len(sections) + 1)
        caption = _caption_cell(cells, i)
        figure = prose.figure_number(caption) if caption else None
        if figure is not None:
            figures.setdefault(figure, len(figures) + 1)
    return sections, figures


def _figure_cell(code: str, alt: str | None) -> dict:
    """A cell that shows a figure or an explorer; a static figure gets its caption's alt text as its own.

    Under ``%%capture`` a trailing ``;`` no longer hides the value of the last line (an explorer would
    show twice), so the cell ends with a statement."""
    if alt and not EXPLORER.search(code):
        return _code(f"{SHOWN}{code}\nfrom medai_edu_ops.demo.kernel import set_figure_alt\n\nset_figure_alt({alt!r})")
    return _code(f"{SHOWN}{code}\npass")


def demo_notebook(lesson_notebook: dict, name: str) -> dict:
    """The demo of one lesson (see the module's docstring)."""
    cells = lesson_notebook["cells"]
    shown = [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and not _graded(cell)
        and SHOWS.search(source(cell))
        and "Exercise" not in _heading(cells, i)
    ]
    if not shown:
        raise ValueError(f"lesson {name} has no figure or explorer outside its exercises: nothing to demo.")
    sections, figures = _numbers(cells, shown)
    heading = title(lesson_notebook)
    out = [
        _markdown(
            f"# {heading}\n\n*Lecture demo: the lesson's figures and explorers. "
            "The full lesson, with its exercises, is in the course's notebooks.*"
        ),
        _code(HIDDEN + "from medai_edu_ops.demo.kernel import console_progress\n\nconsole_progress()"),
    ]
    last_heading = None
    for i in sorted(_needed(cells, shown)):
        code = source(cells[i])
        if i not in shown:
            out.append(_code(HIDDEN + code))
            continue
        section = _heading(cells, i)
        if section and section != last_heading:
            number = prose.section_number(section)
            out.append(
                _markdown(prose.heading(section, sections[number]) if number else prose.LINK.sub(r"\1", section))
            )
            last_heading = section
        caption_cell = _caption_cell(cells, i)
        if caption_cell is None:
            out.append(_figure_cell(code, None))
            continue
        first, _, rest = caption_cell.partition("\n\n")
        found = prose.figure_number(caption_cell)
        number = figures.get(found) if found is not None else None
        caption, alt = prose.caption(first, number, sections, figures)
        out.append(_figure_cell(code, alt))
        text = "\n\n".join(t for t in (caption, prose.clean_markdown(rest, sections, figures)) if t)
        out.append(_markdown(text))
    notebook = copy.deepcopy({k: v for k, v in lesson_notebook.items() if k != "cells"})
    notebook["cells"] = [{"id": f"demo-{i}", **cell} for i, cell in enumerate(out)]
    notebook["metadata"]["title"] = heading  # the page's title
    notebook["metadata"]["medai_edu"] = {
        "demo_of": f"solutions/{name}/{name}.ipynb",
        "question": clinical_questions().get(name),  # for the list of lessons
        "note": "made by medai_edu_ops.demo; edit the lesson, not this file",
    }
    return notebook


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [], "execution_count": None}


def write_demos(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Write the demo notebooks of ``names`` (default: every lesson) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or lessons():
        lesson = SOLUTIONS / name / f"{name}.ipynb"
        if not lesson.exists():
            raise FileNotFoundError(f"no lesson {name!r}: choose one of {', '.join(lessons())}.")
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(demo_notebook(json.loads(lesson.read_text()), name), indent=1) + "\n")
        paths.append(path)
    return paths


def clinical_questions() -> dict[str, str]:
    """Each lesson's clinical question, from the README's table of lessons (plain text)."""
    readme = ROOT / "README.md"
    rows = re.findall(r"^\| `(\d\d_\w+)` \| (.+?) \|\s*$", readme.read_text(), re.MULTILINE) if readme.exists() else []
    return {name: re.sub(r"[*_]", "", question).strip() for name, question in rows}
