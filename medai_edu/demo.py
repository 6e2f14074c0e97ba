"""Code-free demo notebooks for lectures, made from the lessons, and served with Voilà.

A demo keeps of a lesson only what a lecture shows: its title, the figures and explorers with
their section headings and captions, and the code they need (which Voilà hides, and whose own
printed output is silenced). Exercises, answers, self-checks, coding instructions and cells
that train models are left out. Demos are made anew from ``solutions/`` whenever they are
served, so they cannot fall out of step with the lessons.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
DEMO_FOLDER = ROOT / ".demo"  # made anew by `medai-edu demo` (ignored by git)
TEMPLATE = "medai-demo"
LESSON_PATTERN = re.compile(r"^\d\d_\w+$")
# A cell shows something when it draws a figure or opens an explorer.
SHOWS = re.compile(r"\b(viz\.plot_\w+|widgets\.\w+_explorer)\(")
SETUP = re.compile(r"\bnotebook\.start\(")
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
LAB_ONLY_EXTENSIONS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")
CDN = re.compile(r'(href|src)="https?://')


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


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _graded(cell: dict) -> bool:
    """A solution or an autograded test: never part of a demo."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("solution") or meta.get("grade"))


def _names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell defines and the names it reads (magics and shell lines ignored)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    defined, used = set(), set()
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
        if cell["cell_type"] == "markdown" and _source(cell).startswith("## "):
            return _source(cell).splitlines()[0]
    return ""


def _caption(cells: list[dict], index: int) -> str | None:
    """The figure caption right after cell ``index``, without links (the demo has no glossary)."""
    if index + 1 < len(cells) and cells[index + 1]["cell_type"] == "markdown":
        text = _source(cells[index + 1])
        if text.startswith("*Figure"):
            return LINK.sub(r"\1", text)
    return None


def _needed(cells: list[dict], shown: list[int]) -> set[int]:
    """The cells that ``shown`` need: the set-up, and every earlier cell defining a name they read."""
    code = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code" and not _graded(cell)]
    names = {i: _names(_source(cells[i])) for i in code}
    needed = set(shown) | {
        i
        for i in code
        if SETUP.search(_source(cells[i])) or "parameters" in cells[i].get("metadata", {}).get("tags", [])
    }
    todo = sorted(needed)
    while todo:
        i = todo.pop()
        for name in names[i][1] - names[i][0]:
            source = next((j for j in reversed(code) if j < i and name in names[j][0]), None)
            if source is not None and source not in needed:
                needed.add(source)
                todo.append(source)
    return needed


def demo_notebook(lesson_notebook: dict, name: str) -> dict:
    """The demo of one lesson (see the module's docstring)."""
    cells = lesson_notebook["cells"]
    shown = [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and not _graded(cell)
        and SHOWS.search(_source(cell))
        and "Exercise" not in _heading(cells, i)
    ]
    if not shown:
        raise ValueError(f"lesson {name} has no figure or explorer outside its exercises: nothing to demo.")
    needed = _needed(cells, shown)
    title = _source(cells[0]).splitlines()[0]
    out = [
        _markdown(
            f"{title}\n\n*Demo for the lecture: the lesson's figures and explorers, without code. "
            f"The full lesson, with exercises, is `course/{name}/{name}.ipynb`.*"
        )
    ]
    last_heading = None
    for i in sorted(needed):
        source = _source(cells[i])
        if i in shown:
            heading = _heading(cells, i)
            if heading and heading != last_heading:
                out.append(_markdown(LINK.sub(r"\1", heading)))
                last_heading = heading
            out.append(_code(source))
            caption = _caption(cells, i)
            if caption:
                out.append(_markdown(caption))
        else:
            out.append(_code("%%capture\n" + source))  # runs, shows nothing
    notebook = copy.deepcopy({k: v for k, v in lesson_notebook.items() if k != "cells"})
    notebook["cells"] = _number_cells(out)
    notebook["metadata"]["medai_edu"] = {
        "demo_of": f"solutions/{name}/{name}.ipynb",
        "note": "made by medai_edu.demo; edit the lesson, not this file",
    }
    return notebook


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [], "execution_count": None}


def _number_cells(cells: list[dict]) -> list[dict]:
    return [{"id": f"demo-{i}", **cell} for i, cell in enumerate(cells)]


def write_demos(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Write the demo notebooks of ``names`` (default: every lesson) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or lessons():
        source = SOLUTIONS / name / f"{name}.ipynb"
        if not source.exists():
            raise FileNotFoundError(f"no lesson {name!r}: choose one of {', '.join(lessons())}.")
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(demo_notebook(json.loads(source.read_text()), name), indent=1) + "\n")
        paths.append(path)
    return paths


def install_template() -> Path:
    """``medai-demo``: Voilà's lab template without the icon fonts it loads from a CDN (the demo works offline)."""
    templates = Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates"
    lab, base, ours = templates / "lab", templates / "base", templates / TEMPLATE
    if not lab.exists():
        raise FileNotFoundError(
            f"Voilà's lab template is not at {lab}: install voila into this environment (make install)."
        )
    if ours.exists():
        shutil.rmtree(ours)
    shutil.copytree(lab, ours)
    for page in base.glob("*.htm*"):  # base pages that load from the internet are replaced too
        if CDN.search(page.read_text()):
            shutil.copy(page, ours / f"base-{page.name}")
    for page in ours.iterdir():  # ... and the lab pages that extend them extend our copies
        if page.suffix in (".j2", ".html"):
            page.write_text(
                re.sub(
                    r"voila/templates/base/([\w.-]+)",
                    lambda m: (
                        f"voila/templates/{TEMPLATE}/base-{m.group(1)}"
                        if (ours / f"base-{m.group(1)}").exists()
                        else m.group(0)
                    ),
                    page.read_text(),
                )
            )
    for page in ours.iterdir():
        if page.suffix in (".j2", ".html"):
            page.write_text(
                re.sub(
                    r"^[ \t]*<link[^>]+href=\"https?://[^\"]+\"[^>]*>[ \t]*\n?",
                    "",
                    page.read_text(),
                    flags=re.MULTILINE,
                )
            )
    index = ours / "index.html.j2"  # the page's scrolling content: a landmark, reachable by keyboard
    index.write_text(
        index.read_text().replace(
            '<div id="rendered_cells"', '<div id="rendered_cells" role="main" aria-label="Lesson demo" tabindex="0"', 1
        )
    )
    (ours / "conf.json").write_text(json.dumps({"base_template": "lab"}) + "\n")
    left = [p.name for p in ours.iterdir() if p.is_file() and CDN.search(p.read_text(errors="ignore"))]
    if left:
        raise RuntimeError(f"the demo template would still load files from the internet: {left}")
    return ours


def voila_command(target: Path, port: int, ip: str = "127.0.0.1", open_browser: bool = False) -> list[str]:
    """The Voilà command that serves ``target`` (a demo notebook or the folder of demos)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(target),
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--template={TEMPLATE}",
        "--VoilaConfiguration.progressive_rendering=True",  # each figure appears as soon as its cell ran
        "--VoilaConfiguration.classic_tree=True",  # the lesson list as a plain page (the JupyterLab-based
        # one fails to start its widget plugins without a kernel, and says so in the console)
        # JupyterLab extensions that only work inside JupyterLab (they fail to load in Voilà)
        *(f"--VoilaConfiguration.extension_denylist={name}" for name in LAB_ONLY_EXTENSIONS),
        *([] if open_browser else ["--no-browser"]),
    ]
