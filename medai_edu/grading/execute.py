"""Drive the runner from outside the sandbox: per-cell timeouts, crashes and restarts.

A cell that kills its Python (``os._exit``, a signal, the memory or CPU-time limit) or runs past
the per-cell timeout gets an error output that says so, and a new runner continues with the
next cell after silently replaying the cells before it (answers and lesson code, not tests).
So a crash costs the exercises it touches, not the whole submission.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from medai_edu.data.cache import SHARED_ENV_VAR, shared_cache_dir
from medai_edu.grading import sandbox
from medai_edu.grading.plan import PlannedCell

MAX_RESTARTS = 3


@dataclass
class RunSettings:
    cell_timeout: float = 300.0
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    isolated: bool = True
    cache: Path | None = None  # the lesson data cache (read-only inside the sandbox)
    cache_writable: bool = False  # only for the instructor's own reference run
    mpl_template: Path | None = None  # a warm matplotlib font cache to start from
    output_limit: int = 100_000


@dataclass
class RunResult:
    outputs: dict[int, list[dict]]  # cell index -> nbformat outputs
    problems: list[str]  # crashes and timeouts, in words
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


def _error(reason: str) -> list[dict]:
    return [{"output_type": "error", "ename": "NotGraded", "evalue": reason, "traceback": [f"NotGraded: {reason}"]}]


def _death(returncode: int, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return f"the cell ran longer than the {timeout:g} s limit and was stopped"
    if returncode > 128:  # bubblewrap reports a child killed by a signal as 128 + the signal
        returncode = 128 - returncode
    if returncode < 0:
        name = signal.Signals(-returncode).name
        why = {
            "SIGXCPU": "it used up the CPU-time limit",
            "SIGKILL": "it was killed (memory or CPU-time limit)",
            "SIGSEGV": "it crashed (segmentation fault)",
        }.get(name, f"signal {name}")
        return f"the grader's Python stopped during this cell: {why}"
    return f"the grader's Python stopped during this cell (exit code {returncode})"


def _environment(run_dir: Path, settings: RunSettings) -> dict[str, str]:
    home = sandbox.HOME if settings.isolated else str(run_dir / "home")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "TQDM_DISABLE": "1",
        "MEDAI_DEVICE": "cpu",
        "NBGRADER_EXECUTION": "autograde",
        "MEDAI_EDU_GRADED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if settings.cache:
        env["MEDAI_EDU_CACHE"] = str(settings.cache if settings.cache_writable else run_dir / "cache")
    shared = _shared_cache()
    if shared:
        env[SHARED_ENV_VAR] = str(shared)
    return env


def _shared_cache() -> Path | None:
    """The hub's shared read-only data cache, when the grader runs with one (read-only in the sandbox too)."""
    shared = shared_cache_dir()
    return shared.resolve() if shared and shared.is_dir() else None


def _prepare(run_dir: Path, submission_files: Path, settings: RunSettings) -> None:
    """The run's folders: a copy of the submission (its home) and a private view of the cache."""
    home = run_dir / "home"
    if home.exists():
        return
    shutil.copytree(submission_files, home, symlinks=True)
    if settings.mpl_template and settings.mpl_template.is_dir():
        shutil.copytree(settings.mpl_template, home / ".matplotlib")
    (run_dir / "job").mkdir()
    if settings.cache and not settings.cache_writable:
        (run_dir / "cache").mkdir()
        for item in settings.cache.glob("*"):
            if item.suffix != ".lock":  # a build in the sandbox locks in its own folder
                (run_dir / "cache" / item.name).symlink_to(item.resolve())
    os.chmod(run_dir, 0o755)
    for path in [home, *home.rglob("*"), run_dir / "cache"]:
        if path.exists() and not path.is_symlink():
            os.chmod(path, 0o777 if path.is_dir() else 0o666)


def _runner_argv(job_path: str) -> list[str]:
    """Python, isolated from the environment, importing this very library (the sandbox binds it)."""
    import medai_edu

    library_parent = str(Path(medai_edu.__file__).resolve().parents[1])
    code = f"import sys; sys.path.insert(0, {library_parent!r}); from medai_edu.grading.runner import main; main({job_path!r})"
    return [sys.executable, "-I", "-c", code]


def _launch(run_dir: Path, job: dict, settings: RunSettings) -> tuple[subprocess.Popen, str]:
    (run_dir / "job" / "job.json").write_text(json.dumps(job))
    os.chmod(run_dir / "job" / "job.json", 0o644)
    home = run_dir / "home"
    if settings.isolated:
        job_path = f"{sandbox.JOB_DIR}/job.json"
        readable, writable = [], []
        if settings.cache and settings.cache_writable:
            writable = [settings.cache.resolve()]
        elif settings.cache:
            readable = [settings.cache.resolve(), run_dir / "cache"]  # the real files, and this run's links to them
        readable += [shared] if (shared := _shared_cache()) else []
        argv = sandbox.command(_runner_argv(job_path), home, run_dir / "job", readable, writable)
    else:
        argv = _runner_argv(str(run_dir / "job" / "job.json"))
    token = secrets.token_hex(16)
    process = subprocess.Popen(
        argv,
        cwd=home,
        env=_environment(run_dir, settings),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(run_dir / "stderr.txt", "ab"),
        preexec_fn=sandbox.limiter(settings.limits),
        start_new_session=True,
    )
    process.stdin.write(f"{token}\n".encode())
    process.stdin.close()
    return process, token


def _lines(process: subprocess.Popen, token: str) -> queue.Queue:
    """Events from the runner, on a queue (None at the end)."""
    events: queue.Queue = queue.Queue()
    prefix = token.encode() + b" "

    def read() -> None:
        for line in process.stdout:
            if line.startswith(prefix):
                try:
                    events.put(json.loads(line[len(prefix) :]))
                except ValueError:
                    pass
        events.put(None)

    threading.Thread(target=read, daemon=True).start()
    return events


def _stop(process: subprocess.Popen) -> None:
    """Kill the sandbox (bubblewrap's --die-with-parent takes everything inside with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(process: subprocess.Popen) -> float:
    """Wait for the runner; returns the CPU seconds it and everything it waited for used."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def run(
    cells: list[PlannedCell], imports: list[str], submission_files: Path, run_dir: Path, settings: RunSettings
) -> RunResult:
    """Execute a plan in the sandbox; every code cell that should run ends with outputs."""
    _prepare(run_dir, submission_files, settings)
    code = [i for i, c in enumerate(cells) if c.kind != "text"]
    result = RunResult({}, [])
    start_at, skip, restarts = 0, set(), 0
    began = time.perf_counter()
    while True:
        job = {
            "cells": [asdict(c) for c in cells],
            "imports": imports,
            "start_at": start_at,
            "skip": sorted(skip),
            "output_limit": settings.output_limit,
        }
        process, token = _launch(run_dir, job, settings)
        events = _lines(process, token)
        current, finished, timed_out = None, False, False
        deadline = time.monotonic() + settings.cell_timeout + 120  # start-up: imports of the whole lesson
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                timed_out = True
                _stop(process)
                break
            if event is None:
                break
            if event.get("event") == "start" and event.get("cell") in code:
                current, deadline = event["cell"], time.monotonic() + settings.cell_timeout
            elif event.get("event") == "done" and event.get("cell") == current and current not in result.outputs:
                result.outputs[current] = event.get("outputs") or []
                current, deadline = None, time.monotonic() + settings.cell_timeout
            elif event.get("event") == "finished":
                finished = True
                result.cpu_seconds += float(event.get("cpu_seconds") or 0)
        spent = _reap(process)
        result.cpu_seconds += 0 if finished else spent  # a runner that died cannot report its own
        if finished and current is None:
            break
        reason = _death(process.returncode, timed_out, settings.cell_timeout)
        if current is None:  # died between cells or at start-up: nothing is to blame but the start
            current = next((i for i in code if i not in result.outputs and i >= start_at), None)
            if current is None:
                break
        result.outputs[current] = _error(reason)
        result.problems.append(f"cell {current + 1}: {reason}")
        skip.add(current)
        start_at, restarts = current + 1, restarts + 1
        if restarts > MAX_RESTARTS:
            for i in code:
                result.outputs.setdefault(i, _error(f"not run: the grader's Python stopped {restarts} times"))
            break
    result.wall_seconds = time.perf_counter() - began
    return result
