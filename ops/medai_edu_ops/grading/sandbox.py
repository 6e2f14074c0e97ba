"""Isolation of a submission's code: bubblewrap (Debian's ``bubblewrap`` package).

Why bubblewrap: it needs no daemon and no configuration, runs unprivileged where user
namespaces are allowed (and as root), and gives each run, in one command, its own network
namespace (only a loopback device: nothing outside can be reached), its own PID, IPC and UTS
namespaces, a filesystem built from an empty root, an unprivileged user (``nobody``) with no
capabilities, and a new session. The process is killed with its parent. Memory, process count
and CPU time are limited for the whole sandbox (:mod:`.confine`).

What the submission sees: the system's read-only ``/usr`` (and ``/lib*``, ``/bin``; a ``/etc`` with
only the loader cache, the time zone and a one-line ``passwd`` and ``group`` of its own), the Python
installation and the course's virtual environment and library (read-only), the lesson data
cache (read-only), the job file and a read-only copy of its submission's other files, which the
runner copies into its working folder (``$HOME``). The working folder, ``/tmp`` and ``/dev/shm``
are private tmpfs mounts of a fixed size. Not ``solutions/``, not the gradebook, not other
submissions, not the instructor's home or the course folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from medai_edu_ops.grading.confine import Limits

HOME = "/home/student"
JOB_DIR = "/grader"
FILES_DIR = "/grader-files"  # the submission's other files, read-only (the runner copies them home)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
# The machine's /etc/passwd and /etc/group would list its accounts: the sandbox gets its own.
IDENTITY = {"passwd": "nobody:x:65534:65534:student:/home/student:/usr/sbin/nologin\n", "group": "nogroup:x:65534:\n"}


class IsolationUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create namespaces here."""


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


def package_dirs() -> list[Path]:
    """The folders of the library and of these course operations (the runner is one of them)."""
    import medai_edu
    import medai_edu_ops

    return [Path(package.__path__[0]).resolve() for package in (medai_edu, medai_edu_ops)]


def _readable_paths(extra: list[Path]) -> list[str]:
    paths = {
        sys.prefix,
        sys.base_prefix,
        os.path.realpath(sys.base_prefix),
        *map(str, package_dirs()),
        *map(str, extra),
    }
    return sorted(p for p in paths if p and os.path.exists(p))


def command(
    argv: list[str],
    home: Path | None,
    job_dir: Path,
    readable: list[Path],
    writable: Sequence[Path] = (),
    limits: Limits | None = None,
    files: Path | None = None,
) -> list[str]:
    """The bwrap command line that runs ``argv`` isolated (see the module's docstring).

    ``home``: a folder bound as the working folder (the instructor's own reference run, whose
    caches are kept); ``None`` gives a private tmpfs of ``limits.disk_bytes``, into which the
    runner copies ``files``.
    """
    size = str((limits or Limits()).disk_bytes)
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
        "--size",
        size,
        "--tmpfs",
        "/dev/shm",
        "--size",
        size,
        "--perms",
        "1777",
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
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    if home is None:
        args += ["--size", size, "--perms", "0700", "--tmpfs", HOME]
    else:
        args += ["--bind", str(home), HOME]
    if files is not None:
        args += ["--ro-bind", str(files), FILES_DIR]
    args += ["--ro-bind", str(job_dir), JOB_DIR, "--chdir", HOME]
    return args + argv
