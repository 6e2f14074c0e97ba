"""Per-user memory and CPU limits for servers the hub starts as local processes.

JupyterHub's LocalProcessSpawner enforces no limit by itself. Where the hub (root) can write the
cgroup file system, each user gets a cgroup with a memory limit and a CPU quota, and the user's
server joins it before it drops to the user's uid; every kernel and terminal it starts inherits it.
cgroup v2 (``memory.max``, ``cpu.max``) and v1 (``memory.limit_in_bytes``, ``cpu.cfs_quota_us``) are
both handled. Where neither can be written, :func:`prepare` says so and nothing is enforced.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "medai-edu-hub"
PERIOD_US = 100_000
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(text: str | int) -> int:
    """'2G', '512M' or a number of bytes -> bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text).upper())
    if not match:
        raise ValueError(f"memory limit {text!r}: expected a size such as 2G, 512M or a number of bytes")
    return int(float(match.group(1)) * UNITS[match.group(2)])


@dataclass
class UserLimits:
    """The cgroup folders a user's server joins, and what they enforce."""

    folders: list[Path] = field(default_factory=list)
    enforced: list[str] = field(default_factory=list)  # e.g. "memory 2.0 GiB (cgroup v1)"
    missing: list[str] = field(default_factory=list)  # why a limit is not enforced

    def join(self, pid: int | None = None) -> None:
        """Move ``pid`` (default: this process) into the user's cgroups; call before dropping root."""
        for folder in self.folders:
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, str(pid or os.getpid()).encode())
            finally:
                os.close(fd)

    def remove(self) -> None:
        """Remove the user's cgroups (only possible once no process is left in them)."""
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:
                pass


def remove_user(user: str) -> None:
    """Remove whatever cgroups ``user`` has left (v2 or v1), once their processes are gone."""
    folders = [CGROUP_ROOT / PARENT / user] + [CGROUP_ROOT / c / PARENT / user for c in ("memory", "cpu")]
    UserLimits(folders=[f for f in folders if f.is_dir()]).remove()


def cgroup_version() -> int | None:
    """2 or 1 where this process may create cgroups with memory and CPU controllers, else None."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return 2 if os.access(CGROUP_ROOT, os.W_OK) else None
    if all(os.access(CGROUP_ROOT / c, os.W_OK) for c in ("memory", "cpu")):
        return 1
    return None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _v2(user: str, memory: int, cpus: float, limits: UserLimits) -> None:
    parent = CGROUP_ROOT / PARENT
    wanted = {"memory", "cpu"}
    available = set((CGROUP_ROOT / "cgroup.controllers").read_text().split())
    if not wanted <= available:
        limits.missing.append(f"cgroup v2 lacks controllers {sorted(wanted - available)}")
        return
    _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +cpu")
    parent.mkdir(exist_ok=True)
    _write(parent / "cgroup.subtree_control", "+memory +cpu")
    folder = parent / user
    folder.mkdir(exist_ok=True)
    _write(folder / "memory.max", str(memory))
    if (folder / "memory.swap.max").exists():  # no swapping past the limit
        _write(folder / "memory.swap.max", "0")
    _write(folder / "cpu.max", f"{int(cpus * PERIOD_US)} {PERIOD_US}")
    limits.folders.append(folder)
    limits.enforced += [f"memory {memory / (1 << 30):.1f} GiB (cgroup v2)", f"CPU {cpus:g} cores (cgroup v2 cpu.max)"]


def _v1(user: str, memory: int, cpus: float, limits: UserLimits) -> None:
    mem = CGROUP_ROOT / "memory" / PARENT / user
    mem.mkdir(parents=True, exist_ok=True)
    # memory + swap must stay >= memory: write it before and after, so raising and lowering both work.
    swap = mem / "memory.memsw.limit_in_bytes"
    for path in ([swap] if swap.exists() else []) + [mem / "memory.limit_in_bytes"] + ([swap] if swap.exists() else []):
        try:
            _write(path, str(memory))
        except OSError:
            pass
    if int((mem / "memory.limit_in_bytes").read_text()) > memory:
        raise OSError(f"{mem}: the memory limit did not take ({memory} bytes wanted)")
    cpu = CGROUP_ROOT / "cpu" / PARENT / user
    cpu.mkdir(parents=True, exist_ok=True)
    _write(cpu / "cpu.cfs_period_us", str(PERIOD_US))
    _write(cpu / "cpu.cfs_quota_us", str(int(cpus * PERIOD_US)))
    limits.folders += [mem, cpu]
    limits.enforced += [f"memory {memory / (1 << 30):.1f} GiB (cgroup v1)", f"CPU {cpus:g} cores (cgroup v1 CFS quota)"]


def prepare(user: str, memory: str | int | None, cpus: float | None) -> UserLimits:
    """Create ``user``'s cgroups with the given limits (as root); returns what is enforced and what is not."""
    limits = UserLimits()
    if not memory and not cpus:
        limits.missing.append("no limits configured")
        return limits
    version = cgroup_version()
    if version is None:
        limits.missing.append(f"cannot create cgroups under {CGROUP_ROOT} (not root, or read-only): no limits enforced")
        return limits
    try:
        (_v2 if version == 2 else _v1)(user, parse_bytes(memory or "1T"), float(cpus or os.cpu_count() or 1), limits)
    except OSError as error:
        limits.missing.append(f"cgroup v{version} set-up failed: {error}")
    return limits
