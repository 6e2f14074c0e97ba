"""Compute threads sized to the CPUs this process may use, waiting passively (shared hubs, Binder).

On a hub a kernel shares the machine's cores with other users. PyTorch's OpenMP threads default
to one per core and spin while they wait for each other; when another process holds one of those
cores, the spinning thread burns its time slices and every parallel step waits for the thread that
did not get a core (lesson 1 took 5x its quiet time next to one busy process). So, before torch is
imported (``import medai_edu`` calls :func:`configure`):

* the thread count is the smallest of: the CPUs in this process's affinity mask, the cgroup CPU
  quota (cgroup v2 ``cpu.max`` on the process's cgroup and its ancestors, or v1
  ``cpu.cfs_quota_us``), and the spawner's limit (``CPU_LIMIT``, set by JupyterHub's spawners and
  by Binder); a fractional quota rounds down, never below 1;
* ``OMP_WAIT_POLICY=PASSIVE``: waiting threads sleep instead of spinning.

``MEDAI_EDU_THREADS`` overrides: ``auto`` (the default), a number of threads, or ``off`` (leave
the libraries' own defaults; the benchmarks compare both). Variables the user set already win.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ENV_VAR", "THREAD_VARIABLES", "Budget", "cgroup_quota", "cpu_budget", "configure", "settings_made_here"]

ENV_VAR = "MEDAI_EDU_THREADS"
SPAWNER_LIMIT = "CPU_LIMIT"
WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CGROUP_ROOT = Path("/sys/fs/cgroup")

_set_here: dict[str, str] = {}


@dataclass(frozen=True)
class Budget:
    """How many threads to run, and each limit that was found (name -> CPUs)."""

    threads: int
    limits: dict[str, float] = field(default_factory=dict)


def _cpus(value: float, source: str) -> int:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{source}: expected a positive number of CPUs, got {value!r}.")
    return max(1, math.floor(value + 1e-9))


def _quota_file(folder: Path, v2: bool) -> float | None:
    """One cgroup's CPU quota in CPUs (None: no quota, or no readable file)."""
    try:
        return _read_quota(folder, v2)
    except (OSError, ValueError):  # unreadable or unexpected: no limit known, never a failed import
        return None


def _read_quota(folder: Path, v2: bool) -> float | None:
    if v2:
        limit = folder / "cpu.max"
        if not limit.is_file():
            return None
        quota, _, period = limit.read_text().strip().partition(" ")
        return None if quota == "max" else int(quota) / int(period or 100000)
    quota_file, period_file = folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us"
    if not (quota_file.is_file() and period_file.is_file()) or int(quota_file.read_text()) <= 0:
        return None
    return int(quota_file.read_text()) / int(period_file.read_text())


def cgroup_quota(proc_cgroup: str, root: Path = CGROUP_ROOT) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup and its ancestors, v2 or v1.

    ``proc_cgroup`` is the text of ``/proc/self/cgroup``; ``root`` where the hierarchy is mounted.
    """
    v2 = (root / "cgroup.controllers").is_file()
    for line in proc_cgroup.splitlines():
        _, controllers, relative = line.split(":", 2)
        if v2 and controllers == "":
            mounts = [root]
        elif not v2 and "cpu" in controllers.split(","):
            mounts = [root / controllers, root / "cpu", root / "cpu,cpuacct"]
        else:
            continue
        quotas = []
        for mount in dict.fromkeys(m for m in mounts if m.is_dir()):
            folder = mount / relative.strip().lstrip("/")
            for level in [folder, *(p for p in folder.parents if p == mount or mount in p.parents)]:
                quotas.append(_quota_file(level, v2))
        found = [q for q in quotas if q is not None]
        return min(found) if found else None
    return None


def _affinity() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_budget(env: Mapping[str, str] | None = None, cgroup_root: Path = CGROUP_ROOT) -> Budget:
    """The threads this process should run: the smallest limit found (see the module docstring).

    A number in ``MEDAI_EDU_THREADS`` is used as it is; ``auto`` or unset measures the limits.
    """
    env = os.environ if env is None else env
    wanted = env.get(ENV_VAR, "auto").strip().lower()
    if wanted not in ("", "auto"):
        if not wanted.isdigit() or int(wanted) < 1:
            raise ValueError(f"{ENV_VAR} must be 'auto', 'off' or a number of threads >= 1; got {wanted!r}.")
        return Budget(int(wanted), {ENV_VAR: float(wanted)})
    limits: dict[str, float] = {"affinity": float(_affinity())}
    proc_cgroup = Path("/proc/self/cgroup")
    quota = cgroup_quota(proc_cgroup.read_text(), cgroup_root) if proc_cgroup.is_file() else None
    if quota is not None:
        limits["cgroup"] = quota
    if env.get(SPAWNER_LIMIT, "").strip():
        try:
            limits[SPAWNER_LIMIT] = float(env[SPAWNER_LIMIT])
        except ValueError:
            raise ValueError(f"{SPAWNER_LIMIT} must be a number of CPUs, got {env[SPAWNER_LIMIT]!r}.") from None
    threads = min(_cpus(value, name) for name, value in limits.items())
    return Budget(threads, limits)


def configure(env: MutableMapping[str, str] | None = None, cgroup_root: Path = CGROUP_ROOT) -> Budget | None:
    """Set the thread and wait-policy variables (those not set already) for the budget; None when off.

    Must run before torch is imported for OpenMP to see them; if torch is loaded already, its
    thread count is set directly (its OpenMP threads may then still spin).
    """
    env = os.environ if env is None else env
    if env.get(ENV_VAR, "").strip().lower() == "off":
        return None
    budget = cpu_budget(env, cgroup_root)
    for name, value in [*((name, str(budget.threads)) for name in THREAD_VARIABLES), WAIT_POLICY]:
        if name not in env:
            env[name] = value
            if env is os.environ:
                _set_here[name] = value
    torch = sys.modules.get("torch")
    if torch is not None and env is os.environ:
        torch.set_num_threads(budget.threads)
    return budget


def settings_made_here() -> dict[str, str]:
    """The variables :func:`configure` added to this process's environment (children inherit them)."""
    return dict(_set_here)
