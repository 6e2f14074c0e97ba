"""`medai-edu bench hub` on a small class: the same code as the 20-student load test, bounded and fast."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

import pytest
from medai_edu_ops.benchmarks import hub as bench_hub
from medai_edu_ops.hub.settings import HubError, HubSettings


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "the load test creates local accounts: it needs root"
    if not shutil.which("useradd"):
        return "no useradd on this machine"
    if not Path(HubSettings().proxy).exists():
        return "configurable-http-proxy is missing: run `make test` (it installs the hub's proxy from npm)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed: run `make test` (it installs the hub extra)"
    return None


def _errors(log: Path) -> str:
    """The hub log's error entries with their tracebacks (its tail is only the shutdown)."""
    entries, keep = [], False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("["):  # a new log entry: "[E 2026-... JupyterHub ...]"
            keep = line.startswith("[E ")
        if keep:
            entries.append(line)
    return "\n".join(entries)[-6000:] or f"no errors in the hub's log {log}"


def test_bad_class_sizes_and_lessons_are_refused_before_anything_is_created():
    with pytest.raises(HubError, match="between 1 and"):
        bench_hub.measure(0)
    with pytest.raises(HubError, match="no lesson '99_nothing'.*00_welcome"):
        bench_hub.lesson_cells("99_nothing")


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_two_students_arrive_at_once_and_each_sees_a_figure(tmp_path):
    # servers started before the lesson (as docs/hub.md advises); no shared cache built here (minutes in CI):
    # lesson 00's kernels compute what they need themselves
    result = bench_hub.measure(2, "00_welcome", timeout=400, log_dir=tmp_path, build_cache=False)
    summary = result.summary()
    assert summary["failures"] == 0, [s.error for s in result.per_student] + [_errors(Path(result.log))]
    assert summary["servers_first"] and summary["cache_build_s"] is None
    for student in result.per_student:
        assert 0 < student.ready_s <= summary["all_ready_s"]  # from the servers' start, before the lesson's clock
        assert 0 < student.first_figure_s <= student.done_s
        assert 100 < student.peak_rss_mb < 2048  # a JupyterLab server and a kernel with the lesson loaded
        with pytest.raises(KeyError):
            pwd.getpwnam(student.name)  # the test accounts are gone
    assert "| 00_welcome | 2 |" in bench_hub.table(bench_hub.report([result]))
