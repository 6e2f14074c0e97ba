"""The lecture demos: made from the lessons, they keep every explorer and figure and drop exercises and answers."""

from __future__ import annotations

import json
import re

import pytest
from notebooks import SOLUTIONS, ids

from medai_edu import demo


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_demo_keeps_explorers_and_drops_exercises(path, tmp_path):
    lesson = json.loads(path.read_text())
    made = json.loads(demo.write_demos(tmp_path, [path.stem])[0].read_text())
    text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in made["cells"])
    explorers = re.compile(r"widgets\.\w+_explorer\(")
    lesson_text = "\n".join("".join(c["source"]) for c in lesson["cells"])
    assert len(explorers.findall(text)) == len(explorers.findall(lesson_text)), "every explorer of the lesson"
    for forbidden in (
        "BEGIN SOLUTION",
        "HIDDEN TESTS",
        "checks.check_",
        "widgets.quiz(",
        "## 7. Exercise",
        "train_small",
    ):
        assert forbidden not in text
    shown = [c for c in made["cells"] if c["cell_type"] == "code" and not c["source"].startswith("%%capture")]
    assert all(re.search(r"viz\.plot_|widgets\.\w+_explorer\(", c["source"]) for c in shown), (
        "only cells that show a figure or an explorer print anything"
    )
    assert made["metadata"]["medai_edu"]["demo_of"] == f"solutions/{path.stem}/{path.name}"
    assert len({c["id"] for c in made["cells"]}) == len(made["cells"])


def test_demo_needs_what_the_figures_use():
    lesson = {
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "QUICK = False", "outputs": []},
            {"cell_type": "code", "metadata": {}, "source": "data = load()\nunused = 1", "outputs": []},
            {"cell_type": "code", "metadata": {}, "source": "other = 2", "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": "## 1. Explore"},
            {"cell_type": "code", "metadata": {}, "source": "widgets.thing_explorer(data);", "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": "*Figure 1. See [the glossary](g.md#x).*"},
            {"cell_type": "markdown", "metadata": {}, "source": "## 2. Exercise: do it"},
            {"cell_type": "code", "metadata": {"nbgrader": {"solution": True}}, "source": "answer = 1", "outputs": []},
            {"cell_type": "code", "metadata": {}, "source": "viz.plot_it(answer);", "outputs": []},
        ],
    }
    made = demo.demo_notebook(lesson, "99_test")
    sources = [c["source"] for c in made["cells"]]
    assert "%%capture\ndata = load()\nunused = 1" in sources and "%%capture\nother = 2" not in sources
    assert "## 1. Explore" in sources and "*Figure 1. See the glossary.*" in sources
    assert not any("answer" in s or "Exercise" in s for s in sources)


def test_demo_template_loads_nothing_from_the_internet():
    template = demo.install_template()
    for page in template.iterdir():
        assert not demo.CDN.search(page.read_text(errors="ignore")), page.name
    assert 'role="main"' in (template / "index.html.j2").read_text()


def test_lessons_are_found_by_number():
    assert demo.resolve("1") == demo.resolve("01") == "01_saliency_vs_attribution"
    with pytest.raises(SystemExit, match="no lesson '9'"):
        demo.resolve("9")
