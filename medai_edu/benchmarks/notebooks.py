"""`medai-edu bench notebooks`: run every lesson headless as a lecture would, time it, and
measure the kernel's peak memory (budgets, design §5: 90 s and 2 GB per lesson on 2 CPU cores).

Each notebook runs in a fresh process under papermill (QUICK = False, shipped weights); the
peak resident memory of that process's children, sampled every 50 ms with psutil (the same on
Linux, macOS and Windows), is the Jupyter kernel's. Each runs twice: first with an empty data
cache (a learner's first run: lesson 2 generates its cohort), then again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from medai_edu.data.cache import ENV_VAR as CACHE_ENV
from medai_edu.release import ROOT

KERNEL = "medai-edu"

_RUNNER = """
import json, sys, threading, time
import papermill, psutil
source, output, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
peak, done = [0], threading.Event()
def watch():  # the kernel's peak resident memory, sampled (psutil: the same units on Linux, macOS, Windows)
    me = psutil.Process()
    while not done.wait(0.05):
        try:
            peak[0] = max([peak[0]] + [child.memory_info().rss for child in me.children(recursive=True)])
        except psutil.Error:
            pass
threading.Thread(target=watch, daemon=True).start()
start = time.perf_counter()
papermill.execute_notebook(source, output, parameters={"QUICK": quick}, kernel_name=sys.argv[5], cwd=sys.argv[4], progress_bar=False, execution_timeout=600)
seconds = time.perf_counter() - start
done.set()
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak[0] / 2**20}))
"""


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.ipynb"))


def run_one(path: Path, quick: bool = False, cache: Path | None = None) -> dict[str, Any]:
    """Run one notebook headless in a fresh process; returns seconds and the kernel's peak RSS.

    ``cache`` replaces the data cache folder (``MEDAI_EDU_CACHE``) for this run.
    """
    env = dict(os.environ, **({CACHE_ENV: str(cache)} if cache else {}))
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _RUNNER,
                str(path),
                str(Path(tmp) / path.name),
                "1" if quick else "0",
                str(path.parent),
                KERNEL,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} failed under papermill:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> dict[str, dict[str, Any]]:
    """First run (empty data cache) and second run of every lesson."""
    results = {}
    for path in notebooks():
        with tempfile.TemporaryDirectory() as cache:
            first = run_one(path, quick, Path(cache))
            again = run_one(path, quick, Path(cache))
        results[path.stem] = {"first_run": first, "second_run": again}
    return results


def table(result: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'notebook':<32}{'1st run s':>10}{'peak MB':>9}{'2nd run s':>10}{'peak MB':>9}"]
    for name, row in result.items():
        first, again = row["first_run"], row["second_run"]
        lines.append(
            f"{name:<32}{first['seconds']:>10.1f}{first['peak_rss_mb']:>9.0f}{again['seconds']:>10.1f}{again['peak_rss_mb']:>9.0f}"
        )
    return "\n".join(lines)
