"""The judge: runs the instructor's test cells, outside the sandbox, against the student's plain values.

One judge per lesson notebook (``main(SOCKET, JOB)``, started by :mod:`.execute`). It runs the
lesson's own (trusted) statements that the tests need once, keeping the namespace as it stands
before each test cell, then serves: each student's grading connects, and a forked child judges
that student's test cells, each in a fresh copy of the lesson namespace. The student's names that
a test reads come from the sandbox (see :mod:`.runner`) as plain data (:mod:`.plain`); a student's
function becomes a :class:`StudentFunction`, whose calls run in the sandbox with plain arguments
and plain results. Exceptions come back as a type name and a capped message and are raised here
through stand-in frames that carry the student's file names and lines, so the library checks give
the same hints as in a notebook.

A test cell passes when it runs to its end. What its visible part prints is its output; what its
hidden part prints, and the messages of errors the student's code raised while it ran, are not shown.
"""

from __future__ import annotations

import builtins
import functools
import io
import itertools
import json
import linecache
import os
import resource
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medai_edu_ops.grading import plain
from medai_edu_ops.grading.runner import CappedText, capped

if TYPE_CHECKING:
    import torch

OUTPUT_LIMIT = 100_000
SAFE_EXCEPTIONS = {
    name: kind for name, kind in vars(builtins).items() if isinstance(kind, type) and issubclass(kind, Exception)
}


class StudentError(Exception):
    """An exception the student's code raised whose type is not one of Python's own."""


class StudentCodeStopped(Exception):
    """The student's code stopped answering (timeout, crash, limit); the message says why."""


class NotPlainAnswer(TypeError):
    """The student's value is not plain data the grader can judge."""


def rebuild(error: dict) -> BaseException:
    """A fresh exception of a safe type standing for the one the student's code raised."""
    kind = error.get("type")
    name = kind if isinstance(kind, str) else "Exception"
    message = plain.clean_text(error["message"]) if type(error.get("message")) is str else ""
    exc: Exception | None = None
    if name in SAFE_EXCEPTIONS:
        try:
            exc = SAFE_EXCEPTIONS[name](message)
        except Exception:  # noqa: BLE001 - a type that needs other arguments
            exc = None
    if exc is None:
        label = name if name.isidentifier() and len(name) <= 60 else "StudentError"
        exc = type(label, (StudentError,), {})(message)
    if isinstance(exc, NameError) and type(error.get("name")) is str:
        exc.name = error["name"]
    exc.from_student = True  # type: ignore[union-attr]  # a mark test_error reads (getattr), on any type
    return exc


def _stand_in(filename: str, lineno: int, name: str, line: str, body: str, names: dict) -> Callable[[], None]:
    """Code at ``filename:lineno`` named ``name`` that runs ``body`` (a stand-in for a student's frame)."""
    lineno = min(max(int(lineno), 1), 100_000)
    entry = linecache.cache.get(filename)
    lines = list(entry[2]) if entry and len(entry) == 4 and entry[1] is None else []  # not a lazy (1-tuple) entry
    lines += ["\n"] * (lineno - len(lines))
    lines[lineno - 1] = capped(line, 300) + "\n"
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    code = compile("\n" * (lineno - 1) + body, filename, "exec").replace(co_name=capped(name, 100))
    return functools.partial(exec, code, names)


def raise_through(exc: BaseException, frames: Any) -> None:
    """Raise ``exc`` through stand-ins of the student's frames (outermost first), as a notebook would show it."""
    valid = [
        f
        for f in (frames if type(frames) is list else [])[-20:]
        if type(f) is list and len(f) == 4 and type(f[0]) is str and f[0].startswith("<ipython-input")
        if type(f[1]) is int and type(f[2]) is str and type(f[3]) is str
    ]
    if not valid:
        raise exc
    call: Callable[[], None] | None = None
    for filename, lineno, name, line in reversed(valid):
        body, names = ("raise _exc", {"_exc": exc}) if call is None else ("_next()", {"_next": call})
        call = _stand_in(filename, lineno, name, line, body, names)
    assert call is not None  # valid is not empty
    call()


class Link:
    """The judge's line to one student's sandbox (through the grader, which relays and times out)."""

    def __init__(self, rfile: io.BufferedIOBase, wfile: io.BufferedIOBase) -> None:
        self.rfile, self.wfile = rfile, wfile
        self.ids = itertools.count(1)

    def ask(self, request: dict) -> dict:
        self.wfile.write((json.dumps(request) + "\n").encode())
        self.wfile.flush()
        line = self.rfile.readline()
        if not line:
            raise SystemExit(0)  # the grader went away
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if type(reply) is not dict:
            raise StudentCodeStopped("the sandbox sent an answer the grader cannot read")
        if reply.get("op") == "stopped":
            raise StudentCodeStopped(str(reply.get("why"))[:300])
        return reply

    def value(self, reply: dict, what: str, functions: Callable[[int, str], Any] | None = None) -> Any:
        op = reply.get("op")
        if op == "value":
            try:
                return plain.decode(reply.get("value"), functions=functions)
            except ValueError as error:
                raise NotPlainAnswer(f"{what}: the grader could not read it ({error})") from None
        if op == "notplain":
            what_it_is = plain.clean_text(str(reply.get("what")))[:200]
            raise NotPlainAnswer(
                f"{what} is {what_it_is}, which the grader cannot judge: give a number, a text, True/False, "
                "a list or dict of those, a NumPy array or a torch tensor"
            )
        if op == "raised" and type(reply.get("error")) is dict:
            raise_through(rebuild(reply["error"]), reply["error"].get("frames"))
        raise StudentCodeStopped(f"the sandbox answered {str(op)[:40]!r} where a value was expected")

    def get(self, name: str) -> Any:
        reply = self.ask({"op": "get", "name": name})
        if reply.get("op") == "missing":
            raise KeyError(name)
        return self.value(reply, f"`{name}`", functions=lambda handle, label: StudentFunction(self, handle, label))

    def call(self, function: StudentFunction, args: tuple, kwargs: dict) -> Any:
        torch = sys.modules.get("torch")
        tracked = [a for a in [*args, *kwargs.values()] if torch and type(a) is torch.Tensor and a.requires_grad]
        if tracked:
            return _through_sandbox().apply(self, function, args, kwargs, *tracked)
        return self._call(function, args, kwargs)[0]

    def _call(self, function: StudentFunction, args: tuple, kwargs: dict) -> tuple[Any, int]:
        try:
            encoded = plain.encode(list(args)), plain.encode(dict(kwargs))
        except plain.NotPlain as error:
            raise TypeError(f"the grader can only pass plain data to a student's function, not {error}") from None
        call_id = next(self.ids)
        request = {"op": "call", "function": function.handle, "args": encoded[0], "kwargs": encoded[1], "id": call_id}
        return self.value(self.ask(request), f"the result of {function.__name__}(...)"), call_id


@functools.lru_cache(maxsize=1)
def _through_sandbox() -> type[torch.autograd.Function]:
    import torch

    class ThroughSandbox(torch.autograd.Function):
        """A call into the sandbox that gradients can flow back through (the sandbox computes them)."""

        @staticmethod
        def forward(
            ctx: Any, link: Link, function: StudentFunction, args: tuple, kwargs: dict, *tracked: torch.Tensor
        ) -> Any:
            result, ctx.call_id = link._call(function, args, kwargs)
            ctx.link, ctx.count = link, len(tracked)
            if type(result) is torch.Tensor and result.requires_grad:
                return result.detach()
            if type(result) is torch.Tensor:
                ctx.mark_non_differentiable(result)
            return result

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple:
            reply = ctx.link.ask({"op": "grad", "id": ctx.call_id, "grad": plain.encode(grad.detach().contiguous())})
            grads = ctx.link.value(reply, "the gradients")
            if type(grads) is not list or len(grads) != ctx.count:
                raise NotPlainAnswer("the sandbox sent gradients of the wrong shape")
            return (None, None, None, None, *grads)

    return ThroughSandbox


class StudentFunction:
    """Stands for a function the student wrote: calling it runs it in the sandbox, on plain data."""

    def __init__(self, link: Link, handle: int, name: str) -> None:
        self.link, self.handle = link, handle
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.link.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


class Judge:
    """The lesson's namespace before each test, and how a test cell is judged."""

    def __init__(self, job: dict) -> None:
        self.steps = job["steps"]
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.before: dict[str, dict] = {}  # test grade_id -> namespace just before it
        self.position = 0  # first step not yet run

    def prepare(self, link: Link | None = None, until: str | None = None) -> None:
        """Run lesson steps up to the first that reads a student's name, or with ``link`` up to test ``until``."""
        while self.position < len(self.steps):
            step = self.steps[self.position]
            if step["kind"] == "test":
                self.before[step["grade_id"]] = dict(self.ns)
                self.position += 1
                if step["grade_id"] == until:
                    return
                continue
            if step["needs"]:
                if link is None:
                    return
                self._fetch(link, step["needs"], self.ns)
            exec(compile(step["source"], f"<lesson cell {step['cell'] + 1}>", "exec"), self.ns)
            self.position += 1

    def _fetch(self, link: Link, names: list[str], ns: dict) -> None:
        for name in names:
            try:
                ns[name] = link.get(name)
            except KeyError:
                ns.pop(name, None)  # reading it raises NameError, as in a notebook

    def test(self, grade_id: str, link: Link) -> tuple[list[dict], bool]:
        """Judge one test cell: (its outputs, whether it passed)."""
        step = next(s for s in self.steps if s["kind"] == "test" and s["grade_id"] == grade_id)
        if grade_id not in self.before:
            self.prepare(link, until=grade_id)
        ns = dict(self.before[grade_id])
        shown, hidden = CappedText(OUTPUT_LIMIT), CappedText(0)
        saved = sys.stdout, sys.stderr
        part = "visible"
        try:
            sys.stdout = sys.stderr = shown
            self._fetch(link, step["reads"], ns)
            exec(compile(step["visible"], f"<test {grade_id}>", "exec"), ns)
            if step["hidden"]:
                part = "hidden"
                sys.stdout = sys.stderr = hidden
                exec(compile(step["hidden"], f"<hidden test {grade_id}>", "exec"), ns)
            error = None
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure fails the test
            error = test_error(exc, part)
        finally:
            sys.stdout, sys.stderr = saved
        outputs = [{"output_type": "stream", "name": "stdout", "text": shown.value()}] if shown.value() else []
        return outputs + ([error] if error else []), error is None


def test_error(exc: BaseException, part: str) -> dict:
    """The error output of a failed test: the student's lines, never the hidden test's source or inputs."""
    ename = capped(type(exc).__name__, 100)
    from_student = getattr(exc, "from_student", False)
    frames = traceback.extract_tb(exc.__traceback__)
    theirs = [
        f"  your code, cell {f.filename.split('-')[2]}, line {f.lineno}: {capped((f.line or '').strip(), 300)}"
        for f in frames
        if f.filename.startswith("<ipython-input") and f.filename.count("-") >= 3
    ][-10:]
    if part == "hidden":
        if from_student or isinstance(exc, (NotPlainAnswer, StudentCodeStopped)):
            evalue = f"your code raised {ename} while a hidden test ran"
        elif isinstance(exc, AssertionError) and not str(exc):
            evalue = "a hidden test did not pass"
        else:
            evalue = f"{capped(str(exc), 500)} (raised while a hidden test ran)"
        return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": theirs + [f"{ename}: {evalue}"]}
    render = getattr(type(exc), "_render_traceback_", None)
    if render is not None and not from_student:
        lines = [capped(line, 2000) for line in render(exc)][:40]
        return {"output_type": "error", "ename": ename, "evalue": capped(str(exc)), "traceback": lines}
    evalue = capped(str(exc))
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": theirs + [f"{ename}: {evalue}"]}


class _Session(socketserver.StreamRequestHandler):
    """One student's grading (in a child forked from the prepared judge)."""

    server: _Server

    def handle(self) -> None:
        judge = self.server.judge
        link = Link(self.rfile, self.wfile)
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = json.loads(line)
            if command.get("op") == "hello":
                reply = {"op": "hello", "pid": os.getpid()}
            elif command.get("op") == "bye":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                reply = {"op": "bye", "cpu_seconds": usage.ru_utime + usage.ru_stime}
            elif command.get("op") == "test":
                outputs, passed = judge.test(command["grade_id"], link)
                reply = {"op": "result", "grade_id": command["grade_id"], "outputs": outputs, "passed": passed}
            else:
                return
            self.wfile.write((json.dumps(reply) + "\n").encode())
            self.wfile.flush()


class _Server(socketserver.ForkingMixIn, socketserver.UnixStreamServer):
    max_children = 64
    judge: Judge


def main(socket_path: str, job_path: str) -> None:
    """Prepare the lesson, say ``ready`` (or why not) on stdout, then judge until stdin closes."""
    with open(job_path) as f:
        job = json.load(f)
    out = sys.stdout
    sys.stdout = sys.stderr = CappedText(OUTPUT_LIMIT)
    judge = Judge(job)
    try:
        judge.prepare()
    except BaseException as exc:  # noqa: BLE001 - reported to the grader, which stops with it
        out.write(json.dumps({"ready": False, "error": "".join(traceback.format_exception(exc))[-4000:]}) + "\n")
        out.flush()
        return
    server = _Server(socket_path, _Session)
    server.judge = judge
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()

    def stop_with_the_grader() -> None:
        sys.stdin.read()
        while True:  # reap the sessions, so that their CPU time counts in the grader's
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                os._exit(0)

    threading.Thread(target=stop_with_the_grader, daemon=True).start()
    server.serve_forever()
