"""Grade one notebook: drive its sandbox and its judge, relay between them, time out and restart.

The grader sends the sandbox (:mod:`.runner`) one command at a time and reads one answer, with a
deadline; every line the sandbox writes is untrusted (length-capped, parsed, checked against the
question asked; anything else is dropped). For a test cell the sandbox forks a witness, the judge
(:mod:`.judge`) runs the test, and each of the judge's questions goes to the witness and its answer
back to the judge. What the test decided comes from the judge alone.

A cell that kills the sandbox's Python (``os._exit``, a signal, a limit) or runs past the per-cell
timeout gets an error output that says so; a new sandbox then replays the cells before it
(answers and lesson statements, silently) and grading goes on. So a crash costs the exercises it
touches, not the whole submission.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from medai_edu.data.cache import SHARED_ENV_VAR, shared_cache_dir
from medai_edu_ops.grading import sandbox, sanitize
from medai_edu_ops.grading.confine import Confinement, Limits
from medai_edu_ops.grading.plan import Plan

MAX_RESTARTS = 3
MAX_LINE = 40 << 20  # bytes of one line from the sandbox (a value is at most 16 MB of numbers)
MAX_JUNK = 10_000  # lines that answer nothing the grader asked: then the sandbox is flooding its channel
START_SECONDS = 120.0  # a sandbox's start-up: imports of the lesson's modules
ANSWERS = {"run": ("done",), "serve": ("serving", "unserved"), "end": ("served",), "exit": ("bye",)}
VALUE_ANSWERS = ("value", "missing", "notplain", "raised")


@dataclass
class RunSettings:
    cell_timeout: float = 300.0
    limits: Limits = field(default_factory=Limits)
    isolated: bool = True
    cache: Path | None = None  # the lesson data cache (read-only inside the sandbox)
    cache_writable: bool = False  # only for the instructor's own reference run
    mpl_template: Path | None = None  # a warm matplotlib font cache to start from
    use_cgroups: bool = True  # False: the rlimits-and-watchdog fallback even where cgroups work (tests)


@dataclass
class RunResult:
    outputs: dict[int, list[dict]]  # cell index -> nbformat outputs
    passed: dict[str, bool]  # test grade_id -> passed, as the judge decided
    problems: list[str]  # crashes and timeouts, in words
    sandbox_cpu_seconds: float = 0.0  # every sandbox this notebook ran in
    judge_cpu_seconds: float = 0.0  # its session with the judge
    wall_seconds: float = 0.0


class Stopped(Exception):
    """The sandbox or the judge stopped answering; the message says why, for the student."""


def not_graded(reason: str) -> list[dict]:
    return [{"output_type": "error", "ename": "NotGraded", "evalue": reason, "traceback": [f"NotGraded: {reason}"]}]


class Lines:
    """Lines from a pipe or socket, each at most ``MAX_LINE`` bytes, parsed as JSON objects (others dropped)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.closed = False
        self.junk = 0
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _put(self, message: dict | None) -> bool:
        while not self.closed:
            try:
                self.queue.put(message, timeout=1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while not self.closed:
                line = stream.readline(MAX_LINE + 1)
                if not line:
                    break
                if len(line) > MAX_LINE:
                    self._put({"op": "_overlong"})
                    break
                try:
                    message = json.loads(line) if line[:1] == b"{" else None
                except ValueError:
                    message = None
                if type(message) is not dict:
                    self.junk += 1
                    if self.junk > MAX_JUNK:
                        self._put({"op": "_overlong"})
                        break
                elif not self._put(message):
                    return
        except (OSError, ValueError):
            pass
        self._put(None)

    def next(self, deadline: float) -> dict | None:
        """The next message before ``deadline`` (monotonic); None when the stream ended."""
        try:
            return self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError from None


def _death(returncode: int | None) -> str:
    if returncode is not None and returncode > 128:  # bubblewrap reports a child killed by a signal as 128 + it
        returncode = 128 - returncode
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        why = {
            "SIGXCPU": "it used up the CPU-time limit",
            "SIGKILL": "it was killed (memory or CPU-time limit)",
            "SIGSEGV": "it crashed (segmentation fault)",
        }.get(name, f"signal {name}")
        return f"the grader's Python stopped during this cell: {why}"
    return f"the grader's Python stopped during this cell (exit code {returncode})"


def _environment(home: str, settings: RunSettings, run_dir: Path | None) -> dict[str, str]:
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
        env["MEDAI_EDU_CACHE"] = str(run_dir / "cache" if run_dir and not settings.cache_writable else settings.cache)
    shared = _shared_cache()
    if shared:
        env[SHARED_ENV_VAR] = str(shared)
    return env


def _shared_cache() -> Path | None:
    """The hub's shared read-only data cache, when the grader runs with one (read-only in the sandbox too)."""
    shared = shared_cache_dir()
    return shared.resolve() if shared and shared.is_dir() else None


def _python(call: str) -> list[str]:
    """Python, isolated from the environment, importing this very library and runner (the sandbox binds them)."""
    parents = [str(folder.parent) for folder in sandbox.package_dirs()]
    return [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = {parents!r}; {call}"]


class Sandbox:
    """One runner process in its sandbox: ask it one thing at a time."""

    def __init__(self, plan: Plan, files: Path, run_dir: Path, settings: RunSettings) -> None:
        self.settings = settings
        job_dir = run_dir / "job"
        job_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(run_dir, 0o755)
        home_template = None
        if settings.isolated:
            home_template = sandbox.FILES_DIR
        job = {
            "cells": [{"kind": c.kind, "run": c.run} for c in plan.cells],
            "imports": plan.imports,
            "home_template": home_template,
        }
        (job_dir / "job.json").write_text(json.dumps(job))
        os.chmod(job_dir / "job.json", 0o644)
        self.confinement = Confinement(settings.limits, settings.use_cgroups and settings.isolated, settings.isolated)
        readable: list[Path] = [p for p in [_shared_cache()] if p]
        writable: list[Path] = []
        if settings.cache and settings.cache_writable:
            writable.append(settings.cache.resolve())
        elif settings.cache:
            readable += [settings.cache.resolve(), _cache_links(run_dir, settings.cache)]
        if settings.isolated:
            reference_home = run_dir / "home" if settings.cache_writable else None  # the model solution's caches stay
            if reference_home:
                reference_home.mkdir(exist_ok=True)
                os.chmod(reference_home, 0o777)
            argv = sandbox.command(
                _python(f"from medai_edu_ops.grading.runner import main; main({sandbox.JOB_DIR + '/job.json'!r})"),
                reference_home,
                job_dir,
                readable,
                writable,
                settings.limits,
                files=_readable_copy(files, run_dir, settings.mpl_template),
            )
            home, cwd = sandbox.HOME, run_dir
        else:
            cwd = run_dir / "home"
            if not cwd.exists():
                shutil.copytree(files, cwd, symlinks=True)
            argv = _python(f"from medai_edu_ops.grading.runner import main; main({str(job_dir / 'job.json')!r})")
            home = str(cwd)
        with open(run_dir / "stderr.txt", "ab") as errors:  # bubblewrap's own messages (size-limited)
            self.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=_environment(home, settings, run_dir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                preexec_fn=self.confinement.preexec,
                start_new_session=True,
            )
        assert self.process.stdin and self.process.stdout  # both PIPE
        self.stdin = self.process.stdin
        self.confinement.watch(self.process.pid)
        self.lines = Lines(self.process.stdout)
        self.cpu_reported: float | None = None
        self.cpu = 0.0  # its CPU seconds, once stopped
        self.ended = False

    def ask(self, command: dict, timeout: float, answers: tuple[str, ...] | None = None) -> dict:
        """Send ``command``; the first answer of an expected kind (others are dropped), else :class:`Stopped`."""
        answers = answers or ANSWERS[command["op"]]
        deadline = time.monotonic() + timeout
        try:
            self.stdin.write((json.dumps(command) + "\n").encode())
            self.stdin.flush()
            while True:
                message = self.lines.next(deadline)
                if message is None:
                    raise Stopped(self._why_gone())
                if message.get("op") == "_overlong":
                    self.stop()
                    raise Stopped(
                        f"the submission wrote to the grader's channel (more than {MAX_LINE >> 20} MB on one line, "
                        f"or more than {MAX_JUNK:,} lines it did not ask for)"
                    )
                if message.get("op") in answers and message.get("cell", command.get("cell")) == command.get("cell"):
                    return message
                self.lines.junk += 1
                if self.lines.junk > MAX_JUNK:
                    self.stop()
                    raise Stopped(f"the submission wrote more than {MAX_JUNK:,} lines to the grader's channel")
        except TimeoutError:
            self.stop()
            raise Stopped(f"the cell ran longer than the {timeout:g} s limit and was stopped") from None
        except (BrokenPipeError, OSError):
            raise Stopped(self._why_gone()) from None

    def _why_gone(self) -> str:
        self.stop()
        if self.confinement.stopped:
            return self.confinement.stopped
        if self.confinement.out_of_memory():
            return (
                f"the grader's Python stopped during this cell: the sandbox's memory limit "
                f"({self.settings.limits.memory_bytes / 2**30:.1f} GiB) was reached"
            )
        return _death(self.process.returncode)

    def stop(self) -> float:
        """End the sandbox (everything in it) and free its limits; returns its CPU seconds."""
        if self.ended:
            return self.cpu
        self.ended = True
        self.lines.closed = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        measured = self.confinement.cpu_seconds()
        self.confinement.close()
        # Without cgroups, bubblewrap's PID namespace hides the runner's CPU time: use what it reported.
        self.cpu = measured if measured is not None else usage.ru_utime + usage.ru_stime + (self.cpu_reported or 0)
        return self.cpu

    def finish(self, timeout: float) -> float:
        try:
            bye = self.ask({"op": "exit"}, timeout)
            cpu = bye.get("cpu_seconds")
            if isinstance(cpu, (int, float)) and not isinstance(cpu, bool) and 0 <= cpu < 1e6:  # not true/false
                self.cpu_reported = float(cpu)
            else:
                self.cpu_reported = None
        except Stopped:
            pass
        return self.stop()


def _cache_links(run_dir: Path, cache: Path) -> Path:
    """This run's private view of the data cache: links to its files (a build in the sandbox locks its own folder)."""
    links = run_dir / "cache"
    if not links.exists():
        links.mkdir()
        for item in cache.glob("*"):
            if item.suffix != ".lock":
                (links / item.name).symlink_to(item.resolve())
        os.chmod(links, 0o777)
    return links


def _readable_copy(files: Path, run_dir: Path, mpl_template: Path | None) -> Path:
    """The submission's other files (and a warm matplotlib cache) in one folder the sandbox may read."""
    folder = run_dir / "files"
    if not folder.exists():
        shutil.copytree(files, folder, symlinks=True)
        if mpl_template and mpl_template.is_dir():
            shutil.copytree(mpl_template, folder / ".matplotlib", dirs_exist_ok=True)
        for path in [folder, *folder.rglob("*")]:
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder


class JudgeServer:
    """The judge of one lesson notebook: prepared once, then forked for each student (see :mod:`.judge`)."""

    def __init__(self, steps: list[dict], folder: Path, settings: RunSettings) -> None:
        self.cpu_seconds = 0.0
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "judge.json").write_text(json.dumps({"steps": steps}))
        self.private = Path(tempfile.mkdtemp(prefix="medai-judge-"))  # 0700: only the instructor may connect
        self.address = str(self.private / f"{secrets.token_hex(4)}.sock")
        call = f"from medai_edu_ops.grading.judge import main; main({self.address!r}, {str(folder / 'judge.json')!r})"
        home = os.environ.get("HOME", str(folder))
        env = {**_environment(home, settings, None), "MPLCONFIGDIR": str(folder / "matplotlib")}
        self.process = subprocess.Popen(
            _python(call), cwd=folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self.process.stdin and self.process.stdout  # both PIPE
        self.stdin = self.process.stdin
        ready = self.process.stdout.readline()
        try:
            state = json.loads(ready)
        except ValueError:
            state = {"ready": False, "error": "the judge did not start"}
        if not state.get("ready"):
            self.close()
            raise RuntimeError(f"the judge could not prepare the lesson:\n{state.get('error')}")

    def connect(self) -> JudgeLink:
        return JudgeLink(self.address)

    def close(self) -> None:
        """Stop the judge (its sessions first) and note the CPU seconds it and they used."""
        if self.process.returncode is None:
            self.stdin.close()
            deadline = time.monotonic() + 20
            while (done := os.wait4(self.process.pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            if done[0] == 0:
                self.process.kill()
                done = os.wait4(self.process.pid, 0)
            self.process.returncode = os.waitstatus_to_exitcode(done[1])
            self.cpu_seconds = done[2].ru_utime + done[2].ru_stime
        shutil.rmtree(self.private, ignore_errors=True)


class JudgeLink:
    """One student's session with a forked judge."""

    def __init__(self, address: str) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.connect(address)
        self.file = self.socket.makefile("rwb")
        self.lines = Lines(self.socket.makefile("rb"))
        hello = self.ask({"op": "hello"}, START_SECONDS)
        self.pid = int(hello["pid"])
        self.cpu_seconds = 0.0

    def send(self, message: dict) -> None:
        self.file.write((json.dumps(message) + "\n").encode())
        self.file.flush()

    def ask(self, message: dict, timeout: float) -> dict:
        self.send(message)
        return self.receive(time.monotonic() + timeout)

    def receive(self, deadline: float) -> dict:
        try:
            message = self.lines.next(deadline)
        except TimeoutError:
            self.close(polite=False)
            raise Stopped("the judge ran out of time") from None
        if message is None:
            raise Stopped("the judge stopped")
        return message

    def close(self, polite: bool = True) -> None:
        """End the session (``polite``: first ask the judge for its CPU time) and stop its process."""
        if polite and self.socket.fileno() >= 0:
            try:
                self.cpu_seconds = float(self.ask({"op": "bye"}, 10).get("cpu_seconds") or 0)
            except (Stopped, OSError, ValueError, TypeError):
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, AttributeError):
            pass
        self.socket.close()


class Grading:
    """One submission's run through its sandbox and the judge, cell by cell."""

    def __init__(self, plan: Plan, files: Path, run_dir: Path, settings: RunSettings, judge: JudgeServer) -> None:
        self.plan, self.files, self.run_dir, self.settings, self.judge = plan, files, run_dir, settings, judge
        self.result = RunResult({}, {}, [])
        self.sandbox: Sandbox | None = None
        self.ran: list[int] = []  # cells the current sandbox has run (replayed after a restart)
        self.restarts = 0
        self.link: JudgeLink | None = None

    def run(self) -> RunResult:
        began = time.perf_counter()
        try:
            for index, cell in enumerate(self.plan.cells):
                if cell.kind in ("lesson", "answer") and cell.run.strip():
                    self._cell(index)
                elif cell.kind == "test":
                    self._test(index)
        finally:
            if self.sandbox:
                self.result.sandbox_cpu_seconds += self.sandbox.finish(30)
            if self.link:
                self.link.close()
                self.result.judge_cpu_seconds += self.link.cpu_seconds
        self.result.wall_seconds = time.perf_counter() - began
        return self.result

    def _lost(self, reason: str) -> None:
        """The sandbox stopped: note why and free it (the next cell starts a new one)."""
        self.result.problems.append(reason)
        if self.sandbox:
            self.result.sandbox_cpu_seconds += self.sandbox.stop()
            self.sandbox = None
        self.restarts += 1

    def _fail(self, index: int, reason: str) -> None:
        self.result.outputs[index] = not_graded(reason)
        self._lost(f"cell {index + 1}: {reason}")

    def _ready(self) -> Sandbox | None:
        """The sandbox, started (and brought to where the notebook is) if needed; None after too many restarts."""
        while self.sandbox is None:
            if self.restarts > MAX_RESTARTS:
                return None
            box = Sandbox(self.plan, self.files, self.run_dir / f"try-{self.restarts}", self.settings)
            try:
                for n, index in enumerate(self.ran):
                    box.ask({"op": "run", "cell": index}, self.settings.cell_timeout + (START_SECONDS if n == 0 else 0))
                self.sandbox = box
            except Stopped as stopped:
                self.result.sandbox_cpu_seconds += box.stop()
                self._lost(f"a restart could not replay the cells before: {stopped}")
        return self.sandbox

    def _cell(self, index: int) -> None:
        box = self._ready()
        if box is None:
            self.result.outputs[index] = not_graded(f"not run: the grader's Python stopped {self.restarts} times")
            return
        timeout = self.settings.cell_timeout + (START_SECONDS if not self.ran else 0)
        try:
            done = box.ask({"op": "run", "cell": index}, timeout)
        except Stopped as stopped:
            self._fail(index, str(stopped))
            return
        self.result.outputs[index] = sanitize.outputs(done.get("outputs"), index + 1)
        self.ran.append(index)

    def _test(self, index: int) -> None:
        cell = self.plan.cells[index]
        assert cell.grade_id is not None  # nbgrader's release gives every test cell one
        if cell.refused:
            self.result.outputs[index] = not_graded(f"{cell.refused} (this exercise scores 0)")
            self.result.passed[cell.grade_id] = False
            return
        box = self._ready()
        serving = False
        if box is not None:
            try:
                serving = box.ask({"op": "serve", "cell": index}, self.settings.cell_timeout)["op"] == "serving"
            except Stopped as stopped:
                self._fail(index, str(stopped))
                box = None
        try:
            outputs, passed = self._judge(index, box if serving else None)
        except Stopped as stopped:
            outputs, passed = not_graded(f"the test could not be judged: {stopped}"), False
            if self.link:
                self.link.close()
                self.link = None
        self.result.outputs[index] = sanitize.outputs(outputs, index + 1)
        self.result.passed[cell.grade_id] = passed
        if serving and box is not None and self.sandbox is box:
            try:
                box.ask({"op": "end", "cell": index}, self.settings.cell_timeout)
            except Stopped as stopped:  # the test was judged already: only the sandbox is lost
                self._lost(f"cell {index + 1}, after the test: {stopped}")

    def _judge(self, index: int, box: Sandbox | None) -> tuple[list[dict], bool]:
        """Let the judge run test cell ``index``, relaying its questions to the sandbox's witness."""
        grade_id = self.plan.cells[index].grade_id
        if self.link is None:
            self.link = self.judge.connect()
        deadline = time.monotonic() + self.settings.cell_timeout + 30
        self.link.send({"op": "test", "grade_id": grade_id})
        gone = None if box else "the notebook's Python had stopped before this test"
        while True:
            message = self.link.receive(deadline)
            if message.get("op") == "result":
                outputs, passed = message.get("outputs") or [], message.get("passed") is True
                return outputs, passed
            if gone or box is None:  # gone says why when there is no box
                self.link.send({"op": "stopped", "why": gone})
                continue
            try:
                answer = box.ask(message, max(1.0, deadline - 30 - time.monotonic()), VALUE_ANSWERS)
            except Stopped as stopped:
                gone = str(stopped)
                self._lost(f"cell {index + 1}: {gone}")
                answer = {"op": "stopped", "why": gone}
            self.link.send(answer)


def run(plan: Plan, files: Path, run_dir: Path, settings: RunSettings, judge: JudgeServer) -> RunResult:
    """Grade ``plan``'s notebook; every code cell that should run ends with outputs."""
    run_dir.mkdir(parents=True, exist_ok=True)
    return Grading(plan, files, run_dir, settings, judge).run()
