"""The student's side of grading: runs one notebook inside the sandbox and answers questions about it.

Started by :mod:`.execute` as ``main(JOB)`` in the sandbox; it never runs in the instructor's
process and it never judges anything. It reads one command per line on stdin and answers each on
its channel (a copy of the original stdout; the process's own stdout and stderr go nowhere):

- ``{"op": "run", "cell": i}``: run lesson statements or the student's answer cell ``i`` (IPython
  magics are turned into Python here, under the sandbox's limits) and answer
  ``{"op": "done", "cell": i, "outputs": [...]}`` with what the cell printed and showed.
- ``{"op": "serve", "cell": i}``: fork. The child answers the judge's questions for test cell ``i``
  (``get`` a name, ``call`` a function, ``grad`` for gradients through a call, then ``end``); the
  parent waits and answers ``{"op": "served", "cell": i}``. So nothing a test sends in (hidden
  inputs included) is left in the notebook's own process, and what the student's code prints
  while a test calls it is thrown away.
- ``{"op": "exit"}``: answer ``{"op": "bye", "cpu_seconds": ...}`` and stop.

Everything here may be rewritten by the student's code, which runs in this process: the grader
and the judge treat every line from the channel as untrusted data (see :mod:`.plain`).
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import os
import shutil
import sys
import traceback
from types import TracebackType
from typing import TYPE_CHECKING, Any

from medai_edu_ops.grading import plain

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

TEXT_LIMIT = 100_000  # characters kept of one stream
ERROR_LIMIT = 2_000  # characters kept of one exception message or traceback line
TRACEBACK_LINES = 60
TIMING_MAGICS = ("time", "timeit", "prun")  # run once, untimed: timing a correct answer costs nothing


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.kept = self.cut = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, value: object) -> int:
        text = value if type(value) is str else str(value)
        room = max(0, self.limit - self.kept)
        self.parts.append(text[:room])
        self.kept += min(room, len(text))
        self.cut += max(0, len(text) - room)
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n... [{self.cut:,} more characters cut by the grader]\n" if self.cut else "")


def capped(text: str, limit: int = ERROR_LIMIT) -> str:
    text = plain.clean_text(text)
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit:,} more characters cut]"


def safe_str(value: object) -> str:
    try:
        text = str(value)
        return text if type(text) is str else ""
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        return "(the message could not be shown)"


def student_frames(tb: TracebackType | None) -> list[list]:
    """[filename, line number, function, line] of the frames in the student's own cells."""
    frames = []
    for frame in traceback.extract_tb(tb, limit=200):
        if frame.filename.startswith("<ipython-input"):
            frames.append([frame.filename, frame.lineno or 0, capped(frame.name, 100), capped(frame.line or "", 300)])
    return frames[-20:]


def describe_error(exc: BaseException) -> dict:
    """An exception as plain data: type name, capped message, the student's frames (and a NameError's name)."""
    error: dict[str, Any] = {"type": capped(type(exc).__name__, 100), "message": capped(safe_str(exc))}
    error["frames"] = student_frames(exc.__traceback__)
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    if type(name) is str:
        error["name"] = capped(name, 100)
    return error


def error_output(exc: BaseException) -> dict:
    """An nbformat error output for an answer or lesson cell (the grader's own frames left out), capped."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    try:
        lines = traceback.format_exception(type(exc), exc, tb)
    except BaseException:  # noqa: BLE001
        lines = [f"{type(exc).__name__}\n"]
    lines = [capped(line.rstrip("\n")) for line in lines]
    if len(lines) > TRACEBACK_LINES:
        lines = lines[:20] + [f"... [{len(lines) - 40} lines cut by the grader]"] + lines[-20:]
    return {
        "output_type": "error",
        "ename": capped(type(exc).__name__, 100),
        "evalue": capped(safe_str(exc)),
        "traceback": lines,
    }


class Channel:
    """Line-delimited JSON: commands in on one descriptor, answers out on another."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd, self.buffer = read_fd, write_fd, b""

    def receive(self) -> dict | None:
        while b"\n" not in self.buffer:
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.write_fd, data) :]


class Notebook:
    """The student's notebook namespace and how its cells run."""

    def __init__(self, cells: list[dict]) -> None:
        self.cells = cells
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": self.shell}
        self._shell: InteractiveShell | None = None

    def shell(self) -> InteractiveShell:
        """IPython, started on first use and running in this notebook's namespace (magics need it)."""
        if self._shell is None:
            from IPython.core.interactiveshell import InteractiveShell

            self._shell = InteractiveShell.instance(user_ns=self.ns)
            for name in TIMING_MAGICS:
                self._shell.magics_manager.register_function(self._run_once, magic_kind="line_cell", magic_name=name)
        return self._shell

    def _run_once(self, line: str, cell: str | None = None) -> None:
        """%time, %timeit, %%timeit, %prun while grading: run the code once, untimed."""
        code = cell if cell is not None else " ".join(w for w in line.split() if not w.startswith("-") or " " in w)
        if cell is None:
            while code[:1] == "-" or code.split(" ", 1)[0].lstrip("-").isdigit():  # options such as -n 10
                code = code.split(" ", 1)[1] if " " in code else ""
        exec(compile(self.to_python(code), "<ipython-input-magic>", "exec"), self.ns)

    def to_python(self, source: str) -> str:
        """The cell as plain Python: unchanged when it is Python, else through IPython's transformers."""
        try:
            ast.parse(source)
            return source
        except SyntaxError:
            from IPython.core.inputtransformer2 import TransformerManager

            try:
                return TransformerManager().transform_cell(source)
            except Exception:  # noqa: BLE001 - compiling the original then reports the error
                return source

    def run(self, index: int) -> list[dict]:
        cell = self.cells[index]
        if not cell["run"].strip():
            return []
        answer = cell["kind"] == "answer"
        filename = f"<ipython-input-{index + 1}-answer>" if answer else f"<lesson cell {index + 1}>"
        stdout, stderr = CappedText(TEXT_LIMIT), CappedText(TEXT_LIMIT)
        outputs: list[dict] = []
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            source = self.to_python(cell["run"]) if answer else cell["run"]
            if answer:
                import linecache

                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            result = self.execute(source, filename)
            if result is not None:
                text = capped(repr(result), TEXT_LIMIT)
                outputs.append(
                    {"output_type": "execute_result", "execution_count": index + 1, "data": {"text/plain": text}}
                )
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            outputs.append(error_output(exc))
        finally:
            sys.stdout, sys.stderr = saved
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
        streams = [{"output_type": "stream", "name": "stdout", "text": stdout.value()}] if stdout.value() else []
        if stderr.value():
            streams.append({"output_type": "stream", "name": "stderr", "text": stderr.value()})
        return streams + outputs

    def execute(self, source: str, filename: str) -> Any:
        """Run ``source``; returns the value of a final expression (if shown), like a notebook."""
        tree = ast.parse(source, filename)
        last = None
        final = tree.body[-1] if tree.body else None
        if isinstance(final, ast.Expr) and not source.rstrip().endswith(";"):
            tree.body.pop()
            last = ast.Expression(final.value)
        exec(compile(tree, filename, "exec"), self.ns)
        return eval(compile(last, filename, "eval"), self.ns) if last is not None else None


class Witness:
    """Answers the judge's questions about one test cell (in a child forked for that cell)."""

    def __init__(self, notebook: Notebook, channel: Channel) -> None:
        self.ns, self.channel = notebook.ns, channel
        self.handles: list = []
        self.graphs: dict[int, tuple] = {}

    def serve(self) -> None:
        sink = CappedText(0)
        sys.stdout = sys.stderr = sink  # printed while a test calls the student's code: shown nowhere
        while True:
            command = self.channel.receive()
            if command is None or command.get("op") == "end":
                return
            try:
                answer = getattr(self, f"_{command.get('op')}")(command)
            except plain.NotPlain as exc:
                answer = {"op": "notplain", "what": str(exc)}
            except BaseException as exc:  # noqa: BLE001 - the student's code raised: its type and message go back
                answer = {"op": "raised", "error": describe_error(exc)}
            self.channel.send(answer)

    def _get(self, command: dict) -> dict:
        name = command.get("name")
        if type(name) is not str or name not in self.ns:
            return {"op": "missing"}
        self.handles.append(self.ns[name])
        return {"op": "value", "value": plain.describe(self.ns[name], len(self.handles) - 1)}

    def _call(self, command: dict) -> dict:
        function = self.handles[int(command["function"])]
        args = plain.decode(command.get("args", []))
        kwargs = plain.decode(command.get("kwargs", {"dict": []}))
        result = function(*args, **kwargs)
        value = plain.encode(result)
        torch = sys.modules.get("torch")
        if torch is not None and type(result) is torch.Tensor and result.requires_grad:
            inputs = [a for a in [*args, *kwargs.values()] if type(a) is torch.Tensor and a.requires_grad]
            self.graphs[int(command.get("id", 0))] = (result, inputs)
        return {"op": "value", "value": value}

    def _grad(self, command: dict) -> dict:
        import torch

        result, inputs = self.graphs[int(command["id"])]
        grads = torch.autograd.grad(result, inputs, plain.decode(command["grad"]), allow_unused=True)
        return {"op": "value", "value": plain.encode([g for g in grads])}


def _cpu_seconds() -> float:
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _set_up_home(home_template: str | None) -> None:
    """Copy the submission's files into the (size-limited, private) home folder."""
    if home_template and os.path.isdir(home_template):
        shutil.copytree(home_template, os.getcwd(), symlinks=True, dirs_exist_ok=True)


def main(job_path: str) -> None:
    channel = Channel(os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdin = io.StringIO()
    with open(job_path) as f:
        job = json.load(f)
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
    _set_up_home(job.get("home_template"))
    for name in job.get("imports", []):  # the lesson's modules, loaded before any cell's time starts
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - the cell that imports it reports the error
            pass
    notebook = Notebook(job["cells"])
    while True:
        command = channel.receive()
        if command is None:
            os._exit(0)
        op = command.get("op")
        if op == "run":
            index = command["cell"]
            channel.send({"op": "done", "cell": index, "outputs": notebook.run(index)})
        elif op == "serve":
            _serve(notebook, channel, command["cell"])
        elif op == "exit":
            channel.send({"op": "bye", "cpu_seconds": _cpu_seconds()})
            os._exit(0)


def _fork() -> int:
    """fork(); when the sandbox's process limit is used up, first stop what the notebook left running."""
    try:
        return os.fork()
    except BlockingIOError:
        import signal

        os.kill(-1, signal.SIGKILL)  # every other process of this sandbox (not its init, not this one)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        return os.fork()


def _serve(notebook: Notebook, channel: Channel, index: int) -> None:
    try:
        pid = _fork()
    except OSError as exc:
        channel.send({"op": "unserved", "cell": index, "why": capped(str(exc), 300)})
        return
    if pid == 0:
        try:
            channel.send({"op": "serving", "cell": index})
            Witness(notebook, channel).serve()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    channel.send({"op": "served", "cell": index})
