"""The lecture demo as a lecturer and the class see it: `make demo` in Debian's Chromium.

The tests start `make demo` (all lessons) and `make demo LESSON=04` as a lecturer does and open
exactly the addresses they print. Written to ``test-artifacts/browser/``: the presenter's view of
each lesson at 1280 x 720 and 1920 x 1080 (``demo-<lesson>-<size>-slide<k>.png``, one screen per
figure) with its measurements (``demo-presenter.json``), the accessibility report, and the kernel
count table (``demo-kernels.md``: each way of leaving a page -> the server's kernels before and
after). Without Chromium or Playwright (``make test`` installs both) these tests skip with one
line saying why.
"""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT
from medai_edu_ops import demo
from medai_edu_ops.benchmarks import load_average
from medai_edu_ops.browser import axe, servers
from medai_edu_ops.browser import page as browser_page
from notebooks import SOLUTIONS, ids

ARTIFACTS = ROOT / "test-artifacts" / "browser"
SCOPE = "#rendered_cells"
EXPLORER_CALL = re.compile(r"\bwidgets\.\w+_explorer\(")
FIGURE_ALT = re.compile(r"^set_figure_alt\((.*)\)$", re.MULTILINE)
PRESENTER_SIZES = ((1280, 720), (1920, 1080))
KERNEL_WAIT_S = 30  # a left page's kernel must be gone within this time
CULL_TEST_S = 5  # the culling test's server ends a kernel without a page after this idle time (`make demo`: 10 min)
# Words that point at what a demo does not show (code, cells, parameters, tables): none may be on a demo page.
POINTERS = re.compile(
    r"\b(next|previous|following|this|above|below) cells?\b|\bcells? (below|above)\b|\btables?\b|\bcolumns?\b"
    r"|\bvariables?\b|\bparameters?\b|\b(re)?run (the|this|it|each|all|every)\b|\bAlt text\b|\bquick mode\b",
    re.IGNORECASE,
)
SETUP_STAMP = ".venv/.medai-edu-installed"  # `make -o`: the tests use the set-up, they never redo it

missing = browser_page.chromium_missing() or axe.axe_missing()
if missing is None and not (ROOT / ".venv" / "bin" / "medai-edu").exists():
    missing = "no .venv/bin/medai-edu: the demo tests run `make demo`, which needs `make install` first"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing is not None, reason=str(missing))]


@dataclass
class Demo:
    server: servers.Server
    addresses: dict[str, str]  # what the lecturer was told to open
    folder: Path  # the demo notebooks it serves

    def code(self, lesson: str) -> list[str]:
        cells = json.loads((self.folder / f"{lesson}.ipynb").read_text())["cells"]
        return [c["source"] for c in cells if c["cell_type"] == "code"]

    def explorers(self, lesson: str) -> int:
        return sum(len(EXPLORER_CALL.findall(code)) for code in self.code(lesson))

    def wait_until_shown(self, page, lesson: str, timeout: float = 600) -> None:
        """Until every explorer and every figure of the lesson is on the page (each shown cell shows one)."""
        browser_page.wait_for_explorers(page, SCOPE, self.explorers(lesson), timeout)
        shown = sum(code.startswith(demo.build.SHOWN) for code in self.code(lesson))
        page.wait_for_function(
            f"document.querySelectorAll('{SCOPE} .jp-OutputArea-output img').length >= {shown}", timeout=timeout * 1000
        )


def _make_demo(tmp_path_factory, *args: str):
    """`make demo HEADLESS=1 PORT=... [LESSON=..]` as a lecturer runs it, with the addresses it printed."""
    port = servers.free_port()
    log = tmp_path_factory.mktemp("make-demo") / "make-demo.log"
    command = ["make", "-s", "-o", SETUP_STAMP, "demo", "HEADLESS=1", f"PORT={port}", *args]
    with servers.voila(command, port, log, ROOT) as server:
        printed = dict(re.findall(r"^\s+(.+?): (http://\S+)$", log.read_text(), re.MULTILINE))
        yield Demo(server, printed, demo.DEMO_FOLDER)


@pytest.fixture(scope="module")
def chromium():
    with browser_page.chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def all_lessons(tmp_path_factory):
    yield from _make_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def one_lesson(tmp_path_factory):
    yield from _make_demo(tmp_path_factory, "LESSON=04")


@pytest.fixture(scope="module")
def culling(tmp_path_factory):
    """Lesson 00 served alone, with a culling time of a few seconds."""
    folder = tmp_path_factory.mktemp("culling")
    path = demo.write_demos(folder, ["00_welcome"])[0]
    demo.install_template()
    port = servers.free_port()
    command = demo.voila_command(path, port, cull_idle_s=CULL_TEST_S)
    with servers.voila(command, port, folder / "voila.log", folder) as server:
        yield Demo(server, {"00_welcome": f"{server.base}/"}, folder)


def _new_page(chromium, watch: browser_page.Watch):
    """A page in a fresh browser (no cookies) at 1280 x 720. Every page here is left as a user leaves it,
    so requests off this machine are noted, not stopped (stopping them would drop the page's last request)."""
    return browser_page.new_page(chromium, watch, 1280, 720, refuse_offsite=False)


def _open_lesson(page, address: str) -> float:
    """Open a lesson's demo; returns the seconds until its first figure was on screen."""
    start = time.monotonic()
    page.goto(address, wait_until="commit")
    page.locator(f"{SCOPE} img").first.wait_for(timeout=180_000)
    return time.monotonic() - start


def _close_tab(page) -> None:
    """Close the tab as a user does (the page's unload handlers run)."""
    if not page.is_closed():
        with page.expect_event("close"):
            page.close(run_before_unload=True)


def _leave(page, server: servers.Server, before: set[int]) -> None:
    """Close the tab, wait until the kernels its pages started have ended (the next test counts them), then
    close the browser (closing it at once can cancel the page's last request, as quitting a browser may)."""
    try:
        _close_tab(page)
        _wait_for_end(server, server.kernels() - before, KERNEL_WAIT_S)
    finally:
        page.context.close()


def test_make_demo_prints_each_address(all_lessons, one_lesson):
    """All lessons: the list and each lesson; one lesson: the lesson at / (the tests below open each address)."""
    assert all_lessons.addresses == {
        "list of lessons": f"{all_lessons.server.base}/",
        **{name: f"{all_lessons.server.base}/voila/render/{name}.ipynb" for name in ids(SOLUTIONS)},
    }
    assert one_lesson.addresses == {"04_human_with_ai": f"{one_lesson.server.base}/"}


def test_lesson_list(all_lessons, chromium):
    """The printed list address: each lesson's title and clinical question, opened in the same tab;
    ``lang``, a favicon, no axe-core violation, no console error."""
    watch = browser_page.Watch()
    page = _new_page(chromium, watch)
    before = all_lessons.server.kernels()
    try:
        page.goto(all_lessons.addresses["list of lessons"])
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == "en"
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert page.request.get(f"{all_lessons.server.base}{icon}").ok, f"no favicon at {icon}"
        text = page.inner_text("main")
        questions = demo.build.clinical_questions()
        for path in SOLUTIONS:
            assert demo.build.title(json.loads(path.read_text())) in text, f"{path.stem}: no title on the list"
            assert questions[path.stem] in text, f"{path.stem}: no clinical question on the list"
        links = page.locator("main li a")
        assert links.count() == len(SOLUTIONS)
        assert all(links.nth(i).get_attribute("target") is None for i in range(links.count())), "same tab"
        violations = axe.run_axe(page, ["html"])
        browser_page.record(ARTIFACTS, "demo-accessibility", {"list of lessons": violations})
        browser_page.screenshot(page, ARTIFACTS / "demo-lessons.png", full=False)
        assert not violations, f"the list of lessons: {axe.summary(violations)}"
        links.first.click()
        page.locator(f"{SCOPE} img").first.wait_for(timeout=180_000)
        assert page.url == all_lessons.addresses[ids(SOLUTIONS)[0]] and len(page.context.pages) == 1
        watch.check("the demo's list of lessons")
    finally:
        _leave(page, all_lessons.server, before)


def _numbers(texts: list[str], pattern: str) -> list[int]:
    return [int(m.group(1)) for t in texts if (m := re.match(pattern, t.strip()))]


def _check_presentation(page, lesson: str, width: int, height: int) -> dict:
    """The lesson projected at ``width`` x ``height``: measured, and one screenshot per figure."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(500)
    measured = browser_page.presentation(page, SCOPE)
    page.evaluate(f"document.querySelector('{SCOPE}').scrollTo(0, 0)")
    shots = [browser_page.screenshot(page, ARTIFACTS / f"demo-{lesson}-{width}x{height}-slide0.png", full=False)]
    figures = page.locator(f"{SCOPE} .jp-OutputArea-output img")
    for index in range(figures.count()):
        figures.nth(index).evaluate("img => img.closest('.jp-Cell').scrollIntoView()")
        page.wait_for_timeout(200)
        path = ARTIFACTS / f"demo-{lesson}-{width}x{height}-slide{index + 1}.png"
        shots.append(browser_page.screenshot(page, path, full=False))
    measured["screenshots"] = [str(p.relative_to(ROOT)) for p in shots]
    return measured


def _presentation_problems(measured: dict) -> list[str]:
    problems = []
    if measured["text_px"] is not None and measured["text_px"] < 18:
        problems.append(f"body text of {measured['text_px']} px")
    if measured["control_text_px"] is not None and measured["control_text_px"] < 18:
        problems.append(f"control text of {measured['control_text_px']} px")
    problems += [f"a slider track of {px} px" for px in measured["slider_tracks_px"] if px < 300]
    problems += [f"cut off: {what}" for what in measured["cut_off"]]
    for index, figure in enumerate(measured["figures"]):
        if figure["off_centre"] > 4:
            problems.append(f"figure {index + 1} is {figure['off_centre']} px off centre")
        if figure["width_share"] < 0.9 and figure["height_share"] < 0.7:
            problems.append(f"figure {index + 1} fills neither the width nor the height: {figure}")
    return problems


@pytest.mark.parametrize("lesson", ids(SOLUTIONS))
def test_demo_lesson(lesson, all_lessons, chromium):
    """A lesson at its printed address: every explorer redraws; no code, console output, progress bar or
    sentence pointing at hidden things; continuous numbering; alt texts as attributes; axe-clean; and
    readable on a projector (1280 x 720 and 1920 x 1080)."""
    watch = browser_page.Watch()
    page = _new_page(chromium, watch)
    before = all_lessons.server.kernels()
    try:
        first_figure = _open_lesson(page, all_lessons.addresses[lesson])
        all_lessons.wait_until_shown(page, lesson)
        assert browser_page.explorers(page, SCOPE).count() == all_lessons.explorers(lesson)
        assert not browser_page.widget_problems(page, "body")
        text = page.inner_text(SCOPE)
        for forbidden in (
            "BEGIN SOLUTION",
            "YOUR CODE HERE",
            "NotImplementedError",
            "Traceback",
            "Exercise",
            "import ",
        ):
            assert forbidden not in text, f"{lesson} demo shows {forbidden!r}"
        pointing = [text[max(0, m.start() - 60) : m.end() + 60] for m in POINTERS.finditer(text)]
        assert not pointing, f"{lesson} demo points at what it does not show: {pointing}"
        assert page.locator(f"{SCOPE} .jp-RenderedMarkdown code").count() == 0, "inline code in the demo's text"
        assert page.locator(f"{SCOPE} .jp-InputArea-editor:visible").count() == 0, "the demo shows code"
        console = page.locator(
            f'{SCOPE} [data-mime-type^="application/vnd.jupyter.std"], {SCOPE} .widget-hprogress, {SCOPE} progress'
        )
        assert console.count() == 0, f"{lesson} demo shows console output: {console.all_inner_texts()}"
        headings = page.locator(f"{SCOPE} h2").all_inner_texts()
        assert _numbers(headings, r"(\d+)\.") == list(range(1, len(headings) + 1)), headings
        figures = _numbers(text.splitlines(), r"Figure (\d+)\.")
        assert figures == list(range(1, len(figures) + 1)), figures
        alts = page.locator(f"{SCOPE} img").evaluate_all("imgs => imgs.map(i => i.alt)")
        assert all(a.strip() for a in alts), "every figure needs an alt text"
        cells = json.loads((all_lessons.folder / f"{lesson}.ipynb").read_text())["cells"]
        captions = [ast.literal_eval(m.group(1)) for c in cells for m in FIGURE_ALT.finditer(c["source"])]
        assert captions and set(captions) <= set(alts), "each figure's alt text is its caption's"
        changes = browser_page.change_each_explorer(page, SCOPE)
        violations = axe.run_axe(page, ["html"])
        browser_page.record(ARTIFACTS, "demo-accessibility", {lesson: violations})
        timing = {"first_figure_s": round(first_figure, 1), "load_average": load_average(), "changes": changes}
        browser_page.record(ARTIFACTS, "demo-redraws", {lesson: timing})  # measured, not judged: bench browser
        presented = {f"{w}x{h}": _check_presentation(page, lesson, w, h) for w, h in PRESENTER_SIZES}
        browser_page.record(ARTIFACTS, "demo-presenter", {lesson: presented})
        problems = {size: _presentation_problems(m) for size, m in presented.items()}
        assert not any(problems.values()), f"{lesson} demo on a projector: {problems}"
        assert not violations, f"{lesson} demo: accessibility: {axe.summary(violations)}"
        watch.check(f"{lesson} demo")
    finally:
        _leave(page, all_lessons.server, before)


# Each way of leaving a demo page: (server, lesson, how the page is entered, how it is left).
WAYS = {
    "one lesson (make demo LESSON=04), fresh browser: tab closed": (
        "one_lesson",
        "04_human_with_ai",
        "address",
        "close",
    ),
    "one lesson: page reloaded": ("one_lesson", "04_human_with_ai", "address", "reload"),
    "all lessons: lesson address opened in a fresh browser, tab closed": (
        "all_lessons",
        "00_welcome",
        "address",
        "close",
    ),
    "all lessons: from the list, back by the page's 'All lessons' link": ("all_lessons", "00_welcome", "list", "link"),
    "all lessons: from the list, back by the browser's Back button": ("all_lessons", "00_welcome", "list", "back"),
    "all lessons: page reloaded": ("all_lessons", "00_welcome", "address", "reload"),
    "all lessons: navigated to another site": ("all_lessons", "00_welcome", "address", "away"),
    f"browser gone without a word (crash): culled when idle (test server: {CULL_TEST_S} s)": (
        "culling",
        "00_welcome",
        "address",
        "vanish",
    ),
}


def _wait_for_end(server: servers.Server, kernels: set[int], timeout: float) -> float:
    """Seconds until none of ``kernels`` runs any more (fails after ``timeout``)."""
    start = time.monotonic()
    while server.kernels() & kernels:
        assert time.monotonic() - start < timeout, (
            f"kernels {kernels & server.kernels()} still run after {timeout:.0f} s"
        )
        time.sleep(0.25)
    return time.monotonic() - start


def _write_kernel_table(rows: dict) -> None:
    lines = [
        "| way of leaving a demo page | kernels before | with the page open | after leaving | the page's kernel ended after |",
        "|---|---|---|---|---|",
    ]
    for way, row in rows.items():
        lines.append(f"| {way} | {row['before']} | {row['open']} | {row['after']} | {row['ended_after_s']} s |")
    (ARTIFACTS / "demo-kernels.md").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("way", list(WAYS))
def test_leaving_a_demo_page_ends_its_kernel(way, request, chromium):
    """Counts the server's kernels before a page is opened, while it is open, and after it was left."""
    fixture, lesson, enter, leave = WAYS[way]
    served: Demo = request.getfixturevalue(fixture)
    server = served.server
    before = server.kernels()
    watch = browser_page.Watch()
    page = _new_page(chromium, watch)
    try:
        if enter == "list":
            page.goto(served.addresses["list of lessons"])
            page.locator(f"main a[href$='/{lesson}.ipynb']").click()
        else:
            page.goto(served.addresses[lesson], wait_until="commit")
        served.wait_until_shown(page, lesson)
        now = server.kernels()
        opened = now - before
        assert len(opened) == 1, f"the page should run one kernel of its own, not {len(opened)}"
        if leave == "close":
            _close_tab(page)
        elif leave == "reload":
            page.reload(wait_until="commit")
        elif leave == "link":
            page.locator(".medai-demo-nav a").click()
            page.locator("main li a").first.wait_for()
        elif leave == "back":
            page.go_back()
            page.locator("main li a").first.wait_for()
        elif leave == "away":
            page.goto("about:blank")
        else:  # the browser ends without running the page's unload handlers
            page.context.close()
        ended = _wait_for_end(server, opened, CULL_TEST_S + 30 if leave == "vanish" else KERNEL_WAIT_S)
        after = server.kernels()
        if leave == "reload":  # the reloaded page runs a kernel of its own, a new one
            served.wait_until_shown(page, lesson)
            after = server.kernels()
            assert len(after - before) == 1 and not after & opened
        else:
            assert after <= before, f"{len(after - before)} kernel(s) left running"
        row = {"before": len(before), "open": len(now), "after": len(after), "ended_after_s": round(ended, 1)}
        rows = json.loads(browser_page.record(ARTIFACTS, "demo-kernels", {way: row}).read_text())
        _write_kernel_table({w: rows[w] for w in WAYS if w in rows})
        if leave != "vanish":
            watch.check(way)
    finally:
        _leave(page, server, before)
