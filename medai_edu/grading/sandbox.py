"""Isolation of a submission's code: bubblewrap (Debian's ``bubblewrap`` package).

Why bubblewrap: it needs no daemon and no configuration, runs unprivileged where user
namespaces are allowed (and as root), and gives each run, in one command, its own network
namespace (only a loopback device: nothing outside can be reached), its own PID, IPC and UTS
namespaces, a filesystem built from an empty root, an unprivileged user (``nobody``) with no
capabilities, and a new session. The process is killed with its parent. cgroups would also
meter memory, but they need a delegated hierarchy that containers and CI machines often lack,
so memory, CPU time, file size and core dumps are limited with ``setrlimit`` instead, inherited
by everything the submission starts.

What the submission sees: the system's read-only ``/usr`` (and ``/lib*``, ``/bin``; a ``/etc`` with
only the loader cache, the time zone and a one-line ``passwd`` and ``group`` of its own), the Python
installation and the course's virtual environment and library (read-only), the lesson data
cache (read-only), its own copy of its submission folder (writable, its working directory and
``$HOME``), a private ``/tmp`` and the job file. Not ``solutions/``, not the gradebook, not other
submissions, not the instructor's home or the course folder.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HOME = "/home/student"
JOB_DIR = "/grader"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
# The machine's /etc/passwd and /etc/group would list its accounts: the sandbox gets its own.
IDENTITY = {"passwd": "nobody:x:65534:65534:student:/home/student:/usr/sbin/nologin\n", "group": "nogroup:x:65534:\n"}


class IsolationUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 4 << 30  # address space per process: a 20 GB allocation fails with MemoryError
    cpu_seconds: int = 900  # CPU time of the whole run (all restarts are new processes)
    file_bytes: int = 64 << 20  # largest file the submission may write
    open_files: int = 256


def bwrap_problem() -> str | None:
    """None when bubblewrap works here, else what is wrong (in words, with the fix)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return (
            "bubblewrap is not installed (Debian/Ubuntu: `apt-get install bubblewrap`; `make install` does it as root)"
        )
    probe = subprocess.run(
        [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"], capture_output=True, text=True
    )
    if probe.returncode:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()} (allow unprivileged user namespaces, or run as root)"
    return None


def _readable_paths(extra: list[Path]) -> list[str]:
    import medai_edu

    library = Path(medai_edu.__file__).resolve().parent
    paths = {sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix), str(library), *map(str, extra)}
    return sorted(p for p in paths if p and os.path.exists(p))


def command(argv: list[str], home: Path, job_dir: Path, readable: list[Path], writable: list[Path] = ()) -> list[str]:
    """The bwrap command line that runs ``argv`` isolated (see the module's docstring)."""
    args = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--hostname",
        "grader",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]  # first: later binds may lie under /tmp
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for name, text in IDENTITY.items():
        (job_dir / name).write_text(text)
        args += ["--ro-bind", str(job_dir / name), f"/etc/{name}"]
    for path in _readable_paths(readable):
        args += ["--ro-bind", path, path]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    args += ["--bind", str(home), HOME, "--ro-bind", str(job_dir), JOB_DIR, "--chdir", HOME]
    return args + argv


def limiter(limits: Limits):
    """A ``preexec_fn`` that applies the limits to the child (and everything it starts)."""

    def apply() -> None:
        for kind, value in (
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NOFILE, limits.open_files),
        ):
            resource.setrlimit(kind, (value, value))
        # SIGXCPU at the soft limit, SIGKILL a little later if it is ignored.
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))

    return apply
