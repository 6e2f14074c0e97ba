"""The lecture demos: made from the lessons, they keep every explorer and figure and drop exercises,
answers, and every sentence that points at code, cells or tables the demo does not show."""

from __future__ import annotations

import json
import re

import pytest
from medai_edu_ops import demo
from medai_edu_ops.demo import build, prose, serve
from notebooks import SOLUTIONS, ids

# Independent of the builder's own list: words in a demo's text that point at what it does not show.
POINTING = re.compile(
    r"`|\b(next|previous|following|this) cell|\bcells? (below|above)\b|\btables?\b|\bcolumns?\b|\bvariables?\b"
    r"|\bparameters?\b|\brun (the|this|it|each|all)\b|\bAlt text\b",
    re.IGNORECASE,
)


def _markdown(notebook: dict) -> list[str]:
    return [c["source"] for c in notebook["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_demo_keeps_explorers_and_drops_exercises(path, tmp_path):
    lesson = json.loads(path.read_text())
    made = json.loads(demo.write_demos(tmp_path, [path.stem])[0].read_text())
    text = "\n".join(c["source"] for c in made["cells"])
    explorers = re.compile(r"widgets\.\w+_explorer\(")
    lesson_text = "\n".join("".join(c["source"]) for c in lesson["cells"])
    assert len(explorers.findall(text)) == len(explorers.findall(lesson_text)), "every explorer of the lesson"
    for forbidden in ("BEGIN SOLUTION", "HIDDEN TESTS", "checks.check_", "widgets.quiz(", "Exercise", "train_small"):
        assert forbidden not in text
    code = [c["source"] for c in made["cells"] if c["cell_type"] == "code"]
    assert all(s.startswith((build.HIDDEN, build.SHOWN)) for s in code), "every cell's printed output is captured"
    shown = [s for s in code if s.startswith(build.SHOWN)]
    assert shown and all(re.search(r"viz\.plot_|widgets\.\w+_explorer\(", s) for s in shown), (
        "only cells that show a figure or an explorer show anything"
    )
    assert all(not s.rstrip().endswith(";") for s in shown), "a captured cell's last value would be shown"
    assert made["metadata"]["medai_edu"]["demo_of"] == f"solutions/{path.stem}/{path.name}"
    assert made["metadata"]["title"] == build.title(lesson)
    assert len({c["id"] for c in made["cells"]}) == len(made["cells"])


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_demo_text_points_at_nothing_hidden(path, tmp_path):
    """No inline code, no 'next cell', 'table', 'variable' ...; visible captions without 'Alt text';
    sections and figures numbered 1, 2, 3 ... and every reference to them pointing at one shown."""
    made = json.loads(demo.write_demos(tmp_path, [path.stem])[0].read_text())
    text = "\n\n".join(_markdown(made))
    assert not [m.group(0) for m in POINTING.finditer(text)], [
        text[max(0, m.start() - 60) : m.end() + 60] for m in POINTING.finditer(text)
    ]
    sections = [int(n) for n in re.findall(r"^## (\d+)\.", text, re.MULTILINE)]
    figures = [int(n) for n in re.findall(r"^\*Figure (\d+)\.", text, re.MULTILINE)]
    assert sections == list(range(1, len(sections) + 1)) and figures == list(range(1, len(figures) + 1))
    assert all(int(n) <= len(sections) for n in re.findall(r"\b[Ss]ections? (\d+)", text))
    assert all(int(n) <= len(figures) for n in re.findall(r"\bFigures? (\d+)", text))


def test_prose_drops_what_points_at_hidden_things():
    sections, figures = {3: 1, 5: 2}, {2: 1, 4: 2}
    text = (
        "The table below is the full benchmark (`medai-edu bench brain`). VA-GAN reaches 0.65 (Section 5).\n\n"
        '**Measure.** What does each level change? The next cell draws `N_SAMPLES` outlines. "none" is the scan.\n\n'
        "**Understand.** Figure 4 shows it (section 7). The first columns are clean.\n\n"
        "Three measures:\n- **A**: a thing. Higher is better.\n- **B**: the maps you just computed. Higher is better.\n"
        "- **C**: see Section 3."
    )
    assert prose.clean_markdown(text, sections, figures) == (
        "VA-GAN reaches 0.65 (Section 2).\n\n"
        "**Understand.** Figure 2 shows it.\n\n"
        "Three measures:\n\n- **A**: a thing. Higher is better.\n- **C**: see Section 1."
    )


def test_prose_keeps_plain_sentences_and_abbreviations():
    text = "A meta-analysis (Liu et al., 2019) found this, e.g. in screening. Is it so? Yes."
    assert prose.clean_markdown(text, {}, {}) == text


def test_caption_loses_its_alt_text_and_is_renumbered():
    caption, alt = prose.caption(
        "*Figure 3. Left: a scan; right: Figure 2's map. Alt text: two panels, grey.*", 2, {}, {2: 1}
    )
    assert caption == "*Figure 2. Left: a scan; right: Figure 1's map.*" and alt == "two panels, grey."
    assert prose.caption("*Figure 1. A scan.*", 1, {}, {}) == ("*Figure 1. A scan.*", None)


def test_headings_are_renumbered_without_links_or_times():
    assert prose.heading("## 5. VA-GAN: see [the glossary](g.md) (10 min)", 3) == "## 3. VA-GAN: see the glossary"


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
            {"cell_type": "markdown", "metadata": {}, "source": "## 3. Explore"},
            {"cell_type": "code", "metadata": {}, "source": "viz.plot_thing(data);", "outputs": []},
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "*Figure 2. See [the glossary](g.md#x). Alt text: a bar.*",
            },
            {"cell_type": "code", "metadata": {}, "source": "widgets.thing_explorer(data);", "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": "## 4. Exercise: do it"},
            {"cell_type": "code", "metadata": {"nbgrader": {"solution": True}}, "source": "answer = 1", "outputs": []},
            {"cell_type": "code", "metadata": {}, "source": "viz.plot_it(answer);", "outputs": []},
        ],
    }
    made = demo.demo_notebook(lesson, "99_test")
    sources = [c["source"] for c in made["cells"]]
    assert build.HIDDEN + "data = load()\nunused = 1" in sources and build.HIDDEN + "other = 2" not in sources
    assert "## 1. Explore" in sources and "*Figure 1. See the glossary.*" in sources
    assert (
        build.SHOWN
        + "viz.plot_thing(data);\nfrom medai_edu_ops.demo.kernel import set_figure_alt\n\nset_figure_alt('a bar.')"
        in sources
    )
    assert build.SHOWN + "widgets.thing_explorer(data);\npass" in sources
    assert not any("answer" in s or "Exercise" in s for s in sources)


def test_figure_alt_reaches_the_image():
    import matplotlib.pyplot as plt
    from medai_edu_ops.demo.kernel import set_figure_alt

    from medai_edu import figure_html

    fig, _ = plt.subplots()
    set_figure_alt("two bars")
    assert figure_html.describe(fig) == "two bars"


def test_template_is_offline_with_lang_favicon_and_same_tab_list():
    template = demo.install_template()
    for page in template.iterdir():
        if page.is_file():
            assert not demo.CDN.search(page.read_text(errors="ignore")), page.name
    index = (template / "index.html.j2").read_text()
    assert 'role="main"' in index and "favicon.svg" in index and "demo.css" in index and "medai-demo-nav" in index
    tree = (template / "tree.html").read_text()
    assert '<html lang="en">' in tree and "favicon.svg" in tree and "target=" not in tree
    assert (template / "static" / "favicon.svg").exists() and (template / "static" / "demo.css").exists()


def test_every_lesson_has_a_clinical_question():
    questions = build.clinical_questions()
    assert set(ids(SOLUTIONS)) <= set(questions) and all(q.endswith("?") for q in questions.values())


def test_the_list_page_gets_each_lessons_title_and_question(tmp_path):
    demo.write_demos(tmp_path, ["00_welcome", "04_human_with_ai"])

    class Contents:
        root_dir = str(tmp_path)

    config = serve.add_lessons({}, settings={"contents_manager": Contents()}, notebook_path="")
    assert list(config["medaiLessons"]) == ["00_welcome.ipynb", "04_human_with_ai.ipynb"]
    assert (
        config["medaiLessons"]["04_human_with_ai.ipynb"]["question"] == build.clinical_questions()["04_human_with_ai"]
    )
    assert serve.add_lessons({}, settings={}, notebook_path="x.ipynb") == {}, "lesson pages need no list"


def test_addresses_and_command():
    assert demo.addresses(["04_human_with_ai"], "127.0.0.1", 8866, single=True) == {
        "04_human_with_ai": "http://127.0.0.1:8866/"
    }
    assert demo.addresses(["00_welcome"], "127.0.0.1", 8866, single=False) == {
        "list of lessons": "http://127.0.0.1:8866/",
        "00_welcome": "http://127.0.0.1:8866/voila/render/00_welcome.ipynb",
    }
    command = demo.voila_command(demo.DEMO_FOLDER, 8866, cull_idle_s=600)
    assert command[1:3] == ["-m", "medai_edu_ops.demo"]
    assert "--MappingKernelManager.cull_idle_timeout=600" in command and "--no-browser" in command


def test_lessons_are_found_by_number():
    assert demo.resolve("1") == demo.resolve("01") == "01_saliency_vs_attribution"
    with pytest.raises(SystemExit, match="no lesson '9'"):
        demo.resolve("9")
