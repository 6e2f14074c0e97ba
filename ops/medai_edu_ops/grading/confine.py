"""Limits that hold for a whole sandbox (every process a submission starts, together).

Where the grader may create cgroups (root, or a delegated cgroup v2 subtree), each sandbox gets
its own below the grader's cgroup: memory (v2 ``memory.max`` with swap off, v1
``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``; tmpfs pages count too) and process
count (``pids.max``), and its CPU time is read from the cgroup. Elsewhere the fallback is:
``RLIMIT_AS`` per process, ``RLIMIT_NPROC`` (counted per sandbox, since bubblewrap gives every
sandbox its own user namespace; not enforced for root, who has cgroups), and a watchdog in the
grader that reads the sandbox's process tree every 20 ms (its resident memory and threads, from
/proc) and stops the sandbox when the threads pass their limit, or the memory does, counting pages
that processes share once (PSS, read only then: it is slow).

Both ways, ``/tmp``, ``/dev/shm`` and the working folder are tmpfs mounts of a fixed size
(:mod:`.sandbox`), and each process is limited in CPU time, file size and open files.
"""

from __future__ import annotations

import itertools
import os
import resource
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "medai-edu-grading"
# Memory can grow by about 3 GB/s (four forked children here): the watchdog looks often, and cheaply.
WATCH_SECONDS = 0.02
_runs = itertools.count()


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 4 << 30  # the whole sandbox: a 20 GB allocation fails with MemoryError
    processes: int = 64  # processes and threads in the sandbox, together
    cpu_seconds: int = 900  # per process (a restart is a new process)
    file_bytes: int = 64 << 20  # largest file the submission may write
    disk_bytes: int = 256 << 20  # each of /tmp, /dev/shm and the working folder (tmpfs, in memory)
    open_files: int = 256


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path for a v1 controller, or the v2 path (``controller=None``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        number, controllers, path = line.split(":", 2)
        if (controller is None and number == "0") or (controller and controller in controllers.split(",")):
            return path
    return None


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2_parent() -> Path | None:
    """A cgroup v2 folder whose children get memory and pids controllers: below the grader's own
    cgroup (a delegated subtree), else below the root of the hierarchy (root)."""
    if not (CGROUP_ROOT / "cgroup.controllers").exists():
        return None
    for base in (CGROUP_ROOT / (_own_cgroup(None) or "/").lstrip("/"), CGROUP_ROOT):
        try:  # the first write is refused where base holds processes (cgroup v2's rule), except at the root
            (base / "cgroup.subtree_control").write_text("+memory +pids")
            (base / GROUP).mkdir(exist_ok=True)
            (base / GROUP / "cgroup.subtree_control").write_text("+memory +pids")
            return base / GROUP
        except OSError:
            continue
    return None


def _v1_parents() -> dict[str, Path] | None:
    parents = {}
    for controller in ("memory", "pids", "cpuacct"):
        own = _own_cgroup(controller)
        base = CGROUP_ROOT / controller / (own or "/").lstrip("/")
        if own is None or not _writable(base):
            return None
        parents[controller] = base / GROUP
    try:
        for path in parents.values():
            path.mkdir(exist_ok=True)
    except OSError:
        return None
    return parents


def mode() -> str:
    """How whole-sandbox limits are enforced here: 'cgroup v2', 'cgroup v1' or 'rlimits + watchdog'."""
    if _v2_parent():
        return "cgroup v2"
    if _v1_parents():
        return "cgroup v1"
    return "rlimits + watchdog"


class Confinement:
    """The whole-sandbox limits of one sandbox run (create, join from the child, watch, read, remove)."""

    def __init__(self, limits: Limits, use_cgroups: bool = True, own_user_namespace: bool = True) -> None:
        """``own_user_namespace=False`` (unisolated grading): RLIMIT_NPROC would count all of the user's processes."""
        self.limits = limits
        self.nproc = own_user_namespace
        self.folders: list[Path] = []
        self.kind = "rlimits + watchdog"
        self.stopped: str | None = None  # why the watchdog stopped the sandbox
        self._watch: threading.Event | None = None
        name = f"run-{os.getpid()}-{next(_runs)}"
        try:
            if use_cgroups and (parent := _v2_parent()):
                folder = parent / name
                folder.mkdir()
                self.folders = [folder]
                self._write(folder / "memory.max", limits.memory_bytes)
                if (folder / "memory.swap.max").exists():
                    self._write(folder / "memory.swap.max", 0)
                self._write(folder / "pids.max", limits.processes)
                self.kind = "cgroup v2"
            elif use_cgroups and (parents := _v1_parents()):
                self.folders = [parents[c] / name for c in ("memory", "pids", "cpuacct")]
                for folder in self.folders:
                    folder.mkdir()
                memory = self.folders[0]
                swap = memory / "memory.memsw.limit_in_bytes"
                for path in [memory / "memory.limit_in_bytes"] + ([swap] if swap.exists() else []):
                    self._write(path, limits.memory_bytes)
                self._write(self.folders[1] / "pids.max", limits.processes)
                self.kind = "cgroup v1"
        except OSError:
            self.close()
            self.folders, self.kind = [], "rlimits + watchdog"
        self._procs = [os.open(f / "cgroup.procs", os.O_WRONLY) for f in self.folders]

    @staticmethod
    def _write(path: Path, value: int) -> None:
        path.write_text(str(value))

    def preexec(self) -> None:
        """In the sandbox's first process, before it starts anything: join the cgroups, set the rlimits."""
        for fd in self._procs:
            os.write(fd, b"0")
        cgroups = self.kind.startswith("cgroup")
        for kind, value in (
            (resource.RLIMIT_AS, self.limits.memory_bytes),
            (resource.RLIMIT_FSIZE, self.limits.file_bytes),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NOFILE, self.limits.open_files),
            (resource.RLIMIT_NPROC, None if cgroups or not self.nproc else self.limits.processes),
        ):
            if value is not None:
                resource.setrlimit(kind, (value, value))
        # SIGXCPU at the soft limit, SIGKILL a little later if it is ignored.
        resource.setrlimit(resource.RLIMIT_CPU, (self.limits.cpu_seconds, self.limits.cpu_seconds + 5))

    def watch(self, pid: int) -> None:
        """Without cgroups: stop the sandbox (process group ``pid``) when its tree passes a limit."""
        if self.kind.startswith("cgroup"):
            return
        self._watch = threading.Event()
        threading.Thread(target=self._watchdog, args=(pid, self._watch), daemon=True).start()

    def _watchdog(self, pid: int, done: threading.Event) -> None:
        import psutil

        while not done.wait(WATCH_SECONDS):
            try:
                tree, tasks = _process_tree(pid)
                memory = sum(_resident_memory(p) for p in tree)  # pages shared by processes counted in each
                if memory > self.limits.memory_bytes:
                    memory = sum(_proportional_memory(psutil.Process(p)) for p in tree)
            except (OSError, ValueError, psutil.Error):  # a process left meanwhile: look again
                continue
            if tasks > self.limits.processes or memory > self.limits.memory_bytes:
                self.stopped = (
                    f"the submission used {memory / 2**30:.1f} GiB of memory and {tasks} processes and threads, "
                    f"more than the sandbox allows ({self.limits.memory_bytes / 2**30:.1f} GiB, "
                    f"{self.limits.processes})"
                )
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

    def cpu_seconds(self) -> float | None:
        """CPU seconds used by everything in the sandbox so far (None without cgroups)."""
        try:
            if self.kind == "cgroup v2":
                stat = dict(line.split() for line in (self.folders[0] / "cpu.stat").read_text().splitlines())
                return int(stat["usage_usec"]) / 1e6
            if self.kind == "cgroup v1":
                return int((self.folders[2] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, KeyError, ValueError):
            pass
        return None

    def out_of_memory(self) -> bool:
        """Whether the cgroup's memory limit stopped a process."""
        try:
            if self.kind == "cgroup v2":
                events = dict(line.split() for line in (self.folders[0] / "memory.events").read_text().splitlines())
                return int(events.get("oom_kill", 0)) > 0
            if self.kind == "cgroup v1":
                return int((self.folders[0] / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            pass
        return False

    def close(self) -> None:
        """Stop watching and remove the cgroups (call once the sandbox has ended)."""
        if self._watch:
            self._watch.set()
        for fd in getattr(self, "_procs", []):
            os.close(fd)
        self._procs = []
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes still leaving
                    threading.Event().wait(0.02)


def _process_tree(pid: int) -> tuple[list[int], int]:
    """``pid`` and its descendants, and their number of threads, read from /proc (cheaper than scanning
    every process for its parent)."""
    tree, threads, todo = [], 0, [pid]
    while todo:
        process = todo.pop()
        tree.append(process)
        for task in Path(f"/proc/{process}/task").iterdir():
            threads += 1
            todo += [int(child) for child in (task / "children").read_text().split()]
    return tree, threads


def _resident_memory(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _proportional_memory(process: psutil.Process) -> int:
    try:
        return process.memory_full_info().pss
    except Exception:  # noqa: BLE001 - no smaps access: count resident memory
        return process.memory_info().rss


def remove_stale() -> None:
    """Remove empty cgroups left by graders that stopped without cleaning up."""
    parents = [p for p in [_v2_parent(), *(_v1_parents() or {}).values()] if p]
    for parent in parents:
        for folder in parent.glob("run-*"):
            try:
                folder.rmdir()
            except OSError:
                pass
