"""`medai-edu bench notebooks`: run every lesson headless as a lecture would, time it, and
measure the kernel's peak memory (budgets, design §5: 90 s and 2 GB per lesson on 2 CPU cores).

Each notebook runs in a fresh process under papermill (QUICK = False, shipped weights); the
peak resident memory of that process's children, sampled every 50 ms with psutil (the same on
Linux, macOS and Windows), is the Jupyter kernel's. Each runs twice: first with an empty data
cache (a learner's first run: lesson 2 generates its cohort), then again. Every run records the
load average beside its time: on a shared machine other work slows it.

Contention mode (``--contention``): on a hub a kernel shares the cores with other users. Each
lesson runs once to fill its data cache, then, for each thread setting asked for
(``MEDAI_EDU_THREADS``: ``auto`` = medai_edu/threads.py's sizing and passive waiting, ``off`` =
the libraries' defaults), quiet and then next to one busy process (a Python loop spinning on one
core, started and stopped here, at this process's priority); the ratio contended/quiet is the
cost of sharing (target: at most 1.5).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

from medai_edu import threads
from medai_edu.data.cache import ENV_VAR as CACHE_ENV
from medai_edu.data.cache import SHARED_ENV_VAR as SHARED_ENV
from medai_edu_ops.benchmarks import load_average
from medai_edu_ops.release import ROOT

KERNEL = "medai-edu"

_RUNNER = r"""
import json, os, sys, threading, time
import papermill, psutil
source, output, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
peak, cpu, done = [0], {}, threading.Event()
def watch():  # the kernel's peak resident memory and CPU time, sampled (psutil: the same on Linux, macOS, Windows)
    me = psutil.Process()
    while not done.wait(0.05):
        try:
            for child in me.children(recursive=True):
                peak[0] = max(peak[0], child.memory_info().rss)
                cpu[child.pid] = sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
threading.Thread(target=watch, daemon=True).start()
import nbformat
probe_file = output + ".cpu"
probe = nbformat.v4.new_code_cell("import os as _os, time as _time\nwith open(%r, 'a') as _f:\n    _f.write(f'{sum(_os.times()[:2])} {_time.perf_counter()}\\n')" % probe_file)
nb = nbformat.read(source, as_version=4)
setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "notebook.start(" in c.source)
nb.cells.insert(setup + 1, probe)  # the kernel's own CPU seconds when its set-up cell is done ...
nb.cells.append(nbformat.v4.new_code_cell(probe.source))  # ... and at the end
probed = output + ".in.ipynb"
nbformat.write(nb, probed)
start = time.perf_counter()
papermill.execute_notebook(probed, output, parameters={"QUICK": quick}, kernel_name=sys.argv[5], cwd=sys.argv[4], progress_bar=False, execution_timeout=600)
seconds = time.perf_counter() - start
done.set()
(cpu0, t0), (cpu1, t1) = [map(float, line.split()) for line in open(probe_file).read().splitlines()]
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak[0] / 2**20, "cpu_seconds": sum(cpu.values()), "cpu_after_setup": cpu1 - cpu0, "wall_after_setup": t1 - t0, "notebook_mb": os.path.getsize(output) / 2**20}))
"""


TARGET_RATIO = 1.5  # contended / quiet time, per lesson, next to one busy process


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.ipynb"))


def machine() -> dict[str, Any]:
    """When and where: UTC date, CPUs (logical and usable by this process), memory, load average."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "usable_cpus": threads.cpu_budget().limits,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": load_average(),
    }


def thread_env(mode: str | None) -> dict[str, str]:
    """This process's environment for a kernel with ``MEDAI_EDU_THREADS=mode`` (None: as it is).

    What ``import medai_edu`` set here is taken out, so that the kernel decides for itself.
    """
    env = dict(os.environ)
    if mode is not None:
        for name in threads.settings_made_here():
            env.pop(name, None)
        env[threads.ENV_VAR] = mode
    return env


def run_one(
    path: Path, quick: bool = False, cache: Path | None = None, threads_mode: str | None = None
) -> dict[str, Any]:
    """Run one notebook headless in a fresh process; returns seconds, the kernel's peak RSS and the load.

    ``cache`` replaces the data cache folder (``MEDAI_EDU_CACHE``) for this run; ``threads_mode``
    sets ``MEDAI_EDU_THREADS`` for its kernel.
    """
    env = dict(thread_env(threads_mode), **({CACHE_ENV: str(cache)} if cache else {}))
    load_before = load_average()
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
    stored = sorted(p.name for p in Path(cache).glob("result-*.npz")) if cache else []
    return dict(
        json.loads(result.stdout.strip().splitlines()[-1]),
        load_before=load_before,
        load_after=load_average(),
        results_in_user_cache=len(stored),  # computed by this run or an earlier one into this cache
    )


def run(quick: bool = False) -> dict[str, Any]:
    """First run (empty data cache) and second run of every lesson, with the machine and date.

    A shared cache (``$MEDAI_EDU_SHARED_CACHE``, e.g. from `medai-edu cache build --into DIR`) is read
    by both: the lecture on a prepared hub. Without one the first run is a learner's first run.
    """
    lessons = {}
    for path in notebooks():
        with tempfile.TemporaryDirectory() as cache:
            first = run_one(path, quick, Path(cache))
            again = run_one(path, quick, Path(cache))
        lessons[path.stem] = {"first_run": first, "second_run": again}
        print(
            f"{path.stem}: {first['seconds']:.1f} s, then {again['seconds']:.1f} s (load {again['load_after']}; "
            f"results stored in the user's cache: {again['results_in_user_cache']})",
            flush=True,
        )
    shared = os.environ.get(SHARED_ENV)
    return {"machine": machine(), "quick": quick, "shared_cache": shared, "server": server_memory(), "lessons": lessons}


def server_memory(settle: float = 5.0, timeout: float = 120.0) -> dict[str, float]:
    """Resident memory of a JupyterLab server without kernels (this environment's extensions), its page served.

    The part of a hub user's memory that is not a lesson's kernel (``jupyterhub-singleuser`` is
    the same server). It listens on the loopback only, with a random token, and is stopped here.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as root:
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
        command += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
        command += ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"JupyterLab did not serve /lab within {timeout:.0f} s") from None
                    time.sleep(0.5)
            time.sleep(settle)
            rss = psutil.Process(server.pid).memory_info().rss
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return {"server_rss_mb": rss / 2**20, "settle_seconds": settle}


class Spinner:
    """One busy process: a Python loop spinning on one core until stopped (this process's priority)."""

    def __enter__(self) -> Spinner:
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        self.started = time.monotonic()
        return self

    def share(self) -> float:
        """The fraction of one core the spinner got so far."""
        cpu = psutil.Process(self.process.pid).cpu_times()
        return (cpu.user + cpu.system) / max(time.monotonic() - self.started, 1e-9)

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def contended(path: Path, cache: Path, threads_mode: str | None) -> dict[str, Any]:
    """``path`` run quiet, then next to a :class:`Spinner`; returns both runs and their ratio."""
    quiet = run_one(path, cache=cache, threads_mode=threads_mode)
    with Spinner() as spinner:
        busy = run_one(path, cache=cache, threads_mode=threads_mode)
        busy["spinner_core_share"] = round(spinner.share(), 2)
    ratio = busy["seconds"] / quiet["seconds"]
    print(
        f"{path.stem} threads={threads_mode}: quiet {quiet['seconds']:.1f} s, next to a busy process "
        f"{busy['seconds']:.1f} s ({ratio:.2f}x; load {quiet['load_before'][0]} -> {busy['load_after'][0]})",
        flush=True,
    )
    return {"quiet": quiet, "contended": busy, "ratio": ratio}


def run_contention(modes: list[str] | None = None, lessons: list[str] | None = None) -> dict[str, Any]:
    """Every lesson (or those whose names start with ``lessons``) quiet and contended, per thread mode."""
    modes = modes or ["auto"]
    for mode in modes:  # a bad mode fails here, not in a kernel minutes later
        if mode != "off":
            threads.cpu_budget({threads.ENV_VAR: mode})
    paths = [p for p in notebooks() if not lessons or any(p.stem.startswith(name) for name in lessons)]
    if not paths:
        raise ValueError(f"No lesson matches {lessons}; expected names or prefixes of {[p.stem for p in notebooks()]}.")
    results = {}
    for path in paths:
        with tempfile.TemporaryDirectory() as cache:
            run_one(path, cache=Path(cache))  # fills the data cache (lesson 2 generates its cohort)
            results[path.stem] = {mode: contended(path, Path(cache), mode) for mode in modes}
    return {"machine": machine(), "target_ratio": TARGET_RATIO, "modes": modes, "lessons": results}


def table(result: dict[str, Any]) -> str:
    machine_line = (
        f"{result['machine']['date']}, {result['machine']['cpus']} CPUs, load average at the end "
        f"{result['machine']['load_average']}"
    )
    if "target_ratio" in result:
        return _contention_table(result) + "\n" + machine_line
    lines = [
        f"{'notebook':<32}{'1st run: s':>11}{'CPU-s':>7}{'peak MB':>9}{'2nd run: s':>11}{'CPU-s':>7}{'peak MB':>9}"
        f"{'load (1 min)':>14}"
    ]
    for name, row in result["lessons"].items():
        first, again = row["first_run"], row["second_run"]
        lines.append(
            f"{name:<32}{first['seconds']:>11.1f}{first['cpu_after_setup']:>7.1f}{first['peak_rss_mb']:>9.0f}"
            f"{again['seconds']:>11.1f}{again['cpu_after_setup']:>7.1f}{again['peak_rss_mb']:>9.0f}"
            f"{again['load_before'][0]:>8.2f}->{again['load_after'][0]:<5.2f}"
        )
    lines.append(
        "s: wall time of the whole notebook; CPU-s: the kernel's CPU seconds (user + sys) after its set-up cell"
    )
    lines.append(f"shared results cache: {result.get('shared_cache') or 'none'}")
    server = f"JupyterLab server without kernels (the rest of a hub user's memory): {result['server']['server_rss_mb']:.0f} MB"
    return "\n".join([*lines, server, machine_line])


def _contention_table(result: dict[str, Any]) -> str:
    lines = [
        f"{'notebook':<30}{'threads':>8}{'quiet s':>9}{'busy s':>8}{'ratio':>7}  {'spinner core':>12}"
        f"{'load (1 min)':>14}   target <= {result['target_ratio']}x"
    ]
    for name, modes in result["lessons"].items():
        for mode, row in modes.items():
            quiet, busy = row["quiet"], row["contended"]
            verdict = "ok" if row["ratio"] <= result["target_ratio"] else "OVER"
            lines.append(
                f"{name:<30}{mode:>8}{quiet['seconds']:>9.1f}{busy['seconds']:>8.1f}{row['ratio']:>6.2f}x"
                f"  {busy['spinner_core_share']:>12.2f}{quiet['load_before'][0]:>8.2f}->{busy['load_after'][0]:<5.2f}"
                f"   {verdict}"
            )
    return "\n".join(lines)
