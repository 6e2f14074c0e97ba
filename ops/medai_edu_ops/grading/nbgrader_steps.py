"""nbgrader's own autograde, feedback and export, with the sandbox's outputs in place of a kernel.

``Autograde`` runs with :class:`AttachOutputs` where nbgrader's ``Execute`` would be: the cells
were already executed in the sandbox, so nbgrader only attaches their outputs and then scores,
saves and checks as usual. Feedback is generated with ``ClearHiddenTests`` so that students
never see hidden tests, from a template whose Content-Security-Policy lets no script run
(``templates/medai_feedback``). Each step runs as ``python -m medai_edu_ops.grading.nbgrader_steps STEP ...``
in a subprocess with the virtual environment's scripts on PATH (nbgrader calls ``alembic``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from medai_edu_ops.release import tool_env

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from traitlets.config import Config

TEMPLATES = Path(__file__).resolve().parent / "templates"


class AttachOutputs(NbGraderPreprocessor):
    """Give each cell the outputs the sandboxed runner recorded for it."""

    outputs_dir = Unicode("", help="folder of <student>/<notebook>.json from medai_edu_ops.grading").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        path = Path(self.outputs_dir) / info["student"] / f"{info['notebook']}.json"
        recorded = json.loads(path.read_text()) if path.is_file() else {"cells": []}
        cells = recorded["cells"]
        same = len(cells) == len(nb.cells) and all(
            c["grade_id"] == cell.metadata.get("nbgrader", {}).get("grade_id") for c, cell in zip(cells, nb.cells)
        )
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if same:
                cell.outputs = [_node(o) for o in cells[i]["outputs"]]
            else:
                cell.outputs = [
                    _node(
                        {
                            "output_type": "error",
                            "ename": "NotGraded",
                            "evalue": "the grader has no outputs for this notebook",
                            "traceback": ["NotGraded: the grader has no outputs for this notebook"],
                        }
                    )
                ]
        return nb, resources


def _node(output: dict) -> NotebookNode:
    from nbformat import from_dict

    return from_dict(output)


AUTOGRADE_PREPROCESSORS = [
    "medai_edu_ops.grading.nbgrader_steps.AttachOutputs",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "medai_edu_ops.grading.feedback.StudentFeedback",  # exercise names, graded questions' answers, glossary inlined
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]


def run_step(step: str, args: list[str], root: Path, config: dict) -> subprocess.CompletedProcess:
    """Run an nbgrader app (``autograde``, ``generate_feedback``, ``export``, ...) with extra config."""
    command = [sys.executable, "-m", "medai_edu_ops.grading.nbgrader_steps", step, json.dumps(config), *args]
    return subprocess.run(command, cwd=root, env=tool_env(), capture_output=True, text=True)


def _resolve(names: list[str]) -> list[type]:
    import importlib

    return [getattr(importlib.import_module(n.rsplit(".", 1)[0]), n.rsplit(".", 1)[1]) for n in names]


def feedback_settings(config: Config) -> None:
    """Feedback without hidden tests, on a page that runs no script (nbgrader_config.py uses this too)."""
    from nbgrader.server_extensions.formgrader import handlers

    config.GenerateFeedback.preprocessors = _resolve(FEEDBACK_PREPROCESSORS)
    config.GenerateFeedback.HTMLExporter.template_name = "medai_feedback"
    config.GenerateFeedback.HTMLExporter.template_file = "medai_feedback.html.j2"
    config.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), handlers.template_path]


def _main(step: str, config_json: str, *args: str) -> int:
    from nbgrader.apps.nbgraderapp import NbGraderApp
    from traitlets.config import Config

    extra = Config(json.loads(config_json))
    if step == "autograde":
        extra.Autograde.autograde_preprocessors = _resolve(AUTOGRADE_PREPROCESSORS)
    if step == "generate_feedback":
        feedback_settings(extra)
    app = NbGraderApp()
    app.initialize([step, *args])
    app.subapp.config.merge(extra)
    app.subapp.start()
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:]))
