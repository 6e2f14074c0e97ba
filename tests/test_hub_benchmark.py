"""docs/hub.md section 8 shows what the shipped measurements say: the load test's rows are the shipped
`bench hub` results, the students-per-machine table is computed from the shipped notebooks benchmark."""

from __future__ import annotations

import json
import math
import re

from conftest import ROOT

DOCS = (ROOT / "docs" / "hub.md").read_text()
HUB = json.loads((ROOT / "ops" / "medai_edu_ops" / "measurements" / "hub_benchmark.json").read_text())
NOTEBOOKS = json.loads((ROOT / "ops" / "medai_edu_ops" / "measurements" / "notebooks_benchmark.json").read_text())
MEMORY_MB = 21.5 * 1024  # the machine's 23.5 GB less 2 GB for the system
LECTURE_CPU_SECONDS = 2 * 90  # 2 cores, every student's computing within 90 s


def test_the_load_test_rows_are_the_shipped_measurements():
    for entry in HUB["lessons"]:
        s = entry["summary"]
        assert s["servers_first"] and s["shared_cache"] and len(s["load_before"]) == 3
        wanted = (
            f"| {s['students']} | {s['all_ready_s']:.0f} s | {s['first_figure_p50_s']:.0f} s / "
            f"{s['first_figure_p95_s']:.0f} s | {s['lesson_done_p50_s']:.0f} s / {s['lesson_done_max_s']:.0f} s "
            f"| {s['peak_rss_mb_median']:.0f} MB (cgroup {s['cgroup_peak_mb_max']:.0f} MB) | {s['failures']} "
            f"| {s['load_before'][0]:.1f} -> {s['load_after'][0]:.1f} |"
        )
        rows = [line for line in DOCS.splitlines() if line.startswith(f"| {s['lesson'][:2]} ") and wanted in line]
        assert rows, f"docs/hub.md has no row for {s['lesson']} with the shipped numbers: {wanted}"


def test_students_per_machine_are_computed_from_the_notebooks_benchmark():
    server = NOTEBOOKS["server"]["server_rss_mb"]
    for lesson, runs in NOTEBOOKS["lessons"].items():
        peak = max(runs["first_run"]["peak_rss_mb"], runs["second_run"]["peak_rss_mb"])
        cpu = runs["second_run"]["cpu_seconds"]
        by_memory, by_cpu = math.floor(MEMORY_MB / (peak + server)), math.floor(LECTURE_CPU_SECONDS / cpu)
        rows = [line for line in DOCS.splitlines() if re.match(rf"\| {lesson[:2]} [^|]+\| \d+ -> \d+ MB \|", line)]
        assert len(rows) == 1, f"one students-per-machine row for {lesson}"
        cells = [cell.split("->")[-1].strip() for cell in rows[0].strip("|").split("|")[1:]]
        assert cells == [f"{peak:.0f} MB", f"{cpu:.1f}", str(by_memory), str(by_cpu)], (lesson, cells)
