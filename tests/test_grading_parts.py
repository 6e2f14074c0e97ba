"""The grader's parts, quickly: slicing, the rebuilt notebook, plain data, sanitising, the judge's errors,
whole-sandbox limits and the sandbox itself."""

from __future__ import annotations

import ast
import copy
import math
import subprocess
import sys
import textwrap
import time

import nbformat
import numpy as np
import pytest
import torch
from conftest import ROOT
from medai_edu_ops.grading import confine, judge, plain, plan, sandbox, sanitize, slicing

bwrap_missing = pytest.mark.skipif(
    sandbox.bwrap_problem() is not None, reason="bubblewrap unavailable (test_grading fails and says why)"
)


def _lesson(name: str = "00_welcome"):
    read = lambda folder: nbformat.read(ROOT / folder / name / f"{name}.ipynb", as_version=4)  # noqa: E731
    return read("solutions"), read("course")


def test_slicing_keeps_what_answers_and_tests_use_and_drops_figures():
    cells = [
        slicing.statements("import numpy as np\nfrom medai_edu import viz\nQUICK = True"),
        slicing.statements("data = np.ones(3)\nviz.plot(data)\nunused = np.zeros(9)\nprint(data)"),
        [],
    ]
    kept = slicing.select(cells, [set(), set(), {"data", "answer"}])
    assert [s.source.strip() for s in kept[1]] == ["data = np.ones(3)"]
    assert [s.source.strip() for s in kept[0]] == ["import numpy as np"]
    assert slicing.identifiers("%time x = TP + 1\n!ls $HOME") >= {"time", "x", "TP", "ls", "HOME"}


def _first_exercise(source):
    """(the first code answer's grade id, the grade id of its test), read from the notebook."""
    cells = source.cells
    i, answer = next(
        (i, c) for i, c in enumerate(cells) if c.cell_type == "code" and plan.nbgrader_meta(c).get("solution")
    )
    gid = plan.grade_id(answer)
    tests = [plan.grade_id(c) for c in cells[i + 1 :] if plan.nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    return gid, f"test-{gid}" if f"test-{gid}" in tests else tests[0]


def test_plan_takes_answers_from_the_student_and_everything_else_from_the_lesson():
    source, release = _lesson()
    answer_id, test_id = _first_exercise(source)
    reference = plan.build(source, release, release)
    lesson_index = next(i for i, c in enumerate(reference.cells) if c.kind == "lesson" and "=" in c.judge)
    submitted = copy.deepcopy(release)
    submitted.cells[lesson_index].source = "EDITED_BY_THE_STUDENT = 1"
    next(c for c in submitted.cells if plan.grade_id(c) == answer_id).source = "my_answer = 0.05"
    built = plan.build(source, release, submitted)
    assert "my_answer = 0.05" in [c.run.strip() for c in built.cells]
    assert not any("EDITED_BY_THE_STUDENT" in c.run + c.judge for c in built.cells)
    assert [c.judge for c in built.cells if c.kind == "lesson"] == [
        c.judge for c in reference.cells if c.kind == "lesson"
    ]
    assert not any("check_machine" in c.run + c.judge for c in built.cells), "the machine check decides no grade"
    test = next(c for c in built.cells if c.grade_id == test_id)
    assert test.kind == "test" and "checks." in test.judge and "BEGIN HIDDEN TESTS" in test.hidden
    assert test.reads and set(test.reads) <= plan.answer_names(source) and test.run == "" and test.refused is None
    assert built.notes == [f"edits to lesson cell(s) {lesson_index + 1} are not graded: the lesson's version ran"]
    steps = built.judge_steps()
    assert [s["grade_id"] for s in steps if s["kind"] == "test"] == [
        plan.grade_id(c) for c in release.cells if plan.nbgrader_meta(c).get("grade") and c.cell_type == "code"
    ]


def test_plan_prices_a_tampered_test_and_keeps_the_rest():
    source, release = _lesson()
    _, test_id = _first_exercise(source)
    submitted = copy.deepcopy(release)
    test = next(c for c in submitted.cells if plan.grade_id(c) == test_id)
    points = test.metadata["nbgrader"]["points"]
    test.metadata["nbgrader"]["points"] = points + 30
    built = plan.build(source, release, submitted)
    assert {c.grade_id: c.refused for c in built.cells if c.refused} == {test_id: "test cell metadata changed"}
    restored = next(c for c in built.notebook.cells if plan.grade_id(c) == test_id)
    assert restored.metadata["nbgrader"]["points"] == points


def test_plan_reads_odd_cells_without_failing():
    source, release = _lesson()
    answer_id, _ = _first_exercise(source)
    submitted = copy.deepcopy(release)
    submitted.cells.append(nbformat.from_dict({"cell_type": "code", "source": 12, "metadata": ["x"]}))
    next(c for c in submitted.cells if plan.grade_id(c) == answer_id).source = ["my_", "answer = 1\ud800"]
    built = plan.build(source, release, submitted)
    assert next(c for c in built.cells if c.grade_id == answer_id).run == "my_answer = 1\ufffd"
    with pytest.raises(ValueError, match="no list of cells"):
        plan.build(source, release, nbformat.from_dict({"cells": {"a": 1}}))


def test_plain_data_crosses_as_fresh_builtin_objects():
    value = {"a": [1, 2.5, float("nan"), None, True], 3: (np.float64(0.5), np.int32(7)), "s": "x\ud800"}
    back = plain.decode(plain.encode(value))
    assert back["a"][:2] == [1, 2.5] and math.isnan(back["a"][2]) and back[3] == (0.5, 7) and back["s"] == "x\ufffd"
    assert type(back[3][0]) is float and type(back[3][1]) is int
    array = np.arange(6, dtype=">i4").reshape(2, 3)[:, ::2]
    assert (plain.decode(plain.encode(array)) == array).all()
    tensor = torch.tensor([1.0, 2.0], requires_grad=True)
    decoded = plain.decode(plain.encode(tensor))
    assert type(decoded) is torch.Tensor and decoded.requires_grad and decoded.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "liar",
    [
        type("F", (float,), {"__sub__": lambda s, o: 0.0})(0.3),
        type("S", (str,), {"upper": lambda s: "C"})("A"),
        type("D", (dict,), {})(a=1),
        np.arange(3).view(type("A", (np.ndarray,), {})),
        torch.zeros(2).as_subclass(type("T", (torch.Tensor,), {})),
        [1, type("I", (int,), {})(2)],
        np.array([object()]),
        lambda x: x,
    ],
    ids=["float", "str", "dict", "ndarray", "tensor", "nested int", "object array", "function"],
)
def test_lying_objects_are_not_plain(liar):
    with pytest.raises(plain.NotPlain):
        plain.encode(liar)


@pytest.mark.parametrize(
    "forged",
    [
        {"tuple": [1], "x": 2},
        {"array": {"dtype": "|O", "shape": [1], "data": ""}},
        {"array": {"dtype": "<f8", "shape": [2], "data": "AAAA"}},
        {"float": "1e999"},
        {"function": 1, "name": "f"},
        {"dict": [[[1], 2]]},
    ],
)
def test_decoding_refuses_what_encode_never_writes(forged):
    with pytest.raises(ValueError):
        plain.decode(forged)


def test_student_errors_come_back_with_their_hints():
    """An error in the student's function, rebuilt in the judge, reads as the student's own in the checks' hints."""
    from medai_edu import checks

    error = {"type": "NameError", "message": "name 'mean' is not defined", "name": "mean"}
    try:
        judge.raise_through(judge.rebuild(error), [["<ipython-input-7-answer>", 3, "my_ncc", "return mean(a)"]])
    except NameError as raised:
        hint, context = checks.hint_for(raised)
    assert hint and "mean" in hint and any("my_ncc" in line and "return mean(a)" in line for line in context)
    odd = judge.rebuild({"type": "CheckFailed", "message": "pretend"})
    assert type(odd).__name__ == "CheckFailed" and not isinstance(odd, AssertionError)
    error = judge.test_error(judge.rebuild({"type": "ValueError", "message": "secret inputs 1 2 3"}), "hidden")
    assert "secret" not in str(error) and error["evalue"] == "your code raised ValueError while a hidden test ran"


def test_markdown_is_rendered_inert():
    notes: list[str] = []
    attachments = {"a.png": {"image/png": sanitize.base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()}}
    attachments["b.svg"] = {"image/svg+xml": "PHN2Zz4="}
    html = sanitize.markdown(
        "**ok** <script>alert(1)</script><img src=x onerror=alert(2)> [a](javascript:alert(3)) "
        "<iframe></iframe><svg onload=alert(4)></svg> ![p](attachment:a.png) ![q](attachment:b.svg) ![r](attachment:no)\n\n"
        "```\ncode\n\n\nmore\n```",
        attachments,
        notes,
    )
    for bad in ("<script", "onerror", "javascript:", "<iframe", "<svg", "onload", "\n"):
        assert bad not in html
    assert "<strong>ok</strong>" in html and 'src="data:image/png;base64,' in html and html.count("data:") == 1
    assert notes == ["attachment 'b.svg' dropped: not a PNG, JPEG or GIF image of at most 1 MB"]
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    assert markdown2html_mistune(html).strip() == html, "stored HTML must not be parsed as markdown again"


def test_only_inert_outputs_survive():
    found = [
        {"output_type": "display_data", "data": {"text/html": "<script>x</script>", "text/plain": "shown"}},
        {"output_type": "stream", "name": "evil", "text": "a\udcff" + "b" * 200_000},
        {"output_type": "error", "ename": "E" * 500, "evalue": "v", "traceback": ["t"] * 100},
        {"output_type": "update_display_data", "data": {}},
        "not a dict",
    ]
    kept = sanitize.outputs(found, 3)
    assert [o["output_type"] for o in kept] == ["display_data", "stream", "error"]
    assert kept[0]["data"] == {"text/plain": "shown"} and kept[1]["name"] == "stdout" and "\ufffd" in kept[1]["text"]
    assert len(kept[1]["text"]) < 110_000 and len(kept[2]["ename"]) == 100 and len(kept[2]["traceback"]) == 60


def test_whole_sandbox_limits_are_enforced_here():
    """This machine offers cgroups to the grader (root); elsewhere the fallback is rlimits and a watchdog."""
    mode = confine.mode()
    print("whole-sandbox limits:", mode)
    if sandbox.bwrap_problem() is None and __import__("os").geteuid() == 0:
        assert mode.startswith("cgroup")


@bwrap_missing
@pytest.mark.parametrize("use_cgroups", [True, False], ids=["cgroups", "rlimits and watchdog"])
def test_forked_children_cannot_hold_more_than_the_sandbox(tmp_path, use_cgroups):
    """Four children of 300 MB each in a 600 MB sandbox: the sandbox never holds all of them."""
    import psutil

    limits = confine.Limits(memory_bytes=600 << 20, processes=16, disk_bytes=64 << 20)
    (tmp_path / "job").mkdir()
    code = textwrap.dedent("""
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                block = b"m" * (300 << 20)
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
    """)
    confinement = confine.Confinement(limits, use_cgroups)
    argv = sandbox.command([sys.executable, "-I", "-c", code], None, tmp_path / "job", [], limits=limits)
    process = subprocess.Popen(
        argv, preexec_fn=confinement.preexec, start_new_session=True, env={"PATH": "/usr/bin:/bin"}
    )
    confinement.watch(process.pid)
    peak = 0
    try:
        for _ in range(100):
            try:
                tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.name() != "bwrap"))
            except psutil.Error:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        confinement.close()
    print(f"peak {peak >> 20} MB in a {limits.memory_bytes >> 20} MB sandbox ({confinement.kind})")
    assert peak < 1.3 * limits.memory_bytes, f"the sandbox held {peak >> 20} MB ({confinement.kind})"
    assert confinement.kind == ("rlimits + watchdog" if not use_cgroups else confine.mode())


@bwrap_missing
def test_the_sandbox_has_no_network_sees_no_course_files_and_small_private_folders(tmp_path):
    """No network, no course folder or nbgrader config, but the library itself (the lessons import it)."""
    from medai_edu import checks

    (tmp_path / "job").mkdir()
    probe = textwrap.dedent(f"""
        import os, socket
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=3)
            print("network reached")
        except OSError:
            print("no network")
        print(os.path.exists({str(ROOT / "solutions")!r}), os.path.exists({str(ROOT / "nbgrader_config.py")!r}),
              os.path.exists({checks.__file__!r}), os.getuid())
        print(open("/etc/passwd").read().count(":x:"), sorted(os.listdir("/etc")))
        for folder in ("/tmp", os.getcwd(), "/dev/shm"):
            written = 0
            try:
                with open(os.path.join(folder, "fill"), "wb") as f:
                    for _ in range(40):
                        f.write(b"x" * (1 << 20))
                        f.flush()
                        written += 1
            except OSError:
                pass
            print(folder, written)
    """)
    limits = confine.Limits(disk_bytes=8 << 20)
    argv = sandbox.command([sys.executable, "-I", "-c", probe], None, tmp_path / "job", [], limits=limits)
    done = subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    lines = done.stdout.split("\n")
    assert lines[:3] == [
        "no network",
        "False False True 65534",
        "1 ['group', 'ld.so.cache', 'localtime', 'passwd']",
    ], done.stdout + done.stderr
    assert [int(line.split()[1]) for line in lines[3:6]] == [8, 8, 8], lines


def test_graded_code_reads_the_hubs_shared_cache_when_there_is_one(tmp_path, monkeypatch):
    from medai_edu_ops.grading import execute

    from medai_edu.data import cache

    settings = execute.RunSettings(cache=tmp_path / "own")
    monkeypatch.delenv(cache.SHARED_ENV_VAR, raising=False)
    assert cache.SHARED_ENV_VAR not in execute._environment("/home/student", settings, tmp_path)
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(tmp_path / "absent"))
    assert cache.SHARED_ENV_VAR not in execute._environment("/home/student", settings, tmp_path)  # nothing to bind
    (tmp_path / "shared").mkdir()
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(tmp_path / "shared"))
    env = execute._environment("/home/student", settings, tmp_path)
    assert env[cache.SHARED_ENV_VAR] == str((tmp_path / "shared").resolve())


def test_formgrader_policy_allows_scripts_only_from_the_two_static_folders():
    from medai_edu_ops.grading import formgrader_csp

    policy = formgrader_csp.page_policy("http://127.0.0.1:8888", "/user/teacher/")
    assert "script-src http://127.0.0.1:8888/user/teacher/formgrader/static/ " in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "default-src 'none'" in policy and "base-uri 'none'" in policy


@pytest.mark.parametrize("lesson", sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))
def test_each_test_cell_reads_only_lesson_and_answer_names(lesson):
    """The judge runs every test cell in a fresh copy of the lesson's namespace: a test may read what
    the lesson and the answers bind and what it binds itself, never what an earlier test bound."""
    import builtins

    source = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    answers, lesson_names, problems = plan.answer_names(source), set(), []
    for cell in source.cells:
        meta = plan.nbgrader_meta(cell)
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        code = plan.to_python(cell.source)
        bound, used = slicing.cell_names(code)
        bound |= {a.arg for a in ast.walk(ast.parse(code)) if isinstance(a, ast.arg)}  # a helper's parameters
        bound |= {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if meta.get("grade"):
            stray = used - bound - lesson_names - answers - set(dir(builtins))
            if stray:
                problems.append(f"{meta.get('grade_id')} reads {sorted(stray)}")
        else:
            lesson_names |= bound
    assert not problems, problems


def test_a_text_answer_left_as_released_stays_the_lessons_text():
    """nbgrader scores an unchanged text answer 0 without manual grading only if its checksum still
    matches: an unanswered reflection is passed on as released; an answered one is sanitised."""
    from medai_edu_ops.grading import course

    source, release = _lesson()
    gid = next(
        plan.grade_id(c) for c in release.cells if c.cell_type == "markdown" and plan.nbgrader_meta(c).get("solution")
    )
    released = next(c.source for c in release.cells if plan.grade_id(c) == gid)
    answered = copy.deepcopy(release)
    next(c for c in answered.cells if plan.grade_id(c) == gid).source = "My answer <script>alert(1)</script>"
    texts = []
    for submitted in (copy.deepcopy(release), answered):
        built = plan.build(source, release, submitted)
        course._clean(built, release, built.notes)
        texts.append(next(c.source for c in built.notebook.cells if plan.grade_id(c) == gid))
    assert texts[0] == released
    assert "My answer" in texts[1] and "<script" not in texts[1] and texts[1].startswith('<div class="student-answer">')
