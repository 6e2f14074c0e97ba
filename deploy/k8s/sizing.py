#!/usr/bin/env python3
"""Size the course's Zero-to-JupyterHub deployment from the measured lessons.

    python deploy/k8s/sizing.py --students 500            # the arithmetic of docs/kubernetes.md

The measurements are `MEDAI_EDU_SHARED_CACHE=DIR medai-edu bench notebooks --json
ops/medai_edu_ops/measurements/notebooks_benchmark.json` (each lesson in lecture mode, its kernel reading a cache
built by `medai-edu cache build --into DIR` as the image's kernels do: its peak memory and CPU seconds,
the JupyterLab server's memory without kernels). The rules, which tests/test_k8s.py holds deploy/k8s/values.yaml to:

* memory guarantee = the heaviest lesson kernel's peak + the server, rounded up to 64 MiB: every
  student on a node can run the heaviest lesson at the same moment;
* memory limit >= HEADROOM x each lesson's kernel peak + the server (room for a bigger figure, or
  a second, idle kernel before the in-server kernel culling stops it);
* CPU guarantee = the largest lesson's kernel CPU seconds / LECTURE_SECONDS, rounded up to 0.05 CPU:
  when a whole lecture runs a lesson at once, each finishes its computing within 90 s (design §5);
* CPU limit = the 2 cores the lessons are sized for (Binder's); medai_edu/threads.py sizes each
  kernel's threads to it (JupyterHub passes it as CPU_LIMIT).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "ops" / "medai_edu_ops" / "measurements" / "notebooks_benchmark.json"
VALUES = Path(__file__).resolve().parent / "values.yaml"
HEADROOM = 1.25
LECTURE_SECONDS = 90.0
MEMORY_STEP_MIB = 64
CPU_STEP = 0.05
CPU_LIMIT = 2.0
UNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def mib(quantity: str | int) -> float:
    """A Kubernetes memory quantity as z2jh takes it ('2G', '1536M', '1.5Gi', bytes) in MiB.

    KubeSpawner reads K/M/G/T as powers of 1024, like Ki/Mi/Gi/Ti.
    """
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)i?", str(quantity).strip())
    if not match:
        raise ValueError(f"memory quantity {quantity!r}: expected a number with K, M, G or T (e.g. 2G, 1536M)")
    return float(match.group(1)) * UNITS.get(match.group(2), 1) / 2**20


def load_benchmark(path: Path = BENCHMARK) -> dict:
    """The shipped notebooks benchmark (``medai-edu bench notebooks --json``)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `medai-edu bench notebooks --json {path}`")
    return json.loads(path.read_text())


def lesson_peaks(benchmark: dict) -> dict[str, float]:
    """Each lesson kernel's peak resident memory in MiB (the larger of its first and second run)."""
    return {
        name: max(run["peak_rss_mb"] for run in (row["first_run"], row["second_run"]))
        for name, row in benchmark["lessons"].items()
    }


def lesson_cpu_seconds(benchmark: dict) -> dict[str, float]:
    """Each lesson kernel's CPU seconds in lecture mode, data cache filled (the hub ships it pre-built)."""
    return {name: row["second_run"]["cpu_seconds"] for name, row in benchmark["lessons"].items()}


def server_mib(benchmark: dict) -> float:
    return benchmark["server"]["server_rss_mb"]


def memory_guarantee_mib(benchmark: dict) -> int:
    """The heaviest lesson's kernel peak plus the server, rounded up to 64 MiB."""
    need = max(lesson_peaks(benchmark).values()) + server_mib(benchmark)
    return MEMORY_STEP_MIB * math.ceil(need / MEMORY_STEP_MIB)


def memory_limit_needed_mib(benchmark: dict) -> dict[str, float]:
    """Per lesson, the smallest limit that keeps HEADROOM over its kernel peak (server included)."""
    return {name: HEADROOM * peak + server_mib(benchmark) for name, peak in lesson_peaks(benchmark).items()}


def cpu_guarantee(benchmark: dict) -> float:
    """CPUs each student needs so that a whole lecture running a lesson at once finishes in LECTURE_SECONDS."""
    need = max(lesson_cpu_seconds(benchmark).values()) / LECTURE_SECONDS
    return round(CPU_STEP * math.ceil(need / CPU_STEP - 1e-9), 2)


@dataclass
class Plan:
    students: int
    per_node: int
    bound_by: str
    user_nodes: int
    home_gib: int
    exchange_gib: int


def plan(
    benchmark: dict,
    students: int,
    node_cpus: float = 16,
    node_memory_gib: float = 64,
    reserved_cpus: float = 1,
    reserved_memory_gib: float = 4,
    home_capacity_gib: int = 1,
    resubmissions: int = 2,
) -> Plan:
    """Nodes and storage for ``students`` from the guarantees (what the scheduler reserves)."""
    by_memory = math.floor((node_memory_gib - reserved_memory_gib) * 1024 / memory_guarantee_mib(benchmark))
    by_cpu = math.floor((node_cpus - reserved_cpus) / cpu_guarantee(benchmark))
    per_node = min(by_memory, by_cpu)
    lessons = benchmark["lessons"].values()
    notebooks_mib = sum(row["second_run"]["notebook_mb"] for row in lessons)
    # exchange: every student's submissions (up to `resubmissions` each) and feedback pages (about the same size)
    exchange_mib = students * notebooks_mib * (resubmissions + 1)
    return Plan(
        students=students,
        per_node=per_node,
        bound_by="memory" if by_memory <= by_cpu else "CPU",
        user_nodes=math.ceil(students / per_node),
        home_gib=students * home_capacity_gib,
        exchange_gib=max(1, math.ceil(exchange_mib * 2 / 1024)),  # twice the estimate: leave room
    )


def report(benchmark: dict, students: int, **node: float) -> str:
    """The sizing arithmetic, as text."""
    peaks, cpu = lesson_peaks(benchmark), lesson_cpu_seconds(benchmark)
    lines = [f"Measured {benchmark['machine']['date']} (load average {benchmark['machine']['load_average']}):"]
    for name in peaks:
        lines.append(f"  {name:<30} kernel peak {peaks[name]:6.0f} MiB   CPU {cpu[name]:5.1f} s")
    lines += [
        f"  JupyterLab server without kernels {server_mib(benchmark):.0f} MiB",
        f"memory guarantee = ceil64({max(peaks.values()):.0f} + {server_mib(benchmark):.0f}) = "
        f"{memory_guarantee_mib(benchmark)} MiB",
        f"memory limit >= {HEADROOM} x peak + server = {max(memory_limit_needed_mib(benchmark).values()):.0f} MiB",
        f"CPU guarantee = ceil0.05({max(cpu.values()):.1f} s / {LECTURE_SECONDS:.0f} s) = {cpu_guarantee(benchmark)}",
    ]
    p = plan(benchmark, students, **node)
    lines += [
        f"{students} students: {p.per_node} per node ({p.bound_by} bound) -> {p.user_nodes} user nodes",
        f"homes {p.home_gib} GiB (RWO, one per student), exchange {p.exchange_gib} GiB (RWX)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--node-cpus", type=float, default=16)
    parser.add_argument("--node-memory-gib", type=float, default=64)
    parser.add_argument("--benchmark", type=Path, default=BENCHMARK)
    args = parser.parse_args()
    node = {"node_cpus": args.node_cpus, "node_memory_gib": args.node_memory_gib}
    print(report(load_benchmark(args.benchmark), args.students, **node))


if __name__ == "__main__":
    main()
