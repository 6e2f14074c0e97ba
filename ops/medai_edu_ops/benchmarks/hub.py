"""`medai-edu bench hub`: a class arriving at once on the class hub (loopback only, bounded).

N simulated students (test-only local accounts, made users by the hub's REST API) ask the hub's REST API for
their servers at the same moment. As soon as a student's server is ready, a notebook session on the
lesson is opened in it (as JupyterLab does) and the lesson's code cells run in lecture mode through
the kernel's websocket. Measured per student, from the moment all the requests went out: the server
ready, the first figure the kernel sends, the lesson finished; the student's peak memory (server and
kernel together: the resident memory of all the account's processes, sampled, and the peak of the
student's memory cgroup where the hub made one); failures with their reason.

As docs/hub.md advises a class, ``servers_first`` starts every server before the lecture: the
lesson's clock then starts when all servers are ready and every student opens the lesson at once.
The hub's kernels read its shared cache (``MEDAI_EDU_SHARED_CACHE``), filled before the hub starts
by ``medai-edu cache build`` as ``make hub`` does (into ``shared_cache`` when given, kept between
runs; else into the hub's own folder), so that no kernel computes what the class shares.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medai_edu_ops.benchmarks import load_average
from medai_edu_ops.hub import launch, limits, roster
from medai_edu_ops.hub.settings import REPO, HubError, HubSettings

MAX_STUDENTS = 60  # bounded: each student is a local account and a JupyterLab
SPAWN_AT_ONCE = 10  # servers started before the lecture: at most this many starting at the same moment
KERNEL = "medai-edu"
FIGURE_TYPES = ("image/png", "image/svg+xml")


@dataclass
class Student:
    name: str
    ready_s: float | None = None  # server ready, from the start
    first_figure_s: float | None = None  # first figure from the kernel, from the start
    done_s: float | None = None  # lesson finished, from the start
    peak_rss_mb: float = 0.0  # all the account's processes, sampled every 0.25 s
    cgroup_peak_mb: float | None = None  # the student's memory cgroup, where there is one
    error: str = ""


@dataclass
class HubLoad:
    students: int
    lesson: str
    load_before: list[float]
    servers_first: bool = False  # servers started (and ready) before the lesson's clock started
    shared_cache: str = ""  # the folder the kernels read (MEDAI_EDU_SHARED_CACHE)
    cache_build_s: float | None = None  # `cache build` into it before the hub started (not in the times)
    load_after: list[float] = field(default_factory=list)
    per_student: list[Student] = field(default_factory=list)
    log: str = ""  # the hub's log

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

        ready = [s.ready_s for s in self.per_student if s.ready_s is not None]
        figure = [s.first_figure_s for s in self.per_student if s.first_figure_s is not None]
        done = [s.done_s for s in self.per_student if s.done_s is not None]
        peaks = [s.peak_rss_mb for s in self.per_student]
        return {
            "students": self.students,
            "lesson": self.lesson,
            "servers_first": self.servers_first,
            "shared_cache": self.shared_cache,
            "cache_build_s": self.cache_build_s,
            "all_ready_s": max(ready) if len(ready) == self.students else None,
            "first_figure_p50_s": pct(figure, 0.5),
            "first_figure_p95_s": pct(figure, 0.95),
            "lesson_done_p50_s": pct(done, 0.5),
            "lesson_done_max_s": max(done) if done else None,
            "peak_rss_mb_max": max(peaks) if peaks else None,
            "peak_rss_mb_median": pct(peaks, 0.5),
            "cgroup_peak_mb_max": max((s.cgroup_peak_mb or 0.0 for s in self.per_student), default=None),
            "failures": sum(1 for s in self.per_student if s.error),
            "load_before": self.load_before,
            "load_after": self.load_after,
            "hub_log": self.log,
        }


def lesson_cells(lesson: str) -> list[str]:
    """The code cells of a lesson's instructor notebook, in lecture mode (QUICK = False)."""
    path = REPO / "solutions" / lesson / f"{lesson}.ipynb"
    if not path.exists():
        known = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
        raise HubError(f"no lesson {lesson!r}: expected one of {known}")
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return [c for c in code if c.strip()]  # the parameters cell already says QUICK = False


class _MemoryWatch:
    """Peak resident memory of each account's processes, sampled in a thread."""

    def __init__(self, names: list[str]) -> None:
        import pwd

        self.uids = {pwd.getpwnam(n).pw_uid: n for n in names}
        self.peak = dict.fromkeys(names, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.25):
            total = dict.fromkeys(self.peak, 0)
            for process in psutil.process_iter(["uids", "memory_info"]):
                uids, memory = process.info["uids"], process.info["memory_info"]
                if uids and memory and uids.real in self.uids:
                    total[self.uids[uids.real]] += memory.rss
            for name, value in total.items():
                self.peak[name] = max(self.peak[name], value)

    def __enter__(self) -> _MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cgroup_peak_mb(name: str) -> float | None:
    for path in (
        limits.CGROUP_ROOT / limits.PARENT / name / "memory.peak",  # v2 (Linux 5.19+)
        limits.CGROUP_ROOT / "memory" / limits.PARENT / name / "memory.max_usage_in_bytes",  # v1
    ):
        try:
            return int(path.read_text()) / 2**20
        except (OSError, ValueError):
            continue
    return None


class _Client:
    """The hub's REST API and the users' servers, with the load-test service token."""

    def __init__(self, base: str, token: str) -> None:
        from tornado.httpclient import AsyncHTTPClient

        self.base, self.token = base, token
        self.http = AsyncHTTPClient(max_clients=MAX_STUDENTS * 2)

    async def call(self, method: str, path: str, body: Any = None, timeout: float = 600) -> Any:
        from tornado.httpclient import HTTPRequest

        request = HTTPRequest(
            self.base + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=None if body is None and method == "GET" else json.dumps(body or {}),
            request_timeout=timeout,
            allow_nonstandard_methods=True,
        )
        response = await self.http.fetch(request, raise_error=False)
        if response.code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.code} {response.body[:300]!r}")
        return json.loads(response.body) if response.body else None


async def _when_routed(client: _Client, path: str, timeout: float = 60) -> Any:
    """GET ``path`` once the proxy routes it to the hub (just after start it may answer 404)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.call("GET", path)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def _wait_ready(client: _Client, name: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        user = await client.call("GET", f"/hub/api/users/{name}")
        server = (user.get("servers") or {}).get("")
        if server and server.get("ready"):
            return
        if not user.get("pending") and not server:
            raise RuntimeError(f"the spawn failed (the hub reports no server and nothing pending): {user}")
        await asyncio.sleep(0.5)
    raise TimeoutError("server not ready in time")


def _message(code: str, session: str) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    message = {
        "header": {
            "msg_id": msg_id,
            "username": "load-test",
            "session": session,
            "msg_type": "execute_request",
            "version": "5.3",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}},
        "channel": "shell",
        "buffers": [],
    }
    return msg_id, json.dumps(message)


async def _run_lesson(client: _Client, student: Student, lesson: str, cells: list[str], started: float) -> None:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    user = f"/user/{student.name}"
    session = await client.call(
        "POST",
        f"{user}/api/sessions",
        {"path": f"lessons/{lesson}/{lesson}.ipynb", "type": "notebook", "name": "", "kernel": {"name": KERNEL}},
    )
    kernel = session["kernel"]["id"]
    url = client.base.replace("http", "ws", 1) + f"{user}/api/kernels/{kernel}/channels"
    # JupyterLab waits for a busy server to connect the kernel; tornado's default gives up after 20 s (30 kernels
    # starting on 2 cores took longer: every student of a lesson-03 run failed with 'Timeout during request')
    request = HTTPRequest(
        url, headers={"Authorization": f"token {client.token}"}, connect_timeout=300, request_timeout=300
    )
    socket = await websocket_connect(request)
    try:
        session_id = uuid.uuid4().hex
        for code in cells:
            msg_id, text = _message(code, session_id)
            await socket.write_message(text)
            while True:
                raw = await socket.read_message()
                if raw is None:
                    raise RuntimeError("the kernel's websocket closed (kernel died?)")
                if isinstance(raw, bytes):  # binary frames carry widget buffers: not a figure by themselves
                    continue
                reply = json.loads(raw)
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = reply["header"]["msg_type"], reply.get("content", {})
                if kind in ("display_data", "execute_result") and student.first_figure_s is None:
                    if any(t in content.get("data", {}) for t in FIGURE_TYPES):
                        student.first_figure_s = time.monotonic() - started
                if kind == "execute_reply":
                    if content.get("status") != "ok":
                        raise RuntimeError(f"a cell failed: {content.get('ename')}: {content.get('evalue')}")
                    break
    finally:
        socket.close()
    student.done_s = time.monotonic() - started
    if student.first_figure_s is None:
        raise RuntimeError("the lesson ran but sent no figure")


async def _start_server(client: _Client, student: Student, started: float, deadline: float) -> None:
    await client.call("POST", f"/hub/api/users/{student.name}/server")
    await _wait_ready(client, student.name, deadline)
    student.ready_s = time.monotonic() - started


async def _one_student(
    client: _Client, student: Student, lesson: str, cells: list[str], started: float, deadline: float, spawn: bool
) -> None:
    try:
        if spawn:
            await _start_server(client, student, started, deadline)
        if not student.error:
            await asyncio.wait_for(_run_lesson(client, student, lesson, cells, started), deadline - time.monotonic())
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
        student.error = f"{type(error).__name__}: {error}"[:300]
    finally:
        student.cgroup_peak_mb = _cgroup_peak_mb(student.name)


async def _servers_first(client: _Client, students: list[Student], deadline: float) -> None:
    """Start every server before the lecture, SPAWN_AT_ONCE at a time as students arriving over the minutes
    before it (30 at once on 2 busy cores outran the spawner's 300 s start timeout); ready times from this
    moment; a failure is the student's."""
    arriving = asyncio.Semaphore(SPAWN_AT_ONCE)

    async def start(student: Student) -> None:
        try:
            async with arriving:
                await _start_server(client, student, started, deadline)
        except Exception as error:  # noqa: BLE001 - reported, the others go on
            student.error = f"server start: {type(error).__name__}: {error}"[:300]

    started = time.monotonic()
    await asyncio.gather(*(start(s) for s in students))


async def _class_arrives(
    base: str, token: str, students: list[Student], lesson: str, timeout: float, servers_first: bool
) -> None:
    client = _Client(base, token)
    cells = lesson_cells(lesson)
    known = {user["name"] for user in await _when_routed(client, "/hub/api/users")}
    missing = [s.name for s in students if s.name not in known]
    if missing:  # JupyterHub knows a user once it has logged in or been added
        await client.call("POST", "/hub/api/users", {"usernames": missing})
    if servers_first:
        await _servers_first(client, students, time.monotonic() + timeout)
    started = time.monotonic()
    deadline = started + timeout
    await asyncio.gather(
        *(_one_student(client, s, lesson, cells, started, deadline, not servers_first) for s in students)
    )
    await asyncio.gather(
        *(client.call("DELETE", f"/hub/api/users/{s.name}/server") for s in students), return_exceptions=True
    )


def measure(
    n: int = 20,
    lesson: str = "00_welcome",
    timeout: float = 900,
    log_dir: Path | None = None,
    servers_first: bool = True,
    shared_cache: Path | None = None,
    build_cache: bool = True,
) -> HubLoad:
    """Start a class hub with ``n`` test accounts on loopback, its shared cache built (unless not
    ``build_cache``: then every kernel computes and stores what it needs itself), let them all arrive at
    once (servers started before the lesson when ``servers_first``), then clean up."""
    from medai_edu_ops.browser.servers import free_port

    if not 1 <= n <= MAX_STUDENTS:
        raise HubError(f"students must be between 1 and {MAX_STUDENTS}, got {n}")
    if os.geteuid() != 0:
        raise HubError("the load test creates local accounts and starts servers as them: run it as root")
    lesson_cells(lesson)  # a clear error before anything is created
    prefix = "mdl" + uuid.uuid4().hex[:5]
    names = [f"{prefix}{i:02d}" for i in range(n)]
    folder = Path(tempfile.mkdtemp(prefix="medai-hub-load-"))
    os.chmod(folder, 0o755)
    course = folder / "installed"
    course.mkdir()
    shutil.copytree(REPO / "course", course / "course", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = HubSettings(
        root=folder / "srv",
        course=course,
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        load_test_token=secrets.token_hex(32),
        cull_timeout=3600,
    )
    log = (log_dir or Path(tempfile.gettempdir())) / f"medai-hub-load-{prefix}.log"  # kept: failures are read there
    try:
        settings.root.mkdir()
        if shared_cache is not None:  # the hub's cache folder is the given one, kept between runs
            shared_cache.mkdir(parents=True, exist_ok=True)
            settings.shared_cache.symlink_to(shared_cache.resolve(), target_is_directory=True)
        launch.prepare(settings)
        cache_build_s = _build_shared_cache(settings.shared_cache) if build_cache else None
        result = HubLoad(n, lesson, load_average(), servers_first, str(shared_cache or settings.shared_cache))
        result.cache_build_s, result.log = cache_build_s, str(log)
        result.per_student = [Student(name) for name in names]
        for name in names:
            roster.ensure_account(name)
        with launch.running_hub(settings, log, timeout=180) as base, _MemoryWatch(names) as memory:
            asyncio.run(
                _class_arrives(base, settings.load_test_token, result.per_student, lesson, timeout, servers_first)
            )
        for student in result.per_student:
            student.peak_rss_mb = memory.peak[student.name] / 2**20
    finally:
        roster.delete_accounts(names)
        shutil.rmtree(folder, ignore_errors=True)
    result.load_after = load_average()
    return result


def _build_shared_cache(folder: Path) -> float:
    """``medai-edu cache build --into folder`` (as make hub does before the class), in its own process; seconds."""
    import subprocess
    import sys

    begun = time.monotonic()
    command = [sys.executable, "-m", "medai_edu_ops.cli", "cache", "build", "--into", str(folder), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise HubError(f"cache build into {folder} failed (exit status {done.returncode}): {done.stderr[-500:]}")
    return time.monotonic() - begun


def run(
    students: int = 20,
    lessons: list[str] | None = None,
    timeout: float = 900,
    servers_first: bool = True,
    shared_cache: Path | None = None,
) -> dict[str, Any]:
    """One class arrival per lesson (default lesson 00), each on a fresh hub; JSON-ready results."""
    return report(
        [measure(students, lesson, timeout, None, servers_first, shared_cache) for lesson in lessons or ["00_welcome"]]
    )


def report(results: list[HubLoad]) -> dict[str, Any]:
    """Measurements as JSON: a summary and every student, per lesson."""
    return {
        "cpus": os.cpu_count(),
        "lessons": [{"summary": r.summary(), "students": [asdict(s) for s in r.per_student]} for r in results],
    }


def table(result: dict[str, Any]) -> str:
    def fmt(value: float | None, unit: str = " s") -> str:
        return "-" if value is None else f"{value:.1f}{unit}"

    lines = [
        f"Class hub load test on {result['cpus']} CPUs: servers started before the lesson ({SPAWN_AT_ONCE} at a "
        "time; 'all ready' from their start), then every student runs it in lecture mode at once (figure and done "
        "times from that moment); with --cold-start all ask for a server at once and every time counts from then",
        "| lesson | N | all ready | first figure p50 / p95 | lesson done p50 / max | peak memory per student "
        "(median / max) | memory cgroup peak (max) | failures | load average before -> after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in result["lessons"]:
        s = entry["summary"]
        lines.append(
            f"| {s['lesson']} | {s['students']} | {fmt(s['all_ready_s'])} "
            f"| {fmt(s['first_figure_p50_s'])} / {fmt(s['first_figure_p95_s'])} "
            f"| {fmt(s['lesson_done_p50_s'])} / {fmt(s['lesson_done_max_s'])} "
            f"| {fmt(s['peak_rss_mb_median'], ' MB')} / {fmt(s['peak_rss_mb_max'], ' MB')} "
            f"| {fmt(s['cgroup_peak_mb_max'], ' MB')} | {s['failures']} | {s['load_before']} -> {s['load_after']} |"
        )
        lines += [f"  {st['name']}: {st['error']}" for st in entry["students"] if st["error"]]
        if s["failures"]:
            lines.append(f"  the hub's log: {s['hub_log']}")
    return "\n".join(lines)
