"""The grader's parts, quickly: slicing, the rebuilt notebook, the runner's snapshot and the sandbox."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap

import nbformat
import pytest
from conftest import ROOT

from medai_edu.grading import plan, sandbox, slicing


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


def test_plan_takes_answers_from_the_student_and_everything_else_from_the_lesson():
    source, release = _lesson()
    submitted = copy.deepcopy(release)
    lesson_cell = next(c for c in submitted.cells if c.cell_type == "code" and "TP, FP" in c.source)
    lesson_cell.source = "TP, FP, FN, TN = 0, 0, 0, 0"  # the student changed the data
    answer = next(c for c in submitted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "warmup-prevalence")
    answer.source = "prevalence = 0.05"
    built = plan.build(source, release, submitted)
    runs = [c.run for c in built.cells]
    assert "prevalence = 0.05" in [r.strip() for r in runs]
    assert any("45, 95, 5, 855" in r for r in runs) and not any("0, 0, 0, 0" in r for r in runs)
    assert not any("check_machine" in r for r in runs), "the machine check decides no grade and is not run"
    test = next(c for c in built.cells if c.grade_id == "test-warmup-prevalence")
    assert "BEGIN HIDDEN TESTS" in test.run and test.refused is None and test.hidden_from
    assert built.notes == ["edits to lesson cell(s) 14 are not graded: the lesson's version ran"]


def test_plan_prices_a_tampered_test_and_keeps_the_rest():
    source, release = _lesson()
    submitted = copy.deepcopy(release)
    test = next(c for c in submitted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test-triage-metrics")
    test.metadata["nbgrader"]["points"] = 30
    built = plan.build(source, release, submitted)
    refused = {c.grade_id: c.refused for c in built.cells if c.refused}
    assert refused == {"test-triage-metrics": "test cell metadata changed"}
    restored = next(
        c for c in built.notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test-triage-metrics"
    )
    assert restored.metadata["nbgrader"]["points"] == 3


GUARD_SCRIPT = textwrap.dedent("""
    import builtins, sys, numpy
    from medai_edu import checks
    from medai_edu.grading.runner import Guard
    guard = Guard()
    real_abs, real_check, real_code = builtins.abs, checks.check_prevalence, checks.check_choice.__code__
    builtins.abs = lambda x: 0
    checks.check_prevalence = lambda *a: None
    checks.check_choice.__code__ = (lambda *a, **k: None).__code__
    numpy.isclose = lambda *a, **k: True
    sys.modules["medai_edu.training.fake"] = type(sys)("fake")
    sys.settrace(lambda *a: None)
    found = guard.changes()
    assert any("builtins" in f for f in found) and any("medai_edu.checks" in f for f in found), found
    guard.restore()
    assert builtins.abs is real_abs and checks.check_prevalence is real_check
    assert checks.check_choice.__code__ is real_code and numpy.isclose(1, 2) == False
    assert sys.gettrace() is None and "medai_edu.training.fake" not in sys.modules
    assert guard.changes() == [], guard.changes()
    print("restored")
""")


def test_the_runner_snapshot_undoes_monkeypatching():
    done = subprocess.run([sys.executable, "-c", GUARD_SCRIPT], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "restored", done.stderr


@pytest.mark.skipif(
    sandbox.bwrap_problem() is not None, reason="bubblewrap unavailable (test_grading fails and says why)"
)
def test_the_sandbox_has_no_network_and_sees_no_course_files(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "job").mkdir()
    probe = textwrap.dedent(f"""
        import os, socket
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=3)
            print("network reached")
        except OSError:
            print("no network")
        print(os.path.exists({str(ROOT / "solutions")!r}), os.path.exists({str(ROOT / "nbgrader_config.py")!r}),
              os.path.exists({str(ROOT / "medai_edu" / "checks.py")!r}), os.getuid())
        print(open("/etc/passwd").read().count(":x:"), sorted(os.listdir("/etc")))
    """)
    argv = sandbox.command([sys.executable, "-I", "-c", probe], tmp_path / "home", tmp_path / "job", [])
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        preexec_fn=sandbox.limiter(sandbox.Limits()),
    )
    assert done.stdout.split("\n")[:3] == [
        "no network",
        "False False True 65534",
        "1 ['group', 'ld.so.cache', 'localtime', 'passwd']",
    ], done.stdout + done.stderr


def test_graded_code_reads_the_hubs_shared_cache_when_there_is_one(tmp_path, monkeypatch):
    from medai_edu.data import cache
    from medai_edu.grading import execute

    settings = execute.RunSettings(cache=tmp_path / "own")
    monkeypatch.delenv(cache.SHARED_ENV_VAR, raising=False)
    assert cache.SHARED_ENV_VAR not in execute._environment(tmp_path, settings)
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(tmp_path / "absent"))
    assert cache.SHARED_ENV_VAR not in execute._environment(tmp_path, settings)  # nothing to bind
    (tmp_path / "shared").mkdir()
    monkeypatch.setenv(cache.SHARED_ENV_VAR, str(tmp_path / "shared"))
    assert execute._environment(tmp_path, settings)[cache.SHARED_ENV_VAR] == str((tmp_path / "shared").resolve())
