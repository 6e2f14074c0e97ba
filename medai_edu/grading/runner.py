"""Runs one graded notebook inside the sandbox (``main(JOB)``, started by :mod:`.execute`).

It never runs in the instructor's process. It reads the job (the cells of a
:class:`~medai_edu.grading.plan.Plan`, as JSON) and a one-time token from stdin, then reports on
its original stdout, one line per event, each line starting with the token:
``{"cell": i, "event": "start"}`` before and ``{"cell": i, "event": "done", "outputs": [...]}`` after
each cell. Cell output goes to capped buffers; the process's own stdout/stderr go nowhere.

Test integrity: every module that lesson and test code use is imported, and a snapshot of
``builtins``, ``sys``, ``os.environ``, those modules, the library's functions and the import
system is taken, before any student code runs. Before each lesson or test cell the snapshot is
restored (tracing, signal handlers, ``gc`` callbacks and threads included) and the names the
lesson bound are re-bound; test cells are compiled and executed directly, never through
IPython, so input or AST transformers do not reach them. After each test the snapshot is
compared again: a test during which anything changed fails. An audit hook stops new audit hooks
and ``gc`` object walks.
"""

from __future__ import annotations

import builtins
import gc
import io
import json
import linecache
import os
import signal
import sys
import threading
import traceback
import types

_exec, _compile, _eval, _repr = builtins.exec, builtins.compile, builtins.eval, builtins.repr
PROTECTED_ROOTS = (
    "builtins",
    "sys",
    "os",
    "posixpath",
    "math",
    "operator",
    "functools",
    "numpy",
    "torch",
    "medai_edu",
    "warnings",
    "types",
    "inspect",
    "copy",
    "random",
    "re",
    "json",
    "collections",
)
# Entries that change legitimately while cells run (the runner itself swaps sys.stdout).
VOLATILE = frozenset(
    {"stdout", "stderr", "last_type", "last_value", "last_traceback", "last_exc", "__warningregistry__"}
)
BLOCKED_EVENTS = frozenset({"sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents"})


def _audit(event: str, args: tuple) -> None:
    if event in BLOCKED_EVENTS:
        raise RuntimeError(f"{event} is not allowed while grading")


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.kept = self.cut = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = max(0, self.limit - self.kept)
        self.parts.append(text[:room])
        self.kept += min(room, len(text))
        self.cut += max(0, len(text) - room)
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n... [{self.cut:,} more characters cut by the grader]\n" if self.cut else "")


def _protected(name: str) -> bool:
    return name.split(".")[0] in PROTECTED_ROOTS


class Guard:
    """What tests rely on, as it was before student code ran."""

    def __init__(self) -> None:
        self.modules = {
            name: (m, {k: v for k, v in vars(m).items() if k not in VOLATILE})
            for name, m in list(sys.modules.items())
            if m is not None and _protected(name)
        }
        self.functions = {}
        self.classes = {}
        for name, (module, namespace) in self.modules.items():
            if not name.startswith("medai_edu") and name not in ("torch", "numpy"):
                continue
            for value in namespace.values():
                if isinstance(value, types.FunctionType) and value.__module__ == name:
                    self.functions[value] = (value.__code__, value.__defaults__, value.__kwdefaults__)
                elif isinstance(value, type) and (
                    value.__module__ == name
                    and name.startswith("medai_edu")
                    or (name == "torch" and value is getattr(module, "Tensor", None))
                ):
                    self.classes[value] = dict(vars(value))
        self.lists = {name: list(getattr(sys, name)) for name in ("path", "meta_path", "path_hooks")}
        self.environ = dict(os.environ)
        self.signals = {
            s: signal.getsignal(s) for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)
        }

    def restore(self) -> None:
        """Put back everything in the snapshot (cheap: identity comparisons)."""
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in self.signals.items():
            if signal.getsignal(number) is not handler and handler is not None:
                signal.signal(number, handler)
        gc.callbacks.clear()
        for _, (module, namespace) in self.modules.items():
            current = vars(module)
            for key in [k for k in current if _added(k, current, namespace)]:
                del current[key]
            for key, value in namespace.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
        for name, (module, _) in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        for name in [n for n in sys.modules if _protected(n) and n not in self.modules]:
            if not _loaded_from_trusted_file(sys.modules[name]):
                del sys.modules[name]
        for function, (code, defaults, kwdefaults) in self.functions.items():
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
        for cls, namespace in self.classes.items():
            for key, value in namespace.items():
                if key not in ("__dict__", "__weakref__", "__doc__") and vars(cls).get(key, _MISSING) is not value:
                    setattr(cls, key, value)
        for name, items in self.lists.items():
            getattr(sys, name)[:] = items
        sys.path_importer_cache.clear()
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)

    def changes(self) -> list[str]:
        """What differs from the snapshot now (empty when nothing)."""
        found = []
        if sys.gettrace() or sys.getprofile():
            found.append("a trace or profile function was set")
        for name, (module, namespace) in self.modules.items():
            current = vars(module)
            if (
                sys.modules.get(name) is not module
                or any(_added(k, current, namespace) for k in current)
                or any(current.get(k, _MISSING) is not v for k, v in namespace.items())
            ):
                found.append(f"module {name} was changed")
        for function, (code, defaults, kwdefaults) in self.functions.items():
            if function.__code__ is not code or function.__defaults__ is not defaults:
                found.append(f"function {function.__qualname__} was changed")
        for cls, namespace in self.classes.items():
            if any(
                vars(cls).get(k, _MISSING) is not v
                for k, v in namespace.items()
                if k not in ("__dict__", "__weakref__", "__doc__")
            ):
                found.append(f"class {cls.__qualname__} was changed")
        if len(sys._current_frames()) > 1:
            found.append("a background thread is running")
        return found


_MISSING = object()
TRUSTED_PREFIXES = tuple(p for p in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__))} if p)


def _added(key: str, current: dict, snapshot: dict) -> bool:
    """A name added to a protected module that is not a submodule imported since (numpy imports lazily)."""
    if key in snapshot or key in VOLATILE:
        return False
    value = current[key]
    return not (isinstance(value, types.ModuleType) and _loaded_from_trusted_file(value))


def _loaded_from_trusted_file(module: types.ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    return bool(path) and os.path.realpath(path).startswith(TRUSTED_PREFIXES)


def _error(exc: BaseException, kind: str, hidden_from: int | None, filename: str) -> dict:
    """An nbformat error output; for tests, without the test's source (hidden tests stay hidden)."""
    ename, evalue = type(exc).__name__, str(exc)
    if kind != "test":
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [l.rstrip("\n") for l in lines]}
    frames = traceback.extract_tb(exc.__traceback__)
    in_test = [f for f in frames if f.filename == filename]
    hidden = bool(in_test and hidden_from and in_test[-1].lineno >= hidden_from)
    if hidden and (isinstance(exc, AssertionError) and not evalue):
        evalue = "a hidden test did not pass"
    elif hidden:
        evalue = f"{evalue} (raised while a hidden test ran)"
    theirs = [
        f"  your code, {f.filename.strip('<>')}, line {f.lineno}: {f.line}"
        for f in frames
        if f.filename.startswith("<answer")
    ]
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": theirs + [f"{ename}: {evalue}"]}


class Runner:
    def __init__(self, job: dict, emit, guard: Guard) -> None:
        self.job = job
        self.emit = emit
        self.guard = guard
        self.limit = int(job.get("output_limit", 100_000))
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _get_ipython}
        self.lesson_names: dict = {}

    def run(self) -> None:
        start, skip = self.job.get("start_at", 0), set(self.job.get("skip", []))
        for index, cell in enumerate(self.job["cells"]):
            if index in skip or cell["kind"] == "text":
                continue
            replay = index < start
            if replay and cell["kind"] == "test":
                continue
            if not replay:
                self.emit({"cell": index, "event": "start"})
            outputs = self.cell(index, cell)
            if not replay:
                self.emit({"cell": index, "event": "done", "outputs": outputs})

    def cell(self, index: int, cell: dict) -> list[dict]:
        kind = cell["kind"]
        if kind == "test" and cell.get("refused"):
            return [
                {
                    "output_type": "error",
                    "ename": "NotGraded",
                    "evalue": cell["refused"],
                    "traceback": [f"NotGraded: {cell['refused']} (this exercise scores 0)"],
                }
            ]
        if not cell["run"].strip():
            return []
        if kind in ("lesson", "test"):
            self.guard.restore()
            self.ns["__builtins__"] = builtins
            self.ns.update(self.lesson_names)
        filename = f"<{'answer' if kind == 'answer' else kind} cell {index + 1}>"
        stdout, stderr = CappedText(self.limit), CappedText(self.limit)
        outputs: list[dict] = []
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            result = self.execute(cell["run"], filename, display=kind != "test", register=kind != "test")
            if kind == "test":
                changed = self.guard.changes()
                if changed:
                    raise RuntimeError("the test environment was changed while the test ran: " + "; ".join(changed[:3]))
            if result is not None:
                outputs.append(
                    {
                        "output_type": "execute_result",
                        "execution_count": index + 1,
                        "metadata": {},
                        "data": {"text/plain": _repr(result)[: self.limit]},
                    }
                )
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            outputs.append(_error(exc, kind, cell.get("hidden_from"), filename))
        finally:
            sys.stdout, sys.stderr = saved
            _close_figures()
        if kind == "lesson":
            self.lesson_names.update({n: self.ns[n] for n in cell.get("binds", []) if n in self.ns})
        streams = [{"output_type": "stream", "name": "stdout", "text": stdout.value()}] if stdout.value() else []
        if stderr.value():
            # Warnings on stderr never cost a test its points (nbgrader counts stderr as a failure).
            name = "stdout" if kind == "test" else "stderr"
            streams.append({"output_type": "stream", "name": name, "text": stderr.value()})
        return streams + outputs

    def execute(self, source: str, filename: str, display: bool, register: bool):
        """Run ``source``; returns the value of a final expression (if shown), like a notebook."""
        import ast

        if register:
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        tree = ast.parse(source, filename)
        last = None
        if display and tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
        _exec(_compile(tree, filename, "exec"), self.ns)
        return _eval(_compile(last, filename, "eval"), self.ns) if last is not None else None


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _get_ipython():
    """IPython, started on first use (only answers with magics need it)."""
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def main(job_path: str) -> None:
    token = sys.stdin.readline().strip()
    os.close(0)
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    with open(job_path) as f:
        job = json.load(f)
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]

    def emit(event: dict) -> None:
        channel.write(f"{token} {json.dumps(event)}\n")

    import importlib

    try:  # tqdm's monitor thread would count as a thread left running by student code
        import tqdm

        tqdm.tqdm.monitor_interval = 0
    except ImportError:
        pass
    for name in job["imports"]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the cell that imports it reports the error
            pass
    runner = Runner(job, emit, Guard())
    sys.addaudithook(_audit)
    runner.run()
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    emit({"event": "finished", "cpu_seconds": sum(u.ru_utime + u.ru_stime for u in usage)})
    channel.flush()
    os._exit(0)
